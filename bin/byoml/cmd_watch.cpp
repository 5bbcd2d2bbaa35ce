// byoml watch: score what is new every interval, exactly once (api/watcher.h); and
// byoml watch status: where a watcher stands.
#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <map>
#include <tuple>

#include "byoml/api/watcher.h"
#include "byoml/common/parallel.h"
#include "byoml/common/text.h"
#include "commands.h"

namespace byoml::cli {
namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop = true; }

struct WatchArgs {
  std::string config;
  InputOptions input;
  std::string model_dir, rules_dir, output, allowlist, name = "default", interval, retrain_every, retrain_window = "21d";
  bool per_event = false, once = false, no_shadow = false;
  int threads = 0;
  std::map<std::string, std::string> config_parameters;  // scoring parameters from the config file
  JobOptions job;
};

// The config file gives what the command line does not.
Status merge_config(WatchArgs& a, CLI::App* cmd, const TemplateChoice& tc) {
  if (a.config.empty()) return {};
  auto c = load_watch_config(a.config, tc.specs(TemplateChoice::Use::kScoring));
  if (!c) return c.status();
  auto given = [&](const char* flag) { return cmd->count(flag) > 0; };
  if (a.input.paths.empty()) a.input.paths = c->input;
  auto take = [&](std::string& field, const std::string& value, const char* flag) {
    if (!given(flag) && !value.empty()) field = value;
  };
  take(a.model_dir, c->model, "--model");
  take(a.job.store, c->store, "--store");
  take(a.rules_dir, c->rules, "--rules");
  take(a.output, c->output, "--output");
  take(a.name, c->name, "--name");
  take(a.allowlist, c->allowlist, "--allowlist");
  take(a.input.credentials_path, c->credentials, "--credentials");
  take(a.input.from, c->from, "--from");
  if (!given("--per-event") && c->per_event) a.per_event = *c->per_event;
  auto seconds = [](Ticks t) { return fmt::format("{}s", t / kTicksPerSecond); };
  if (!given("--interval") && c->interval) a.interval = seconds(*c->interval);
  if (!given("--retrain-every") && c->retrain_every) a.retrain_every = seconds(*c->retrain_every);
  if (!given("--retrain-window") && c->retrain_window) a.retrain_window = seconds(*c->retrain_window);
  if (!given("--no-shadow") && c->shadow) a.no_shadow = !*c->shadow;
  for (const auto& [k, v] : c->parameters)
    if (!given(("--" + k).c_str())) a.config_parameters[k] = v;
  return {};
}

void print_cycle(const CycleOutcome& c, const WatchArgs& a) {
  if (a.job.json) {
    nlohmann::json j = {{"run_id", c.run_id}, {"ok", static_cast<bool>(c.status)}, {"records", c.records},
                        {"events", c.events}, {"results", c.results}, {"events_stored", c.events_stored},
                        {"rejected", c.rejected}, {"objects_read", c.objects_read},
                        {"objects_unchanged", c.objects_unchanged}, {"model_version", c.model_version},
                        {"seconds", c.seconds}, {"delivered_rows", c.delivered.rows},
                        {"outbox_pending", c.delivered.pending}, {"rules", nlohmann::json::array()},
                        {"shadow_version", c.shadow_version ? nlohmann::json(*c.shadow_version) : nlohmann::json()},
                        {"retrained", c.retrained ? nlohmann::json(*c.retrained) : nlohmann::json()}};
    if (!c.status) j["error"] = c.status.message();
    for (const auto& k : c.skipped) j["skipped"].push_back({{"object", k.path}, {"reason", k.reason}});
    if (!c.delivered.last_error.empty()) j["delivery_error"] = c.delivered.last_error;
    for (const auto& r : c.rules) j["rules"].push_back(outcome_json(r));
    fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  } else if (!c.status) {
    fmt::print(stderr, "{} cycle failed (retried next cycle): {}\n", now_text(), c.status.message());
  } else if (!a.job.quiet) {
    if (c.retrained)
      fmt::print("{} retrained: model version {} {}\n", now_text(), *c.retrained,
                 a.no_shadow ? "is live" : "scores as the shadow (byoml models compare, byoml models promote)");
    fmt::print("{} cycle {}: {} events from {} objects ({} unchanged), {} results, {} scored events stored, {} "
               "rejected, {:.2f} s\n",
               now_text(), c.run_id, with_commas(c.events), with_commas(c.objects_read),
               with_commas(c.objects_unchanged), c.results, with_commas(c.events_stored), c.rejected, c.seconds);
  }
  if (!a.job.json)
    for (const auto& k : c.skipped)
      fmt::print(stderr, "byoml: warning: skipped {}: {}\n", display_safe(k.path), k.reason);
  if (!a.job.json && !c.delivered.last_error.empty())
    fmt::print(stderr, "{} delivery failed, {} batches kept in the outbox: {}\n", now_text(), c.delivered.pending,
               c.delivered.last_error);
  std::fflush(stdout);
}

