// Garbage, truncation, wrong types, huge lines and hostile strings: every reader says what is
// wrong with file and line, keeps reading, counts what it rejected and keeps every good record.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace byoml {
using test::read_all;

namespace {
std::string row(int i, const std::string& extra = "") {
  return R"({"TimeGenerated":"2026-11-28T10:00:0)" + std::to_string(i % 10) +
         R"(.1234567Z","EventID":5140,"Account":"CONTOSO\\u)" + std::to_string(i) +
         R"(","Computer":"FS01","ShareName":"\\\\*\\Share)" + std::to_string(i) + "\"" + extra + "}";
}

bool has_reject(const test::ReadAll& r, const std::string& kind, uint64_t line, const std::string& text = "") {
  for (const auto& x : r.rejects.samples())
    if (x.kind == kind && x.origin.at.line == line && x.to_string().find(text) != std::string::npos) return true;
  return false;
}
}  // namespace

TEST(BadInput, JsonLinesKeepsGoodRecordsAndNamesTheBadOnes) {
  test::TempDir dir;
  std::string text;
  text += row(1) + "\n";                                             // 1 good
  text += row(2).substr(0, 40) + "\n";                               // 2 truncated
  text += row(3) + "\n";                                             // 3 good
  text += R"({"TimeGenerated":"2026-11-28T10:00:00Z","EventID":5140,"Account":"bad)" "\xff\xfe" R"(","ShareName":"s"})" "\n";  // 4 invalid UTF-8
  text += R"({"TimeGenerated":"2026-11-28T10:00:00Z","EventID":{"x":1},"Account":"a","ShareName":"s"})" "\n";  // 5 wrong type
  text += R"({"TimeGenerated":12345,"EventID":5140,"Account":"a","ShareName":"s"})" "\n";  // 6 number for a time
  text += R"({"EventID":5140,"Account":"a","ShareName":"s"})" "\n";  // 7 no time
  text += R"({"TimeGenerated":"2026-11-28T10:00:00Z","EventID":5140,"ShareName":"s"})" "\n";  // 8 no user
  text += "not json at all\n";                                       // 9
  text += "[1,2,3]\n";                                               // 10 not an object
  text += "\n   \n";                                                 // 11, 12 blank: ignored
  text += row(13, R"(,"Huge":")" + std::string(10 << 20, 'A') + "\"") + "\n";  // 13: a 10 MB line
  text += row(14) + " trailing\n";                                   // 14 trailing garbage
  text += row(15, R"(,"Hostile":"'; DROP TABLE results; -- \u0000 \u202e")") + "\n";  // 15 good, odd strings
  text += R"({"TimeGenerated":"2026-11-28T10:00:00Z","EventID":99999999999,"Account":"a","ShareName":"s"})" "\n";  // 16 huge id
  text += row(17).substr(0, row(17).size() - 1);                     // 17 truncated, no newline
  std::string path = dir.write("mixed.json", text);
  auto r = read_all({path});

  std::set<std::string> users;
  for (size_t i = 0; i < r->events.size(); ++i) users.insert(r->user(i));
  EXPECT_EQ(users, (std::set<std::string>{"contoso\\u1", "contoso\\u3", "contoso\\u15"}));
  EXPECT_EQ(r->stats.rejected, 12u);
  EXPECT_EQ(r->rejects.total(), 12u);
  EXPECT_TRUE(has_reject(*r, "truncated", 2, path + ":2"));
  EXPECT_TRUE(has_reject(*r, "invalid_utf8", 4));
  EXPECT_TRUE(has_reject(*r, "wrong_type", 5, "EventID"));
  EXPECT_TRUE(has_reject(*r, "bad_value", 6, "TimeGenerated"));
  EXPECT_TRUE(has_reject(*r, "missing_field", 7));
  EXPECT_TRUE(has_reject(*r, "missing_field", 8, "user"));
  EXPECT_TRUE(has_reject(*r, "json_syntax", 9, "not valid JSON"));
  EXPECT_TRUE(has_reject(*r, "not_object", 10, "not an object"));
  EXPECT_TRUE(has_reject(*r, "line_too_long", 13, "exceeds --max-record-bytes"));
  // simdjson reports text after a record either as trailing content or as an unclosed value,
  // depending on the build; both messages say the line is malformed.
  EXPECT_TRUE(has_reject(*r, "json_syntax", 14, "text after the record") ||
              has_reject(*r, "truncated", 14, "malformed"));
  EXPECT_TRUE(has_reject(*r, "bad_value", 16, "EventID"));
  EXPECT_TRUE(has_reject(*r, "truncated", 17, "still being written"));
  // The too-long line is kept only as a prefix, never buffered whole.
  for (const auto& x : r->rejects.samples())
    if (x.kind == "line_too_long") {
      EXPECT_LE(x.raw.size(), 256u);
    }
}

