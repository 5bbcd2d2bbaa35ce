// Generated data with known ground truth, read back through the export-tree reader.
#include <gtest/gtest.h>

#include <algorithm>
#include <xxhash.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "byoml/sample/departments_scenario.h"
#include "byoml/sample/enterprise_sample.h"
#include "byoml/sources/export_layout.h"
#include "test_util.h"

namespace byoml {
namespace fs = std::filesystem;

namespace {
uint64_t tree_hash(const fs::path& root) {
  std::vector<std::string> files;
  for (auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  XXH64_state_t* st = XXH64_createState();
  XXH64_reset(st, 0);
  for (const auto& f : files) {
    std::string rel = fs::relative(f, root).string();
    XXH64_update(st, rel.data(), rel.size());
    std::ifstream in(f, std::ios::binary);
    std::string body((std::istreambuf_iterator<char>(in)), {});
    XXH64_update(st, body.data(), body.size());
  }
  uint64_t h = XXH64_digest(st);
  XXH64_freeState(st);
  return h;
}

EnterpriseSampleSpec small_spec() {
  EnterpriseSampleSpec s;
  s.events = 8000;
  s.train_days = 5;
  s.test_days = 3;
  s.max_blob_events = 8;  // force overflow blobs in busy hours
  return s;
}
}  // namespace

TEST(ExportLayout, ParsesAndWritesBlobNames) {
  auto b = parse_export_blob_path("x/WorkspaceResourceId=/subscriptions/s/y=2026/m=11/d=28/h=15/m=05/PT05M_3.json");
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(b->start, make_ticks(2026, 11, 28, 15, 5));
  EXPECT_EQ(b->span, 5 * kTicksPerMinute);
  EXPECT_EQ(b->overflow, 3);
  auto h = parse_export_blob_path("y=2021/m=04/d=26/h=18/m=00/PT1H.json");
  ASSERT_TRUE(h.is_ok());
  EXPECT_EQ(h->span, kTicksPerHour);
  EXPECT_EQ(export_blob_path(make_ticks(2026, 1, 2, 3, 5)), "y=2026/m=01/d=02/h=03/m=05/PT05M.json");
  for (const char* bad : {"y=2026/m=02/d=30/h=15/m=05/PT05M.json", "y=2026/m=11/d=28/h=24/m=05/PT05M.json",
                          "y=2026/m=11/d=28/h=15/m=05/PT05M_0.json", "y=2026/m=11/d=28/h=15/m=05/PT1H.json",
                          "y=2026/m=11/d=28/h=15/m=05/PT05M.json.tmp", "m=11/d=28/h=15/m=05/PT05M.json",
                          "y=20x6/m=11/d=28/h=15/m=05/PT05M.json"})
    EXPECT_FALSE(parse_export_blob_path(bad).is_ok()) << bad;
}

TEST(Sample, DeterministicAndReadableWithGroundTruth) {
  test::TempDir a, b, c;
  auto sa = write_enterprise_sample(small_spec(), a.path().string());
  ASSERT_TRUE(sa.is_ok()) << sa.status().message();
  ASSERT_TRUE(write_enterprise_sample(small_spec(), b.path().string()).is_ok());
  EXPECT_EQ(tree_hash(a.path()), tree_hash(b.path()));
  auto other = small_spec();
  other.seed = 8;
  ASSERT_TRUE(write_enterprise_sample(other, c.path().string()).is_ok());
  EXPECT_NE(tree_hash(a.path()), tree_hash(c.path()));

  EXPECT_NEAR(static_cast<double>(sa->rows), 8000.0, 8000.0 * 0.15);
  for (const char* kind : {"anomaly/compromised_account", "anomaly/share_sweep", "anomaly/sensitive_read",
                           "anomaly/admin_share_nonadmin", "novelty/new_hire", "novelty/new_share",
                           "novelty/other_team_share", "novelty/cross_department_project", "novelty/transfer"})
    EXPECT_GT(sa->labelled_events[kind], 0u) << kind;

  // Everything written is read back, and the overflow blobs are there.
  auto all = test::read_all({sa->export_dir});
  EXPECT_EQ(all->events.size(), sa->rows);
  EXPECT_EQ(all->stats.rejected, 0u);
  EXPECT_TRUE(all->stats.skipped_files.empty());
  bool overflow = false;
  for (auto& e : fs::recursive_directory_iterator(sa->export_dir)) overflow |= e.path().filename() == "PT05M_1.json";
  EXPECT_TRUE(overflow);

  // The test window through the reader equals the labels file: same events, same ids.
  ReadOptions o;
  o.filter.window = {sa->test_from, sa->test_to};
  o.filter.event_ids = {5140};
  o.path_slack = 0;
  auto test_week = test::read_all({sa->export_dir}, test::default_mapping(), o);
  EXPECT_LT(test_week->stats.files_read, all->stats.files_read) << "blobs outside the week are not opened";
  std::ifstream labels(sa->labels_path);
  std::string line;
  std::getline(labels, line);
  std::multiset<std::string> label_ids, read_ids;
  std::map<std::string, int> label_counts;
  while (std::getline(labels, line)) {
    label_ids.insert(line.substr(0, line.find(',')));
    std::stringstream ss(line);
    std::string field;
    for (int i = 0; i < 6; ++i) std::getline(ss, field, ',');
    ++label_counts[field];
  }
  for (const auto& id : test_week->events.record_id) read_ids.insert(id.to_string());
  EXPECT_EQ(read_ids, label_ids);
  EXPECT_GT(label_counts["anomaly"], 0);
  EXPECT_GT(label_counts["novelty"], 0);
  EXPECT_GT(label_counts["normal"], label_counts["novelty"]);

  // A window inside one day reads only the blobs it needs.
  ReadOptions day;
  day.filter.window = {sa->test_from, sa->test_from + kTicksPerDay};
  day.path_slack = 0;
  auto one = test::read_all({sa->export_dir}, test::default_mapping(), day);
  const auto in_day = std::count_if(all->events.time.begin(), all->events.time.end(),
                                    [&](Ticks t) { return day.filter.window.contains(t); });
  ASSERT_GT(in_day, 0) << "the day has events";
  EXPECT_EQ(one->events.size(), static_cast<size_t>(in_day)) << "every event of the day, and only those";
  for (Ticks t : one->events.time) EXPECT_TRUE(day.filter.window.contains(t));
  EXPECT_GT(one->stats.files_read, 0u);
  EXPECT_LT(one->stats.files_read, all->stats.files_read / 10);
}

// The second company (issue 12, item 8): the structure the scenario names, read back whole,
// with the same kinds of anomaly as the first over different normal behaviour.
TEST(Sample, AProjectCompanyHasContractorsServiceTrafficAndAReorganisation) {
  EnterpriseSampleSpec spec;
  spec.events = 30000;
  spec.train_days = 14;
  spec.test_days = 7;
  spec.structure = CompanyStructure::kProjects;
  test::TempDir a, b, c;
  auto sum = write_enterprise_sample(spec, a.path().string());
  ASSERT_TRUE(sum.is_ok()) << sum.status().message();
  ASSERT_TRUE(write_enterprise_sample(spec, b.path().string()).is_ok());
  EXPECT_EQ(tree_hash(a.path()), tree_hash(b.path()));
  EnterpriseSampleSpec departments = spec;
  departments.structure = CompanyStructure::kDepartments;
  auto dep = write_enterprise_sample(departments, c.path().string());
  ASSERT_TRUE(dep.is_ok());

  EXPECT_EQ(nlohmann::json::parse(std::ifstream(sum->manifest_path))["structure"], "projects");
  EXPECT_NEAR(static_cast<double>(sum->rows), 30000.0, 30000.0 * 0.15);
  EXPECT_GE(sum->contractors, sum->people / 6);
  EXPECT_EQ(dep->contractors, 0u);
  EXPECT_EQ(sum->service_accounts, 8u);
  for (const char* kind : {"anomaly/compromised_account", "anomaly/share_sweep", "anomaly/sensitive_read",
                           "anomaly/admin_share_nonadmin", "novelty/new_hire", "novelty/new_project",
                           "novelty/joined_project", "novelty/transfer"})
    EXPECT_GT(sum->labelled_events[kind], 0u) << kind;

  // Project shares carry most of what people open; service accounts far more of all traffic
  // than in the company of departments.
  auto share_of = [](const test::ReadAll& r, auto&& pred) {
    size_t n = 0;
    for (size_t i = 0; i < r.events.size(); ++i) n += r.events.event_id[i] == 5140 && pred(r, i);
    return static_cast<double>(n);
  };
  auto is_service = [](const test::ReadAll& r, size_t i) { return r.user(i).find("\\svc_") != std::string::npos; };
  auto is_person = [&](const test::ReadAll& r, size_t i) { return !is_service(r, i) && r.user(i).back() != '$'; };
  auto all = test::read_all({sum->export_dir});
  auto all_dep = test::read_all({dep->export_dir});
  EXPECT_EQ(all->events.size(), sum->rows);
  EXPECT_EQ(all->stats.rejected, 0u);
  double on_projects = share_of(*all, [&](const test::ReadAll& r, size_t i) {
    return is_person(r, i) && r.resource(i).find("\\prj-") != std::string::npos;
  });
  EXPECT_GT(on_projects / share_of(*all, is_person), 0.45);
  double service = share_of(*all, is_service) / static_cast<double>(sum->rows_5140);
  double service_dep = share_of(*all_dep, is_service) / static_cast<double>(dep->rows_5140);
  EXPECT_GT(service, 3 * service_dep) << service << " against " << service_dep;
  bool contractor_seen = false;
  for (size_t i = 0; i < all->events.size() && !contractor_seen; ++i) contractor_seen = all->user(i).find("\\ext.") != std::string::npos;
  EXPECT_TRUE(contractor_seen);

  // The reorganisation is in the identity data: on the middle day, a department change for a
  // good part of the employees.
  std::ifstream identity(sum->identity_path);
  std::string middle = format_timestamp(spec.start + (spec.train_days + spec.test_days) / 2 * kTicksPerDay, 0).substr(0, 10);
  size_t moved = 0;
  for (std::string line; std::getline(identity, line);)
    moved += nlohmann::json::parse(line)["TimeGenerated"].get<std::string>().substr(0, 10) == middle;
  EXPECT_GT(moved, sum->people / 6) << "rows dated " << middle;
}

TEST(Sample, DepartmentsScenarioIsTheReferenceData) {
  auto rows = make_departments_scenario(DepartmentsSpec::reference());
  std::map<std::string, size_t> by_split;
  std::set<std::string> tenants;
  for (const auto& r : rows) {
    ++by_split[pair_split_name(r.split)];
    tenants.insert(r.tenant);
    if (r.split == PairSplit::kTrain) {
      EXPECT_GE(r.likelihood, 500.0);
      EXPECT_LE(r.likelihood, 1000.0);
    }
  }
  EXPECT_EQ(tenants.size(), 2u);
  // Per tenant: 7*30 + 5*25 + 10*50 = 835 within-department pairs, 22 shared-resource rows,
  // and 7*75 + 5*80 + 10*55 = 1475 cross-department pairs.
  EXPECT_EQ(by_split["inter"], 2u * 1475u);
  EXPECT_EQ(by_split["train"] + by_split["intra"], 2u * (835u + 22u));
  double ratio = static_cast<double>(by_split["train"] - 2 * 22) / (2.0 * 835.0);
  EXPECT_NEAR(ratio, 0.25, 0.05);
}

}  // namespace byoml
