#include "byoml/report/html_report.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <map>
#include <string_view>
#include <vector>

#include "byoml/rules/kql.h"
#include "byoml/rules/rule_engine.h"

namespace byoml {

extern const char* const kReportHtml;  // report.html, embedded at build time
extern const char* const kEchartsJs;   // echarts.min.js from npm (web/package-lock.json)

namespace {

void replace_all(std::string& s, const std::string& what, const std::string& with) {
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size())) s.replace(at, what.size(), with);
}

// JSON safe inside <script>: '<' only occurs within strings there, and \u003c keeps any
// "</script>" in a user or share name from closing the element.
std::string script_json(const nlohmann::json& j) {
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  replace_all(s, "<", "\\u003c");
  return s;
}

std::string html_text(std::string s) {
  replace_all(s, "&", "&amp;");
  replace_all(s, "<", "&lt;");
  replace_all(s, ">", "&gt;");
  replace_all(s, "\"", "&quot;");
  return s;
}

// The page's script elements: the text between <script> and </script>, exactly as the browser
// hashes it for the CSP.
std::vector<std::string_view> inline_scripts(std::string_view html) {
  std::vector<std::string_view> out;
  for (size_t at = html.find("<script>"); at != std::string_view::npos; at = html.find("<script>", at)) {
    at += 8;
    size_t end = html.find("</script>", at);
    out.push_back(html.substr(at, end - at));
    at = end;
  }
  return out;
}

std::string sha256_source(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  unsigned char b64[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
  EVP_EncodeBlock(b64, digest, SHA256_DIGEST_LENGTH);
  return fmt::format("'sha256-{}'", reinterpret_cast<const char*>(b64));
}

// Fills the page's @@NAME@@ slots in one pass over the page itself: a value is never searched
// for slots, so "@@ECHARTS@@" in a log field stays text.
std::string fill(std::string_view page, const std::map<std::string_view, std::string_view>& values) {
  std::string out;
  size_t size = page.size();
  for (const auto& [k, v] : values) size += v.size();
  out.reserve(size);
  size_t at = 0;
  for (size_t open = page.find("@@"); open != std::string_view::npos; open = page.find("@@", at)) {
    size_t close = page.find("@@", open + 2);
    BYOML_CHECK(close != std::string_view::npos);
    auto it = values.find(page.substr(open + 2, close - open - 2));
    BYOML_CHECK(it != values.end());  // report.html names only the slots filled here
    out.append(page.substr(at, open - at));
    out.append(it->second);
    at = close + 2;
  }
  out.append(page.substr(at));
  return out;
}

}  // namespace

Result<std::string> render_report(ResultStore& store, const ReportOptions& o) {
  nlohmann::json data;
  data["generated"] = format_timestamp(o.now, 0);
  auto runs = run_kql(store, "byoml_runs | order by Started desc | take 50", o.now);
  if (!runs) return runs.status();
  data["runs"] = *runs;
  nlohmann::json run;
  for (const auto& r : *runs)
    if (r["Kind"] == "score" && r["Status"] == "ok" && (o.run_id.empty() || r["RunId"] == o.run_id)) {
      run = r;
      break;
    }
  if (!o.run_id.empty() && run.is_null()) return Status(ErrorCode::kNotFound, fmt::format("no scoring run {}", o.run_id));
  data["run"] = run;
  data["results"] = nlohmann::json::array();
  data["threshold"] = nullptr;  // the run's, when its detector has one
  if (!run.is_null()) {
    auto details = run["Details"].is_string() ? nlohmann::json::parse(run["Details"].get<std::string>(), nullptr, false)
                                               : nlohmann::json::object();
    if (details.is_object()) {
      data["histogram"] = details.value("histogram", nlohmann::json());
      data["threshold"] = details.value("threshold", nlohmann::json());
    }
    const std::string run_id = run["RunId"].get<std::string>();
    auto table = o.results_table.empty() ? store.table_with_run(run_id) : Result<std::string>(o.results_table);
    if (!table) return table.status();
    const auto columns = store.columns(*table);
    if (!columns.empty()) {
      // Highest score first: AnomalyScore is what byoml's detectors (and Sentinel's table) call it.
      const bool scored = std::find(columns.begin(), columns.end(), "AnomalyScore") != columns.end();
      auto rows = run_kql(store, fmt::format("{} | where RunId == {}{}", *table, kql_quote(run_id),
                                             scored ? " | order by AnomalyScore desc" : ""), o.now);
      if (!rows) return rows.status();
      data["results"] = *rows;
    }
  }
  auto incidents = list_incidents(store, "");
  if (!incidents) return incidents.status();
  nlohmann::json open = nlohmann::json::array();
  for (const auto& i : *incidents)
    if (i["Status"] != "Closed") open.push_back(i);
  data["incidents"] = open;

  std::string js = kEchartsJs;
  replace_all(js, "</script", "<\\/script");
  std::string hashes;
  for (auto script : inline_scripts(kReportHtml))
    if (script != "@@ECHARTS@@") hashes += sha256_source(script) + " ";
  hashes += sha256_source(js);
  std::string title = html_text(o.title), json = script_json(data);
  return fill(kReportHtml, {{"TITLE", title}, {"SCRIPT_HASHES", hashes}, {"DATA", json}, {"ECHARTS", js}});
}

}  // namespace byoml
