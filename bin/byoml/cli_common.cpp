#include "cli_common.h"

#include "byoml/cloud/cloud_context.h"
#include "byoml/common/text.h"
#include "byoml/results/result_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>

namespace byoml::cli {

void ParamOptions::add(CLI::App* app, const std::vector<ParamSpec>& specs, const std::string& group) {
  for (const auto& s : specs) {
    std::string help = s.help + fmt::format(" [default: {}]", s.default_value);
    if (s.type == ParamType::kChoice) help += fmt::format(" {{{}}}", fmt::join(s.choices, ","));
    std::string name = cli_option_name(s.name);
    // A template's parameter may not take the name of the command's own option (--model, --help).
    if (app->get_option_no_throw(name) != nullptr)
      throw CLI::OptionAlreadyAdded(fmt::format(
          "parameter \"{}\" ({}) clashes with the command's own option {}; rename it", s.name, group, name));
    auto* opt = app->add_option(name, values_[s.name], help)->group(group);
    opt->type_name(fmt::format("<{}>", param_type_name(s.type)));
    options_.emplace_back(s.name, opt);
  }
}

Status ParamOptions::apply(ParamSet& params) const {
  for (const auto& [name, opt] : options_)
    if (opt->count() > 0) BYOML_RETURN_IF_ERROR(params.set(name, values_.at(name)));
  return {};
}

void InputOptions::add(CLI::App* app, bool positional) {
  const char* what =
      "Files, folders or URLs to read: export trees, JSON Lines, .evtx, event XML, CSV; - is standard input; "
      "https://ACCOUNT.blob.core.windows.net/CONTAINER[/prefix] (or an emulator's http://HOST:PORT/ACCOUNT/CONTAINER) "
      "reads a Blob container; https://api.loganalytics.io/v1/workspaces/ID a workspace's history (query API); "
      "eventhubs://NAMESPACE.servicebus.windows.net/HUB[?group=G] or kafka://HOST:PORT/TOPIC an Event Hub";
  if (positional) {
    app->add_option("paths", paths, what)->required()->type_name("PATH|URL");
  } else {
    app->add_option("--input,-i", paths, what)->required()->type_name("PATH|URL");
  }
  app->add_option("--from", from, "Read events at or after this UTC time (2026-11-01, 2026-11-01T08:00:00Z)")
      ->group("Input");
  app->add_option("--to", to, "Read events before this UTC time")->group("Input");
  app->add_option("--rejects", rejects_path,
                  "Write every rejected record (file, line, reason, raw text) to this JSON Lines file")
      ->group("Input");
  app->add_flag("--strict", strict, "Exit with code 3 when any record was rejected or file skipped, or nothing was read")
      ->group("Input");
  reader_options.add(app, reader_param_specs(), "Input");
  app->add_option("--credentials", credentials_path,
                  "YAML file of cloud credentials (tenant_id, client_id, client_secret, storage_key, "
                  "storage_connection_string, storage_sas_token, ...), readable by its owner only. They may also come "
                  "from the environment (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_STORAGE_KEY, "
                  "AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_SAS_TOKEN, each also as NAME_FILE); see docs/azure.md")
      ->group("Cloud");
  http_options.add(app, http_param_specs(), "Cloud");
}

Result<ReadOptions> InputOptions::read_options() const {
  ParamSet p = reader_params;
  BYOML_RETURN_IF_ERROR(reader_options.apply(p));
  ReadOptions o = read_options_from(p);
  if (!from.empty()) {
    auto t = parse_timestamp(from);
    if (!t) return Status(ErrorCode::kInvalidArgument, "--from: " + t.status().message());
    o.filter.window.from = *t;
  }
  if (!to.empty()) {
    auto t = parse_timestamp(to);
    if (!t) return Status(ErrorCode::kInvalidArgument, "--to: " + t.status().message());
    o.filter.window.to = *t;
  }
  if (o.filter.window.from >= o.filter.window.to)
    return Status(ErrorCode::kInvalidArgument, "--from must be before --to");
  ParamSet h = http_params;
  BYOML_RETURN_IF_ERROR(http_options.apply(h));
  auto credentials = load_credentials(credentials_path);
  if (!credentials) return credentials.status();
  o.cloud = CloudContext::make(std::move(credentials).value(), http_options_from(h),
                               [](const std::string& what) { std::cerr << "byoml: retrying: " << redact_secrets(what) << "\n"; });
  return o;
}

Status InputOptions::open_rejects(RejectLog& log) const {
  return rejects_path.empty() ? Status() : log.open_sink(rejects_path);
}

Status TemplateChoice::load(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--template" && i + 1 < argc) path = argv[i + 1];
    else if (a.rfind("--template=", 0) == 0) path = std::string(a.substr(11));
  }
  if (path.empty()) {
    tmpl = std::make_shared<DetectionTemplate>(default_template());
  } else {
    auto t = load_template(path);
    if (!t) return t.status();
    tmpl = std::make_shared<DetectionTemplate>(std::move(t).value());
  }
  auto v = ParamSet::make(tmpl->params);
  if (!v) return v.status();
  values = std::move(v).value();
  return {};
}

