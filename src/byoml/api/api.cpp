#include "byoml/api/api.h"

#include "byoml/cloud/http_client.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace byoml {

Result<ScoringSetup> reconcile_template(const Model& model, const DetectionTemplate* requested) {
  const nlohmann::json& trained = model.info.contains("template") ? model.info["template"] : nlohmann::json::object();
  std::shared_ptr<const DetectionTemplate> recorded;
  if (trained.contains("text")) {
    auto t = parse_template(trained["text"].get<std::string>(), "template recorded in the model");
    if (!t) return t.status();
    recorded = std::make_shared<DetectionTemplate>(std::move(t).value());
  }
  ScoringSetup out;
  out.tmpl = requested ? std::make_shared<DetectionTemplate>(*requested)
                       : recorded ? recorded : std::make_shared<DetectionTemplate>(default_template());
  const std::string name = trained.value("name", out.tmpl->name);
  if (name != out.tmpl->name)
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("the model was trained with template \"{}\", not \"{}\"", name, out.tmpl->name));
  auto values = ParamSet::make(out.tmpl->params);
  if (!values) return values.status();
  out.values = std::move(values).value();
  if (trained.contains("parameters"))
    for (const auto& [k, v] : trained["parameters"].items())
      if (out.values.has(k) && v.is_string()) (void)out.values.set(k, v.get<std::string>());
  if (requested && recorded) {
    auto recorded_values = ParamSet::make(recorded->params);
    if (!recorded_values) return recorded_values.status();
    for (const auto& [k, v] : out.values.values())
      if (recorded_values->has(k)) (void)recorded_values->set(k, v);
    auto refuse = [&](const std::string& what, const std::string& model_has, const std::string& given) {
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("--template {} disagrees with the model on {} (the model: {}; the template: {}); "
                                "score without --template, or train a model with this template",
                                requested->source, what, model_has, given));
    };
    if (requested->algorithm != recorded->algorithm) return refuse("the algorithm", recorded->algorithm, requested->algorithm);
    if (requested->event_ids != recorded->event_ids)
      return refuse("event_ids", fmt::format("[{}]", fmt::join(recorded->event_ids, ", ")),
                    fmt::format("[{}]", fmt::join(requested->event_ids, ", ")));
    if (!(mapping_for(*requested, out.values) == mapping_for(*recorded, *recorded_values)))
      return refuse("the field mapping", "its recorded mapping", "a different one");
  }
  return out;
}

std::vector<std::string> inputs_identity(const std::vector<std::string>& inputs) {
  std::vector<std::string> out;
  for (const auto& i : inputs) out.push_back(url_scheme(i) == "file" ? i : url_without_secrets(i));
  return out;
}

std::string score_run_id(const Model& model, int model_version, const ReadOptions& read,
                         const std::vector<std::string>& inputs, const ParamSet& values, const std::string& allowlist,
                         bool per_event) {
  const nlohmann::json& data = model.info.contains("data") ? model.info["data"] : nlohmann::json::object();
  nlohmann::json identity = {{"model_version", model_version}, {"fingerprint", data.value("fingerprint", "")},
                             {"from", read.filter.window.from}, {"to", read.filter.window.to},
                             {"inputs", inputs_identity(inputs)}, {"parameters", values.values()},
                             {"allowlist", allowlist}, {"per_event", per_event}};
  if (read.resume) identity["resume"] = positions_to_jsonl(*read.resume);
  return stable_run_id("score", identity);
}

std::string train_run_id(const std::string& model_dir, const ReadOptions& read, const std::vector<std::string>& inputs,
                         const ParamSet& values, const std::string& allowlist) {
  return stable_run_id("train", {{"model", model_dir}, {"from", read.filter.window.from}, {"to", read.filter.window.to},
                                 {"inputs", inputs_identity(inputs)}, {"parameters", values.values()}, {"allowlist", allowlist}});
}

Status write_results(const std::vector<ResultSink*>& sinks, const std::string& run_id, const OutputSchema& schema,
                     const std::vector<nlohmann::json>& rows, const nlohmann::json& health) {
  for (ResultSink* sink : sinks) {
    Status st = sink->begin(run_id, schema);
    if (st) st = sink->write(rows);
    if (st) st = sink->commit(health);
    if (!st) return st.with_context(sink->describe());
  }
  return {};
}

}  // namespace byoml