TEST(BadInput, RejectsSinkKeepsEveryRejectedRecord) {
  test::TempDir dir;
  std::string text;
  for (int i = 0; i < 50; ++i) text += (i % 2 ? row(i) : "{broken " + std::to_string(i)) + "\n";
  std::string path = dir.write("half.json", text);
  auto mapping = FieldMapping::compile(test::default_mapping()).value();
  Vocabulary v;
  RejectLog log(5);
  ASSERT_TRUE(log.open_sink(dir.file("rejects.jsonl")).is_ok());
  uint64_t events = 0;
  ReadContext ctx(mapping, v, {}, log, [&](const EventBatch& b) { events += b.size(); });
  ASSERT_TRUE(read_inputs(plan_inputs({path}, {}).value(), ctx).is_ok());
  ASSERT_TRUE(log.close().is_ok());
  EXPECT_EQ(events, 25u);
  std::ifstream in(dir.file("rejects.jsonl"));
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    EXPECT_NE(line.find("{broken " + std::to_string(n * 2)), std::string::npos) << line;
    ++n;
  }
  EXPECT_EQ(n, 25);
}

TEST(BadInput, NonJsonAndBinaryFiles) {
  test::TempDir dir;
  std::string bin(4096, '\0');
  for (size_t i = 0; i < bin.size(); ++i) bin[i] = static_cast<char>((i * 7919) % 256);
  auto r = read_all({dir.write("logs/junk.json", "hello\nworld\n"), dir.write("logs/blob.bin", bin),
                     dir.write("logs/good.json", row(1) + "\n")});
  EXPECT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->stats.rejected, 2u);  // two lines of junk.json
  ASSERT_EQ(r->stats.skipped_files.size(), 1u);
  EXPECT_NE(r->stats.skipped_files[0].reason.find("unrecognised format"), std::string::npos);
}

TEST(BadInput, TruncatedAndGarbageEvtx) {
  test::TempDir dir;
  std::ifstream in(test::fixture("evtx/eternal-romance-psexec.evtx"), std::ios::binary);
  std::string full((std::istreambuf_iterator<char>(in)), {});
  ASSERT_EQ(full.size(), 69632u);  // a 4 KiB header and one 64 KiB chunk
  std::string cut = dir.write("cut.evtx", full.substr(0, 4096 + 32768));
  std::string tiny = dir.write("tiny.evtx", full.substr(0, 100));
  std::string fake = dir.write("fake.evtx", std::string("ElfFile\0 this is not an event log", 34) + std::string(5000, 'z'));
  // The chunk is cut in half: the 20 records wholly before the cut are read (the chunk is padded),
  // and the file is reported as truncated.
  auto r = read_all({cut, tiny, fake, test::fixture("evtx/admin-share-golden-ticket.evtx")});
  EXPECT_EQ(r->events.size(), 22u);
  bool cut_reported = false;
  for (const auto& x : r->rejects.samples())
    cut_reported |= x.origin.object == cut && x.kind == "truncated" && x.message.find("the 20 records") != std::string::npos;
  EXPECT_TRUE(cut_reported);
  std::map<std::string, std::string> skipped;
  for (const auto& s : r->stats.skipped_files) skipped[s.path] = s.reason;
  EXPECT_FALSE(skipped.count(cut));
  EXPECT_TRUE(skipped.count(tiny));
  EXPECT_TRUE(skipped.count(fake));
  // The golden-ticket file is intact and fully read whatever happened to the others.
  EXPECT_EQ(r->user(20), "offsec\\not_existing_user");
}

