// byoml models list | show | rollback: the model directory's versions.
#include <fmt/format.h>

#include <iostream>

#include "byoml/models/model_registry.h"
#include "commands.h"

namespace byoml::cli {
namespace {

struct ModelsArgs {
  std::string dir;
  int version = 0;
  bool json = false;
};

std::string field(const nlohmann::json& j, const std::vector<const char*>& path) {
  const nlohmann::json* p = &j;
  for (const char* k : path) {
    if (!p->is_object() || !p->contains(k)) return "-";
    p = &(*p)[k];
  }
  return p->is_string() ? p->get<std::string>() : p->is_null() ? "-" : p->dump();
}

int list(const ModelsArgs& a) {
  auto reg = ModelRegistry::open(a.dir, false);
  if (!reg) return report_error(reg.status());
  auto entries = reg->list();
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (auto& e : entries) {
      e.info.erase("template");
      out.push_back({{"version", e.version}, {"current", e.current}, {"path", e.path}, {"bytes", e.bytes}, {"info", e.info}});
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  if (entries.empty()) fmt::print("{} holds no model yet (byoml train --model {})\n", a.dir, a.dir);
  if (auto cur = reg->current(); !cur) std::cerr << "byoml: warning: " << cur.status().message() << "\n";
  for (const auto& e : entries) {
    if (e.info.contains("error")) {
      fmt::print("{} v{:<4} UNREADABLE: {}\n", e.current ? "*" : " ", e.version, e.info["error"].get<std::string>());
      continue;
    }
    fmt::print("{} v{:<4} {}  data {} .. {}  {} users, {} resources, {} pairs  fingerprint {}  {}\n", e.current ? "*" : " ",
               e.version, field(e.info, {"created"}), field(e.info, {"data", "first_event"}),
               field(e.info, {"data", "last_event"}), field(e.info, {"data", "users"}), field(e.info, {"data", "resources"}),
               field(e.info, {"data", "pairs"}), field(e.info, {"data", "fingerprint"}), human_bytes(e.bytes));
  }
  return kExitOk;
}

int show(const ModelsArgs& a) {
  auto reg = ModelRegistry::open(a.dir, false);
  if (!reg) return report_error(reg.status());
  auto m = reg->load(a.version > 0 ? std::optional<int>(a.version) : std::nullopt);
  if (!m) return report_error(m.status());
  const Model& model = **m;
  nlohmann::json j = model.info;
  j["algorithm"] = model.detector().name();
  j["parameters"] = model.params.values();
  if (!a.json && j.contains("template")) j["template"].erase("text");  // `--json` keeps the full template
  std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return kExitOk;
}

int rollback(const ModelsArgs& a) {
  auto reg = ModelRegistry::open(a.dir, false);
  if (!reg) return report_error(reg.status());
  auto from = reg->current();
  auto v = reg->rollback(a.version > 0 ? std::optional<int>(a.version) : std::nullopt);
  if (!v) return report_error(v.status());
  fmt::print("current model: v{} (was {})\n", *v, from && *from ? "v" + std::to_string(**from) : "-");
  return kExitOk;
}

}  // namespace

Runner register_models(CLI::App& app) {
  auto args = std::make_shared<ModelsArgs>();
  auto* cmd = app.add_subcommand("models", "List, inspect and roll back the versions in a model directory");
  cmd->require_subcommand(1);
  auto* ls = cmd->add_subcommand("list", "Every version, its data window and size; * marks the current one");
  auto* sh = cmd->add_subcommand("show", "One model's metadata: parameters, template, window, fingerprint, figures");
  auto* rb = cmd->add_subcommand("rollback", "Make an older version current (the newest loadable older one by default)");
  for (auto* c : {ls, sh, rb}) {
    c->add_option("--model,-m", args->dir, "Model directory")->required();
  }
  sh->add_option("--version", args->version, "Version to show (default: current)");
  rb->add_option("--to", args->version, "Version to make current");
  ls->add_flag("--json", args->json, "JSON output");
  sh->add_flag("--json", args->json, "JSON output, including the template text");
  return [args, ls, sh, rb]() {
    if (ls->parsed()) return list(*args);
    if (sh->parsed()) return show(*args);
    if (rb->parsed()) return rollback(*args);
    return -1;
  };
}

}  // namespace byoml::cli
