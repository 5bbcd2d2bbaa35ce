// Detection quality against ground truth: the model's scores beside a first-seen rule (flag
// every user×resource pair never seen in training), on all labelled events and on the
// events whose pair is new, where the two can actually differ.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "byoml/common/status.h"
#include "byoml/common/time.h"

namespace byoml {

struct Ranked {
  double score;
  bool positive;
};

// Ties share ranks (Mann–Whitney), so a constant score gives 0.5.
double roc_auc(std::vector<Ranked> v);
// Step-wise over distinct score thresholds, so ties do not depend on input order.
double average_precision(std::vector<Ranked> v);
// Expected precision among the k highest scores; a tie group crossing k counts in proportion.
double precision_at(std::vector<Ranked> v, size_t k);

struct KindFigures {
  std::string label;  // anomaly (flagged share = recall) or normal/novelty (= false alarms)
  uint64_t events = 0, flagged = 0;
};

// What reaches analysts: incidents, and which labelled accounts they name. A labelled account
// is one with an anomalous event.
struct IncidentFigures {
  uint64_t incidents = 0, naming_labelled = 0;
  uint64_t labelled_accounts = 0, accounts_named = 0;
  std::vector<double> minutes_to_incident;  // per named account: its first anomalous event to its first incident
  double false_per_1000_users_per_day = 0;  // incidents that name no labelled account
};
// Median and maximum of minutes_to_incident (0 when empty).
std::pair<double, double> median_and_max(std::vector<double> minutes);

struct DetectorFigures {
  double roc_auc = 0, average_precision = 0;
  std::vector<std::pair<size_t, double>> precision_at;
  uint64_t flagged_events = 0, alerts = 0;  // alerts: distinct (user, resource, UTC day) flagged
  double alerts_per_1000_users_per_day = 0;
  double false_alerts_per_1000_users_per_day = 0;  // of those, the ones on events not anomalous
  double recall = 0;  // of anomalous events
  std::map<std::string, KindFigures> by_kind;
  // An account's flagged events of one UTC day make one incident, as byoml's rule groups them,
  // raised at the end of the hour of its first flagged event (hourly scoring).
  IncidentFigures incidents;
};

struct EvaluationSet {
  uint64_t events = 0, positives = 0;
  DetectorFigures model, first_seen;
};

struct EvaluationReport {
  std::optional<double> threshold;  // none: each event's Alert
  uint64_t scored_events = 0, labelled_events = 0, unlabelled_scores = 0, unscored_labels = 0;
  uint64_t users = 0, days = 0;
  std::vector<std::string> problems;  // bad lines, first few
  uint64_t bad_lines = 0;
  EvaluationSet all, new_pairs;
  std::map<std::string, Ticks> labelled_accounts;  // account (as scored) -> its first anomalous event
};

// Incidents against the labelled accounts: `accounts` lists the account entities of each
// incident, `created` when it was raised.
struct IncidentRecord {
  std::vector<std::string> accounts;
  Ticks created = 0;
};
IncidentFigures incident_figures(const std::vector<IncidentRecord>& incidents,
                                 const std::map<std::string, Ticks>& labelled_accounts, uint64_t users, uint64_t days);

// scores: `byoml score --per-event` output; labels: `byoml sample`'s labels.csv (EventOriginId,
// ..., Label, Kind). Events join on EventOriginId; the positive class is Label = anomaly. The
// model flags an event when its Alert is true (the scoring run's own threshold), or with a
// `threshold`, when it scores above it and its pair is new to the model.
Result<EvaluationReport> evaluate_files(const std::string& scores_path, const std::string& labels_path,
                                        std::optional<double> threshold);

}  // namespace byoml
