#include "byoml/api/watcher.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "byoml/common/text.h"
#include "byoml/models/model_registry.h"
#include "byoml/results/score_comparison.h"
#include "byoml/results/watch_store.h"
#include "byoml/results/watch_store.h"

namespace byoml {

namespace {

constexpr Ticks kDefaultInterval = 5 * 60 * kTicksPerSecond;

}  // namespace

Watcher::Watcher(Session& session, WatchOptions options) : session_(session), o_(std::move(options)) {
  o_.input.checkpoint = o_.name;
  o_.input.positions.clear();
}

Status Watcher::prepare() {
  if (session_.store_path().empty())
    return Status(ErrorCode::kInvalidArgument, "a watcher keeps its checkpoint in the results store; give --store");
  if (o_.name.empty()) return Status(ErrorCode::kInvalidArgument, "the checkpoint name is empty");
  auto reg = ModelRegistry::open(o_.model_dir, /*create=*/false);
  if (!reg) return reg.status();
  auto current = reg->current();
  if (!current) return current.status();
  if (!*current)
    return Status(ErrorCode::kNotFound, fmt::format("{}: no model yet; train one first (byoml train)", o_.model_dir));
  if (!o_.rules_dir.empty()) {
    auto rules = load_rules(o_.rules_dir);
    if (!rules) return rules.status();
    rules_ = std::move(rules).value();
  }
  interval_ = o_.interval;
  if (interval_ == 0) {
    for (const auto& r : rules_)
      if (r.enabled) interval_ = interval_ == 0 ? r.query_frequency : std::min(interval_, r.query_frequency);
    if (interval_ == 0) interval_ = kDefaultInterval;
  }
  return {};
}

CycleOutcome Watcher::cycle() {
  CycleOutcome c;
  auto t0 = std::chrono::steady_clock::now();
  ScoreJob job;
  job.input = o_.input;
  job.model_dir = o_.model_dir;
  job.overrides = o_.overrides;
  job.output = o_.output;
  job.store_events = o_.per_event;
  // The shadow first: it reads from the same checkpoint the live run is about to move.
  auto reg = ModelRegistry::open(o_.model_dir, /*create=*/false);
  auto candidate = reg ? reg->shadow() : Result<std::optional<int>>(reg.status());
  if (!candidate) {
    c.status = candidate.status();
    return c;
  }
  std::unique_ptr<Model> shadow_model;
  if (*candidate) {
    ScoreJob shadow = job;
    shadow.model_version = **candidate;
    shadow.shadow = true;
    shadow.output.clear();
    auto scored = session_.score(shadow);
    if (!scored) {
      c.status = scored.status().with_context("shadow model");
      return c;
    }
    shadow_model = std::move(scored->model);
    c.shadow_version = **candidate;
    job.health_details["shadow_model_version"] = **candidate;
  }
  auto scored = session_.score(job);
  if (scored) {
    const ScoreOutcome& r = scored->outcome;
    c.run_id = scored->run_id;
    c.model_version = scored->model_version;
    c.records = r.read.records;
    c.events = r.read.events;
    c.rejected = r.read.rejected;
    c.results = r.results.size();
    c.events_stored = scored->events_stored;
    c.objects_read = r.read.files_read;
    c.objects_unchanged = r.read.files_unchanged;
    c.skipped = r.read.skipped_files;
  } else {
    c.status = scored.status();
  }
  // Rows of earlier cycles are delivered even when this one failed to read.
  if (!o_.output.empty()) {
    auto d = session_.deliver_outbox(o_.input.read.cloud);
    if (d) c.delivered = *d;
    else c.delivered.last_error = d.status().message();
  }
  if (scored && o_.retrain_every > 0) {
    auto trained = maybe_retrain(*scored->model, shadow_model.get());
    if (trained) c.retrained = *trained;
    else c.status = trained.status().with_context("retraining");
  }
  if (scored && !o_.rules_dir.empty()) {
    auto rules = session_.rules(o_.rules_dir, now_ticks(), /*force=*/false);
    if (rules) c.rules = std::move(rules).value();
    else c.status = rules.status().with_context("rules");
  }
  c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return c;
}

Result<std::optional<int>> Watcher::maybe_retrain(const Model& live, const Model* candidate) {
  auto store = ResultStore::open(session_.store_path(), ResultStore::Mode::kExisting);
  if (!store) return store.status();
  auto checkpoint = load_checkpoint(*store, o_.name);
  if (!checkpoint) return checkpoint.status();
  if (!*checkpoint || (*checkpoint)->newest.empty()) return std::optional<int>();
  auto newest = parse_timestamp((*checkpoint)->newest);
  if (!newest) return newest.status();
  // The newest model (the shadow when there is one) sets the pace, so a pending candidate is not
  // trained again every cycle. A model trained without an end to its window has no pace: the
  // first check retrains it.
  const Model& pace = candidate ? *candidate : live;
  nlohmann::json end;
  if (auto w = pace.info.find("window"); w != pace.info.end() && w->is_object()) end = w->value("to", nlohmann::json());
  auto to = end.is_string() ? parse_timestamp(end.get<std::string>()) : Result<Ticks>(Status(ErrorCode::kNotFound, ""));
  if (to && *newest - *to < o_.retrain_every) return std::optional<int>();
  auto setup = reconcile_template(live, nullptr);
  if (!setup) return setup.status();
  TrainJob job;
  job.input = o_.input;
  job.input.checkpoint.clear();
  // Up to and including the newest event read.
  job.input.read.filter.window = {*newest + 1 - o_.retrain_window, *newest + 1};
  job.tmpl = setup->tmpl;
  job.values = setup->values;
  job.model_dir = o_.model_dir;
  job.threads = o_.threads;
  job.as_shadow = o_.shadow;
  auto trained = session_.train(job);
  if (!trained) return trained.status();
  return std::optional<int>(trained->version);
}

void Watcher::run(const std::atomic<bool>& stop, const std::function<void(const CycleOutcome&)>& on_cycle) {
  using Clock = std::chrono::steady_clock;
  const auto every = std::chrono::microseconds(interval_ / (kTicksPerSecond / 1000000));
  while (!stop) {
    auto next = Clock::now() + every;
    CycleOutcome c = cycle();
    if (on_cycle) on_cycle(c);
    // Sleep in short steps, so SIGTERM between cycles ends the service at once.
    while (!stop && Clock::now() < next) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Result<nlohmann::json> watch_status(const std::string& store_path, const std::string& name, Ticks now) {
  auto store = ResultStore::open(store_path, ResultStore::Mode::kExisting);
  if (!store) return store.status();
  auto checkpoint = load_checkpoint(*store, name);
  if (!checkpoint) return checkpoint.status();
  nlohmann::json out = {{"store", store_path}, {"name", name}};
  if (!*checkpoint) {
    out["checkpoint"] = nullptr;
  } else {
    const Checkpoint& c = **checkpoint;
    out["checkpoint"] = {{"cycles", c.cycle},
                         {"updated", c.updated},
                         {"run_id", c.run_id},
                         {"objects", std::count(c.positions.begin(), c.positions.end(), '\n')},
                         {"newest_event", c.newest.empty() ? nlohmann::json() : nlohmann::json(c.newest)}};
    if (auto newest = parse_timestamp(c.newest); newest)
      out["lag_seconds"] = static_cast<double>(now - *newest) / kTicksPerSecond;
  }
  auto cycles = watch_cycles(*store, name);
  if (!cycles) return cycles.status();
  out.update(*cycles);
  auto pending = outbox_size(*store);
  if (!pending) return pending.status();
  out["outbox_pending"] = *pending;
  return out;
}

Result<nlohmann::json> compare_models(const std::string& model_dir, const std::string& store_path, size_t top) {
  auto reg = ModelRegistry::open(model_dir, /*create=*/false);
  if (!reg) return reg.status();
  auto live = reg->current();
  if (!live) return live.status();
  auto candidate = reg->shadow();
  if (!candidate) return candidate.status();
  if (!*live || !*candidate)
    return Status(ErrorCode::kNotFound, fmt::format("{}: no shadow model to compare with (byoml watch --retrain-every "
                                                    "makes one)", model_dir));
  auto model = reg->load(**live);
  if (!model) return model.status();
  auto setup = reconcile_template(**model, nullptr);
  if (!setup) return setup.status();
  auto store = ResultStore::open(store_path, ResultStore::Mode::kExisting);
  if (!store) return store.status();
  const std::string& table = setup->tmpl->output.table;
  auto c = compare_scores(*store, table, **live, **candidate, top);
  if (!c) return c.status();
  auto pairs = [](const std::vector<ComparedPair>& v) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : v) out.push_back({{"user", p.user}, {"resource", p.resource}, {"score", p.score}});
    return out;
  };
  return nlohmann::json{{"table", table},
                        {"live_version", **live},
                        {"shadow_version", **candidate},
                        {"live_pairs", c->live_pairs},
                        {"shadow_pairs", c->shadow_pairs},
                        {"common_pairs", c->common_pairs},
                        {"rank_correlation", c->rank_correlation},
                        {"only_live", pairs(c->only_live)},
                        {"only_shadow", pairs(c->only_shadow)}};
}

Result<WatchConfig> load_watch_config(const std::string& path, const std::vector<ParamSpec>& scoring) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Status(ErrorCode::kNotFound, fmt::format("{}: cannot read the watch config", path));
  } catch (const YAML::Exception& e) {
    return Status(ErrorCode::kInvalidArgument, fmt::format("{}: line {}: {}", path, e.mark.line + 1, e.msg));
  }
  if (!root.IsMap()) return Status(ErrorCode::kInvalidArgument, fmt::format("{}: the watch config must be a mapping of options", path));
  WatchConfig c;
  auto bad = [&](const std::string& key, const YAML::Node& v, const std::string& want) {
    return Status(ErrorCode::kInvalidArgument, fmt::format("{}: line {}: {} must be {}", path, v.Mark().line + 1, key, want));
  };
  const std::map<std::string, std::string*> texts = {
      {"model", &c.model},         {"store", &c.store}, {"rules", &c.rules},
      {"output", &c.output},       {"name", &c.name},   {"allowlist", &c.allowlist},
      {"credentials", &c.credentials}, {"from", &c.from}};
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>("");
    const YAML::Node& v = kv.second;
    if (auto it = texts.find(key); it != texts.end()) {
      if (!v.IsScalar()) return bad(key, v, "a string");
      *it->second = v.as<std::string>();
    } else if (key == "input") {
      if (v.IsScalar()) c.input.push_back(v.as<std::string>());
      else if (v.IsSequence())
        for (const auto& i : v) {
          if (!i.IsScalar()) return bad(key, i, "a path or URL, or a list of them");
          c.input.push_back(i.as<std::string>());
        }
      else return bad(key, v, "a path or URL, or a list of them");
    } else if (key == "per_event" || key == "shadow") {
      bool b = false;
      if (!v.IsScalar() || !YAML::convert<bool>::decode(v, b)) return bad(key, v, "true or false");
      (key == "shadow" ? c.shadow : c.per_event) = b;
    } else if (key == "interval" || key == "retrain_every" || key == "retrain_window") {
      auto d = v.IsScalar() ? parse_duration(v.as<std::string>()) : Result<Ticks>(Status(ErrorCode::kInvalidArgument, ""));
      if (!d || *d <= 0) return bad(key, v, "a duration such as 5m, 1h, 7d or 30s");
      (key == "interval" ? c.interval : key == "retrain_every" ? c.retrain_every : c.retrain_window) = *d;
    } else if (auto spec = std::find_if(scoring.begin(), scoring.end(), [&](const ParamSpec& p) { return p.name == key; });
               spec != scoring.end()) {
      if (!v.IsScalar()) return bad(key, v, "a single value");
      auto check = ParamSet::make({*spec});
      if (!check) return check.status();
      if (Status st = check->set(key, v.as<std::string>()); !st)
        return Status(ErrorCode::kInvalidArgument, fmt::format("{}: line {}: {}", path, v.Mark().line + 1, st.message()));
      c.parameters[key] = v.as<std::string>();
    } else {
      std::string names;
      for (const auto& p : scoring) names += ", " + p.name;
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("{}: line {}: unknown key \"{}\" (known: input, model, store, rules, output, name, "
                                "per_event, interval, allowlist, credentials, from, retrain_every, retrain_window, "
                                "shadow, and the scoring parameters{})",
                                path, kv.first.Mark().line + 1, display_safe(key), names));
    }
  }
  return c;
}

}  // namespace byoml
