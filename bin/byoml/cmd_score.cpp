// byoml score: score a window of events with the current model and write the results.
#include <fmt/format.h>

#include <cstdlib>
#include <cstdio>
#include <iostream>
#include <optional>

#include "byoml/api/session.h"
#include "byoml/common/text.h"
#include "commands.h"

namespace byoml::cli {
namespace {

struct ScoreArgs {
  InputOptions input;
  std::string model_dir;
  int model_version = 0;
  std::string output;
  std::string allowlist_path;
  std::string positions;
  bool per_event = false;
  JobOptions job;
};

int run_score_cmd(ScoreArgs& a, TemplateChoice& tc) {
  auto opts = a.input.read_options();
  if (!opts) return report_error(opts.status());
  if (a.per_event && a.output.empty())
    return report_error(Status(ErrorCode::kInvalidArgument, "--per-event writes to --output FILE.jsonl; give one"));
  RejectLog rejects;
  if (Status s = a.input.open_rejects(rejects); !s) return report_error(s);

  Session session(a.job.session_options());
  ScoreJob job;
  job.input = {a.input.paths, *opts, a.allowlist_path, &rejects, a.positions, ""};
  job.model_dir = a.model_dir;
  if (a.model_version > 0) job.model_version = a.model_version;
  job.requested = tc.path.empty() ? nullptr : tc.tmpl.get();
  job.overrides = [&](ParamSet& values) { return tc.options.apply(values); };
  (a.per_event ? job.per_event_path : job.output) = a.output;
  auto out = session.score(job);
  if (!out) return report_error(out.status());
  const ScoreOutcome& r = out->outcome;
  // With --output -, the rows own standard output and the summary goes to standard error.
  FILE* out_file = a.output == "-" ? stderr : stdout;
  if (a.job.json) {
    nlohmann::json j = r.table.figures;
    j.update({{"run_id", out->run_id}, {"model_version", out->model_version}, {"rejected", rejects.total()},
              {"results", r.results}, {"seconds", r.seconds},
              {"store", a.job.no_store ? nlohmann::json() : nlohmann::json(a.job.store)}});
    fmt::print(out_file, "{}\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    fmt::print(out_file, "run         {} with model version {}\n", out->run_id, out->model_version);
    fmt::print(out_file, "read        {} records from {} files ({} rejected{}) in {:.1f} s\n", with_commas(r.read.records),
               with_commas(r.read.files_read), with_commas(rejects.total()),
               r.read.files_unchanged ? fmt::format(", {} unchanged since the positions", r.read.files_unchanged) : "",
               r.seconds);
    for (const auto& line : r.table.summary) fmt::print(out_file, "{}\n", line);
    if (!a.job.no_store) fmt::print(out_file, "stored      in {} table {}\n", a.job.store, out->tmpl->output.table);
    if (!a.positions.empty()) fmt::print(out_file, "positions   {} objects in {}\n", r.read.positions.size(), a.positions);
  }
  return a.input.outcome(r.read, rejects);
}

}  // namespace

Runner register_score(CLI::App& app, TemplateChoice& tc) {
  auto args = std::make_shared<ScoreArgs>();
  auto* cmd = app.add_subcommand(
      "score", "Score every access in a window with the current model: the highest-scoring user-resource pairs above "
               "the threshold go to the results store, each with severity, reasons and an explanation");
  cmd->footer(
      "Examples:\n"
      "  byoml score --input demo/export --from 2026-11-02 --to 2026-11-09 --model demo/models\n"
      "  byoml score --input last-hour/ --model models/ --threshold 1.0 --top 50 --output results.jsonl\n"
      "  byoml score --input test-week/ --model models/ --per-event --output scores.jsonl   # for byoml evaluate\n"
      "  byoml score --input https://ACCT.blob.core.windows.net/am-securityevent --from 2026-11-28T10:00:00Z \\\n"
      "      --to 2026-11-28T11:00:00Z --model models/ --positions hourly.positions   # run every hour\n"
      "Reason codes: unseen_user, unseen_resource (folded in from the window), no_history, new_pair,\n"
      "cross_component, low_affinity (score >= threshold), allowlisted, burst (the account opened\n"
      "--burst-resources new resources within --burst-window: every pair it used then alerts).");
  args->input.add(cmd, /*positional=*/false);
  cmd->add_option("--model,-m", args->model_dir, "Model directory (uses its current version)")->required();
  cmd->add_option("--model-version", args->model_version, "Score with this version instead of the current one")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--output,-o", args->output,
                  "JSON Lines file (- for standard output): the result rows, or with --per-event every scored event");
  cmd->add_option("--positions", args->positions,
                  "Read positions file (JSON Lines): read only what is new since it (unchanged blobs and files are "
                  "skipped, a grown append blob is read from where the last run stopped), and update it once the "
                  "results are stored. Made on the first run.");
  cmd->add_flag("--per-event", args->per_event,
                "Write every scored event (EventOriginId, TimeGenerated, User, Resource, AnomalyScore, Severity, "
                "Reasons, SeenInTraining, Alert) to --output");
  cmd->add_option("--allowlist", args->allowlist_path, "YAML allowlist; skip-result entries are kept out of results");
  args->job.add(cmd, "Results store (SQLite) for the result rows and the run's health row",
                "Print the run summary and result rows as JSON");
  tc.add(cmd, TemplateChoice::Use::kScoring);
  return [args, &tc, cmd]() { return cmd->parsed() ? run_score_cmd(*args, tc) : -1; };
}

}  // namespace byoml::cli
