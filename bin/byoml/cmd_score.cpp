// byoml score: score a window of events with the current model and write the results.
#include <fmt/format.h>

#include <cstdlib>
#include <cstdio>
#include <iostream>
#include <optional>

#include "byoml/api/session.h"
#include "byoml/common/text.h"
#include "byoml/rules/rule_engine.h"
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
  std::string every;
  std::string rules_dir;
  std::vector<std::string> identity;
  JobOptions job;
};

// --every: one line per window, then the totals.
int run_schedule(ScoreArgs& a, ScoreJob job, Session& session, RejectLog& rejects) {
  auto every = parse_duration(a.every);
  if (!every || *every <= 0)
    return report_error(Status(ErrorCode::kInvalidArgument, fmt::format("--every \"{}\": a duration such as 1h or 15m", a.every)));
  ScheduleJob schedule{std::move(job), *every, a.rules_dir};
  ReadStats read;
  uint64_t windows = 0, events = 0, stored = 0, created = 0, updated = 0;
  nlohmann::json json_windows = nlohmann::json::array();
  FILE* out_file = a.output == "-" ? stderr : stdout;
  Status st = session.score_every(schedule, [&](const WindowOutcome& w) {
    ++windows;
    const ScoreOutcome& r = w.scored.outcome;
    read.records += r.read.records;
    read.files_read += r.read.files_read;
    read.events += r.read.events;
    read.rejected += r.read.rejected;
    read.skipped_files.insert(read.skipped_files.end(), r.read.skipped_files.begin(), r.read.skipped_files.end());
    const uint64_t n = r.table.figures.value("events", uint64_t{0});
    events += n;
    stored += r.results.size();
    uint64_t c = 0, u = 0;
    for (const auto& o : w.rules) {
      c += o.incidents_created.size();
      u += o.incidents_updated.size();
    }
    created += c;
    updated += u;
    if (a.job.json) {
      nlohmann::json rules = nlohmann::json::array();
      for (const auto& o : w.rules) rules.push_back(outcome_json(o));
      json_windows.push_back({{"from", format_timestamp(w.window.from, 0)}, {"to", format_timestamp(w.window.to, 0)},
                              {"run_id", w.scored.run_id}, {"events", n}, {"results", r.results},
                              {"figures", r.table.figures}, {"rules", rules}});
    } else if (!a.job.quiet || !r.results.empty() || c || u) {
      fmt::print(out_file, "window      {} .. {}  {:>7} events  {:>3} rows stored{}\n", format_timestamp(w.window.from, 0),
                 format_timestamp(w.window.to, 0), with_commas(n), r.results.size(),
                 w.rules.empty() ? "" : fmt::format("  incidents {} new, {} updated", c, u));
    }
  });
  if (!st) return report_error(st);
  if (a.job.json) {
    fmt::print(out_file, "{}\n", nlohmann::json({{"windows", json_windows}, {"rejected", rejects.total()}})
                                      .dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    fmt::print(out_file, "scored      {} windows of {}: {} events, {} rows stored{}\n", windows, a.every,
               with_commas(events), stored,
               a.rules_dir.empty() ? "" : fmt::format(", incidents {} new, {} updated", created, updated));
    if (!a.job.no_store) fmt::print(out_file, "stored      in {}\n", a.job.store);
  }
  return a.input.outcome(read, rejects);
}

int run_score_cmd(ScoreArgs& a, TemplateChoice& tc) {
  auto opts = a.input.read_options();
  if (!opts) return report_error(opts.status());
  if (a.per_event && a.output.empty())
    return report_error(Status(ErrorCode::kInvalidArgument, "--per-event writes to --output FILE.jsonl; give one"));
  RejectLog rejects;
  if (Status s = a.input.open_rejects(rejects); !s) return report_error(s);

  Session session(a.job.session_options());
  ScoreJob job;
  job.input = {a.input.paths, *opts, a.allowlist_path, &rejects, a.positions, "", a.identity};
  job.model_dir = a.model_dir;
  if (a.model_version > 0) job.model_version = a.model_version;
  job.requested = tc.path.empty() ? nullptr : tc.tmpl.get();
  job.overrides = [&](ParamSet& values) { return tc.options.apply(values); };
  (a.per_event ? job.per_event_path : job.output) = a.output;
  if (!a.every.empty()) return run_schedule(a, std::move(job), session, rejects);
  if (!a.rules_dir.empty())
    return report_error(Status(ErrorCode::kInvalidArgument, "--rules runs the rules after each window of --every; "
                                                            "without --every, run byoml rules run"));
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
      "  byoml score --input demo/export --from 2026-11-02 --to 2026-11-09 --model demo/models --every 1h \\\n"
      "      --rules rules/   # the week as an hourly schedule would score it, rules after each hour\n"
      "Reason codes: unseen_user, unseen_resource (folded in from the window), no_history, new_pair,\n"
      "cross_component, low_affinity (score >= threshold), allowlisted, burst (the account opened\n"
      "--burst-resources new resources within --burst-window: every pair it used then alerts),\n"
      "exclusive_resource (a closed group's share: at most --exclusive-users used it in training),\n"
      "peer_group_change (with --identity: a transfer's new department's share; does not alert).");
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
  cmd->add_option("--every", args->every,
                  "Score --from..--to window by window, this long each (1h, as a SOC schedules it), in order, each "
                  "its own run into the store; --output and --per-event files gather every window");
  cmd->add_option("--rules", args->rules_dir,
                  "With --every: run these analytics rules (a YAML file or directory) at the end of each window");
  cmd->add_option("--identity", args->identity,
                  "Sentinel IdentityInfo rows (an export tree, JSON Lines, a Blob container: any input): departments "
                  "over time. A recorded transfer makes the new department's shares expected (reason peer_group_change)");
  cmd->add_option("--allowlist", args->allowlist_path, "YAML allowlist; skip-result entries are kept out of results");
  args->job.add(cmd, "Results store (SQLite) for the result rows and the run's health row",
                "Print the run summary and result rows as JSON");
  tc.add(cmd, TemplateChoice::Use::kScoring);
  return [args, &tc, cmd]() { return cmd->parsed() ? run_score_cmd(*args, tc) : -1; };
}

}  // namespace byoml::cli
