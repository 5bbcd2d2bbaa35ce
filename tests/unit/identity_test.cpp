// Identity data (Sentinel's IdentityInfo): the timeline of departments and the reader with bad
// rows among good ones (scoring_test.cpp has a transfer scored with it).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <set>

#include "byoml/jobs/identity_input.h"
#include "test_util.h"

namespace byoml {
namespace {

const Ticks kDay = kTicksPerDay;

TEST(IdentityTimeline, DepartmentsAndChangesAtAnyTime) {
  IdentityTimeline t;
  t.add("contoso\\ann", 10 * kDay, "Sales");
  t.add("contoso\\ann", 1 * kDay, "Finance");
  t.add("contoso\\ann", 20 * kDay, "Sales");  // a snapshot without a change
  t.add("contoso\\ann", 10 * kDay, "Sales");  // the same snapshot twice
  t.add("contoso\\bob", 1 * kDay, "Legal");
  EXPECT_EQ(t.users(), 2u);
  EXPECT_EQ(t.snapshots(), 4u);
  EXPECT_EQ(t.changes(), 1u);
  EXPECT_FALSE(t.department_at("contoso\\ann", 0)) << "before any snapshot";
  EXPECT_EQ(t.department_at("contoso\\ann", 5 * kDay), "Finance");
  EXPECT_EQ(t.department_at("contoso\\ann", 10 * kDay), "Sales");
  EXPECT_FALSE(t.change_at("contoso\\ann", 9 * kDay));
  auto moved = t.change_at("contoso\\ann", 25 * kDay);
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->department, "Sales");
  EXPECT_EQ(moved->since, 10 * kDay) << "the change, not the later snapshot";
  EXPECT_FALSE(t.change_at("contoso\\bob", 25 * kDay));
  EXPECT_FALSE(t.department_at("contoso\\nobody", 25 * kDay));
}

// Good rows are all kept whatever sits between them; each bad one is a reject naming its line.
TEST(IdentityInput, BadRowsAreRejectedByLineAndTheRestKept) {
  test::TempDir dir;
  auto row = [](std::string time, std::string name, std::string dept) {
    return fmt::format(R"({{"TimeGenerated":"{}","AccountName":"{}","AccountDomain":"contoso.local","Department":"{}"}})",
                       time, name, dept);
  };
  std::string text = row("2026-10-01T00:00:00Z", "Ann", "Finance") + "\n" +                                      // 1
                     "{\"TimeGenerated\":\"2026-10-01T00:00:00Z\",\"AccountName\":\n" +                             // 2 truncated
                     row("2026-10-20T00:00:00Z", "ann", "Sales") + "\n" +                                           // 3
                     "{\"TimeGenerated\":\"2026-10-01T00:00:00Z\",\"AccountUPN\":\"carl@contoso.com\",\"Department\":\"HR\"}\n" +  // 4
                     row("not a time", "dan", "Legal") + "\n" +                                                     // 5
                     "{\"TimeGenerated\":\"2026-10-01T00:00:00Z\",\"Department\":\"Legal\"}\n" +                    // 6 no account
                     row("2026-10-01T00:00:00Z", "erin", "") + "\n" +                                               // 7 no department
                     "\x01\x02garbage\n" +                                                                           // 8
                     row("2026-10-01T00:00:00Z", "ann\\u202e", "Sales") + "\n";                                     // 9 hostile name
  std::string path = dir.write("identityinfo.jsonl", text);
  RejectLog rejects;
  auto read = read_identity({path}, {}, rejects);
  ASSERT_TRUE(read) << read.status().message();
  const IdentityTimeline& t = read->timeline;
  EXPECT_EQ(t.department_at("contoso\\ann", make_ticks(2026, 10, 10)), "Finance") << "case folded, domain's first label";
  ASSERT_TRUE(t.change_at("contoso\\ann", make_ticks(2026, 11, 1)));
  EXPECT_EQ(t.change_at("contoso\\ann", make_ticks(2026, 11, 1))->department, "Sales");
  EXPECT_EQ(t.department_at("carl@contoso.com", make_ticks(2026, 10, 2)), "HR") << "the UPN when there is no AccountName";
  EXPECT_EQ(read->without_department, 1u);
  EXPECT_EQ(t.users(), 3u) << "ann, carl, and the hostile name kept as it is";
  EXPECT_EQ(rejects.total(), 4u);
  std::set<uint64_t> lines;
  for (const auto& r : rejects.samples()) {
    lines.insert(r.origin.at.line);
    EXPECT_NE(r.to_string().find("identityinfo.jsonl"), std::string::npos) << r.to_string();
  }
  EXPECT_EQ(lines, (std::set<uint64_t>{2, 5, 6, 8}));
}

}  // namespace
}  // namespace byoml
