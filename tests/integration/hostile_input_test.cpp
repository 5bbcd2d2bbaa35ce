// Hostile logs, configs and queries (issue 9): every case that once crashed, leaked, lost data,
// gave a wrong result or hung. Each test names the error it expects and checks that the good
// records around the bad one still arrive.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "byoml/common/text.h"
#include "byoml/common/time.h"
#include "byoml/features/allowlist.h"
#include "byoml/report/html_report.h"
#include "byoml/rules/analytics_rule.h"
#include "byoml/rules/kql.h"
#include "byoml/rules/rule_engine.h"
#include "test_util.h"

namespace byoml {
namespace {

namespace fs = std::filesystem;
using test::read_all;

std::string row(int i, const std::string& extra = "") {
  return R"({"TimeGenerated":"2026-11-28T10:00:00.1234567Z","EventID":5140,"Account":"CONTOSO\\u)" + std::to_string(i) +
         R"(","Computer":"FS01","ShareName":"\\\\*\\Share)" + std::to_string(i % 7) + "\"" + extra + "}";
}

std::string rows(int from, int to) {
  std::string s;
  for (int i = from; i < to; ++i) s += row(i) + "\n";
  return s;
}

bool rejected(const test::ReadAll& r, const std::string& kind) {
  return r.rejects.by_kind().count(kind) != 0;
}

// A command line that runs with files limited to `kib` KiB: writing past it fails as on a full
// disk (EFBIG; SIGXFSZ is ignored so the write returns the error instead of killing us).
std::string full_disk(int kib, const std::string& args) {
  return "(ulimit -f " + std::to_string(kib * 2) + "; trap '' XFSZ; exec " + std::string(BYOML_CLI) + " " + args + ")";
}

// ---- silent data loss ----

TEST(Hostile, AJsonLinesFileWhoseFirstLineLooksLikeADocumentKeepsEveryGoodRow) {
  for (std::string first : {"[junk", "{", "[\"a\"]", "[", "[{\"a\":1},"}) {
    test::TempDir dir;
    auto r = read_all({dir.write("rows.json", first + "\n" + rows(0, 10000))});
    EXPECT_EQ(r->events.size(), 10000u) << "first line " << first;
    EXPECT_EQ(r->stats.rejected, 1u) << first;
  }
}

TEST(Hostile, AJsonDocumentIsBoundedAndItsOverlongElementIsRejectedAlone) {
  test::TempDir dir;
  std::string big = row(1, ",\"Padding\":\"" + std::string(5000, 'x') + "\"");
  std::string doc = "[\n" + row(0) + ",\n" + big + ",\n" + row(2) + "\n]\n";
  ReadOptions o;
  o.max_record_bytes = 2048;
  auto r = read_all({dir.write("doc.json", doc)}, test::default_mapping(), o);
  EXPECT_EQ(r->events.size(), 2u);
  EXPECT_TRUE(rejected(*r, "record_too_long"));
  // A document larger than --max-document-bytes is refused as a whole, with the reason.
  o.max_document_bytes = 1024;
  auto refused = read_all({dir.file("doc.json")}, test::default_mapping(), o);
  ASSERT_EQ(refused->stats.skipped_files.size(), 1u);
  EXPECT_NE(refused->stats.skipped_files[0].reason.find("--max-document-bytes"), std::string::npos);
}

// Keys are matched a word at a time against the shapes met before, and plain values are taken
// in place: rows that change shape, keys that differ only in their last byte or are longer than
// the words compared, and escaped keys and values must each still land in their own field.
TEST(Hostile, EveryValueLandsInItsFieldWhateverTheRowsShape) {
  MappingSpec spec = test::default_mapping();
  spec.user.sources = {"AccountNameLongerThanTheThreeWordsCompared"};
  spec.resource.sources = {"ShareName"};
  const std::string t = R"("TimeGenerated":"2026-11-28T10:00:00.1234567Z","EventID":5140,"Computer":"FS01")";
  std::vector<std::string> lines = {
      "{" + t + R"(,"AccountNameLongerThanTheThreeWordsCompared":"CONTOSO\\u0","ShareNamf":"decoy","ShareName":"S0"})",
      "{" + t + R"(,"ShareName":"S1","AccountNameLongerThanTheThreeWordsCompared":"contoso\\u1","Extra":1})",
      "{" + t + R"(,"AccountNameLongerThanTheThreeWordsCompareX":"decoy","AccountNameLongerThanTheThreeWordsCompared":"contoso\\u2","ShareName":"S2"})",
      "{" + t + R"(,"AccountNameLongerThanTheThreeWordsCompared":"contoso\\u3","Share\u004eame":"S3"})",
      "{" + t + R"(,"AccountNameLongerThanTheThreeWordsCompared":"contoso\\u4","ShareName":"S\u0034","ShareName2":"decoy"})",
      "{" + t + R"(,"AccountNameLongerThanTheThreeWordsCompared":"contoso\\u5","ShareNamf":"decoy","ShareName":"S5"})",
      "{" + t + R"(,"AccountNameLongerThanTheThreeWordsCompared":"contoso\\u6","ShareName":"S6\"quoted\""})",
  };
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  test::TempDir dir;
  auto r = read_all({dir.write("shapes.json", text)}, spec);
  ASSERT_EQ(r->events.size(), lines.size()) << (r->rejects.samples().empty() ? "" : r->rejects.samples()[0].to_string());
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(r->user(i), "contoso\\u" + std::to_string(i)) << lines[i];
    EXPECT_EQ(r->resource(i), "fs01\\s" + std::to_string(i) + (i == 6 ? "\"quoted\"" : "")) << lines[i];
  }
}

