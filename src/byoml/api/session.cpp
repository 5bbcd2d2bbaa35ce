#include "byoml/api/session.h"

#include "byoml/results/alert_state.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "byoml/common/atomic_file.h"
#include "byoml/models/model_registry.h"
#include "byoml/results/alert_state.h"
#include "byoml/results/logs_ingestion_sink.h"
#include "byoml/results/watch_store.h"

namespace byoml {

namespace {

std::string now_text() { return format_timestamp(now_ticks()); }

nlohmann::json health_row(const std::string& run_id, const std::string& kind, const InputSpec& in) {
  return {{"RunId", run_id}, {"Kind", kind}, {"Started", now_text()}, {"Inputs", inputs_identity(in.paths)}};
}

nlohmann::json read_figures(const ReadStats& read, uint64_t rejected) {
  return {{"FilesRead", read.files_read}, {"Records", read.records}, {"Rejected", rejected}};
}

Result<Allowlist> load_allowlist(const std::string& path) {
  if (path.empty()) return Allowlist();
  return Allowlist::load(path);
}

Status close_rejects(RejectLog* rejects) { return rejects ? rejects->close() : Status(); }

// The positions file of an earlier run; none yet is no positions.
Status load_positions(const std::string& path, ReadOptions& read) {
  if (path.empty()) return {};
  auto text = read_whole_file(path, "positions file");
  if (!text) return text.status().code() == ErrorCode::kNotFound ? Status() : text.status();
  auto positions = positions_from_jsonl(*text, path);
  if (!positions) return positions.status();
  read.resume = std::make_shared<const std::vector<ReadPosition>>(std::move(positions).value());
  return {};
}

Status save_positions(const std::string& path, const std::vector<ReadPosition>& positions) {
  if (path.empty()) return {};
  auto f = AtomicFile::create(path);
  if (!f) return f.status();
  f->write(positions_to_jsonl(positions));
  return f->commit().with_context("writing positions file " + path);
}

// The positions of a store checkpoint; none yet is no positions.
Status load_checkpoint_positions(ResultStore& store, const std::string& name, ReadOptions& read) {
  auto c = load_checkpoint(store, name);
  if (!c) return c.status();
  if (!*c) return {};
  auto positions = positions_from_jsonl((*c)->positions, store.path() + " checkpoint " + name);
  // byoml wrote it in a transaction: a checkpoint that does not parse is a damaged store.
  if (!positions) return Status(ErrorCode::kCorrupt, positions.status().message());
  read.resume = std::make_shared<const std::vector<ReadPosition>>(std::move(positions).value());
  return {};
}

uint64_t rejected(const RejectLog* rejects, const ReadStats& read) { return rejects ? rejects->total() : read.rejected; }

}  // namespace

JobRequest Session::job_request(const InputSpec& in, const DetectionTemplate* tmpl, const ParamSet& values,
                                 const Allowlist* allowlist) const {
  JobRequest r;
  r.paths = in.paths;
  r.read = in.read;
  r.tmpl = tmpl;
  r.values = values;
  r.allowlist = allowlist;
  r.rejects = in.rejects;
  r.log = o_.log;
  return r;
}

Result<ResultStore> Session::open_store(ResultStore::Mode mode) const {
  auto store = ResultStore::open(o_.store, mode);
  if (store) store->set_wait_notice(o_.on_wait);
  return store;
}

void Session::record(const nlohmann::json& health) {
  if (o_.store.empty()) return;
  Status st;
  if (auto store = open_store(ResultStore::Mode::kCreate); !store) {
    st = store.status();
  } else if (auto txn = store->begin_write(); !txn) {
    st = txn.status();
  } else {
    st = store->record_run(health);
    if (st) st = txn->commit();
  }
  if (!st && o_.warn) o_.warn("run health not recorded: " + st.message());
}

Status Session::failed(nlohmann::json health, const Status& error) {
  health.update({{"Finished", now_text()}, {"Status", "failed"}, {"Errors", {error.message()}}});
  record(health);
  return error;
}

Result<Trained> Session::train(const TrainJob& job) {
  auto allowlist = load_allowlist(job.input.allowlist);
  if (!allowlist) return allowlist.status();
  auto reg = ModelRegistry::open(job.model_dir, /*create=*/true, o_.on_wait);
  if (!reg) return reg.status();
  Trained out;
  // What the run is, not when: a retried training run replaces its health row (its model is a
  // new version all the same).
  out.run_id = train_run_id(job.model_dir, job.input.read, job.input.paths, job.values, job.input.allowlist);
  nlohmann::json health = health_row(out.run_id, "train", job.input);

  TrainRequest req;
  static_cast<JobRequest&>(req) = job_request(job.input, job.tmpl.get(), job.values, &*allowlist);
  req.threads = job.threads;
  // Pairs analysts confirmed as anomalous stay out of the model, so they keep alerting.
  if (!o_.store.empty() && std::filesystem::exists(o_.store)) {
    auto store = open_store(ResultStore::Mode::kExisting);
    if (!store) return failed(health, store.status());
    auto confirmed = confirmed_pairs(*store, job.tmpl->output.table);
    if (!confirmed) return failed(health, confirmed.status());
    req.confirmed = std::move(confirmed).value();
  }
  auto trained = run_train(req);
  if (!trained) return failed(health, trained.status());
  if (Status st = close_rejects(job.input.rejects); !st) return failed(health, st);
  out.model = std::move(trained->model);
  out.report = trained->report;
  auto version = reg->add(*out.model, job.as_shadow);
  if (!version) return failed(health, version.status());
  out.version = *version;
  out.path = reg->path_of(*version);

  const nlohmann::json& data = out.model->info["data"];
  health.update(read_figures(out.report.read, rejected(job.input.rejects, out.report.read)));
  health.update({{"Finished", now_text()}, {"Status", "ok"},
                 {"DurationSeconds", out.report.read_seconds + out.report.fit_seconds}, {"ModelVersion", out.version},
                 {"Events", data.value("events", nlohmann::json())}, {"Users", data.value("users", nlohmann::json())},
                 {"Resources", data.value("resources", nlohmann::json())}, {"Details", data}});
  // The model is saved and current; a store that cannot take the health row does not undo it.
  record(health);
  return out;
}

Result<Scored> Session::score(const ScoreJob& job, std::shared_ptr<const IdentityRead> identity) {
  auto reg = ModelRegistry::open(job.model_dir, /*create=*/false);
  if (!reg) return reg.status();
  auto model = reg->load(job.model_version);
  if (!model) return model.status();
  Scored out;
  out.model = std::move(model).value();
  // The model's own template and parameter values, or the requested one when it agrees.
  auto setup = reconcile_template(*out.model, job.requested);
  if (!setup) return setup.status();
  out.tmpl = setup->tmpl;
  out.values = std::move(setup->values);
  if (job.overrides) BYOML_RETURN_IF_ERROR(job.overrides(out.values));
  auto allowlist = load_allowlist(job.input.allowlist);
  if (!allowlist) return allowlist.status();

  const std::string& checkpoint = job.input.checkpoint;
  if ((!checkpoint.empty() || job.store_events) && o_.store.empty())
    return Status(ErrorCode::kInvalidArgument, "checkpoints and scored events are kept in the results store; give one");
  std::optional<ResultStore> store;
  if (!o_.store.empty()) {
    auto opened = open_store(ResultStore::Mode::kCreate);
    if (!opened) return opened.status();
    store.emplace(std::move(opened).value());
  }
  out.model_version = out.model->info.value("version", 0);
  InputSpec input = job.input;
  BYOML_RETURN_IF_ERROR(load_positions(input.positions, input.read));
  if (!checkpoint.empty()) BYOML_RETURN_IF_ERROR(load_checkpoint_positions(*store, checkpoint, input.read));
  out.run_id = score_run_id(*out.model, out.model_version, input.read, input.paths, out.values,
                            job.input.allowlist, !job.per_event_path.empty() || job.store_events);
  if (!input.identity.empty()) out.run_id = stable_run_id("score", {{"score", out.run_id}, {"identity", input.identity}});
  // A watcher's cycles are its own: another checkpoint over the same inputs has other runs.
  const bool shadow = job.shadow;
  const std::string kind = shadow ? "shadow" : checkpoint.empty() ? "score" : "watch";
  if (!checkpoint.empty() || shadow)
    out.run_id = stable_run_id(kind, {{"score", out.run_id}, {"checkpoint", checkpoint}});
  nlohmann::json details = job.health_details;  // kept through the figures added below
  if (!checkpoint.empty()) details["checkpoint"] = checkpoint;
  nlohmann::json health = health_row(out.run_id, kind, input);
  if (!details.empty()) health["Details"] = details;
  ScoreRequest req;
  static_cast<JobRequest&>(req) = job_request(input, out.tmpl.get(), out.values, &*allowlist);
  req.model = out.model.get();
  req.model_version = out.model_version;
  req.run_id = out.run_id;
  req.per_event_path = job.per_event_path;
  req.keep_events = job.store_events && !shadow;
  req.identity = input.identity;
  req.identity_read = std::move(identity);
  auto scored = run_score(req);
  if (!scored) return failed(health, scored.status());
  if (Status st = close_rejects(job.input.rejects); !st) return failed(health, st);
  out.outcome = std::move(scored).value();
  ScoreOutcome& r = out.outcome;
  // A pair reported by an earlier run goes out again only when something new happened.
  AlertPlan alerts;
  if (store && !shadow && alert_state_applies(out.tmpl->output)) {
    // A window's run happens, as far as its alerts go, at the window's end (or now, if sooner):
    // a week replayed hour by hour reports as the hours did, and rules and verdicts line up.
    const Ticks to = input.read.filter.window.to;
    const Ticks at = to == kMaxTicks ? now_ticks() : std::min(to, now_ticks());
    auto plan = plan_alerts(*store, out.tmpl->output, out.run_id, at, std::move(r.results));
    if (!plan) return failed(health, plan.status());
    alerts = std::move(plan).value();
    r.results = std::move(alerts.report);  // the plan keeps the state to write; the rows go on
    r.table.figures["alert_state"] = {{"new", alerts.fresh}, {"raised_again", alerts.raised},
                                      {"already_reported", alerts.repeated}, {"dismissed", alerts.dismissed}};
    r.table.summary.push_back(fmt::format("\nalerts      {} new, {} reported again (severity {}+ higher or a new reason), "
                                          "{} already reported: updated in byoml_alert_state, not written again{}",
                                          alerts.fresh, alerts.raised, kRealertSeverityStep, alerts.repeated,
                                          alerts.dismissed ? fmt::format("; {} judged benign by an analyst", alerts.dismissed) : ""));
  }

  // A checkpointed run sends its rows to a stream through the outbox, in the store's transaction.
  const bool outbox = !checkpoint.empty() && !shadow && is_logs_ingestion_url(job.output);
  OutputSchema schema = out.tmpl->output;
  if (shadow) schema.table += "_Shadow";
  std::vector<std::unique_ptr<ResultSink>> sinks;
  if (store) {
    // A shadow run moves nothing but its own rows.
    sinks.push_back(store_sink(*store, shadow ? std::function<Status()>() : [&]() -> Status {
      BYOML_RETURN_IF_ERROR(apply_alert_plan(*store, alerts));
      if (job.store_events) {
        auto added = insert_scored_events(*store, r.events, out.run_id, out.model_version);
        if (!added) return added.status();
        out.events_stored = *added;
      }
      if (outbox && !r.results.empty())
        BYOML_RETURN_IF_ERROR(enqueue_outbox(*store, {0, job.output, out.run_id, out.tmpl->output, r.results, 0, ""}));
      if (checkpoint.empty()) return {};
      return save_checkpoint(*store, {checkpoint, positions_to_jsonl(r.read.positions), 0, "", out.run_id,
                                      r.read.newest ? format_timestamp(r.read.newest) : ""});
    }));
  }
  if (!job.output.empty() && !outbox && !shadow) {
    auto sink = output_sink(job.output, input.read.cloud);
    if (!sink) return failed(health, sink.status());
    sinks.push_back(std::move(sink).value());
  }
  health.update(read_figures(r.read, rejected(job.input.rejects, r.read)));
  health.update(r.table.health);
  health.update({{"Finished", now_text()}, {"Status", "ok"}, {"DurationSeconds", r.seconds},
                 {"ModelVersion", out.model_version}, {"Results", r.results.size()}, {"Details", r.table.figures}});
  health["Details"].update(details);
  std::vector<ResultSink*> targets;
  for (auto& sink : sinks) targets.push_back(sink.get());
  if (Status st = write_results(targets, out.run_id, schema, r.results, health); !st) return failed(health, st);
  r.events.clear();
  if (shadow) return out;
  // Only now that the results are stored: a run killed before this reads the same data again,
  // gets the same run id and replaces its own rows.
  BYOML_RETURN_IF_ERROR(save_positions(input.positions, r.read.positions));
  // Sources that keep their readers' offsets (Event Hubs consumer groups) hear it only now.
  for (const auto& path : input.paths) {
    auto transport = transport_for(path, input.read.cloud);
    if (transport) BYOML_RETURN_IF_ERROR((*transport)->commit(r.read.positions));
  }
  return out;
}

Status Session::score_every(const ScheduleJob& job, const std::function<void(const WindowOutcome&)>& each) {
  const TimeWindow whole = job.score.input.read.filter.window;
  if (!whole.bounded() || whole.from == kMinTicks || whole.to == kMaxTicks)
    return Status(ErrorCode::kInvalidArgument, "scoring every period needs a window: give --from and --to");
  if (job.every <= 0) return Status(ErrorCode::kInvalidArgument, "the period to score every must be positive");
  if (!job.score.input.positions.empty() || !job.score.input.checkpoint.empty())
    return Status(ErrorCode::kInvalidArgument,
                  "read positions and checkpoints follow new data, not a schedule of windows; use one or the other");
  if (!job.rules_dir.empty() && o_.store.empty())
    return Status(ErrorCode::kInvalidArgument, "rules run over the results store; give one");
  // Each window writes its lines beside the target; they are gathered into it as they come.
  std::optional<AtomicFile> per_event, output;
  const bool output_file = !job.score.output.empty() && job.score.output != "-" && !is_logs_ingestion_url(job.score.output);
  auto open = [](std::optional<AtomicFile>& f, const std::string& path) -> Status {
    auto made = AtomicFile::create(path);
    if (!made) return made.status();
    f.emplace(std::move(made).value());
    return {};
  };
  if (!job.score.per_event_path.empty()) BYOML_RETURN_IF_ERROR(open(per_event, job.score.per_event_path));
  if (output_file) BYOML_RETURN_IF_ERROR(open(output, job.score.output));
  auto gather = [](std::optional<AtomicFile>& f, const std::string& part) -> Status {
    if (!f) return {};
    auto bytes = read_whole_file(part, "window output");
    std::error_code ec;
    std::filesystem::remove(part, ec);
    if (!bytes) return bytes.status();
    f->write(*bytes);
    return {};
  };
  // The identity data covers every window: it is read once.
  std::shared_ptr<const IdentityRead> identity;
  if (!job.score.input.identity.empty()) {
    RejectLog local;
    RejectLog& rejects = job.score.input.rejects ? *job.score.input.rejects : local;
    auto read = read_identity(job.score.input.identity, job.score.input.read, rejects);
    if (!read) return read.status().with_context("reading the identity data (--identity)");
    identity = std::make_shared<const IdentityRead>(std::move(read).value());
  }
  for (Ticks from = whole.from; from < whole.to; from += job.every) {
    WindowOutcome w;
    w.window = {from, std::min(whole.to, from + job.every)};
    ScoreJob one = job.score;
    one.input.read.filter.window = w.window;
    if (per_event) one.per_event_path = job.score.per_event_path + ".window";
    if (output) one.output = job.score.output + ".window";
    auto scored = score(one, identity);
    if (!scored) return scored.status();
    w.scored = std::move(scored).value();
    BYOML_RETURN_IF_ERROR(gather(per_event, one.per_event_path));
    BYOML_RETURN_IF_ERROR(gather(output, one.output));
    if (!job.rules_dir.empty()) {
      auto ran = rules(job.rules_dir, w.window.to, /*force=*/false);
      if (!ran) return ran.status();
      w.rules = std::move(ran).value();
    }
    each(w);
  }
  if (per_event) BYOML_RETURN_IF_ERROR(per_event->commit());
  if (output) BYOML_RETURN_IF_ERROR(output->commit());
  return {};
}

Result<Delivered> Session::deliver_outbox(std::shared_ptr<const CloudContext> cloud) {
  Delivered d;
  if (o_.store.empty()) return d;
  auto store = open_store(ResultStore::Mode::kCreate);
  if (!store) return store.status();
  for (;;) {
    auto pending = pending_outbox(*store, 1);
    if (!pending) return pending.status();
    if (pending->empty()) break;
    const OutboxEntry& e = pending->front();
    auto sink = output_sink(e.target, cloud);
    Status st = sink ? write_results({sink->get()}, e.run_id, e.schema, e.rows, {}) : sink.status();
    if (!st) {
      BYOML_RETURN_IF_ERROR(note_outbox_failure(*store, e.id, st.message()));
      d.last_error = st.message();
      break;
    }
    BYOML_RETURN_IF_ERROR(remove_outbox(*store, e.id));
    ++d.batches;
    d.rows += e.rows.size();
  }
  auto left = outbox_size(*store);
  if (!left) return left.status();
  d.pending = *left;
  return d;
}

Result<std::vector<RuleOutcome>> Session::rules(const std::string& rules_dir, Ticks now, bool force) {
  auto rules = load_rules(rules_dir);
  if (!rules) return rules.status();
  auto store = open_store(ResultStore::Mode::kExisting);
  if (!store) return store.status();
  return run_rules(*store, *rules, now, force, rules_dir);
}

Result<IncidentFigures> Session::incidents_against(const EvaluationReport& evaluation) {
  auto store = open_store(ResultStore::Mode::kExisting);
  if (!store) return store.status();
  auto records = incident_records(*store);
  if (!records) return records.status();
  return incident_figures(*records, evaluation.labelled_accounts, evaluation.users, evaluation.days);
}

Result<std::string> Session::report(const ReportOptions& options) {
  auto store = open_store(ResultStore::Mode::kExisting);
  if (!store) return store.status();
  return render_report(*store, options);
}

}  // namespace byoml
