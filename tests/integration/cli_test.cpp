// The byoml binary as a user runs it: output, JSON, exit codes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace byoml {
using test::run;

TEST(Cli, InspectJsonOnRealData) {
  auto r = run("inspect --json " + test::fixture("evtx") + " " +
               test::fixture("otrf/goldensaml-windowsevents.la-export.jsonl"));
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["records"]["events"], 124);
  EXPECT_EQ(j["events_by_id"]["5140"], 17);
  EXPECT_EQ(j["events_by_id"]["4624"], 36);
  EXPECT_EQ(j["files"]["read"], 5);
  EXPECT_EQ(j["rejected"]["total"], 0);
  EXPECT_EQ(j["template"]["distinct"]["events"], 17);
  EXPECT_EQ(j["time"]["first"], "2020-08-20T15:35:28.5039667Z");
}

TEST(Cli, InspectTextWindowAndTemplateParameter) {
  auto r = run("inspect --from 2020-01-01 --to 2021-01-01 --resource-scope share " +
               test::fixture("otrf/share-access-5140-5145.nxlog.jsonl"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("outside the window"), std::string::npos);
  EXPECT_NE(r.out.find("EventID"), std::string::npos);
}

// Standard input by "-" and by /dev/stdin; reading nothing is a warning, and --strict an error;
// result rows to standard output with --output -.
TEST(Cli, StandardInputAndReadingNothing) {
  test::TempDir dir;
  const std::string data = test::fixture("otrf/share-access-5140-5145.nxlog.jsonl");
  ASSERT_EQ(run("train -q --no-store --input " + data + " --model " + dir.file("m")).code, 0);
  const std::string score = "score -q --no-store --model " + dir.file("m");
  for (const char* input : {"-", "/dev/stdin"}) {
    auto empty = run(score + " --input " + input + " < /dev/null");
    EXPECT_EQ(empty.code, 0) << input << ": " << empty.out;
    EXPECT_NE(empty.out.find("warning: read no events (no records found)"), std::string::npos) << empty.out;
    EXPECT_EQ(run(score + " --strict --input " + input + " < /dev/null").code, 3) << input;
    auto piped = run(score + " --json --input " + input + " < " + data);
    ASSERT_EQ(piped.code, 0) << input << ": " << piped.out;
    EXPECT_EQ(nlohmann::json::parse(piped.out)["events"], 133) << input;
  }
  auto late = run(score + " --from 2030-01-01 --input " + data);
  EXPECT_EQ(late.code, 0) << late.out;
  EXPECT_NE(late.out.find("644 records: 644 outside the window"), std::string::npos) << late.out;
  EXPECT_EQ(run(score + " --strict --from 2030-01-01 --input " + data).code, 3);
  // The rows own standard output; the summary goes to standard error. (Every pair here was in
  // training, so none alerts: the rows are the per-event scores.)
  auto rows = test::shell(std::string("(env BYOML_STORE= ") + BYOML_CLI + " " + score + " --per-event --input " + data +
                          " --output - 2>/dev/null)");
  ASSERT_EQ(rows.code, 0) << rows.out;
  size_t lines = 0;
  for (size_t at = 0; (at = rows.out.find('\n', at)) != std::string::npos; ++at) ++lines;
  EXPECT_GT(lines, 0u);
  EXPECT_EQ(rows.out.find("run "), std::string::npos) << rows.out;
  EXPECT_TRUE(nlohmann::json::parse(rows.out.substr(0, rows.out.find('\n'))).contains("AnomalyScore"));
}

TEST(Cli, ExitCodesMeanSomething) {
  EXPECT_EQ(run("inspect /nonexistent/path").code, 4) << "not found";
  auto scheme = run("inspect ftp://host/export");
  EXPECT_EQ(scheme.code, 2) << scheme.out;
  EXPECT_NE(scheme.out.find("no transport for \"ftp://\""), std::string::npos) << scheme.out;
  EXPECT_EQ(run("query --store /nonexistent/s.db 'T'").code, 4);
  EXPECT_EQ(run("score --no-store --input /nonexistent --model /nonexistent/models").code, 4);
  EXPECT_EQ(run("inspect --no-such-option x").code, 2);
  EXPECT_EQ(run("inspect --from yesterday " + test::fixture("evtx")).code, 2);
  EXPECT_EQ(run("inspect --max-record-bytes 12 " + test::fixture("evtx")).code, 2);
  test::TempDir dir;
  std::string bad = dir.write("bad.json", "{oops\n");
  EXPECT_EQ(run("inspect " + bad).code, 0);
  auto strict = run("inspect --strict " + bad);
  EXPECT_EQ(strict.code, 3);
  EXPECT_NE(strict.out.find(bad + ":1"), std::string::npos) << strict.out;
  EXPECT_EQ(run("--help").code, 0);
  EXPECT_EQ(run("").code, 2);
}

TEST(Cli, TemplateShowRoundTripsThroughTemplateOption) {
  test::TempDir dir;
  auto shown = run("template show");
  ASSERT_EQ(shown.code, 0);
  std::string path = dir.write("copy.yaml", shown.out);
  auto r = run("inspect --json --template " + path + " " + test::fixture("evtx/failed-admin-share-access.evtx"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["template"]["distinct"]["events"], 8);
  std::string broken = dir.write("broken.yaml", "template: x\nmapping: {shoe: [a]}\n");
  auto b = run("inspect --template " + broken + " " + test::fixture("evtx"));
  EXPECT_EQ(b.code, 1);
  EXPECT_NE(b.out.find("broken.yaml"), std::string::npos);
}

TEST(Cli, SampleThenInspect) {
  test::TempDir dir;
  auto s = run("sample --quiet --events 2000 --train-days 3 --test-days 2 --output " + dir.path().string());
  ASSERT_EQ(s.code, 0) << s.out;
  auto r = run("inspect --json " + dir.file("export"));
  auto j = nlohmann::json::parse(r.out);
  auto m = nlohmann::json::parse(std::ifstream(dir.file("manifest.json")));
  EXPECT_EQ(j["records"]["events"], m["rows"]);
  EXPECT_EQ(j["template"]["distinct"]["events"], m["rows_5140"]);
  auto d = run("sample --scenario departments --output " + dir.path().string());
  EXPECT_EQ(d.code, 0) << d.out;
  EXPECT_EQ(run("sample --events 5 --output " + dir.path().string()).code, 2);
}

}  // namespace byoml
