#include "byoml/templates/detection_template.h"
#include "byoml/common/atomic_file.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>


namespace byoml {

extern const char* const kDefaultTemplateYaml;  // generated from templates/*.yaml at build time

namespace {

struct YamlError {
  std::string message;
};

[[noreturn]] void fail(const YAML::Node& n, const std::string& what) {
  throw YamlError{n.Mark().line >= 0 ? fmt::format("line {}: {}", n.Mark().line + 1, what) : what};
}

// A misspelt key ("paramters:") must not be ignored: the template would quietly mean something else.
void check_keys(const YAML::Node& n, std::initializer_list<std::string_view> allowed, const std::string& what) {
  if (!n.IsMap()) fail(n, what + " is a mapping");
  for (const auto& kv : n) {
    auto key = kv.first.as<std::string>();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      fail(kv.first, fmt::format("{}: unknown key \"{}\" (known: {})", what, key, fmt::join(allowed, ", ")));
  }
}

std::vector<std::string> string_list(const YAML::Node& n, const std::string& what) {
  std::vector<std::string> out;
  if (n.IsScalar()) {
    out.push_back(n.as<std::string>());
  } else if (n.IsSequence()) {
    for (const auto& e : n) {
      if (!e.IsScalar()) fail(e, what + ": expected a list of field names");
      out.push_back(e.as<std::string>());
    }
  } else {
    fail(n, what + ": expected a field name or a list of them");
  }
  return out;
}

FieldRule parse_rule(const YAML::Node& n, const std::string& what) {
  FieldRule r;
  if (n.IsMap()) {
    for (const auto& kv : n) {
      auto key = kv.first.as<std::string>();
      if (key != "from" && key != "lowercase" && key != "default" && key != "type")
        fail(kv.first, fmt::format("{}: unknown key \"{}\" (from, lowercase, default, type)", what, key));
    }
    if (!n["from"]) fail(n, what + ": needs `from`");
    r.sources = string_list(n["from"], what);
    if (n["lowercase"]) r.lowercase = n["lowercase"].as<bool>();
    if (n["default"]) r.default_value = n["default"].as<std::string>();
  } else {
    r.sources = string_list(n, what);
  }
  return r;
}

ParamType parse_type(const YAML::Node& n) {
  static const std::pair<const char*, ParamType> kTypes[] = {
      {"int", ParamType::kInt},       {"real", ParamType::kReal},         {"bool", ParamType::kBool},
      {"string", ParamType::kString}, {"choice", ParamType::kChoice},     {"duration", ParamType::kDuration},
      {"bytes", ParamType::kBytes}};
  auto s = n.as<std::string>();
  for (auto& [name, t] : kTypes)
    if (s == name) return t;
  fail(n, fmt::format("unknown parameter type \"{}\"", s));
}

DetectionTemplate parse(const YAML::Node& root) {
  DetectionTemplate t;
  if (!root.IsMap()) throw YamlError{"a template is a YAML mapping"};
  check_keys(root, {"template", "version", "description", "algorithm", "input", "mapping", "defaults", "output", "parameters"},
             "template");
  if (!root["template"]) throw YamlError{"missing `template` (the template's name)"};
  t.name = root["template"].as<std::string>();
  t.version = root["version"] ? root["version"].as<int>() : 1;
  if (root["description"]) t.description = root["description"].as<std::string>();

  if (auto in = root["input"]) {
    check_keys(in, {"event_ids", "required"}, "input");
    // `event_ids: 5140` is one id, as `[5140]` is; iterating a scalar would give no ids, i.e. "any".
    if (auto ids = in["event_ids"]) {
      if (ids.IsScalar()) t.event_ids.push_back(ids.as<uint32_t>());
      else if (ids.IsSequence()) for (const auto& e : ids) t.event_ids.push_back(e.as<uint32_t>());
      else fail(ids, "input.event_ids: an event id or a list of them");
      if (t.event_ids.empty()) fail(ids, "input.event_ids: the list is empty (leave the key out to read every event)");
    }
    if (in["required"]) t.mapping.required = string_list(in["required"], "input.required");
  }
  t.mapping.scope_event_ids = t.event_ids;

  auto m = root["mapping"];
  if (!m || !m.IsMap()) throw YamlError{"missing `mapping`"};
  struct Target {
    const char* name;
    FieldRule* rule;
  } targets[] = {{"time", &t.mapping.time},         {"tenant", &t.mapping.tenant},
                 {"user", &t.mapping.user},         {"account_type", &t.mapping.account_type},
                 {"machine", &t.mapping.machine},   {"resource", &t.mapping.resource},
                 {"source_ip", &t.mapping.source_ip}, {"event_id", &t.mapping.event_id},
                 {"record_id", &t.mapping.record_id}};
  for (const auto& kv : m) {
    auto key = kv.first.as<std::string>();
    if (key == "extra") {
      for (const auto& e : kv.second) {
        ExtraField x;
        x.name = e.first.as<std::string>();
        x.rule = parse_rule(e.second, "mapping.extra." + x.name);
        if (e.second.IsMap() && e.second["type"]) {
          auto type = e.second["type"].as<std::string>();
          if (type == "number") x.type = ExtraType::kNumber;
          else if (type != "string") fail(e.second["type"], "extra field type is string or number");
        }
        t.mapping.extras.push_back(std::move(x));
      }
      continue;
    }
    auto it = std::find_if(std::begin(targets), std::end(targets), [&](const Target& x) { return key == x.name; });
    if (it == std::end(targets))
      fail(kv.first, fmt::format("unknown mapping field \"{}\" (time, tenant, user, account_type, machine, "
                                 "resource, source_ip, event_id, record_id, extra)", key));
    *it->rule = parse_rule(kv.second, "mapping." + key);
  }

  t.algorithm = root["algorithm"] ? root["algorithm"].as<std::string>() : default_algorithm();
  const Detector* detector = find_detector(t.algorithm);
  if (!detector)
    fail(root["algorithm"], fmt::format("unknown algorithm \"{}\" ({})", t.algorithm, fmt::join(detector_names(), ", ")));
  t.params = detector->training_params();
  for (auto& spec : detector->scoring_params()) t.params.push_back(std::move(spec));
  if (auto d = root["defaults"]) {
    if (!d.IsMap()) fail(d, "`defaults` maps parameter names to values");
    for (const auto& kv : d) {
      auto name = kv.first.as<std::string>();
      auto it = std::find_if(t.params.begin(), t.params.end(), [&](const ParamSpec& p) { return p.name == name; });
      if (it == t.params.end()) fail(kv.first, fmt::format("`defaults`: \"{}\" is not a parameter of {}", name, t.algorithm));
      it->default_value = kv.second.as<std::string>();
    }
  }

  t.output.table = detector->default_table();
  t.output.columns = detector->columns();
  if (auto o = root["output"]) {
    check_keys(o, {"table", "columns"}, "output");
    if (o["table"]) t.output.table = o["table"].as<std::string>();
    if (auto cols = o["columns"]) {
      t.output.columns.clear();
      for (const auto& c : cols) {
        check_keys(c, {"name", "type", "description"}, "output column");
        if (!c["name"] || !c["type"]) fail(c, "an output column needs name and type");
        auto type = parse_column_type(c["type"].as<std::string>());
        if (!type) fail(c["type"], type.status().message());
        t.output.columns.push_back({c["name"].as<std::string>(), *type, c["description"] ? c["description"].as<std::string>() : ""});
      }
    }
  }

  if (auto ps = root["parameters"]) {
    for (const auto& p : ps) {
      ParamSpec s;
      check_keys(p, {"name", "type", "default", "min", "max", "choices", "help"}, "parameter");
      if (!p["name"] || !p["type"] || !p["default"]) fail(p, "a parameter needs name, type and default");
      s.name = p["name"].as<std::string>();
      s.type = parse_type(p["type"]);
      s.default_value = p["default"].as<std::string>();
      if (p["min"]) s.min = p["min"].as<double>();
      if (p["max"]) s.max = p["max"].as<double>();
      if (p["choices"]) s.choices = string_list(p["choices"], "choices");
      if (p["help"]) s.help = p["help"].as<std::string>();
      if (std::any_of(t.params.begin(), t.params.end(), [&](const ParamSpec& x) { return x.name == s.name; }))
        fail(p["name"], fmt::format("parameter \"{}\" is declared twice (algorithm parameters are set under `defaults`)", s.name));
      t.params.push_back(std::move(s));
    }
  }
  return t;
}

}  // namespace

Result<DetectionTemplate> parse_template(const std::string& text, const std::string& source) {
  try {
    DetectionTemplate t = parse(YAML::Load(text));
    t.source = source;
    t.text = text;
    if (Status st = validate_output(t.output); !st) return st.with_context(source);
    if (Status st = check_produced(t.output, template_detector(t).columns()); !st) return st.with_context(source);
    // Check parameters and mapping now rather than at first use.
    auto params = ParamSet::make(t.params);
    if (!params) return params.status().with_context(source);
    auto compiled = FieldMapping::compile(t.mapping);
    if (!compiled) return compiled.status().with_context(source);
    return t;
  } catch (const YamlError& e) {
    return Status(ErrorCode::kParse, fmt::format("{}: {}", source, e.message));
  } catch (const YAML::Exception& e) {
    return Status(ErrorCode::kParse, fmt::format("{}: {}", source, e.what()));
  }
}

Result<DetectionTemplate> load_template(const std::string& path) {
  auto text = read_whole_file(path, "template");
  if (!text) return text.status();
  return parse_template(*text, path);
}

const std::string& default_template_text() {
  static const std::string text = kDefaultTemplateYaml;
  return text;
}

const DetectionTemplate& default_template() {
  static const DetectionTemplate t = parse_template(default_template_text(), "built-in").value();
  return t;
}

const Detector& template_detector(const DetectionTemplate& t) {
  const Detector* d = find_detector(t.algorithm);
  BYOML_CHECK(d != nullptr);  // parse_template refuses unknown algorithms; detectors are never removed
  return *d;
}

MappingSpec mapping_for(const DetectionTemplate& t, const ParamSet& values) {
  MappingSpec m = t.mapping;
  if (values.has("resource_scope"))
    m.resource_scope = values.get_string("resource_scope") == "share" ? ResourceScope::kShare : ResourceScope::kMachineShare;
  return m;
}

}  // namespace byoml