TEST(BadInput, XmlAndCsv) {
  test::TempDir dir;
  std::string ev =
      "<Event><System><EventID>5140</EventID><TimeCreated SystemTime=\"2026-11-28T10:00:00Z\"/>"
      "<Computer>FS01</Computer></System><EventData><Data Name=\"SubjectUserName\">u{}</Data>"
      "<Data Name=\"SubjectDomainName\">D</Data><Data Name=\"ShareName\">\\\\*\\S</Data></EventData></Event>\n";
  auto make = [&](int i) { return std::string(ev).replace(ev.find("{}"), 2, std::to_string(i)); };
  std::string xml = "<Events>\n" + make(1) + "<Event><System><EventID>5140</Event>\n" + make(3) +
                    "<Event><System><EventID>5140</EventID><TimeCreated SystemTime=\"2026-11-28\"/>";
  std::string csv =
      "TimeGenerated,EventID,Account,Computer,ShareName\n"
      "2026-11-28T10:00:00Z,5140,D\\a,FS01,\\\\*\\S\n"
      "2026-11-28T10:00:00Z,5140,D\\b\n"
      "2026-11-28T10:00:00Z,5140,\"D\\c\" junk,FS01,S\n"
      "2026-11-28T10:00:00Z,5140,\"D\\d, with comma\",FS01,\"multi\nline\"\n"
      "2026-11-28T10:00:00Z,5140,\"D\\e unterminated,FS01,S\n";
  auto r = read_all({dir.write("a.xml", xml), dir.write("b.csv", csv)});
  std::set<std::string> users;
  for (size_t i = 0; i < r->events.size(); ++i) users.insert(r->user(i));
  EXPECT_EQ(users, (std::set<std::string>{"d\\u1", "d\\u3", "d\\a", "d\\d, with comma"}));
  EXPECT_EQ(r->stats.rejected, 5u);
  EXPECT_TRUE(has_reject(*r, "xml_syntax", 3));
  EXPECT_TRUE(has_reject(*r, "truncated", 5));
  EXPECT_TRUE(has_reject(*r, "csv_columns", 3));
  EXPECT_TRUE(has_reject(*r, "csv_syntax", 4));
}

TEST(BadInput, ExportTreeWithJunkNames) {
  test::TempDir dir;
  std::string ws = "WorkspaceResourceId=/subscriptions/s/resourcegroups/r/providers/microsoft.operationalinsights/workspaces/w/";
  dir.write(ws + "y=2026/m=11/d=28/h=10/m=00/PT05M.json", row(1) + "\n");
  dir.write(ws + "y=2026/m=11/d=28/h=10/m=00/PT05M_1.json", row(2) + "\n");
  dir.write(ws + "y=2026/m=11/d=28/h=10/m=00/PT05M_x.json", row(3) + "\n");
  dir.write(ws + "y=2026/m=13/d=28/h=10/m=00/PT05M.json", row(4) + "\n");
  dir.write(ws + "y=2026/m=11/d=28/h=10/m=07/PT05M.json", row(5) + "\n");
  dir.write(ws + "y=2026/m=11/d=28/h=10/m=05/notes.txt", "hello");
  dir.write(ws + "y=2026/m=11/d=28/h=11/m=00/PT1H.json", row(6) + "\n");
  dir.write("README.md", "# not a blob");
  auto r = read_all({dir.path().string()});
  std::set<std::string> users;
  for (size_t i = 0; i < r->events.size(); ++i) users.insert(r->user(i));
  EXPECT_EQ(users, (std::set<std::string>{"contoso\\u1", "contoso\\u2", "contoso\\u6"}));
  EXPECT_EQ(r->stats.skipped_files.size(), 5u);
  for (const auto& s : r->stats.skipped_files) EXPECT_NE(s.reason.find("export layout"), std::string::npos) << s.path;
}

TEST(BadInput, EventHubMessages) {
  test::TempDir dir;
  std::string msg = R"({"records":[)" + row(1) + "," + row(2) + R"(,42,)" + row(3) + "]}\n";
  std::string pretty = "{\n  \"records\": [\n    " + row(4) + ",\n    " + row(5) + "\n  ]\n}\n";
  // A message cut short is rejected whole: its structure cannot be trusted.
  auto r = read_all({dir.write("hub.json", msg + R"({"records":[)" + row(6) + ",{\"TimeGen\n"),
                     dir.write("pretty.json", pretty)});
  std::set<std::string> users;
  for (size_t i = 0; i < r->events.size(); ++i) users.insert(r->user(i));
  EXPECT_EQ(users, (std::set<std::string>{"contoso\\u1", "contoso\\u2", "contoso\\u3", "contoso\\u4", "contoso\\u5"}));
  EXPECT_TRUE(has_reject(*r, "wrong_type", 1, "records"));
  EXPECT_TRUE(has_reject(*r, "truncated", 2));
  EXPECT_EQ(r->stats.rejected, 2u);
}

}  // namespace byoml