// Compact rows ({"k":v,...}) are read from their bytes where stage 1 and a look vouch for the
// values, and by simdjson otherwise; rows with blanks ({"k": v, ...}) always by simdjson. The
// same rows in both renderings must give the same events and the same rejects, whatever mix
// of valid, invalid, escaped, odd-typed and unmapped values they hold.
TEST(Hostile, CompactRowsReadAsTheSameRowsWithBlanks) {
  std::mt19937 rng(11);
  auto pick = [&](std::initializer_list<const char*> values) { return std::string(*(values.begin() + rng() % values.size())); };
  std::vector<std::vector<std::pair<std::string, std::string>>> rows;
  for (int i = 0; i < 3000; ++i) {
    std::vector<std::pair<std::string, std::string>> f = {
        {"TimeGenerated", pick({R"("2026-11-28T10:00:00.1234567Z")", R"("2026-11-28T11:59:59.9999999Z")", R"("2026-11-28T10:61:00.0000000Z")",
                                R"("2026-11-28 10:00:00")", "1764324000", "null"})},
        {"EventID", pick({"5140", "5140", "5145", R"("5140")", "-1", "01", "5140.0", "1e3", "true", "null", "-0", "123456789012345678901234567890"})},
        {"Account", pick({R"("CONTOSO\\alice")", R"("CONTOSO\\BOB")", R"("contoso\u005ccarol")", R"("bad\q")", R"("")", R"("-")", "null", "42",
                          R"({"a":1})", "[1]", "false"})},
        {"Computer", pick({R"("FS01")", R"("fs02.contoso.local")", R"("F\"S")", "null", "7"})},
        {"ShareName", pick({R"("\\\\*\\Data")", R"("\\\\*\\IPC$")", R"("Projects")", R"("\u00e9t\u00e9")", "null", "0"})},
        {"SubjectLogonId", pick({R"("0x3f7491")", "12345", R"("zz")", "null", R"("0x000000002276d109")"})},
        {"AccessMask", pick({R"("0x1")", "1", R"("0X1F")", "-5"})},
        {"Other", pick({R"("s")", R"("bad\q")", "tru", "NaN", "0", "-0", "1.5", "{}", "[]", R"({"x":[1,{"y":null}]})", "nul", "false", "falsey",
                        "123456789012345678901234567890", "00"})},
    };
    std::shuffle(f.begin() + 3, f.end(), rng);  // shapes that change from row to row
    if (rng() % 10 == 0) f.erase(f.begin() + static_cast<long>(rng() % f.size()));
    if (rng() % 20 == 0) f.emplace_back("Share\\u004eame", R"("Escaped")");
    rows.push_back(std::move(f));
  }
  auto render = [&](const char* colon, const char* comma) {
    std::string text;
    for (const auto& f : rows) {
      text += "{";
      for (size_t k = 0; k < f.size(); ++k) text += (k ? comma : "") + ("\"" + f[k].first + "\"") + colon + f[k].second;
      text += "}\n";
    }
    return text;
  };
  test::TempDir dir;
  auto compact = read_all({dir.write("compact.json", render(":", ","))});
  auto blanks = read_all({dir.write("blanks.json", render(": ", ", "))});
  ASSERT_GT(compact->events.size(), 100u);
  ASSERT_GT(compact->stats.rejected, 100u);
  ASSERT_EQ(compact->events.size(), blanks->events.size());
  ASSERT_EQ(compact->stats.rejected, blanks->stats.rejected);
  EXPECT_EQ(compact->rejects.by_kind(), blanks->rejects.by_kind());
  for (size_t i = 0; i < compact->rejects.samples().size(); ++i) {
    const Reject& a = compact->rejects.samples()[i];
    const Reject& b = blanks->rejects.samples()[i];
    EXPECT_EQ(a.origin.at.line, b.origin.at.line);
    EXPECT_EQ(a.kind + " " + a.field, b.kind + " " + b.field) << a.to_string() << "\n" << b.to_string();
  }
  for (size_t i = 0; i < compact->events.size(); ++i) {
    EXPECT_EQ(compact->events.time[i], blanks->events.time[i]) << i;
    EXPECT_EQ(compact->user(i), blanks->user(i)) << i;
    EXPECT_EQ(compact->machine(i), blanks->machine(i)) << i;
    EXPECT_EQ(compact->resource(i), blanks->resource(i)) << i;
    EXPECT_EQ(compact->events.event_id[i], blanks->events.event_id[i]) << i;
    EXPECT_EQ(compact->events.account_type[i], blanks->events.account_type[i]) << i;
    EXPECT_EQ(compact->events.record_id[i], blanks->events.record_id[i]) << i;
    for (size_t c = 0; c < compact->events.extra.size(); ++c) EXPECT_EQ(compact->events.extra[c][i], blanks->events.extra[c][i]) << i;
  }
}

TEST(Hostile, InvalidJsonValuesInUnmappedFieldsAreRejectedLikeInvalidUtf8) {
  test::TempDir dir;
  std::string text = row(0) + "\n" + row(1, ",\"Other\":NaN") + "\n" + row(2, ",\"Other\":tru") + "\n" +
                     row(3, ",\"Other\":01") + "\n" + row(4, ",\"Other\":nul") + "\n" +
                     row(5, ",\"Other\":123456789012345678901234567890") + "\n" +
                     row(6) + "\n";
  auto r = read_all({dir.write("v.json", text)});
  EXPECT_EQ(r->events.size(), 3u) << "rows 0, 5 (a huge integer is valid JSON) and 6";
  EXPECT_EQ(r->stats.rejected, 4u);
}

TEST(Hostile, InvalidUtf8InXmlAndCsvIsRejectedAndTheRecordsAroundItArrive) {
  test::TempDir dir;
  auto event = [](const std::string& user) {
    return "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>5140</EventID>"
           "<TimeCreated SystemTime='2026-11-28T10:00:00.000Z'/><Computer>FS01</Computer></System><EventData>"
           "<Data Name='SubjectUserName'>" + user + "</Data><Data Name='SubjectDomainName'>CONTOSO</Data>"
           "<Data Name='ShareName'>\\\\*\\Data</Data></EventData></Event>\n";
  };
  auto xml = read_all({dir.write("e.xml", "<Events>\n" + event("a") + event("bad\xff\xfe") + event("c") + "</Events>\n")});
  EXPECT_EQ(xml->events.size(), 2u);
  EXPECT_TRUE(rejected(*xml, "invalid_utf8"));
  std::string csv = "TimeGenerated [UTC],EventID,Account,Computer,ShareName\n"
                    "2026-11-28T10:00:00Z,5140,CONTOSO\\a,FS01,\\\\*\\Data\n"
                    "2026-11-28T10:00:00Z,5140,CONTOSO\\b\xc3\x28,FS01,\\\\*\\Data\n"
                    "2026-11-28T10:00:00Z,5140,CONTOSO\\c,FS01,\\\\*\\Data\n";
  auto c = read_all({dir.write("e.csv", csv)});
  EXPECT_EQ(c->events.size(), 2u);
  EXPECT_TRUE(rejected(*c, "invalid_utf8"));
}

TEST(Hostile, ACsvQuotedFieldPastTheLimitDoesNotSwallowTheRowsAfterIt) {
  test::TempDir dir;
  std::string csv = "TimeGenerated,EventID,Account,Computer,ShareName\n"
                    "2026-11-28T10:00:00Z,5140,CONTOSO\\a,FS01,\\\\*\\Data\n"
                    "2026-11-28T10:00:00Z,5140,\"CONTOSO\\";
  for (int i = 0; i < 40; ++i) csv += std::string(100, 'x') + "\n";  // a quoted field of 4 KB over 40 lines
  csv += "end\",FS01,\\\\*\\Data\n";
  for (int i = 0; i < 5; ++i) csv += "2026-11-28T10:00:00Z,5140,CONTOSO\\u" + std::to_string(i) + ",FS01,\\\\*\\Data\n";
  ReadOptions o;
  o.max_record_bytes = 1024;
  auto r = read_all({dir.write("q.csv", csv)}, test::default_mapping(), o);
  EXPECT_EQ(r->events.size(), 6u);
  EXPECT_EQ(r->stats.rejected, 1u);
  EXPECT_TRUE(rejected(*r, "line_too_long"));
}

TEST(Hostile, AnEvtxCutInsideItsChunkSlackKeepsEveryRecord) {
  test::TempDir dir;
  // A real file (CC0; tests/data/README.md).
  std::string full = test::file_text(test::fixture("evtx/admin-share-golden-ticket.evtx"));
  ASSERT_EQ(full.size(), 69632u);
  for (size_t cut : {size_t{1}, size_t{4096}}) {
    auto r = read_all({dir.write("cut.evtx", full.substr(0, full.size() - cut))});
    EXPECT_EQ(r->events.size(), 2u) << "cut by " << cut;
  }
}

TEST(Hostile, UnreadableDirectoriesAndNonRegularFilesAreReportedNotSkippedSilently) {
  test::TempDir dir;
  fs::permissions(dir.path(), fs::perms::all);
  std::string good = dir.write("tree/a/rows.json", rows(0, 10));
  dir.write("tree/locked/rows.json", rows(10, 20));
  ASSERT_EQ(mkfifo(dir.file("tree/a/pipe").c_str(), 0644), 0);
  fs::permissions(dir.path() / "tree/locked", fs::perms::none);
  // root reads any directory: run the CLI as nobody where we are root.
  std::string as = geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  fs::permissions(dir.path() / "tree", fs::perms::all);
  fs::permissions(dir.path() / "tree/a", fs::perms::all);
  fs::permissions(good, fs::perms::all);
  auto r = test::shell(as + BYOML_CLI + " inspect --json " + dir.file("tree"));
  fs::permissions(dir.path() / "tree/locked", fs::perms::all);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("cannot read directory"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not a regular file"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"events\": 10"), std::string::npos) << r.out;
  fs::remove(dir.file("tree/a/pipe"));
  auto strict = test::shell(as + BYOML_CLI + " inspect --strict " + dir.file("tree"));
  EXPECT_EQ(strict.code, 0) << "everything is readable again: " << strict.out;
  fs::permissions(dir.path() / "tree/locked", fs::perms::none);
  strict = test::shell(as + BYOML_CLI + " inspect --strict " + dir.file("tree"));
  fs::permissions(dir.path() / "tree/locked", fs::perms::all);
  EXPECT_EQ(strict.code, 3) << strict.out;
}

TEST(Hostile, ADeviceAsInputIsRefusedAtOnceAndAPipeIsReadAsAStream) {
  test::TempDir dir;
  auto zero = test::shell("timeout 60 " + std::string(BYOML_CLI) + " inspect --format json /dev/zero");
  EXPECT_EQ(zero.code, 2) << zero.out;
  EXPECT_NE(zero.out.find("not a regular file"), std::string::npos) << zero.out;
  // A FIFO named on its own is a stream (process substitution gives one); in a folder it is skipped.
  ASSERT_EQ(mkfifo(dir.file("fifo").c_str(), 0644), 0);
  std::string row = R"({"TimeGenerated":"2026-11-28T10:00:00Z","EventID":5140,"Account":"C\\a","Computer":"FS01","ShareName":"\\\\*\\Data"})";
  auto fifo = test::shell("(printf '%s\n' '" + row + "' > " + dir.file("fifo") + " &) ; timeout 60 " +
                          std::string(BYOML_CLI) + " inspect --json " + dir.file("fifo"));
  EXPECT_EQ(fifo.code, 0) << fifo.out;
  EXPECT_NE(fifo.out.find("\"events\": 1"), std::string::npos) << fifo.out;
}

TEST(Hostile, AFloodOfUnclosedXmlEventsIsRejectedOneByOneAndTheGoodEventArrives) {
  test::TempDir dir;
  std::string text;
  for (int i = 0; i < 150000; ++i) text += "<Event ";  // 1 MB
  text += "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>5140</EventID>"
          "<TimeCreated SystemTime='2026-11-28T10:00:00.000Z'/><Computer>FS01</Computer></System><EventData>"
          "<Data Name='SubjectUserName'>a</Data><Data Name='SubjectDomainName'>C</Data>"
          "<Data Name='ShareName'>\\\\*\\Data</Data></EventData></Event>\n";
  auto r = read_all({dir.write("flood.xml", text)});
  EXPECT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->stats.rejected, 150000u);
}

