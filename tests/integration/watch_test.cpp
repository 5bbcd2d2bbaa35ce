// byoml watch: scheduled scoring that never loses or repeats an event. Generated export blobs
// arrive in time order (a late one in an older folder, a copy of one already read); the
// watcher is killed with SIGKILL at random moments, again and again; the store must end up
// exactly as after a run that was never interrupted.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "local_cloud.h"
#include "test_util.h"

namespace byoml {
namespace {

namespace fs = std::filesystem;
using test::run;

// One column of every row of a query, as text.
std::vector<std::string> column(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  std::vector<std::string> out;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(h);
    ADD_FAILURE() << "cannot open " << db;
    return out;
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(h);
  } else {
    while (sqlite3_step(st) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(st, 0);
      out.emplace_back(t ? reinterpret_cast<const char*>(t) : "NULL");
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return out;
}

// Where two sorted lists first differ, for the failure message.
std::string first_difference(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  auto [x, y] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  return "first difference:\n  " + (x == a.end() ? "(end)" : *x) + "\n  " + (y == b.end() ? "(end)" : *y);
}

class Watch : public ::testing::Test {
 protected:
  // One model for every test of the process, trained on the sample's weeks before the test week.
  static void SetUpTestSuite() {
    model_dir_ = new test::TempDir();
    auto r = run("train -q --input " + test::shared_sample() + "/export --to 2026-11-02 --model " +
                 model_dir_->file("m") + " --no-store");
    ASSERT_EQ(r.code, 0) << r.out;
  }
  static void TearDownTestSuite() { delete model_dir_; }
  static std::string model() { return model_dir_->file("m"); }

  // The sample's export files of the first days of the test week, relative to the export root.
  static std::vector<fs::path> test_week_files(const std::vector<std::string>& days) {
    fs::path root = test::shared_sample() + "/export";
    std::vector<fs::path> out;
    for (const auto& f : test::sorted_files(root)) {
      std::string s = f.string();
      for (const auto& d : days)
        if (s.find("/y=2026/m=11/" + d + "/") != std::string::npos) out.push_back(fs::relative(f, root));
    }
    return out;
  }

  // The EventOriginIds of the 5140 events in these files (copies counted once).
  static std::set<std::string> access_ids(const std::vector<fs::path>& files) {
    std::set<std::string> ids;
    for (const auto& f : files) {
      std::ifstream in(f);
      for (std::string line; std::getline(in, line);) {
        auto j = nlohmann::json::parse(line);
        if (j["EventID"] == 5140) ids.insert(j["EventOriginId"].get<std::string>());
      }
    }
    return ids;
  }

  std::string watch_args(const std::string& input, const std::string& store) const {
    return "watch --once --per-event -q --input " + input + " --model " + model() + " --store " + store;
  }

  test::TempDir dir_;
  static test::TempDir* model_dir_;
};
test::TempDir* Watch::model_dir_ = nullptr;

// What arrives before each cycle: (source file under the export root, where it lands).
using Step = std::vector<std::pair<fs::path, fs::path>>;

// Blobs in time order, a dozen per cycle; one early blob held back and delivered last into
// its own (older) folder; a copy of an early blob delivered again under a later folder.
std::vector<Step> arrival_plan(const std::vector<fs::path>& files) {
  std::vector<Step> steps;
  const fs::path late = files.at(5), copied = files.at(10);
  Step step;
  for (const auto& f : files) {
    if (f == late) continue;
    step.push_back({f, f});
    if (step.size() == 12) steps.push_back(std::exchange(step, {}));
  }
  if (!step.empty()) steps.push_back(step);
  // The copy lands in a folder of a day this test does not otherwise use.
  fs::path copy_to = copied.parent_path().parent_path().parent_path().parent_path() / "d=28" / "h=00" / "m=00" / "PT05M.json";
  steps.push_back({{copied, copy_to}});
  steps.push_back({{late, late}});
  return steps;
}

// Files land whole: written beside the tree, then renamed into place. They keep the source's
// modification time, so a file's version (size and mtime) is the same in every run of the test.
void deliver(const Step& step, const fs::path& input, const fs::path& staging) {
  fs::path root = test::shared_sample() + "/export";
  for (const auto& [from, to] : step) {
    fs::create_directories((input / to).parent_path());
    fs::copy_file(root / from, staging / "blob.tmp", fs::copy_options::overwrite_existing);
    fs::last_write_time(staging / "blob.tmp", fs::last_write_time(root / from));
    fs::rename(staging / "blob.tmp", input / to);
  }
}

TEST_F(Watch, EveryEventOnceThroughAHundredKills) {
  auto files = test_week_files({"d=02", "d=03"});
  ASSERT_GT(files.size(), 400u);
  auto steps = arrival_plan(files);
  std::vector<fs::path> all;
  for (const auto& f : files) all.push_back(test::shared_sample() + "/export/" + f.string());
  const auto expected = access_ids(all);
  ASSERT_GT(expected.size(), 5000u);

  // The same input path both times, so that run ids agree too.
  const fs::path input = dir_.path() / "in", staging = dir_.path();
  const std::string clean = dir_.file("clean.db"), killed = dir_.file("killed.db");
  std::vector<double> seconds;
  for (const auto& step : steps) {
    deliver(step, input, staging);
    auto t0 = std::chrono::steady_clock::now();
    auto r = test::run(watch_args(input.string(), clean));
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    ASSERT_EQ(r.code, 0) << r.out;
  }
  std::sort(seconds.begin(), seconds.end());
  const double cycle = seconds[seconds.size() / 2];

  fs::remove_all(input);
  // Kill moments are drawn up to the time a cycle takes, so they land in the start, the read,
  // the scoring and the store's transaction alike; an attempt that finished anyway shrinks the range.
  std::mt19937 rng(20261129);
  double upper = cycle;
  int kills = 0, attempts = 0;
  for (const auto& step : steps) {
    deliver(step, input, staging);
    for (int k = 0; k < 3; ++k) {
      double after = std::uniform_real_distribution<double>(0.0, upper)(rng);
      ++attempts;
      auto r = test::shell("timeout -s KILL " + std::to_string(after) + " env BYOML_STORE= " + BYOML_CLI + " " +
                           watch_args(input.string(), killed));
      if (r.code == 0) {
        upper *= 0.9;
        continue;
      }
      ASSERT_EQ(r.code, 137) << "killed, not failed: " << r.out;
      ++kills;
    }
    auto r = test::run(watch_args(input.string(), killed));
    ASSERT_EQ(r.code, 0) << r.out;
  }
  EXPECT_GE(kills, 100) << "in " << attempts << " attempts";
  fs::copy_file(clean, "/tmp/dbg-clean.db", fs::copy_options::overwrite_existing); fs::copy_file(killed, "/tmp/dbg-killed.db", fs::copy_options::overwrite_existing);

  const std::string events = "SELECT EventOriginId || ' ' || AnomalyScore || ' ' || Severity || ' ' || Event || ' ' || RunId "
                             "FROM ByomlScoredEvents ORDER BY EventOriginId";
  auto want = column(clean, events), got = column(killed, events);
  ASSERT_EQ(want.size(), expected.size()) << "every access event of the files, the copy's once";
  auto ids = column(killed, "SELECT EventOriginId FROM ByomlScoredEvents ORDER BY EventOriginId");
  EXPECT_TRUE(std::equal(ids.begin(), ids.end(), expected.begin(), expected.end()));
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want) << "the same events, scores and runs as the run that was never killed; "
                           << first_difference(want, got);
  const std::string results = "SELECT RunId || ' ' || User || ' ' || Resource || ' ' || AnomalyScore FROM "
                              "AnomalousResourceAccessResult_CL ORDER BY 1";
  auto want_results = column(clean, results), got_results = column(killed, results);
  EXPECT_TRUE(got_results == want_results) << first_difference(want_results, got_results);
  EXPECT_EQ(column(killed, "PRAGMA integrity_check"), std::vector<std::string>{"ok"});
  EXPECT_EQ(column(killed, "SELECT Positions FROM byoml_checkpoints"), column(clean, "SELECT Positions FROM byoml_checkpoints"));
  // The late blob in its older folder was read by the last cycle.
  const std::string late = (input / steps.back()[0].second).string();
  auto last = column(clean, "SELECT Positions FROM byoml_checkpoints");
  ASSERT_EQ(last.size(), 1u);
  EXPECT_NE(last[0].find(late), std::string::npos);
}

}  // namespace
}  // namespace byoml
