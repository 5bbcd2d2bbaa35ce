// byoml train: read a training window, fit the model, add it to the model directory.
#include <fmt/format.h>

#include <iostream>

#include "byoml/common/parallel.h"
#include "byoml/jobs/train_job.h"
#include "byoml/models/model_registry.h"
#include "commands.h"

namespace byoml::cli {
namespace {

struct TrainArgs {
  InputOptions input;
  std::string model_dir;
  std::string allowlist_path;
  int threads = 0;
  std::string store;
  bool no_store = false;
  bool json = false;
  bool quiet = false;
};

int run_train_cmd(TrainArgs& a, TemplateChoice& tc) {
  auto opts = a.input.read_options();
  if (!opts) return report_error(opts.status());
  if (Status st = tc.options.apply(tc.values); !st) return report_error(st);
  Allowlist allowlist;
  if (!a.allowlist_path.empty()) {
    auto al = Allowlist::load(a.allowlist_path);
    if (!al) return report_error(al.status());
    allowlist = std::move(al).value();
  }
  auto reg = ModelRegistry::open(a.model_dir, /*create=*/true);
  if (!reg) return report_error(reg.status());
  RejectLog rejects;
  if (!a.input.rejects_path.empty())
    if (Status s = rejects.open_sink(a.input.rejects_path); !s) return report_error(s);

  TrainRequest req;
  req.paths = a.input.paths;
  req.read = *opts;
  req.tmpl = tc.tmpl.get();
  req.values = tc.values;
  req.allowlist = &allowlist;
  req.rejects = &rejects;
  req.threads = resolve_threads(a.threads);
  if (!a.quiet) req.log = progress_logger();
  nlohmann::json health = {{"RunId", fmt::format("train-{}", now_text())}, {"Kind", "train"}, {"Started", now_text()},
                           {"Inputs", a.input.paths}};
  auto fail = [&](const Status& st) {
    if (!a.no_store) {
      health.update({{"Finished", now_text()}, {"Status", "failed"}, {"Errors", {st.message()}}});
      record_health(a.store, health);
    }
    return report_error(st);
  };
  auto out = run_train(req);
  if (!out) return fail(out.status());
  auto version = reg->add(out->model);
  if (!version) return fail(version.status());
  if (!a.no_store) {
    const TrainReport& tr = out->report;
    health.update({{"Finished", now_text()}, {"DurationSeconds", tr.read_seconds + tr.fit_seconds}, {"Status", "ok"},
                   {"ModelVersion", *version}, {"FilesRead", tr.read.files_read}, {"Records", tr.read.records},
                   {"Events", tr.events}, {"Rejected", rejects.total()}, {"Users", out->model.users.size()},
                   {"Resources", out->model.resources.size()},
                   {"Details", {{"pairs", tr.pairs}, {"duplicates", tr.duplicates}, {"allowlisted_pairs", tr.allowlisted_pairs},
                                {"fingerprint", out->model.info["data"]["fingerprint"]}}}});
    record_health(a.store, health);
  }

  const TrainReport& r = out->report;
  const AccessAnomalyModel& m = out->model;
  if (a.json) {
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
  if (a.input.strict && rejects.total() > 0) return kExitBadInput;
  return kExitOk;
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
  args->store = default_store();
  cmd->add_option("--store", args->store, "Results store that gets this run's health row [env BYOML_STORE]")
      ->capture_default_str();
  cmd->add_flag("--no-store", args->no_store, "Do not record the run in the results store");
  cmd->add_flag("--json", args->json, "Print the model's metadata as JSON");
  cmd->add_flag("--quiet,-q", args->quiet, "No progress lines on standard error");
  tc.add(cmd);
  return [args, &tc, cmd]() { return cmd->parsed() ? run_train_cmd(*args, tc) : -1; };
}

}  // namespace byoml::cli