// ---- writes that fail ----

class HostileCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir;
    ASSERT_EQ(test::run("sample -q --events 2000 --output " + d()).code, 0);
    auto t = test::run("train -q --input " + d() + "/export --to 2026-11-02 --model " + d() + "/models --store " + d() + "/s.db");
    ASSERT_EQ(t.code, 0) << t.out;
    auto s = test::run("score -q --input " + d() + "/export --from 2026-11-02 --model " + d() + "/models --store " + d() + "/s.db");
    ASSERT_EQ(s.code, 0) << s.out;
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string d() { return dir_->path().string(); }
  static test::TempDir* dir_;
};
test::TempDir* HostileCli::dir_ = nullptr;

TEST_F(HostileCli, PerEventOutputOnAFullDiskFailsCleanlyAndKeepsThePreviousFile) {
  test::TempDir out;
  std::string file = out.write("events.jsonl", "previous\n");
  auto r = test::shell(full_disk(64, "score -q --no-store --per-event -o " + file + " --input " + d() +
                                         "/export --from 2026-11-02 --model " + d() + "/models"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("write failed"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("terminate"), std::string::npos) << r.out;
  EXPECT_EQ(test::file_text(file), "previous\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(out.path()), fs::directory_iterator()), 1) << "no temporary file left";
}

TEST_F(HostileCli, RejectsLogAndStandardOutputOnAFullDiskAreErrors) {
  test::TempDir out;
  std::string bad;
  for (int i = 0; i < 3000; ++i) bad += "{broken " + std::to_string(i) + "\n";
  std::string input = out.write("bad.json", bad + rows(0, 10));
  auto r = test::shell(full_disk(16, "inspect --rejects " + out.file("rejects.jsonl") + " " + input));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("rejects"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out.file("rejects.jsonl"))) << "a partial rejects log is never left in place";
  auto q = test::shell("(" + std::string(BYOML_CLI) + " query --json --store " + d() + "/s.db 'AnomalousResourceAccessResult_CL' > /dev/full)");
  EXPECT_EQ(q.code, 1) << q.out;
  EXPECT_NE(q.out.find("standard output"), std::string::npos) << q.out;
}

TEST_F(HostileCli, AReportOnAFullDiskLeavesThePreviousReport) {
  test::TempDir out;
  std::string file = out.write("report.html", "previous report");
  auto r = test::shell(full_disk(256, "report --store " + d() + "/s.db --output " + file));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(test::file_text(file), "previous report");
}

TEST_F(HostileCli, ReadOnlyCommandsNeverCreateAStore) {
  test::TempDir out;
  std::string missing = out.file("typo.db");
  for (std::string cmd : {std::string("query 'byoml_runs'"), std::string("incidents list"), "report --output " + out.file("r.html"),
                          "rules run --rules " + std::string(BYOML_SOURCE_DIR) + "/rules"}) {
    auto r = test::run(cmd + " --store " + missing);
    EXPECT_EQ(r.code, 4) << cmd << ": " << r.out;
    EXPECT_NE(r.out.find("no results store"), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(missing)) << cmd;
  }
}

TEST_F(HostileCli, ModelVersionZeroOrNegativeIsAUsageError) {
  for (std::string v : {"0", "-1"}) {
    auto r = test::run("score -q --no-store --model-version " + v + " --input " + d() + "/export --model " + d() + "/models");
    EXPECT_EQ(r.code, 2) << v << ": " << r.out;
  }
}

TEST_F(HostileCli, ASasUrlNeverReachesTheStoreOrTheReport) {
  test::TempDir out;
  std::string db = out.file("s.db");
  std::string url = "'https://acct.blob.core.windows.net/logs?sv=2022-11-02&sp=rl&sig=TOPSECRETsig%3D'";
  auto r = test::run("score -q --http-attempts 1 --input " + url + " --model " + d() + "/models --store " + db);
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(r.out.find("TOPSECRET"), std::string::npos) << r.out;
  auto rows = test::run("query --json --store " + db + " 'byoml_runs'");
  ASSERT_EQ(rows.code, 0) << rows.out;
  // The run names the URL without its query, where a SAS lives.
  EXPECT_NE(rows.out.find("https://acct.blob.core.windows.net/logs\\\"]"), std::string::npos) << rows.out;
  EXPECT_EQ(rows.out.find("sig="), std::string::npos) << rows.out;
  EXPECT_EQ(test::file_text(db).find("TOPSECRET"), std::string::npos);
  ASSERT_EQ(test::run("report --store " + db + " --output " + out.file("r.html")).code, 0);
  EXPECT_EQ(test::file_text(out.file("r.html")).find("TOPSECRET"), std::string::npos);
}

TEST(Hostile, SecretsAreRedactedInUrlsAndConnectionStrings) {
  EXPECT_EQ(redact_secrets("https://a.blob.core.windows.net/c?sv=1&sig=abc%2F&se=2"),
            "https://a.blob.core.windows.net/c?sv=1&sig=REDACTED&se=2");
  EXPECT_EQ(redact_secrets("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k+/==;EndpointSuffix=x"),
            "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=REDACTED;EndpointSuffix=x");
  EXPECT_EQ(redact_secrets("Endpoint=sb://h/;SharedAccessKeyName=n;SharedAccessKey=s3cret"),
            "Endpoint=sb://h/;SharedAccessKeyName=n;SharedAccessKey=REDACTED");
  EXPECT_EQ(redact_secrets("https://user:pw@host/x"), "https://user:REDACTED@host/x");
  EXPECT_EQ(redact_secrets("plain/path/with_signature_in_name.json"), "plain/path/with_signature_in_name.json");
}

// ---- security ----

TEST(Hostile, AnExactAllowlistEntryDoesNotMatchANameWithANulInIt) {
  auto list = Allowlist::parse("entries:\n  - account: 'contoso\\svc_backup'\n  - account: 'contoso\\svc_*'\n    resource: '\\\\fs\\x'\n",
                               "a.yaml");
  ASSERT_TRUE(list) << list.status().message();
  using namespace std::string_literals;
  EXPECT_TRUE(list->matches(AllowAction::kSkipResult, "CONTOSO\\svc_backup", "\\\\fs\\any"));
  EXPECT_FALSE(list->matches(AllowAction::kSkipResult, "contoso\\svc_backup\0attacker"s, "\\\\fs\\any"));
  EXPECT_TRUE(list->matches(AllowAction::kSkipResult, "contoso\\svc_b\0x"s, "\\\\fs\\x")) << "a wildcard spans any byte";
  EXPECT_FALSE(Allowlist::parse("entries:\n  - account: \"a\\0b\"\n", "nul.yaml")) << "a NUL in a pattern";
}

TEST(Hostile, BidiOverridesAndControlsAreShownEscaped) {
  EXPECT_EQ(display_safe("evil\u202eexe.txt"), "evil\\u202Eexe.txt");
  EXPECT_EQ(display_safe("a\u2066b\tc\x1b[31m"), "a\\u2066b\\u0009c\\u001B[31m");
  EXPECT_EQ(display_safe("Zoë \\\\fs\\share"), "Zoë \\\\fs\\share");
  EXPECT_TRUE(needs_display_escape("x\u202d"));
  EXPECT_FALSE(needs_display_escape("plain"));
}

TEST(Hostile, ReportScriptsRunOnlyByHashAndDataNeverFillsASlot) {
  test::TempDir dir;
  auto store = ResultStore::open(dir.file("r.db"));
  ASSERT_TRUE(store);
  nlohmann::json row = {{"TimeGenerated", "2026-11-02T10:00:00.0000000Z"}, {"User", "@@ECHARTS@@"},
                        {"Resource", "@@DATA@@"}, {"Tenant", "@@TITLE@@"}, {"AnomalyScore", 3.5}, {"Severity", 99.0},
                        {"Reasons", {"new_pair"}}, {"RunId", "run-1"}};
  ASSERT_TRUE(store->insert(default_template().output, {row}));
  ASSERT_TRUE(store->record_run({{"RunId", "run-1"}, {"Kind", "score"}, {"Status", "ok"}, {"Started", "2026-11-02T11:00:00Z"}}));
  auto html = render_report(*store, {});
  ASSERT_TRUE(html) << html.status().message();
  std::string csp = html->substr(html->find("Content-Security-Policy"), 400);
  csp = csp.substr(0, csp.find('>'));
  EXPECT_EQ(csp.find("unsafe-inline'; style"), std::string::npos) << csp;
  EXPECT_NE(csp.find("script-src 'sha256-"), std::string::npos) << csp;
  EXPECT_NE(html->find("\"User\":\"@@ECHARTS@@\""), std::string::npos) << "the value stays in the data as it was";
  // One copy of the library, however many times a log value names its slot.
  const std::string lib = "Licensed to the Apache Software Foundation";
  size_t copies = 0;
  for (size_t at = html->find(lib); at != std::string::npos; at = html->find(lib, at + 1)) ++copies;
  size_t alone = 0;
  auto empty = ResultStore::open(dir.file("e.db"));
  auto plain = render_report(*empty, {});
  for (size_t at = plain->find(lib); at != std::string::npos; at = plain->find(lib, at + 1)) ++alone;
  EXPECT_EQ(copies, alone);
  EXPECT_LT(html->size(), plain->size() + 4096);
}

// ---- crashes ----

std::string template_with(const std::string& extra_lines, const std::string& params = "") {
  std::string t = default_template_text();
  size_t at = t.find("  extra:\n");
  t.insert(at + 9, extra_lines);
  if (!params.empty()) t.insert(t.find("parameters:\n") + 12, params);
  return t;
}

TEST(Hostile, MoreExtraFieldsThanDeclaredIsATemplateError) {
  auto extras = [](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += "    x" + std::to_string(i) + ": {from: [Field" + std::to_string(i % 3) + "]}\n";
    return s;
  };
  // The built-in template has 2 extras: 62 more reach the limit of 64.
  EXPECT_TRUE(parse_template(template_with(extras(62)), "t.yaml"));
  for (int n : {63, 100}) {
    auto t = parse_template(template_with(extras(n)), "t.yaml");
    ASSERT_FALSE(t) << n;
    EXPECT_NE(t.status().message().find("64 at most"), std::string::npos) << t.status().message();
  }
}

TEST(Hostile, ATemplateParameterNamedLikeACommandOptionIsAUsageError) {
  test::TempDir dir;
  for (std::string name : {"model", "help"}) {
    std::string path = dir.write(name + ".yaml", template_with("", "  - {name: " + name + ", type: int, default: 1, help: h}\n"));
    auto r = test::run("train --template " + path + " --input " + dir.file("none"));
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find("clashes with the command's own option"), std::string::npos) << r.out;
  }
}

TEST(Hostile, DeeplyNestedKqlIsAnErrorNotAStackOverflow) {
  test::TempDir dir;
  auto store = ResultStore::open(dir.file("r.db"));
  ASSERT_TRUE(store && store->ensure_table(default_template().output));
  for (auto [open, close] : {std::pair<std::string, std::string>{"(", ")"}, {"-", ""}, {"not(", ")"}}) {
    std::string q = "AnomalousResourceAccessResult_CL | where ";
    for (int i = 0; i < 7000; ++i) q += open;
    q += "1";
    for (int i = 0; i < 7000; ++i) q += close;
    auto r = run_kql(*store, q.substr(0, kKqlMaxLength), 0);
    ASSERT_FALSE(r);
    EXPECT_NE(r.status().message().find("nested more than 64 deep"), std::string::npos) << r.status().message();
  }
  EXPECT_FALSE(run_kql(*store, std::string(kKqlMaxLength + 1, ' '), 0));
  std::string stages = "AnomalousResourceAccessResult_CL";
  for (int i = 0; i < 40; ++i) stages += " | where AnomalyScore > -100";
  EXPECT_TRUE(run_kql(*store, stages + " | count", 0)) << "40 stages are a flat chain, far from SQLite's parser limit";
  for (int i = 0; i < 30; ++i) stages += " | where AnomalyScore > -100";
  auto many = run_kql(*store, stages, 0);
  ASSERT_FALSE(many);
  EXPECT_NE(many.status().message().find("more than 64 pipe stages"), std::string::npos);
}

TEST(Hostile, AQueryThatGrowsWithoutBoundHitsItsMemoryLimit) {
  test::TempDir dir;
  auto store = ResultStore::open(dir.file("r.db"));
  ASSERT_TRUE(store);
  std::vector<nlohmann::json> rows;
  for (int i = 0; i < 5; ++i)
    rows.push_back({{"TimeGenerated", "2026-11-02T10:00:00.0000000Z"}, {"User", "user-with-a-long-name-" + std::to_string(i)},
                    {"Resource", "r"}, {"AnomalyScore", 1.0}, {"RunId", "x"}});
  ASSERT_TRUE(store->insert(default_template().output, rows));
  std::string q = "AnomalousResourceAccessResult_CL | extend A = User";
  std::string prev = "A";
  for (int i = 1; i <= 15; ++i) {
    q += " | extend X" + std::to_string(i) + " = strcat(" + prev + ", " + prev + ", " + prev + ", " + prev + ")";
    prev = "X" + std::to_string(i);
  }
  auto r = run_kql(*store, q + " | project " + prev, 0);
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("memory limit"), std::string::npos) << r.status().message();
  // Its first stages are an ordinary query.
  auto small = run_kql(*store, "AnomalousResourceAccessResult_CL | extend A = User | extend B = strcat(A, A, A, A) | project B", 0);
  ASSERT_TRUE(small) << small.status().message();
  EXPECT_EQ(small->size(), 5u);
}

