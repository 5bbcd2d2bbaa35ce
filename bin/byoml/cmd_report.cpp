// byoml report: one self-contained HTML file from the results store.
#include <fmt/format.h>

#include <fstream>

#include "byoml/api/session.h"
#include "byoml/common/atomic_file.h"
#include "commands.h"

namespace byoml::cli {
namespace {

struct ReportArgs {
  std::string store;
  std::string output = "byoml-report.html";
  ReportOptions options;
};

int run_report(ReportArgs& a) {
  a.options.now = now_ticks();
  Session session({a.store, wait_notice(), {}, {}});
  auto html = session.report(a.options);
  if (!html) return report_error(html.status());
  if (auto st = write_file_atomic(a.output, *html); !st) return report_error(st);
  fmt::print("report      {} ({:.1f} MiB, opens offline in any browser)\n", a.output,
             static_cast<double>(html->size()) / 1048576.0);
  return kExitOk;
}

}  // namespace

Runner register_report(CLI::App& app) {
  auto args = std::make_shared<ReportArgs>();
  args->store = default_store_path();
  auto* cmd = app.add_subcommand("report", "Write one self-contained HTML report: Sankey of users and shares, score "
                                           "distribution, top anomalies with explanations, drill-down per user, "
                                           "open incidents, run health");
  cmd->footer("Example:\n  byoml report --store demo/byoml.db --output demo/report.html");
  cmd->add_option("--store", args->store, "Results store (SQLite) [env BYOML_STORE; default $XDG_STATE_HOME/byoml/byoml.db]");
  cmd->add_option("--output,-o", args->output, "HTML file to write")->capture_default_str();
  cmd->add_option("--run", args->options.run_id, "Scoring run to show (default: the latest)");
  cmd->add_option("--title", args->options.title, "Page title")->capture_default_str();
  return [args, cmd]() { return cmd->parsed() ? run_report(*args) : -1; };
}

}  // namespace byoml::cli
