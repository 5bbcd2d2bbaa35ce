#include "byoml/report/html_report.h"

#include <fmt/format.h>

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

std::string kql_string(const std::string& s) { return nlohmann::json(s).dump(); }

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
  data["threshold"] = 0.5;
  if (!run.is_null()) {
    auto details = nlohmann::json::parse(run.value("Details", std::string("{}")), nullptr, false);
    if (details.is_object()) {
      data["histogram"] = details.value("histogram", nlohmann::json());
      data["threshold"] = details.value("threshold", 0.5);
    }
    if (!store.columns(o.results_table).empty()) {
      auto rows = run_kql(store, fmt::format("{} | where RunId == {} | order by AnomalyScore desc", o.results_table,
                                             kql_string(run["RunId"].get<std::string>())), o.now);
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

  std::string html = kReportHtml;
  replace_all(html, "@@TITLE@@", html_text(o.title));
  // The library is inserted last, so a placeholder-like text inside it is never replaced.
  std::string js = kEchartsJs;
  replace_all(js, "</script", "<\\/script");
  size_t data_at = html.find("@@DATA@@");
  html.replace(data_at, 8, script_json(data));
  size_t js_at = html.find("@@ECHARTS@@");
  html.replace(js_at, 11, js);
  return html;
}

}  // namespace byoml