// ---- wrong results ----

TEST(Hostile, EventIdsAsAScalarIsOneIdNotAny) {
  std::string t = default_template_text();
  size_t at = t.find("event_ids: [5140]");
  ASSERT_NE(at, std::string::npos);
  auto parsed = parse_template(t.replace(at, 17, "event_ids: 5140"), "t.yaml");
  ASSERT_TRUE(parsed) << parsed.status().message();
  EXPECT_EQ(parsed->event_ids, std::vector<uint32_t>{5140});
  std::string empty = default_template_text();
  EXPECT_FALSE(parse_template(empty.replace(empty.find("event_ids: [5140]"), 17, "event_ids: []"), "t.yaml"));
}

TEST(Hostile, AMisspeltTemplateKeyIsAnError) {
  for (auto [from, to] : {std::pair<std::string, std::string>{"parameters:", "paramters:"}, {"  required:", "  require:"},
                          {"output:", "outputs:"}}) {
    std::string t = default_template_text();
    t.replace(t.find(from), from.size(), to);
    auto parsed = parse_template(t, "t.yaml");
    ASSERT_FALSE(parsed) << to;
    EXPECT_NE(parsed.status().message().find("unknown key \"" + to.substr(to.find_first_not_of(' '), to.size() - 1 -
                                                                              to.find_first_not_of(' '))),
              std::string::npos)
        << parsed.status().message();
  }
}

