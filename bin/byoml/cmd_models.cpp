// byoml models list | show | rollback | promote | compare: the model directory's versions.
#include <fmt/format.h>

#include <iostream>

#include "byoml/api/watcher.h"
#include "byoml/common/text.h"
#include "byoml/models/model_registry.h"
#include "commands.h"

namespace byoml::cli {
namespace {

struct ModelsArgs {
  std::string dir;
  int version = 0;
  bool json = false;
  std::string store = default_store_path();
  size_t top = 10;
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
      out.push_back({{"version", e.version}, {"current", e.current}, {"shadow", e.shadow}, {"path", e.path},
                     {"bytes", e.bytes}, {"info", e.info}});
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  if (entries.empty()) fmt::print("{} holds no model yet (byoml train --model {})\n", a.dir, a.dir);
  if (auto cur = reg->current(); !cur) std::cerr << "byoml: warning: " << cur.status().message() << "\n";
  for (const auto& e : entries) {
    if (e.info.contains("error")) {
      fmt::print("{} v{:<4} UNREADABLE: {}\n", e.current ? "*" : e.shadow ? "s" : " ", e.version,
                 e.info["error"].get<std::string>());
      continue;
    }
    fmt::print("{} v{:<4} {}  data {} .. {}  {} users, {} resources, {} pairs  fingerprint {}  {}\n",
               e.current ? "*" : e.shadow ? "s" : " ",
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

int promote(const ModelsArgs& a) {
  auto reg = ModelRegistry::open(a.dir, false);
  if (!reg) return report_error(reg.status());
  auto from = reg->current();
  auto v = reg->promote();
  if (!v) return report_error(v.status());
  fmt::print("current model: v{} (was {}); no shadow model now\n", *v, from && *from ? "v" + std::to_string(**from) : "-");
  return kExitOk;
}

int compare(const ModelsArgs& a) {
  auto c = compare_models(a.dir, a.store, a.top);
  if (!c) return report_error(c.status());
  const nlohmann::json& j = *c;
  if (a.json) {
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  fmt::print("live v{} and shadow v{} in {} ({} and {}_Shadow)\n", j["live_version"].get<int>(),
             j["shadow_version"].get<int>(), a.store, j["table"].get<std::string>(), j["table"].get<std::string>());
  fmt::print("pairs       {} live, {} shadow, {} both; rank correlation {:.3f}\n", j["live_pairs"].get<uint64_t>(),
             j["shadow_pairs"].get<uint64_t>(), j["common_pairs"].get<uint64_t>(), j["rank_correlation"].get<double>());
  for (const char* side : {"only_live", "only_shadow"}) {
    fmt::print("{} (in its top {}, not reported by the other at all):\n", side, a.top);
    for (const auto& p : j[side])
      fmt::print("  {:>7.2f}  {:<28} {}\n", p["score"].get<double>(), display_safe(p["user"].get<std::string>()),
                 display_safe(p["resource"].get<std::string>()));
  }
  return kExitOk;
}

}  // namespace

Runner register_models(CLI::App& app) {
  auto args = std::make_shared<ModelsArgs>();
  auto* cmd = app.add_subcommand("models", "List, inspect, roll back, compare and promote the versions in a model directory");
  cmd->require_subcommand(1);
  auto* ls = cmd->add_subcommand("list", "Every version, its data window and size; * marks the current one");
  auto* sh = cmd->add_subcommand("show", "One model's metadata: parameters, template, window, fingerprint, figures");
  auto* rb = cmd->add_subcommand("rollback", "Make an older version current (the newest loadable older one by default)");
  auto* pr = cmd->add_subcommand("promote", "Make the shadow model (a candidate that `byoml watch` retrained) current");
  auto* cmp = cmd->add_subcommand(
      "compare", "How the shadow model's results differ from the live model's over the same watch cycles: pairs in "
                 "one model's top N that the other did not report, and the rank correlation of the pairs both did");
  cmp->add_option("--store", args->store, "Results store [env BYOML_STORE; default $XDG_STATE_HOME/byoml/byoml.db]");
  cmp->add_option("--top", args->top, "How many of each model's highest pairs to look at")->capture_default_str();
  cmp->add_flag("--json", args->json, "JSON output");
  for (auto* c : {ls, sh, rb, pr, cmp}) {
    c->add_option("--model,-m", args->dir, "Model directory")->required();
  }
  sh->add_option("--version", args->version, "Version to show (default: current)");
  rb->add_option("--to", args->version, "Version to make current");
  ls->add_flag("--json", args->json, "JSON output");
  sh->add_flag("--json", args->json, "JSON output, including the template text");
  return [args, ls, sh, rb, pr, cmp]() {
    if (ls->parsed()) return list(*args);
    if (sh->parsed()) return show(*args);
    if (rb->parsed()) return rollback(*args);
    if (pr->parsed()) return promote(*args);
    if (cmp->parsed()) return compare(*args);
    return -1;
  };
}

}  // namespace byoml::cli