int run_watch_cmd(WatchArgs& a, CLI::App* cmd, TemplateChoice& tc) {
  if (Status st = merge_config(a, cmd, tc); !st) return report_error(st);
  if (a.input.paths.empty()) return report_error(Status(ErrorCode::kInvalidArgument, "give --input (or input: in --config)"));
  if (a.model_dir.empty()) return report_error(Status(ErrorCode::kInvalidArgument, "give --model (or model: in --config)"));
  auto opts = a.input.read_options();
  if (!opts) return report_error(opts.status());
  // A rejects file is replaced whole by each run; a service would keep only its last cycle's.
  if (!a.input.rejects_path.empty())
    return report_error(Status(ErrorCode::kInvalidArgument,
                               "--rejects is for one-off runs; a watcher counts each cycle's rejected records in its "
                               "health row (byoml query byoml_runs)"));
  WatchOptions w;
  w.name = a.name;
  w.input = {a.input.paths, *opts, a.allowlist, nullptr, "", "", {}};
  w.model_dir = a.model_dir;
  w.rules_dir = a.rules_dir;
  w.output = a.output;
  w.per_event = a.per_event;
  for (auto [text, field, flag] : {std::tuple{&a.interval, &w.interval, "--interval"},
                                    std::tuple{&a.retrain_every, &w.retrain_every, "--retrain-every"},
                                    std::tuple{&a.retrain_window, &w.retrain_window, "--retrain-window"}}) {
    if (text->empty()) continue;
    auto d = parse_duration(*text);
    if (!d || *d <= 0)
      return report_error(Status(ErrorCode::kInvalidArgument, fmt::format("{}: a duration such as 5m, 1h or 7d", flag)));
    *field = *d;
  }
  w.shadow = !a.no_shadow;
  w.threads = resolve_threads(a.threads);
  w.overrides = [&](ParamSet& values) {
    for (const auto& [name, text] : a.config_parameters)
      BYOML_RETURN_IF_ERROR(values.set(name, text).with_context(a.config));
    return tc.options.apply(values);
  };
  SessionOptions so = a.job.session_options();
  so.log = {};  // one line per cycle instead of the progress of each read
  Session session(so);
  Watcher watcher(session, w);
  if (Status st = watcher.prepare(); !st) return report_error(st);
  if (a.once) {
    CycleOutcome c = watcher.cycle();
    print_cycle(c, a);
    if (!c.status) return report_error(c.status);
    return kExitOk;
  }
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
  if (!a.job.quiet && !a.job.json)
    fmt::print(stderr, "byoml watch: checkpoint \"{}\" in {}, every {} s; SIGTERM or Ctrl-C stops after the cycle in flight\n",
               display_safe(a.name), a.job.store, watcher.interval() / kTicksPerSecond);
  watcher.run(g_stop, [&](const CycleOutcome& c) { print_cycle(c, a); });
  if (!a.job.quiet && !a.job.json) fmt::print(stderr, "byoml watch: stopped\n");
  return kExitOk;
}

int run_status_cmd(const WatchArgs& a) {
  auto s = watch_status(a.job.store, a.name, now_ticks());
  if (!s) return report_error(s.status());
  const nlohmann::json& j = *s;
  if (a.job.json) {
    fmt::print("{}\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    return kExitOk;
  }
  auto text = [](const nlohmann::json& v) { return v.is_null() ? std::string("-") : v.is_string() ? v.get<std::string>() : v.dump(); };
  fmt::print("watcher     \"{}\" in {}\n", display_safe(a.name), a.job.store);
  if (j["checkpoint"].is_null()) {
    fmt::print("checkpoint  none yet (no cycle has committed)\n");
  } else {
    const auto& c = j["checkpoint"];
    fmt::print("checkpoint  {} cycles, {} objects, updated {}\n", text(c["cycles"]), text(c["objects"]), text(c["updated"]));
    fmt::print("newest      {} (lag {})\n", text(c["newest_event"]),
               j.contains("lag_seconds") ? fmt::format("{:.0f} s", j["lag_seconds"].get<double>()) : "-");
  }
  if (j.contains("last_cycle")) {
    const auto& l = j["last_cycle"];
    fmt::print("last cycle  {} {} at {}: {} events, {} results in {} s{}\n", text(l["Status"]), text(l["RunId"]),
               text(l["Finished"]), text(l["Events"]), text(l["Results"]), text(l["DurationSeconds"]),
               l.contains("events_per_second") ? fmt::format(" ({:.0f} events/s)", l["events_per_second"].get<double>()) : "");
  }
  fmt::print("cycles      {}\n", j["cycles_by_status"].dump());
  fmt::print("model       live version {}, shadow {}\n", text(j["live_model_version"]), text(j["shadow_model_version"]));
  fmt::print("last error  {}\n", j["last_error"].is_null() ? "-" : text(j["last_error"]["Finished"]) + " " +
                                                                        text(j["last_error"]["Errors"]));
  fmt::print("outbox      {} batches pending\n", text(j["outbox_pending"]));
  return kExitOk;
}

}  // namespace

