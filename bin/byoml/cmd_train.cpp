// byoml train: read a training window, fit the model, add it to the model directory.
#include <fmt/format.h>

#include <iostream>

#include "byoml/common/parallel.h"
#include "byoml/api/session.h"
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
  RejectLog rejects;
  if (Status s = a.input.open_rejects(rejects); !s) return report_error(s);

  Session session(a.job.session_options());
  TrainJob job;
  job.input = {a.input.paths, *opts, a.allowlist_path, &rejects, "", "", {}};
  job.tmpl = tc.tmpl;
  job.values = tc.values;
  job.model_dir = a.model_dir;
  job.threads = resolve_threads(a.threads);
  auto out = session.train(job);
  if (!out) return report_error(out.status());
  const TrainReport& r = out->report;
  const Model& m = *out->model;
  const nlohmann::json& data = m.info["data"];

  if (a.job.json) {
    nlohmann::json j = m.info;
    j.erase("template");
    j["version"] = out->version;
    j["path"] = out->path;
    j["rejected"] = rejects.total();
    std::cout << j.dump(2) << "\n";
  } else {
    auto text = [&](const char* key) { return data.value(key, nlohmann::json()).is_string() ? data[key].get<std::string>() : "-"; };
    fmt::print("model       version {} -> {}\n", out->version, out->path);
    fmt::print("read        {} records from {} files ({} rejected), {} events modelled ({} duplicates dropped)\n",
               with_commas(r.read.records), with_commas(r.read.files_read), with_commas(rejects.total()),
               with_commas(data.value("events", uint64_t{0})), with_commas(data.value("duplicates", uint64_t{0})));
    fmt::print("window      {} .. {}\n", text("first_event"), text("last_event"));
    for (const auto& line : m.detector().describe(m)) fmt::print("{}\n", line);
    fmt::print("time        read {:.1f} s, fit {:.1f} s ({} threads)\n", r.read_seconds, r.fit_seconds, job.threads);
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