void TemplateChoice::add(CLI::App* app, Use use) {
  app->add_option("--template", path,
                  "Detection template (YAML): field mapping and parameters. Default: the built-in "
                  "anomalous-resource-access; `byoml template show` prints it to copy and edit")
      ->group("Template");
  options.add(app, specs(use), fmt::format("Template parameters ({})", tmpl->name));
}

std::vector<ParamSpec> TemplateChoice::specs(Use use) const {
  auto declared = [](const std::vector<ParamSpec>& specs, const std::string& name) {
    return std::any_of(specs.begin(), specs.end(), [&](const ParamSpec& s) { return s.name == name; });
  };
  const Detector& detector = template_detector(*tmpl);
  const auto training = detector.training_params(), scoring = detector.scoring_params();
  std::vector<ParamSpec> out;
  for (const auto& s : tmpl->params) {
    bool is_scoring = declared(scoring, s.name), is_own = !is_scoring && !declared(training, s.name);
    if (use == Use::kTraining || (use == Use::kScoring && is_scoring) || (use == Use::kReading && is_own)) out.push_back(s);
  }
  return out;
}

int InputOptions::outcome(const ReadStats& stats, const RejectLog& rejects) const {
  constexpr size_t kShown = 20;
  for (size_t i = 0; i < stats.skipped_files.size() && i < kShown; ++i)
    std::cerr << "byoml: warning: skipped " << display_safe(stats.skipped_files[i].path) << ": "
              << stats.skipped_files[i].reason << "\n";
  if (stats.skipped_files.size() > kShown)
    std::cerr << "byoml: warning: ... and " << stats.skipped_files.size() - kShown << " more skipped\n";
  const bool nothing = stats.events == 0;
  if (nothing) {
    std::string why = stats.records == 0
                          ? (stats.files_unchanged > 0  ? "nothing new since the positions given"
                             : stats.files_pruned > 0 ? fmt::format("no export blob in the window; {} outside it", stats.files_pruned)
                                                      : "no records found")
                          : fmt::format("{} records: {} outside the window, {} of other event ids, {} rejected",
                                        stats.records, stats.outside_window, stats.filtered_out, stats.rejected);
    std::cerr << "byoml: warning: read no events (" << why << ")\n";
  }
  return strict && (rejects.total() > 0 || !stats.skipped_files.empty() || nothing) ? kExitBadInput : kExitOk;
}

int exit_code_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return kExitOk;
    case ErrorCode::kInvalidArgument: return kExitUsage;
    case ErrorCode::kNotFound: return kExitNotFound;
    case ErrorCode::kCorrupt: return kExitCorrupt;
    case ErrorCode::kTransient: return kExitTransient;
    case ErrorCode::kPermission: return kExitPermission;
    case ErrorCode::kIo:
    case ErrorCode::kParse:
    case ErrorCode::kUnsupported: return kExitFailure;
  }
  return kExitFailure;
}

int report_error(const Status& st) {
  std::cerr << "byoml: error: " << redact_secrets(st.message()) << "\n";
  return exit_code_of(st.code());
}

void JobOptions::add(CLI::App* app, const std::string& store_help, const std::string& json_help) {
  app->add_option("--store", store, store_help + " [env BYOML_STORE; default $XDG_STATE_HOME/byoml/byoml.db]");
  app->add_flag("--no-store", no_store, "Do not write to the results store");
  app->add_flag("--json", json, json_help);
  app->add_flag("--quiet,-q", quiet, "No progress lines on standard error");
}

SessionOptions JobOptions::session_options() const {
  SessionOptions o;
  if (!no_store) o.store = store;
  o.on_wait = wait_notice();
  if (!quiet) o.log = progress_logger();
  o.warn = [](const std::string& what) { std::cerr << "byoml: warning: " << what << "\n"; };
  return o;
}

std::string now_text() { return format_timestamp(now_ticks()); }

WaitNotice wait_notice() {
  return [](const std::string& what) { std::cerr << "byoml: " << what << "\n"; };
}

std::function<void(const std::string&)> progress_logger() {
  auto start = std::chrono::steady_clock::now();
  return [start](const std::string& line) {
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cerr << fmt::format("[{:7.1f}s] {}\n", s, line);
  };
}

std::string human_bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", n) : fmt::format("{:.1f} {}", v, units[u]);
}

std::string with_commas(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace byoml::cli
