// byoml evaluate: detection quality of per-event scores against labels, beside a first-seen rule.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "byoml/api/session.h"
#include "byoml/results/evaluation.h"
#include "commands.h"

namespace byoml::cli {
namespace {

struct EvaluateArgs {
  std::string scores, labels, store;
  std::string threshold = "auto";
  bool json = false;
};

nlohmann::json incidents_json(const IncidentFigures& f) {
  auto [median, max] = median_and_max(f.minutes_to_incident);
  return {{"incidents", f.incidents}, {"naming_labelled_account", f.naming_labelled},
          {"labelled_accounts", f.labelled_accounts}, {"labelled_accounts_named", f.accounts_named},
          {"false_incidents_per_1000_users_per_day", f.false_per_1000_users_per_day},
          {"minutes_to_incident", {{"median", median}, {"max", max}}}};
}

nlohmann::json figures_json(const DetectorFigures& f) {
  nlohmann::json p = nlohmann::json::object(), kinds = nlohmann::json::object();
  for (auto [k, v] : f.precision_at) p[fmt::format("at_{}", k)] = v;
  for (const auto& [k, v] : f.by_kind)
    kinds[k] = {{"label", v.label}, {"events", v.events}, {"flagged", v.flagged},
                {"flagged_share", v.events ? static_cast<double>(v.flagged) / static_cast<double>(v.events) : 0.0}};
  return {{"roc_auc", f.roc_auc}, {"average_precision", f.average_precision}, {"precision", p},
          {"recall", f.recall}, {"flagged_events", f.flagged_events}, {"alerts", f.alerts},
          {"alerts_per_1000_users_per_day", f.alerts_per_1000_users_per_day},
          {"false_alerts_per_1000_users_per_day", f.false_alerts_per_1000_users_per_day}, {"by_kind", kinds},
          {"incidents", incidents_json(f.incidents)}};
}

void print_set(const std::string& title, const EvaluationSet& s) {
  fmt::print("\n{} ({} events, {} anomalous)\n", title, with_commas(s.events), with_commas(s.positives));
  fmt::print("  {:<34} {:>10} {:>10}\n", "", "model", "first-seen");
  auto row = [](const std::string& name, double a, double b) { fmt::print("  {:<34} {:>10.3f} {:>10.3f}\n", name, a, b); };
  row("ROC-AUC", s.model.roc_auc, s.first_seen.roc_auc);
  row("average precision", s.model.average_precision, s.first_seen.average_precision);
  for (size_t i = 0; i < s.model.precision_at.size(); ++i)
    row(fmt::format("precision@{}", s.model.precision_at[i].first), s.model.precision_at[i].second,
        s.first_seen.precision_at[i].second);
  row("recall of anomalous events", s.model.recall, s.first_seen.recall);
  row("alerts per 1,000 users per day", s.model.alerts_per_1000_users_per_day, s.first_seen.alerts_per_1000_users_per_day);
  row("  of them false", s.model.false_alerts_per_1000_users_per_day, s.first_seen.false_alerts_per_1000_users_per_day);
  fmt::print("  flagged share by kind (anomaly kinds: recall; others: false alarms)\n");
  for (const auto& [kind, k] : s.model.by_kind) {
    const auto& f = s.first_seen.by_kind.at(kind);
    auto share = [](const KindFigures& x) { return x.events ? static_cast<double>(x.flagged) / static_cast<double>(x.events) : 0.0; };
    fmt::print("    {:<8} {:<26} {:>8} ev {:>10.3f} {:>10.3f}\n", k.label, kind, k.events, share(k), share(f));
  }
}

// Incidents: an account's flagged events of a day for the model and first-seen, and the rule's
// own incidents from the store when there is one.
void print_incidents(const EvaluationReport& rep, const std::optional<IncidentFigures>& rule) {
  const IncidentFigures &m = rep.all.model.incidents, &f = rep.all.first_seen.incidents;
  fmt::print("\nIncidents ({} labelled accounts){}\n", m.labelled_accounts,
             rule ? "" : "; give --store to add the incidents byoml's rules raised");
  fmt::print("  {:<34} {:>10} {:>10}{}\n", "", "model", "first-seen", rule ? fmt::format(" {:>10}", "rule") : "");
  auto row = [&](const std::string& name, auto get, const char* format) {
    fmt::print("  {:<34} {:>10} {:>10}{}\n", name, fmt::format(fmt::runtime(format), get(m)), fmt::format(fmt::runtime(format), get(f)),
               rule ? fmt::format(" {:>10}", fmt::format(fmt::runtime(format), get(*rule))) : "");
  };
  row("incidents", [](const IncidentFigures& x) { return x.incidents; }, "{}");
  row("  naming a labelled account", [](const IncidentFigures& x) {
    return x.incidents ? 100.0 * static_cast<double>(x.naming_labelled) / static_cast<double>(x.incidents) : 0.0;
  }, "{:.1f}%");
  row("labelled accounts named", [](const IncidentFigures& x) {
    return x.labelled_accounts ? 100.0 * static_cast<double>(x.accounts_named) / static_cast<double>(x.labelled_accounts) : 0.0;
  }, "{:.1f}%");
  row("false incidents per 1,000 users/day", [](const IncidentFigures& x) { return x.false_per_1000_users_per_day; }, "{:.2f}");
  row("minutes to incident, median", [](const IncidentFigures& x) { return median_and_max(x.minutes_to_incident).first; }, "{:.0f}");
  row("minutes to incident, max", [](const IncidentFigures& x) { return median_and_max(x.minutes_to_incident).second; }, "{:.0f}");
}

int run_evaluate(const EvaluateArgs& a) {
  std::optional<double> threshold;
  if (double v = 0; a.threshold != "auto") {
    if (!parse_double(a.threshold, v))
      return report_error(Status(ErrorCode::kInvalidArgument, fmt::format("--threshold \"{}\": auto or a number", a.threshold)));
    threshold = v;
  }
  auto rep = evaluate_files(a.scores, a.labels, threshold);
  if (!rep) return report_error(rep.status());
  std::optional<IncidentFigures> rule;
  if (!a.store.empty()) {
    auto got = Session({a.store, wait_notice(), {}, {}}).incidents_against(*rep);
    if (!got) return report_error(got.status());
    rule = std::move(got).value();
  }
  if (a.json) {
    nlohmann::json j = {{"threshold", rep->threshold ? nlohmann::json(*rep->threshold) : nlohmann::json("auto")},
                        {"scored_events", rep->scored_events},
                        {"labelled_events", rep->labelled_events}, {"unlabelled_scores", rep->unlabelled_scores},
                        {"unscored_labels", rep->unscored_labels}, {"users", rep->users}, {"days", rep->days},
                        {"bad_lines", rep->bad_lines}, {"problems", rep->problems}};
    for (auto [name, set] : {std::pair<const char*, const EvaluationSet*>{"all", &rep->all}, {"new_pairs", &rep->new_pairs}})
      j[name] = {{"events", set->events}, {"anomalous", set->positives}, {"model", figures_json(set->model)},
                 {"first_seen", figures_json(set->first_seen)}};
    if (rule) j["rule_incidents"] = incidents_json(*rule);
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  fmt::print("scores      {} events ({} labelled, {} without a label), {} labels without a score\n",
             with_commas(rep->scored_events), with_commas(rep->labelled_events), with_commas(rep->unlabelled_scores),
             with_commas(rep->unscored_labels));
  fmt::print("population  {} users over {} days; model flags {}, first-seen flags pairs never seen in training\n",
             rep->users, rep->days,
             rep->threshold ? fmt::format("new pairs scoring above {}", *rep->threshold)
                            : std::string("the events its scoring run alerted on (new pairs above the model's threshold)"));
  for (const auto& p : rep->problems) fmt::print("problem     {}\n", p);
  print_set("All labelled events", rep->all);
  print_set("Events whose pair was never seen in training", rep->new_pairs);
  print_incidents(*rep, rule);
  return kExitOk;
}

}  // namespace

Runner register_evaluate(CLI::App& app) {
  auto args = std::make_shared<EvaluateArgs>();
  auto* cmd = app.add_subcommand("evaluate", "Measure per-event scores against ground-truth labels, beside a "
                                             "first-seen rule: ROC-AUC, average precision, precision@k, recall per kind");
  cmd->footer(
      "Example:\n"
      "  byoml score --input demo/export --from 2026-11-02 --to 2026-11-09 --model demo/models --per-event -o scores.jsonl\n"
      "  byoml evaluate --scores scores.jsonl --labels demo/labels.csv --store demo/byoml.db\n"
      "Incidents: for the model and first-seen, an account's flagged events of one UTC day make one (as\n"
      "byoml's rule groups them); with --store, the incidents the rules raised are measured beside them.");
  cmd->add_option("--scores", args->scores, "Per-event scores (byoml score --per-event)")->required();
  cmd->add_option("--labels", args->labels, "Labels CSV with EventOriginId, Label (anomaly|novelty|normal), Kind")->required();
  cmd->add_option("--threshold", args->threshold,
                  "auto: an event is flagged when its scoring run alerted on it (Alert); or a score above which an "
                  "event of a pair new to the model counts as flagged")
      ->capture_default_str();
  cmd->add_option("--store", args->store,
                  "Results store whose incidents (byoml's rules) to measure too: which name a labelled account, "
                  "how many labelled accounts they name, how long after the first anomalous event");
  cmd->add_flag("--json", args->json, "JSON output");
  return [args, cmd]() { return cmd->parsed() ? run_evaluate(*args) : -1; };
}

}  // namespace byoml::cli
