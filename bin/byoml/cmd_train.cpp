// byoml train: read a training window, fit the model, add it to the model directory.
#include <fmt/format.h>

#include <iostream>

#include "byoml/common/parallel.h"
#include "byoml/jobs/train_job.h"
#include "byoml/models/model_registry.h"
#include "byoml/api/api.h"
#include "commands.h"

namespace byoml::cli {
namespace {

struct TrainArgs {
  InputOptions input;
  std::string model_dir;
  std::string allowlist_path;
  int threads = 0;
  JobOptions job;
};

int run_train_cmd(TrainArgs& a, TemplateChoice& tc) {
  auto opts = a.input.read_options();
  if (!opts) return report_error(opts.status());
  if (Status st = tc.options.apply(tc.values); !st) return report_error(st);
  auto allowlist = load_allowlist(a.allowlist_path);
  if (!allowlist) return report_error(allowlist.status());
  auto reg = ModelRegistry::open(a.model_dir, /*create=*/true, wait_notice());
  if (!reg) return report_error(reg.status());
  RejectLog rejects;
  if (Status s = a.input.open_rejects(rejects); !s) return report_error(s);

  TrainRequest req;
  req.paths = a.input.paths;
  req.read = *opts;
  req.tmpl = tc.tmpl.get();
  req.values = tc.values;
  req.allowlist = &*allowlist;
  req.rejects = &rejects;
  req.threads = resolve_threads(a.threads);
  if (!a.job.quiet) req.log = progress_logger();
  // What the run is, not when: a retried training run replaces its health row (its model is a
  // new version all the same).
  RunHealth health(a.job, train_run_id(a.model_dir, *opts, a.input.paths, tc.values, a.allowlist_path), "train",
                   a.input.paths);
  auto out = run_train(req);
  if (!out) return health.fail(out.status());
  if (Status s = rejects.close(); !s) return health.fail(s);
  auto version = reg->add(out->model);
  if (!version) return health.fail(version.status());
  const TrainReport& r = out->report;
  const AccessAnomalyModel& m = out->model;
  if (Status st = health.write_ok({{"DurationSeconds", r.read_seconds + r.fit_seconds}, {"ModelVersion", *version},
             {"FilesRead", r.read.files_read}, {"Records", r.read.records}, {"Events", r.events},
             {"Rejected", rejects.total()}, {"Users", m.users.size()}, {"Resources", m.resources.size()},
             {"Details", {{"pairs", r.pairs}, {"duplicates", r.duplicates}, {"allowlisted_pairs", r.allowlisted_pairs},
                          {"fingerprint", m.info["data"]["fingerprint"]}}}});
      !st)
    std::cerr << "byoml: warning: run health not recorded: " << st.message() << "\n";

  if (a.job.json) {
    nlohmann::json j = m.info;
    j.erase("template");
    j["version"] = *version;
    j["path"] = reg->path_of(*version);
    j["rejected"] = rejects.total();
    std::cout << j.dump(2) << "\n";
  } else {
    fmt::print("model       version {} -> {}\n", *version, reg->path_of(*version));
    fmt::print("data        {} events ({} duplicates dropped, {} rejected), {} pairs, {} users, {} resources, {} tenants\n",
               with_commas(r.events), with_commas(r.duplicates), with_commas(rejects.total()), with_commas(m.pairs.size()),
               with_commas(m.users.size()), with_commas(m.resources.size()), m.tenants.size());
    fmt::print("window      {} .. {}\n", m.info["data"]["first_event"].is_null() ? "-" : m.info["data"]["first_event"].get<std::string>(),
               m.info["data"]["last_event"].is_null() ? "-" : m.info["data"]["last_event"].get<std::string>());
    for (const auto& t : m.tenants)
      fmt::print("tenant      {}: {} components, training scores max {:.2f}\n", t.name, t.components, t.score_max);
    fmt::print("time        read {:.1f} s, fit {:.1f} s ({} threads)\n", r.read_seconds, r.fit_seconds, req.threads);
  }
  return a.input.outcome(r.read, rejects);
}

}  // namespace

Runner register_train(CLI::App& app, TemplateChoice& tc) {
  auto args = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand("train", "Learn who usually uses which resource from a training window, and save the "
                                          "model as a new version in the model directory");
  cmd->footer(
      "Examples:\n"
      "  byoml train --input demo/export --from 2026-10-05 --to 2026-11-02 --model demo/models\n"
      "  byoml train --input logs/ --model models/ --rank 20 --max-iter 50 --allowlist allow.yaml\n"
      "The model file records the template, every parameter, the data window and a fingerprint of the data;\n"
      "`byoml models show --model DIR` prints them.");
  args->input.add(cmd, /*positional=*/false);
  cmd->add_option("--model,-m", args->model_dir, "Model directory (created when missing); the new model becomes current")
      ->required();
  cmd->add_option("--allowlist", args->allowlist_path,
                  "YAML allowlist; its skip-model-update entries keep accesses out of training");
  cmd->add_option("--threads", args->threads, "Threads (0: all cores); results do not depend on it")->capture_default_str();
  args->job.add(cmd, "Results store that gets this run's health row", "Print the model's metadata as JSON");
  tc.add(cmd, TemplateChoice::Use::kTraining);
  return [args, &tc, cmd]() { return cmd->parsed() ? run_train_cmd(*args, tc) : -1; };
}

}  // namespace byoml::cli
