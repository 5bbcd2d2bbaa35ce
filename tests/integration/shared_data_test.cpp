// The real fixtures in tests/data: exact counts from their README, and the same event in
// different renderings mapping to the same fields.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "test_util.h"

namespace byoml {
using test::read_all;
using test::fixture;

namespace {
std::map<uint32_t, uint64_t> by_id(const test::ReadAll& r) {
  std::map<uint32_t, uint64_t> m;
  for (uint32_t id : r.events.event_id) ++m[id];
  return m;
}
}  // namespace

TEST(SharedData, NxlogShareAccessCounts) {
  MappingSpec m = test::default_mapping(true);
  m.user = {{"SubjectUserName"}, false, ""};
  m.resource.lowercase = false;
  auto r = read_all({fixture("otrf/share-access-5140-5145.nxlog.jsonl")}, m);
  EXPECT_EQ(r->stats.records, 644u);
  EXPECT_EQ(r->stats.rejected, 0u);
  EXPECT_EQ(by_id(*r), (std::map<uint32_t, uint64_t>{{5140, 133}, {5145, 511}}));
  std::set<std::string> users, shares;
  for (size_t i = 0; i < r->events.size(); ++i)
    if (r->events.event_id[i] == 5140) {
      users.insert(r->user(i));
      shares.insert(r->resource(i));
    }
  EXPECT_EQ(users.size(), 15u);
  EXPECT_EQ(shares, (std::set<std::string>{"\\\\*\\IPC$", "\\\\*\\SYSVOL", "\\\\*\\C$", "\\\\*\\ADMIN$"}));
  // Every line has a time: @timestamp on most, TimeCreated alone on the rest.
  for (Ticks t : r->events.time) EXPECT_GT(t, make_ticks(2019, 1, 1));
}

TEST(SharedData, LogAnalyticsExportCounts) {
  auto r = read_all({fixture("otrf/goldensaml-windowsevents.la-export.jsonl")});
  EXPECT_EQ(r->stats.records, 38u);
  EXPECT_EQ(r->stats.rejected, 0u);
  EXPECT_EQ(by_id(*r), (std::map<uint32_t, uint64_t>{
                           {4624, 28}, {4662, 5}, {412, 1}, {501, 1}, {33205, 1}, {18, 1}, {5156, 1}}));
  // "2021-08-02T13:06:38.33Z": fewer than 7 fraction digits.
  bool found = false;
  for (Ticks t : r->events.time) found |= t == make_ticks(2021, 8, 2, 13, 6, 38) + 3'300'000;
  EXPECT_TRUE(found);
  size_t guids = 0;
  for (const auto& id : r->events.record_id) guids += id.kind == RecordId::Kind::kGuid;
  EXPECT_GE(guids, 35u);
}

TEST(SharedData, EvtxCounts) {
  struct Expect {
    const char* file;
    std::map<uint32_t, uint64_t> ids;
  };
  const Expect files[] = {
      {"evtx/admin-share-golden-ticket.evtx", {{5140, 2}}},
      {"evtx/failed-admin-share-access.evtx", {{5140, 8}}},
      {"evtx/psexec-admin-share.evtx", {{4688, 11}, {5145, 9}, {4624, 5}, {5140, 2}, {4674, 2}, {4697, 1}}},
      {"evtx/eternal-romance-psexec.evtx",
       {{5145, 24}, {4688, 5}, {5140, 5}, {4624, 3}, {4672, 3}, {4964, 3}, {4673, 2}, {1102, 1}}},
  };
  for (const auto& e : files) {
    auto r = read_all({fixture(e.file)});
    EXPECT_EQ(r->stats.rejected, 0u) << e.file;
    EXPECT_EQ(by_id(*r), e.ids) << e.file;
    for (const auto& id : r->events.record_id) EXPECT_EQ(id.kind, RecordId::Kind::kNumber);
  }
  auto all = read_all({fixture("evtx")});
  EXPECT_EQ(all->events.size(), 2u + 8u + 30u + 46u);
  EXPECT_EQ(all->stats.files_read, 4u);
}

// The first record of admin-share-golden-ticket.evtx, written as each other rendering would
// write it (short hex in JSON, padded hex in XML, 7 or 3 fraction digits, other field names).
TEST(SharedData, RenderingsOfOneEventMapToTheSameFields) {
  test::TempDir dir;
  auto evtx = read_all({fixture("evtx/admin-share-golden-ticket.evtx")});
  ASSERT_GE(evtx->events.size(), 1u);
  dir.write("la.json",
            R"({"TimeGenerated":"2020-08-20T15:38:23.1853833Z","Computer":"rootdc1.offsec.lan","EventID":5140,)"
            R"("Account":"OFFSEC\\not_existing_user","AccountType":"User","SubjectUserName":"not_existing_user",)"
            R"("SubjectDomainName":"OFFSEC","SubjectLogonId":"0x2276d109","ShareName":"\\\\*\\ADMIN$","AccessMask":"0x1",)"
            R"("IpAddress":"10.23.23.9","IpPort":"50272","EventOriginId":"3e5f4a39-0c1d-4d55-9c0f-6a1f0e2b7c11"})"
            "\n");
  dir.write("nxlog.json",
            R"({"@timestamp":"2020-08-20T15:38:23.185Z","EventTime":"2020-08-20 17:38:23","Hostname":"ROOTDC1.offsec.lan",)"
            R"("EventID":5140,"SubjectUserName":"not_existing_user","SubjectDomainName":"OFFSEC","SubjectLogonId":"0x2276d109",)"
            R"("ShareName":"\\\\*\\ADMIN$","ShareLocalPath":null,"AccessMask":"0x1","IpAddress":"10.23.23.9","IpPort":"50272",)"
            R"("RecordNumber":31067602})"
            "\n");
  dir.write("event.xml",
            "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System><EventID>5140</EventID>"
            "<TimeCreated SystemTime=\"2020-08-20T15:38:23.185383300Z\"/><EventRecordID>31067602</EventRecordID>"
            "<Computer>rootdc1.offsec.lan</Computer></System><EventData>"
            "<Data Name=\"SubjectUserName\">not_existing_user</Data><Data Name=\"SubjectDomainName\">OFFSEC</Data>"
            "<Data Name=\"SubjectLogonId\">0x000000002276d109</Data><Data Name=\"IpAddress\">10.23.23.9</Data>"
            "<Data Name=\"ShareName\">\\\\*\\ADMIN$</Data><Data Name=\"AccessMask\">0x00000001</Data></EventData></Event>\n");
  dir.write("export.csv",
            "TimeGenerated [UTC],Computer,EventID,Account,SubjectLogonId,ShareName,AccessMask,IpAddress\n"
            "\"8/20/2020, 3:38:23.185 PM\",rootdc1.offsec.lan,5140,OFFSEC\\not_existing_user,0x2276d109,\\\\*\\ADMIN$,0x1,10.23.23.9\n");
  const auto& e = *evtx;
  Ticks ms = kTicksPerSecond / 1000;
  for (const char* f : {"la.json", "nxlog.json", "event.xml", "export.csv"}) {
    auto r = read_all({dir.file(f)});
    ASSERT_EQ(r->events.size(), 1u) << f;
    EXPECT_EQ(r->stats.rejected, 0u) << f;
    EXPECT_EQ(r->events.time[0] / ms, e.events.time[0] / ms) << f;  // renderings keep 3 to 7 digits
    EXPECT_EQ(r->user(0), e.user(0)) << f;
    EXPECT_EQ(r->user(0), "offsec\\not_existing_user");
    EXPECT_EQ(r->machine(0), e.machine(0)) << f;
    EXPECT_EQ(r->resource(0), e.resource(0)) << f;
    EXPECT_EQ(r->resource(0), "\\\\rootdc1.offsec.lan\\admin$");
    EXPECT_EQ(r->vocab.addresses.str(r->events.source_ip[0]), "10.23.23.9") << f;
    ASSERT_EQ(r->extra_names, (std::vector<std::string>{"logon_id", "access_mask"}));
    EXPECT_EQ(r->events.extra[0][0], 0x2276d109u) << f;
    EXPECT_EQ(r->events.extra[1][0], 1u) << f;
    EXPECT_EQ(r->events.event_id[0], 5140u);
  }
  EXPECT_EQ(e.events.time[0], make_ticks(2020, 8, 20, 15, 38, 23) + 1'853'833);
  EXPECT_EQ(e.events.record_id[0], RecordId::from_number(31067602));
}

}  // namespace byoml
