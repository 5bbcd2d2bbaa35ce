// Model files: save → load gives identical scores; corrupt, truncated, foreign and
// incompatible files give clear errors (fuzzed, with and without a valid checksum, so the
// parser's own checks are exercised too); the registry keeps versions and rolls back.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "byoml/common/rng.h"
#include "byoml/events/string_pool.h"
#include "byoml/models/access_anomaly_detector.h"
#include "byoml/models/model_file.h"
#include "byoml/models/model_registry.h"
#include "byoml/sample/departments_scenario.h"
#include "test_util.h"

namespace byoml {
namespace {

AccessAnomalyModel small_model(uint64_t seed = 42) {
  DepartmentsSpec spec = DepartmentsSpec::reference();
  std::vector<TrainingPair> pairs;
  static std::vector<LikelihoodRow> rows = make_departments_scenario(spec);
  for (const auto& r : rows)
    if (r.split == PairSplit::kTrain)
      pairs.push_back({r.tenant, r.user, r.resource, {static_cast<uint64_t>(r.likelihood), 0, 0}});
  ParamSet p(access_anomaly_param_specs());
  EXPECT_TRUE(p.set("max_iter", "5"));
  EXPECT_TRUE(p.set("seed", std::to_string(seed)));
  auto m = fit_access_anomaly(pairs, p, {});
  EXPECT_TRUE(m);
  m->info = {{"note", "test"}};
  return std::move(m).value();
}

const AccessAnomalyModel& access(const std::unique_ptr<Model>& m) {
  const auto* a = dynamic_cast<const AccessAnomalyModel*>(m.get());
  EXPECT_NE(a, nullptr) << "an access-anomaly file loads as an access-anomaly model";
  return *a;
}

// Rewrites the header checksum so that a mutated payload reaches the parser.
void fix_checksum(std::string& bytes) {
  uint64_t h = stable_hash(std::string_view(bytes).substr(32));
  std::memcpy(bytes.data() + 24, &h, 8);
}

TEST(ModelFile, SaveLoadGivesIdenticalScores) {
  test::TempDir dir;
  AccessAnomalyModel m = small_model();
  ASSERT_TRUE(save_model(m, dir.file("m.byoml")));
  auto loaded = load_model(dir.file("m.byoml"));
  ASSERT_TRUE(loaded) << loaded.status().message();
  const AccessAnomalyModel& back = access(*loaded);
  ASSERT_EQ(back.pairs.size(), m.pairs.size());
  for (uint32_t u = 0; u < m.users.size(); ++u)
    for (uint32_t r = m.tenants[m.user_tenant[u]].resource_begin; r < m.tenants[m.user_tenant[u]].resource_end; ++r)
      ASSERT_EQ(m.score(u, r), back.score(u, r));
  EXPECT_EQ(back.params.values(), m.params.values());
  EXPECT_EQ(back.info["note"], "test");
  EXPECT_EQ(data_fingerprint(back), data_fingerprint(m));
  EXPECT_EQ(serialize_model(back), serialize_model(m)) << "a loaded model writes the same bytes";
}

TEST(ModelFile, ForeignTruncatedAndNewerFilesAreClearErrors) {
  std::string bytes = serialize_model(small_model());
  auto err = [](std::string_view b) {
    auto r = parse_model(b, "m.byoml");
    EXPECT_FALSE(r);
    return r.status().message();
  };
  EXPECT_NE(err("hello").find("not a byoml model file"), std::string::npos);
  EXPECT_NE(err(bytes.substr(0, bytes.size() - 1)).find("truncated"), std::string::npos);
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x40;
  EXPECT_NE(err(flipped).find("checksum mismatch"), std::string::npos);
  std::string newer = bytes;
  newer[8] = 9;
  auto r = parse_model(newer, "m.byoml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(r.status().message().find("newer byoml"), std::string::npos);

  // A model of an algorithm this byoml lacks names the ones it has.
  std::string foreign = bytes;
  size_t at = foreign.find("\"access-anomaly\"");
  ASSERT_NE(at, std::string::npos);
  foreign.replace(at, 16, "\"access-anomalx\"");
  fix_checksum(foreign);
  auto unknown = parse_model(foreign, "m.byoml");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(unknown.status().message().find("\"access-anomalx\", which this byoml does not have (access-anomaly"),
            std::string::npos) << unknown.status().message();
}

TEST(ModelFile, FuzzedFilesNeverCrash) {
  std::string good = serialize_model(small_model());
  Rng rng(2026);
  int rejected = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string b = good;
    switch (i % 4) {
      case 0:  // flip a few bytes anywhere in the payload
        for (int k = 0; k < 1 + static_cast<int>(rng.below(4)); ++k) b[32 + rng.below(b.size() - 32)] ^= static_cast<char>(1 + rng.below(255));
        break;
      case 1:  // overwrite a count-sized field with a huge or odd value
      {
        size_t at = 32 + rng.below(b.size() - 40);
        uint64_t v = rng.chance(0.5) ? ~uint64_t{0} - rng.below(16) : rng.below(1u << 20);
        std::memcpy(b.data() + at, &v, rng.chance(0.5) ? 4 : 8);
        break;
      }
      case 2:  // cut the payload short (and keep the header's length honest)
      {
        b.resize(32 + rng.below(b.size() - 32));
        uint64_t len = b.size() - 32;
        std::memcpy(b.data() + 16, &len, 8);
        break;
      }
      case 3:  // garbage after a valid prefix
        for (size_t k = 32 + rng.below(b.size() - 32); k < b.size(); ++k) b[k] = static_cast<char>(rng.next());
        break;
    }
    fix_checksum(b);
    auto r = parse_model(b, "fuzz");
    if (!r) {
      ++rejected;
      EXPECT_FALSE(r.status().message().empty());
    } else {
      // A mutation the checks cannot see (a changed factor value) must still load a usable model.
      const AccessAnomalyModel& m = access(*r);
      for (const auto& p : m.pairs) ASSERT_TRUE(std::isfinite(m.score(p.user, p.resource)));
    }
  }
  EXPECT_GT(rejected, 2000) << "most mutations break a structural check";
}

TEST(ModelRegistry, VersionsCurrentAndRollback) {
  test::TempDir dir;
  auto reg = ModelRegistry::open(dir.file("models"), /*create=*/true);
  ASSERT_TRUE(reg);
  ASSERT_TRUE(reg->current());
  EXPECT_FALSE(*reg->current()) << "an empty directory has no current model, and that is not an error";
  EXPECT_FALSE(reg->load());
  AccessAnomalyModel a = small_model(1), b = small_model(2);
  EXPECT_EQ(*reg->add(a), 1);
  EXPECT_EQ(*reg->add(b), 2);
  EXPECT_EQ(*reg->current(), 2);
  EXPECT_EQ((*reg->load())->info["version"], 2);
  auto list = reg->list();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_TRUE(list[1].current);
  EXPECT_FALSE(list[0].current);
  EXPECT_EQ(*reg->rollback(std::nullopt), 1);
  EXPECT_EQ((*reg->load())->info["version"], 1);
  EXPECT_FALSE(reg->rollback(std::nullopt)) << "nothing older than version 1";
  EXPECT_EQ(*reg->rollback(2), 2);
  // A damaged version is listed with its error and skipped by rollback.
  std::ofstream(reg->path_of(1), std::ios::binary | std::ios::trunc) << "BYOMLMDL broken";
  EXPECT_TRUE(reg->list()[0].info.contains("error"));
  EXPECT_FALSE(reg->rollback(std::nullopt));
  EXPECT_FALSE(reg->rollback(7));
  EXPECT_FALSE(ModelRegistry::open(dir.file("absent"), false));
}

// A rollback lives in CURRENT alone: if CURRENT is damaged, loading must fail loudly rather than
// quietly score with the newest model the rollback moved away from.
TEST(ModelRegistry, ADamagedOrMissingCurrentIsAnErrorNeverAFallback) {
  test::TempDir dir;
  auto reg = ModelRegistry::open(dir.file("models"), /*create=*/true);
  ASSERT_TRUE(reg);
  AccessAnomalyModel a = small_model(1), b = small_model(2);
  ASSERT_TRUE(reg->add(a));
  ASSERT_TRUE(reg->add(b));
  ASSERT_EQ(*reg->rollback(1), 1);
  const std::string current = dir.file("models/CURRENT");
  for (const char* damaged : {"", "x1\n", "0\n", "-2\n", "99\n", "1 2\n", "\x01\x02\x03"}) {
    std::ofstream(current, std::ios::binary | std::ios::trunc) << damaged;
    auto cur = reg->current();
    ASSERT_FALSE(cur) << "CURRENT holding \"" << damaged << "\"";
    EXPECT_EQ(cur.status().code(), ErrorCode::kCorrupt);
    EXPECT_NE(cur.status().message().find("models rollback"), std::string::npos) << cur.status().message();
    auto m = reg->load();
    ASSERT_FALSE(m) << "no model may be loaded through a damaged CURRENT";
    EXPECT_FALSE(reg->rollback(std::nullopt)) << "\"older than current\" means nothing without a current";
  }
  std::filesystem::remove(current);
  EXPECT_FALSE(reg->load()) << "a missing CURRENT beside models is an error too";
  ASSERT_EQ(*reg->rollback(1), 1) << "rollback --to N repairs it";
  EXPECT_EQ((*reg->load())->info["version"], 1);
}

}  // namespace
}  // namespace byoml
