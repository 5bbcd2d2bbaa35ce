// The HTML report opened by headless Chromium (Debian's, started by the test): no script
// errors, every chart drew, hostile names stay text, and a screenshot is kept.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "byoml/report/html_report.h"
#include "byoml/templates/detection_template.h"
#include "test_util.h"

namespace byoml {
namespace {

struct Browser {
  int code;
  std::string out;
};

// Loads a file headless and returns the DOM after scripts ran (virtual time lets them finish).
Browser chromium(const std::string& args) {
  std::string cmd = "chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --virtual-time-budget=15000 " + args +
                    " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string body_tag(const std::string& dom) {
  auto at = dom.find("<body");
  return at == std::string::npos ? "" : dom.substr(at, dom.find('>', at) - at + 1);
}

TEST(Report, FullPipelineReportOpensInChromiumWithEveryChartDrawn) {
  test::TempDir dir;
  std::string d = dir.path().string(), db = dir.file("byoml.db");
  ASSERT_EQ(test::run("sample -q --events 60000 --output " + d).code, 0);
  ASSERT_EQ(test::run("train -q --input " + d + "/export --to 2026-11-02 --model " + d + "/models --store " + db).code, 0);
  ASSERT_EQ(test::run("score -q --input " + d + "/export --from 2026-11-02 --model " + d + "/models --store " + db).code, 0);
  auto rules = test::run("rules run --rules " + std::string(BYOML_SOURCE_DIR) + "/rules --store " + db +
                         " --now 2026-11-09T00:00:00Z");
  ASSERT_EQ(rules.code, 0) << rules.out;
  auto q = test::run("query --json --store " + db + " 'byoml_runs | summarize n = count() by Kind | order by Kind asc'");
  ASSERT_EQ(q.code, 0) << q.out;
  EXPECT_NE(q.out.find(R"({"Kind":"rules","n":1})"), std::string::npos) << q.out;
  EXPECT_NE(q.out.find(R"({"Kind":"score","n":1})"), std::string::npos) << q.out;
  EXPECT_NE(q.out.find(R"({"Kind":"train","n":1})"), std::string::npos) << q.out;
  auto bad = test::run("query --store " + db + " 'AnomalousResourceAccessResult_CL | where AnomalyScore > \"x\"'");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("cannot compare AnomalyScore (real) with string"), std::string::npos) << bad.out;
  auto again = test::run("rules run --rules " + std::string(BYOML_SOURCE_DIR) + "/rules --store " + db +
                         " --now 2026-11-09T00:30:00Z");
  EXPECT_NE(again.out.find("not due"), std::string::npos) << again.out;
  EXPECT_EQ(test::run("incidents close 999 --classification FalsePositive --store " + db).code, 4) << "no such incident";
  auto rep = test::run("report --store " + db + " --output " + d + "/report.html");
  ASSERT_EQ(rep.code, 0) << rep.out;
  auto page = chromium("--dump-dom file://" + d + "/report.html");
  ASSERT_EQ(page.code, 0) << "is Debian's chromium installed? (scripts/install-deps.sh)";
  std::string body = body_tag(page.out);
  EXPECT_NE(body.find("data-errors=\"0\""), std::string::npos) << body;
  EXPECT_NE(body.find("data-charts=\"3\""), std::string::npos) << body;
  EXPECT_NE(body.find("data-ready=\"true\""), std::string::npos) << body;
  EXPECT_NE(page.out.find("Scoring run"), std::string::npos);
  // The screenshot is kept in the build tree for people to look at.
  std::string shot = std::string(BYOML_BINARY_DIR) + "/report-screenshot.png";
  std::filesystem::remove(shot);
  chromium("--window-size=1400,2400 --screenshot=" + shot + " file://" + d + "/report.html");
  ASSERT_TRUE(std::filesystem::exists(shot));
  EXPECT_GT(std::filesystem::file_size(shot), 20000u) << "a blank page compresses to almost nothing";
}

TEST(Report, AnEmptyStoreGivesAPageThatSaysSo) {
  test::TempDir dir;
  auto store = ResultStore::open(dir.file("empty.db"));
  ASSERT_TRUE(store);
  auto html = render_report(*store, {});
  ASSERT_TRUE(html) << html.status().message();
  auto page = chromium("--dump-dom file://" + dir.write("report.html", *html));
  std::string body = body_tag(page.out);
  EXPECT_NE(body.find("data-errors=\"0\""), std::string::npos) << body;
  EXPECT_NE(body.find("data-charts=\"3\""), std::string::npos) << body;
  EXPECT_NE(page.out.find("No scoring run in the store yet"), std::string::npos);
  ReportOptions missing;
  missing.run_id = "no-such-run";
  EXPECT_FALSE(render_report(*store, missing));
}

TEST(Report, HostileNamesAreShownAsTextNotRun) {
  test::TempDir dir;
  auto store = ResultStore::open(dir.file("r.db"));
  ASSERT_TRUE(store);
  const std::string evil = "</script><script>document.title='pwned'</script><img src=x onerror=alert(1)>";
  nlohmann::json row = {{"TimeGenerated", "2026-11-02T10:00:00.0000000Z"}, {"User", evil}, {"Resource", "\\\\fs\\" + evil},
                        {"AnomalyScore", 3.5}, {"Severity", 99.0}, {"Reasons", {"new_pair"}}, {"RunId", "run-1"},
                        {"Explanation", {{"usual_resources", {{{"resource", evil}, {"likelihood", 1.0}}}}}}};
  ASSERT_TRUE(store->insert(default_template().output, {row}));
  ASSERT_TRUE(store->record_run({{"RunId", "run-1"}, {"Kind", "score"}, {"Status", "ok"}, {"Started", "2026-11-02T11:00:00Z"},
                                 {"Errors", {evil}}, {"Details", {{"threshold", 0.5}}}}));
  ReportOptions o;
  o.title = evil;
  o.now = make_ticks(2026, 11, 2, 12);
  auto html = render_report(*store, o);
  ASSERT_TRUE(html) << html.status().message();
  std::string path = dir.write("report.html", *html);
  auto page = chromium("--dump-dom file://" + path);
  ASSERT_EQ(page.code, 0);
  std::string body = body_tag(page.out);
  EXPECT_NE(body.find("data-errors=\"0\""), std::string::npos) << body;
  EXPECT_NE(body.find("data-charts=\"3\""), std::string::npos) << body;
  EXPECT_EQ(page.out.find("<img src=\"x\""), std::string::npos) << "markup from a name became an element";
  EXPECT_EQ(page.out.find("pwned</title>"), std::string::npos);
  EXPECT_NE(page.out.find("&lt;/script&gt;&lt;script&gt;"), std::string::npos) << "the name is shown as text";
}

// Hostile names in every place a chart shows them; the mouse then goes over every element every
// chart drew (Chromium over the DevTools protocol on 127.0.0.1, tests/report/hover.mjs).
TEST(Report, HoveringEveryChartElementWithHostileNamesRunsNoScript) {
  test::TempDir dir;
  auto store = ResultStore::open(dir.file("r.db"));
  ASSERT_TRUE(store);
  const std::string img = "<img src=x onerror=\"window.__pwned='user'\">";
  const std::string svg = "\\\\fs\\<svg onload=\"window.__pwned='share'\">";
  const std::string bidi = "\\\\fs\\evil\u202eexe.txt";
  std::vector<nlohmann::json> rows;
  int i = 0;
  for (const auto& user : {img, std::string("contoso\\alice"), std::string("@@ECHARTS@@")})
    for (const auto& res : {svg, bidi, std::string("\\\\fs\\@@DATA@@")}) {
      nlohmann::json usual = {{{"resource", img + "-usual"}, {"likelihood", 3.0}}, {{"resource", svg}, {"likelihood", 1.0}}};
      rows.push_back({{"TimeGenerated", "2026-11-02T10:00:00.0000000Z"}, {"Tenant", "@@TITLE@@"}, {"User", user},
                      {"Resource", res}, {"AnomalyScore", 2.0 + i++}, {"Severity", 99.0}, {"Reasons", {"new_pair", img}},
                      {"RunId", "run-1"}, {"Explanation", {{"usual_resources", usual}}}});
    }
  ASSERT_TRUE(store->insert(default_template().output, rows));
  nlohmann::json histogram = {{"min", -5}, {"width", 0.25}, {"counts", {0, 3, 10, 40, 20, 5, 1}}};
  ASSERT_TRUE(store->record_run({{"RunId", "run-1"}, {"Kind", "score"}, {"Status", "ok"}, {"Started", "2026-11-02T11:00:00Z"},
                                 {"Errors", {img}}, {"Details", {{"threshold", 0.5}, {"histogram", histogram}}}}));
  ReportOptions o;
  o.now = make_ticks(2026, 11, 2, 12);
  auto html = render_report(*store, o);
  ASSERT_TRUE(html) << html.status().message();
  std::string path = dir.write("report.html", *html);
  auto r = test::shell(std::string("node ") + BYOML_REPORT_HOVER + " " + path + " 2>/dev/null");
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["pwned"].is_null()) << "a name ran as script: " << j["pwned"];
  EXPECT_TRUE(j["exceptions"].empty()) << j["exceptions"];
  EXPECT_TRUE(j["csp"].empty()) << j["csp"];
  EXPECT_EQ(j["errors"], 0);
  EXPECT_EQ(j["charts"], 3);
  EXPECT_EQ(j["images"], 0);
  EXPECT_GT(j["hovered"].get<int>(), 20);
  EXPECT_GT(j["tooltips"].get<int>(), 10) << "the mouse moves must show tooltips, or the test proves nothing";
  bool user_as_text = false, bidi_escaped = false, bidi_raw = false;
  for (const auto& t : j["texts"]) {
    std::string s = t.get<std::string>();
    user_as_text |= s.find(img) != std::string::npos;
    bidi_escaped |= s.find("evil\\u202Eexe.txt") != std::string::npos;
    bidi_raw |= s.find("\u202e") != std::string::npos;
  }
  EXPECT_TRUE(user_as_text) << "the hostile name is shown, as text: " << j["texts"];
  EXPECT_TRUE(bidi_escaped) << j["texts"];
  EXPECT_FALSE(bidi_raw);
}

}  // namespace
}  // namespace byoml
