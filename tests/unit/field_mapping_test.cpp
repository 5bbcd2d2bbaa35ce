#include <gtest/gtest.h>

#include "byoml/events/field_mapping.h"
#include "byoml/templates/detection_template.h"

namespace byoml {
namespace {

struct Mapper {
  FieldMapping m;
  Vocabulary v;
  EventBatch out;
  MapScratch scratch;
  MapError err;
  explicit Mapper(MappingSpec spec) : m(FieldMapping::compile(spec).value()) { out.set_extra_count(m.extra_count()); }
  MapOutcome map(std::initializer_list<std::pair<const char*, const char*>> kv, EventFilter filter = {}) {
    RecordFields f;
    for (auto& [k, val] : kv) {
      int s = m.slot_of(k);
      if (s >= 0) f.set(s, val, ValueKind::kString);
    }
    return m.apply(f, filter, v, out, scratch, err);
  }
};

MappingSpec spec() { return default_template().mapping; }

}  // namespace

TEST(FieldMapping, ExportRowWithMachineQualifiedResource) {
  Mapper x(spec());
  ASSERT_EQ(x.map({{"TimeGenerated", "2021-04-26T18:08:51.3600000Z"}, {"Account", "CONTOSO\\Alice"},
                   {"Computer", "FS01.contoso.com"}, {"ShareName", "\\\\*\\Finance"}, {"EventID", "5140"},
                   {"EventOriginId", "76d12871-4344-4404-bc82-0a78925cff53"}, {"SubjectLogonId", "0x3e7"},
                   {"AccessMask", "0x1"}, {"AccountType", "User"}, {"IpAddress", "10.0.0.1"}}),
            MapOutcome::kAppended);
  EXPECT_EQ(x.v.users.str(x.out.user[0]), "contoso\\alice");
  EXPECT_EQ(x.v.resources.str(x.out.resource[0]), "\\\\fs01.contoso.com\\finance");
  EXPECT_EQ(x.v.machines.str(x.out.machine[0]), "fs01.contoso.com");
  EXPECT_EQ(x.v.tenants.str(x.out.tenant[0]), "0");  // default when TenantId is absent
  EXPECT_EQ(x.out.event_id[0], 5140u);
  EXPECT_EQ(x.out.extra[0][0], 0x3e7u);
  EXPECT_EQ(x.out.record_id[0].kind, RecordId::Kind::kGuid);
  EXPECT_EQ(x.out.account_type[0], AccountType::kUser);
}

TEST(FieldMapping, ShareScopeFallbackPatternsAndPlaceholders) {
  MappingSpec s = spec();
  s.resource_scope = ResourceScope::kShare;
  Mapper x(s);
  ASSERT_EQ(x.map({{"@timestamp", "2020-10-19T03:30:46.625Z"}, {"Account", "-"}, {"SubjectDomainName", "WORKSTATION5"},
                   {"SubjectUserName", "WS5$"}, {"Hostname", "WORKSTATION5"}, {"ShareName", "\\\\*\\IPC$"},
                   {"EventID", "5140"}, {"RecordNumber", "42"}}),
            MapOutcome::kAppended);
  EXPECT_EQ(x.v.users.str(x.out.user[0]), "workstation5\\ws5$");
  EXPECT_EQ(x.v.resources.str(x.out.resource[0]), "\\\\*\\ipc$");
  EXPECT_EQ(x.out.account_type[0], AccountType::kMachine);  // inferred from the trailing $
  EXPECT_EQ(x.out.record_id[0], RecordId::from_number(42));
}

TEST(FieldMapping, FiltersAndWindows) {
  Mapper x(spec());
  EventFilter f;
  f.event_ids = {5140};
  f.window = {make_ticks(2021, 1, 1), make_ticks(2021, 2, 1)};
  EXPECT_EQ(x.map({{"TimeGenerated", "2021-01-05T00:00:00Z"}, {"EventID", "4624"}}, f), MapOutcome::kFilteredOut);
  EXPECT_EQ(x.map({{"TimeGenerated", "2021-02-01T00:00:00Z"}, {"EventID", "5140"}, {"Account", "a"}, {"ShareName", "s"}}, f),
            MapOutcome::kOutsideWindow);
  EXPECT_EQ(x.map({{"TimeGenerated", "2021-01-31T23:59:59.9999999Z"}, {"EventID", "5140"}, {"Account", "a"}, {"ShareName", "s"}}, f),
            MapOutcome::kAppended);
  EXPECT_EQ(x.out.size(), 1u);
}

TEST(FieldMapping, RejectsNameTheField) {
  Mapper x(spec());
  EXPECT_EQ(x.map({{"TimeGenerated", "not a time"}, {"EventID", "5140"}}), MapOutcome::kRejected);
  EXPECT_EQ(x.err.field, "TimeGenerated");
  EXPECT_EQ(x.err.kind, "bad_value");
  EXPECT_EQ(x.map({{"EventID", "5140"}, {"Account", "a"}}), MapOutcome::kRejected);
  EXPECT_EQ(x.err.kind, "missing_field");
  // A 5140 without a share cannot be modelled: rejected, and says so.
  EXPECT_EQ(x.map({{"TimeGenerated", "2021-01-05T00:00:00Z"}, {"EventID", "5140"}, {"Account", "a"}}), MapOutcome::kRejected);
  EXPECT_NE(x.err.reason.find("resource"), std::string::npos);
  // Another event id need not have one.
  EXPECT_EQ(x.map({{"TimeGenerated", "2021-01-05T00:00:00Z"}, {"EventID", "4624"}, {"Account", "a"}}), MapOutcome::kAppended);
  EXPECT_EQ(x.map({{"TimeGenerated", "2021-01-05T00:00:00Z"}, {"EventID", "51x40"}}), MapOutcome::kRejected);
  EXPECT_EQ(x.err.field, "EventID");
  EXPECT_EQ(x.map({{"TimeGenerated", "2021-01-05T00:00:00Z"}, {"EventID", "5140"}, {"Account", "a"}, {"ShareName", "s"},
                   {"AccessMask", "%%4416"}}),
            MapOutcome::kRejected);
  EXPECT_EQ(x.err.field, "AccessMask");
  EXPECT_EQ(x.out.size(), 1u);  // nothing half-appended
  for (auto& col : x.out.extra) EXPECT_EQ(col.size(), 1u);
}

TEST(FieldMapping, WrongTypesAreRejected) {
  Mapper x(spec());
  RecordFields f;
  f.set(x.m.slot_of("TimeGenerated"), "2021-01-05T00:00:00Z", ValueKind::kString);
  f.set(x.m.slot_of("EventID"), "5140", ValueKind::kNumber);
  f.set(x.m.slot_of("Account"), {}, ValueKind::kComposite);
  EXPECT_EQ(x.m.apply(f, {}, x.v, x.out, x.scratch, x.err), MapOutcome::kRejected);
  EXPECT_EQ(x.err.kind, "wrong_type");
  EXPECT_EQ(x.err.field, "Account");
}

TEST(FieldMapping, NumbersCompareAcrossRenderings) {
  uint64_t a = 0, b = 0;
  ASSERT_TRUE(parse_uint("0x000000002276d109", a));
  ASSERT_TRUE(parse_uint("0x2276D109", b));
  EXPECT_EQ(a, b);
  EXPECT_FALSE(parse_uint("0x", a));
  EXPECT_FALSE(parse_uint("0x1g", a));
  EXPECT_FALSE(parse_uint("99999999999999999999999", a));
  // Past the digits a loop reads (16 hex, 19 decimal): from_chars, which knows overflow.
  ASSERT_TRUE(parse_uint("0x00000000000000000000ff", a));
  EXPECT_EQ(a, 255u);
  ASSERT_TRUE(parse_uint("18446744073709551615", a));
  EXPECT_EQ(a, UINT64_MAX);
  EXPECT_FALSE(parse_uint("18446744073709551616", a));
  ASSERT_TRUE(parse_uint("0xFFFFFFFFFFFFFFFF", a));
  EXPECT_EQ(a, UINT64_MAX);
  ASSERT_TRUE(parse_uint("9999999999999999999", a));
  EXPECT_EQ(a, 9999999999999999999u);
  for (const char* bad : {"", "-1", "+1", "1 ", " 1", "12a", "0x-1", "0x 1", "1.5", "0x1G"}) EXPECT_FALSE(parse_uint(bad, a)) << bad;
}

TEST(FieldMapping, BadTemplatesAreErrors) {
  MappingSpec s = spec();
  s.user.sources = {"{Unclosed"};
  EXPECT_FALSE(FieldMapping::compile(s).is_ok());
  s = spec();
  s.required = {"shoe_size"};
  EXPECT_FALSE(FieldMapping::compile(s).is_ok());
  s = spec();
  s.time.sources.clear();
  EXPECT_FALSE(FieldMapping::compile(s).is_ok());
}

TEST(Template, BuiltInAndUserTemplates) {
  const DetectionTemplate& t = default_template();
  EXPECT_EQ(t.name, "anomalous-resource-access");
  EXPECT_EQ(t.event_ids, std::vector<uint32_t>{5140});
  auto vpn = parse_template(R"(
template: vpn-logins
mapping:
  time: [timestamp]
  user: {from: [username], lowercase: true}
  resource: [gateway]
defaults: {threshold: 1.5, rank: 4}
output:
  table: VpnAnomalies_CL
  columns:
    - {name: TimeGenerated, type: datetime}
    - {name: User, type: string}
    - {name: AnomalyScore, type: real}
parameters:
  - {name: region, type: choice, choices: [eu, us], default: eu, help: gateway region}
)", "vpn.yaml");
  ASSERT_TRUE(vpn.is_ok()) << vpn.status().message();
  EXPECT_TRUE(vpn->event_ids.empty());
  auto values = ParamSet::make(vpn->params);
  ASSERT_TRUE(values);
  EXPECT_EQ(values->get_string("threshold"), "1.5") << "a template sets the algorithm's defaults";
  EXPECT_EQ(values->get_int("rank"), 4);
  EXPECT_EQ(values->get_string("region"), "eu");
  EXPECT_EQ(vpn->output.table, "VpnAnomalies_CL");
  EXPECT_EQ(vpn->output.columns.size(), 3u);
  for (const char* bad : {"mapping: {}", "template: x\nmapping:\n  shoe: [a]\n  time: [t]",
                          "template: x\nmapping: {time: [t]}\nparameters:\n  - {name: k, type: int, default: 99, min: 1, max: 5}",
                          "template: x\nmapping: {time: [t]}\nparameters:\n  - {name: k, type: colour, default: red}",
                          "template: [unclosed", "\x01\x02\x03",
                          "template: x\nmapping: {time: [t]}\nparameters:\n  - {name: rank, type: int, default: 3}",
                          "template: x\nmapping: {time: [t]}\ndefaults: {shoe_size: 3}",
                          "template: x\nmapping: {time: [t]}\ndefaults: {rank: 0}",
                          "template: x\nmapping: {time: [t]}\nalgorithm: magic",
                          "template: x\nmapping: {time: [t]}\noutput: {table: 'a; drop', columns: [{name: User, type: string}]}",
                          "template: x\nmapping: {time: [t]}\noutput: {table: T, columns: [{name: Colour, type: string}]}",
                          "template: x\nmapping: {time: [t]}\noutput: {table: T, columns: [{name: User, type: real}]}"}) {
    auto r = parse_template(bad, "bad.yaml");
    ASSERT_FALSE(r.is_ok()) << bad;
    EXPECT_NE(r.status().message().find("bad.yaml"), std::string::npos);
  }
}

}  // namespace byoml
