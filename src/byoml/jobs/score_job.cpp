#include "byoml/jobs/score_job.h"
#include "byoml/common/atomic_file.h"

#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "byoml/jobs/identity_input.h"

namespace byoml {

Result<ScoreOutcome> run_score(const ScoreRequest& req) {
  auto t0 = std::chrono::steady_clock::now();
  const Detector& detector = req.model->detector();
  auto mapping = FieldMapping::compile(mapping_for(*req.tmpl, req.values));
  if (!mapping) return mapping.status();
  auto plan = plan_inputs(req.paths, req.read, {{}, req.tmpl->event_ids, mapping->keys()});
  if (!plan) return plan.status();
  if (req.log) req.log(fmt::format("reading {} files", plan->files.size()));

  const bool per_event = !req.per_event_path.empty() || req.keep_events;
  std::shared_ptr<const IdentityRead> identity = req.identity_read;
  if (!identity && !req.identity.empty()) {
    RejectLog local;
    auto read = read_identity(req.identity, req.read, req.rejects ? *req.rejects : local);
    if (!read) return read.status().with_context("reading the identity data (--identity)");
    identity = std::make_shared<IdentityRead>(std::move(read).value());
    if (req.log)
      req.log(fmt::format("identities  {} accounts, {} department changes, {} rows without a Department",
                          identity->timeline.users(), identity->timeline.changes(), identity->without_department));
  }
  ScoreSetup setup{req.tmpl->event_ids, req.values, req.allowlist, req.model_version, req.run_id, per_event,
                   identity ? &identity->timeline : nullptr};
  auto made = detector.scorer(*req.model, setup);
  if (!made) return made.status();
  std::unique_ptr<Scorer> scorer = std::move(made).value();
  Vocabulary vocab;
  RejectLog local_rejects;
  ReadContext ctx(*mapping, vocab, req.read, req.rejects ? *req.rejects : local_rejects,
                  [&](const EventBatch& b) { scorer->add(b, vocab); });
  BYOML_RETURN_IF_ERROR(read_inputs(*plan, ctx));

  auto table = scorer->score();
  if (!table) return table.status();
  ScoreOutcome out;
  out.read = ctx.stats();
  out.table = std::move(table).value();
  if (identity)
    out.table.figures["identity"] = {{"accounts", identity->timeline.users()}, {"snapshots", identity->timeline.snapshots()},
                                     {"changes", identity->timeline.changes()},
                                     {"without_department", identity->without_department},
                                     {"rejected", identity->read.rejected}};
  const std::string explanation = detector.explanation_column();
  const bool explain = req.tmpl->output.find(explanation) != nullptr;
  for (size_t i = 0; i < out.table.rows.size(); ++i) {
    nlohmann::json& row = out.table.rows[i];
    if (explain) row[explanation] = scorer->explain(i);
    nlohmann::json declared = nlohmann::json::object();  // only the template's output columns
    for (const auto& c : req.tmpl->output.columns) {
      auto it = row.find(c.name);
      declared[c.name] = it == row.end() ? nlohmann::json() : *it;
      BYOML_CHECK(value_fits(declared[c.name], c.type));  // a detector writes what it declares
    }
    out.results.push_back(std::move(declared));
  }

  if (req.keep_events) scorer->each_event([&](std::string_view line) { out.events.emplace_back(line); });
  if (!req.per_event_path.empty()) {
    auto f = AtomicFile::create(req.per_event_path);
    if (!f) return f.status();
    scorer->each_event([&](std::string_view line) {
      f->write(line);
      f->write("\n");
    });
    BYOML_RETURN_IF_ERROR(f->commit());
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace byoml
