#include "byoml/jobs/train_job.h"
#include "byoml/version.h"

#include <fmt/format.h>

#include <chrono>

namespace byoml {

namespace {
double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
nlohmann::json time_or_null(Ticks t, Ticks unbounded) {
  return t == unbounded ? nlohmann::json() : nlohmann::json(format_timestamp(t));
}
}  // namespace

ParamSet algorithm_params(const Detector& detector, const ParamSet& values) {
  ParamSet p(detector.training_params());
  for (const auto& spec : p.specs()) BYOML_CHECK(p.set(spec.name, values.values().at(spec.name)).is_ok());
  return p;
}

Result<TrainOutcome> run_train(const TrainRequest& req) {
  auto log = [&](const std::string& s) {
    if (req.log) req.log(s);
  };
  auto t0 = std::chrono::steady_clock::now();
  const Detector& detector = template_detector(*req.tmpl);
  auto mapping = FieldMapping::compile(mapping_for(*req.tmpl, req.values));
  if (!mapping) return mapping.status();
  auto plan = plan_inputs(req.paths, req.read, {{}, req.tmpl->event_ids, mapping->keys()});
  if (!plan) return plan.status();
  log(fmt::format("reading {} files", plan->files.size()));

  TrainSetup setup{req.tmpl->event_ids, req.allowlist, &req.confirmed, req.threads, req.log};
  auto trainer = detector.trainer(algorithm_params(detector, req.values), setup);
  Vocabulary vocab;
  RejectLog local_rejects;
  ReadContext ctx(*mapping, vocab, req.read, req.rejects ? *req.rejects : local_rejects,
                  [&](const EventBatch& b) { trainer->add(b, vocab); });
  BYOML_RETURN_IF_ERROR(read_inputs(*plan, ctx));
  TrainOutcome out;
  TrainReport& rep = out.report;
  rep.read = ctx.stats();
  rep.read_seconds = since(t0);
  log(fmt::format("read {} in {:.1f} s", trainer->progress(), rep.read_seconds));

  auto t1 = std::chrono::steady_clock::now();
  auto fitted = trainer->fit();
  if (!fitted) return fitted.status();
  out.model = std::move(fitted).value();
  rep.fit_seconds = since(t1);

  nlohmann::json& info = out.model->info;
  info["byoml"] = kVersion;
  info["created"] = format_timestamp(now_ticks(), 0);
  info["template"] = {{"name", req.tmpl->name}, {"version", req.tmpl->version}, {"source", req.tmpl->source},
                      {"parameters", req.values.values()}, {"text", req.tmpl->text}};
  info["window"] = {{"from", time_or_null(req.read.filter.window.from, kMinTicks)},
                    {"to", time_or_null(req.read.filter.window.to, kMaxTicks)}};
  info["data"].update({{"files", rep.read.files_read}, {"records", rep.read.records}, {"rejected", rep.read.rejected}});
  info["training"].update({{"read_seconds", rep.read_seconds}, {"fit_seconds", rep.fit_seconds}});
  return out;
}

}  // namespace byoml
