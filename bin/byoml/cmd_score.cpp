// byoml score: score a window of events with the current model and write the results.
#include <fmt/format.h>

#include <cstdlib>
#include <iostream>
#include <optional>

#include "byoml/api/api.h"
#include "byoml/common/text.h"
#include "byoml/jobs/score_job.h"
#include "byoml/models/model_registry.h"
#include "byoml/results/result_sink.h"
#include "byoml/results/result_store.h"
#include "commands.h"

namespace byoml::cli {
namespace {

struct ScoreArgs {
  InputOptions input;
  std::string model_dir;
  int model_version = 0;
  std::string output;
  std::string allowlist_path;
  bool per_event = false;
  JobOptions job;
};

int run_score_cmd(ScoreArgs& a, TemplateChoice& tc) {
  auto opts = a.input.read_options();
  if (!opts) return report_error(opts.status());
  if (a.per_event && a.output.empty())
    return report_error(Status(ErrorCode::kInvalidArgument, "--per-event writes to --output FILE.jsonl; give one"));
  auto reg = ModelRegistry::open(a.model_dir, /*create=*/false);
  if (!reg) return report_error(reg.status());
  auto model = reg->load(a.model_version > 0 ? std::optional<int>(a.model_version) : std::nullopt);
  if (!model) return report_error(model.status());
  // The model's own template and parameter values, or --template when it agrees with the model.
  auto setup = reconcile_template(*model, tc.path.empty() ? nullptr : tc.tmpl.get());
  if (!setup) return report_error(setup.status());
  std::shared_ptr<const DetectionTemplate> tmpl = setup->tmpl;
  ParamSet* values = &setup->values;
  if (Status st = tc.options.apply(*values); !st) return report_error(st);

  auto allowlist = load_allowlist(a.allowlist_path);
  if (!allowlist) return report_error(allowlist.status());
  RejectLog rejects;
  if (Status s = a.input.open_rejects(rejects); !s) return report_error(s);

  ScoreRequest req;
  req.paths = a.input.paths;
  req.read = *opts;
  req.tmpl = tmpl.get();
  req.values = *values;
  req.model = &*model;
  req.model_version = model->info.value("version", 0);
  req.run_id = score_run_id(*model, req.model_version, *opts, a.input.paths, *values, a.allowlist_path, a.per_event);
  req.allowlist = &*allowlist;
  req.rejects = &rejects;
  if (a.per_event) req.per_event_path = a.output;
  if (!a.job.quiet) req.log = progress_logger();
  RunHealth health(a.job, req.run_id, "score", a.input.paths);
  auto out = run_score(req);
  if (!out) return health.fail(out.status());
  if (Status s = rejects.close(); !s) return health.fail(s);

  const std::string& store_path = a.job.store;
  std::optional<ResultStore> store;
  std::vector<std::unique_ptr<ResultSink>> sinks;
  std::vector<ResultSink*> targets;
  if (!a.job.no_store) {
    auto opened = ResultStore::open(store_path);
    if (!opened) return health.fail(opened.status());
    store.emplace(std::move(opened).value());
    store->set_wait_notice(wait_notice());
    sinks.push_back(store_sink(*store));
  }
  if (!a.per_event && !a.output.empty()) sinks.push_back(jsonl_sink(a.output));

  const ScoreReport& r = out->report;
  const nlohmann::json& health_row = health.ok({{"DurationSeconds", r.seconds}, {"ModelVersion", req.model_version},
           {"FilesRead", r.read.files_read}, {"Records", r.read.records}, {"Events", r.events},
           {"Rejected", rejects.total()}, {"Users", model->users.size()}, {"Resources", model->resources.size()},
           {"UnseenUsers", r.unseen_user_pairs}, {"UnseenResources", r.unseen_resource_pairs},
           {"Results", out->results.size()},
           {"Details", {{"pairs", r.pairs}, {"new_pairs", r.new_pairs}, {"no_history_pairs", r.no_history_pairs},
                        {"cross_component_pairs", r.cross_component_pairs},
                        {"above_threshold_pairs", r.above_threshold_pairs},
                        {"threshold", values->get_real("threshold")}, {"duplicates", r.duplicates},
                        {"histogram", {{"min", ScoreReport::kHistogramMin}, {"width", ScoreReport::kHistogramWidth},
                                       {"counts", r.histogram}}}}}});
  for (auto& sink : sinks) targets.push_back(sink.get());
  if (Status st = write_results(targets, req.run_id, tmpl->output, out->results, health_row); !st) return health.fail(st);
  if (a.job.json) {
    nlohmann::json j = {{"run_id", req.run_id}, {"model_version", req.model_version},
                        {"events", r.events}, {"duplicates", r.duplicates}, {"rejected", rejects.total()},
                        {"pairs", r.pairs}, {"unseen_user_pairs", r.unseen_user_pairs},
                        {"unseen_resource_pairs", r.unseen_resource_pairs}, {"no_history_pairs", r.no_history_pairs},
                        {"new_pairs", r.new_pairs}, {"cross_component_pairs", r.cross_component_pairs},
                        {"allowlisted_pairs", r.allowlisted_pairs}, {"above_threshold_pairs", r.above_threshold_pairs},
                        {"results", out->results}, {"seconds", r.seconds},
                        {"store", a.job.no_store ? nlohmann::json() : nlohmann::json(store_path)}};
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    fmt::print("run         {} with model version {}\n", req.run_id, req.model_version);
    fmt::print("scored      {} events in {} user-resource pairs ({} duplicates dropped, {} rejected) in {:.1f} s\n",
               with_commas(r.events), with_commas(r.pairs), with_commas(r.duplicates), with_commas(rejects.total()),
               r.seconds);
    fmt::print("pairs       {} new, {} with an unseen user, {} with an unseen resource, {} without history, {} across "
               "components, {} allowlisted\n",
               r.new_pairs, r.unseen_user_pairs, r.unseen_resource_pairs, r.no_history_pairs, r.cross_component_pairs,
               r.allowlisted_pairs);
    fmt::print("results     {} pairs above {} -> {} kept (top {}){}\n", r.above_threshold_pairs,
               values->get_real("threshold"), out->results.size(), values->get_int("top"),
               a.job.no_store ? "" : fmt::format(", written to {} table {}", store_path, tmpl->output.table));
    if (!out->results.empty()) fmt::print("\n  {:>7} {:>5}  {:<28} {:<36} {}\n", "score", "sev", "user", "resource", "reasons");
    for (size_t i = 0; i < out->results.size() && i < 15; ++i) {
      const auto& row = out->results[i];
      std::string reasons;
      for (const auto& x : row.value("Reasons", nlohmann::json::array())) reasons += (reasons.empty() ? "" : ",") + x.get<std::string>();
      fmt::print("  {:>7.2f} {:>5.1f}  {:<28} {:<36} {}\n", row.value("AnomalyScore", 0.0), row.value("Severity", 0.0),
                 display_safe(row.value("User", "")), display_safe(row.value("Resource", "")), reasons);
    }
    if (out->results.size() > 15) fmt::print("  ... {} more\n", out->results.size() - 15);
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
      "Reason codes: unseen_user, unseen_resource (folded in from the window), no_history, new_pair,\n"
      "cross_component, low_affinity (score >= threshold), allowlisted.");
  args->input.add(cmd, /*positional=*/false);
  cmd->add_option("--model,-m", args->model_dir, "Model directory (uses its current version)")->required();
  cmd->add_option("--model-version", args->model_version, "Score with this version instead of the current one")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--output,-o", args->output,
                  "JSON Lines file: the result rows, or with --per-event every scored event");
  cmd->add_flag("--per-event", args->per_event,
                "Write every scored event (EventOriginId, TimeGenerated, User, Resource, AnomalyScore, Severity, "
                "Reasons, SeenInTraining) to --output");
  cmd->add_option("--allowlist", args->allowlist_path, "YAML allowlist; skip-result entries are kept out of results");
  args->job.add(cmd, "Results store (SQLite) for the result rows and the run's health row",
                "Print the run summary and result rows as JSON");
  tc.add(cmd, TemplateChoice::Use::kScoring);
  return [args, &tc, cmd]() { return cmd->parsed() ? run_score_cmd(*args, tc) : -1; };
}

}  // namespace byoml::cli