Runner register_watch(CLI::App& app, TemplateChoice& tc) {
  auto args = std::make_shared<WatchArgs>();
  auto* cmd = app.add_subcommand(
      "watch", "Run as a service: every interval, score what is new since the checkpoint and store it exactly once, "
               "feed Logs Ingestion through the store's outbox, and run the rules that are due");
  cmd->footer(
      "Examples:\n"
      "  byoml watch --config /etc/byoml/watch.yaml\n"
      "  byoml watch --input /data/export --model models/ --store byoml.db --rules rules/ --per-event\n"
      "  byoml watch --input https://ACCT.blob.core.windows.net/am-securityevent --model models/ \\\n"
      "      --output https://DCE.ingest.monitor.azure.com/dataCollectionRules/dcr-ID/streams/Custom-Byoml --interval 5m\n"
      "  byoml watch --once ...          # one cycle, then exit (cron, tests)\n"
      "  byoml watch status --store byoml.db\n"
      "The checkpoint (what has been read), the results, the scored events and the outbox are written in one\n"
      "SQLite transaction: a cycle that is killed leaves nothing, and the next one does it again.\n"
      "The config file takes the same names: input, model, store, rules, output, name, per_event,\n"
      "interval, allowlist, credentials, from, threshold, top, retrain_every, retrain_window, shadow.\n"
      "Options given on the command line win.");
  cmd->add_option("--config,-c", args->config, "YAML config file (see below)");
  args->input.add(cmd, /*positional=*/false);
  cmd->get_option("--input")->required(false);
  cmd->add_option("--model,-m", args->model_dir, "Model directory (scores with its current version)");
  cmd->add_option("--rules,-r", args->rules_dir, "Rule file or directory: rules that are due run after each cycle");
  cmd->add_option("--output,-o", args->output,
                  "A Logs Ingestion stream URL: result rows go there through the store's outbox (never lost, never "
                  "sent twice on their own)");
  cmd->add_option("--allowlist", args->allowlist, "YAML allowlist; skip-result entries are kept out of results");
  cmd->add_option("--name", args->name, "Checkpoint name (several watchers may share a store)")->capture_default_str();
  cmd->add_flag("--per-event", args->per_event,
                "Store every scored event in the table ByomlScoredEvents, keyed by EventOriginId (a record that "
                "arrives twice is scored once)");
  cmd->add_option("--interval", args->interval,
                  "Time between cycles (5m, 1h); default: the rules' shortest queryFrequency, else 5m");
  cmd->add_flag("--once", args->once, "Run one cycle and exit (0 when it succeeded)");
  cmd->add_option("--retrain-every", args->retrain_every,
                  "Retrain when the newest event read is this far (7d) past the end of the newest model's window, "
                  "counted in data time; default: never")
      ->group("Retraining");
  cmd->add_option("--retrain-window", args->retrain_window, "How much data, up to the newest event, a retraining reads")
      ->capture_default_str()
      ->group("Retraining");
  cmd->add_flag("--no-shadow", args->no_shadow,
                "A retrained model goes live at once, instead of scoring beside the live one into TABLE_Shadow until "
                "`byoml models promote`")
      ->group("Retraining");
  cmd->add_option("--threads", args->threads, "Threads for retraining (0: all cores)")->group("Retraining");
  args->job.add(cmd, "Results store (SQLite): results, scored events, checkpoint, outbox and health rows",
                "One JSON object per cycle on standard output");
  tc.add(cmd, TemplateChoice::Use::kScoring);
  cmd->require_subcommand(0, 1);
  auto* status = cmd->add_subcommand("status", "Checkpoint, lag behind the newest data, last cycle and its "
                                               "throughput, last error, live model version and outbox");
  status->add_option("--store", args->job.store, "Results store [env BYOML_STORE; default $XDG_STATE_HOME/byoml/byoml.db]");
  status->add_option("--name", args->name, "Checkpoint name")->capture_default_str();
  status->add_flag("--json", args->job.json, "JSON output");
  return [args, &tc, cmd, status]() {
    if (status->parsed()) return run_status_cmd(*args);
    return cmd->parsed() ? run_watch_cmd(*args, cmd, tc) : -1;
  };
}

}  // namespace byoml::cli