TEST(Hostile, DurationsThatOverflowAreErrors) {
  EXPECT_FALSE(parse_duration("21350400d"));
  EXPECT_FALSE(parse_duration("999999999d999999999d"));
  EXPECT_FALSE(parse_duration("36526d"));
  ASSERT_TRUE(parse_duration("36525d"));
  EXPECT_EQ(*parse_duration("7d"), 7 * kTicksPerDay);
  std::string rule = test::file_text(std::string(BYOML_SOURCE_DIR) + "/rules/anomalous-resource-access.yaml");
  rule.replace(rule.find("queryPeriod: 2h"), 15, "queryPeriod: 21350400d");
  auto parsed = parse_rule(rule, "r.yaml");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.status().message().find("too large"), std::string::npos) << parsed.status().message();
}

TEST(Hostile, AnEntityMappingOnAMissingColumnRaisesNoAlerts) {
  test::TempDir dir;
  auto store = ResultStore::open(dir.file("r.db"));
  ASSERT_TRUE(store);
  std::vector<nlohmann::json> rows;
  for (std::string user : {"alice", "bob"})
    rows.push_back({{"TimeGenerated", "2026-11-02T10:00:00.0000000Z"}, {"User", user}, {"Resource", "r"},
                    {"AnomalyScore", 5.0}, {"Severity", 100.0}, {"Reasons", nlohmann::json::array()}, {"RunId", "x"}});
  ASSERT_TRUE(store->insert(default_template().output, rows));
  std::string text = test::file_text(std::string(BYOML_SOURCE_DIR) + "/rules/anomalous-resource-access.yaml");
  text.replace(text.find("columnName: User"), 16, "columnName: Usr");
  auto rule = parse_rule(text, "r.yaml");
  ASSERT_TRUE(rule) << rule.status().message();
  auto ran = run_rules(*store, {*rule}, make_ticks(2026, 11, 2, 12), true);
  ASSERT_TRUE(ran) << ran.status().message();
  const auto& o = *ran;
  ASSERT_EQ(o.size(), 1u);
  EXPECT_NE(o[0].error.find("column \"Usr\" is not in the query's result"), std::string::npos) << o[0].error;
  EXPECT_EQ(o[0].alerts, 0);
  EXPECT_TRUE(list_incidents(*store, "")->empty());
}

}  // namespace
}  // namespace byoml
