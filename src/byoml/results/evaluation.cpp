#include "byoml/results/evaluation.h"

#include <csv.h>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

namespace byoml {

namespace {

void sort_desc(std::vector<Ranked>& v) {
  std::stable_sort(v.begin(), v.end(), [](const Ranked& a, const Ranked& b) { return a.score > b.score; });
}

}  // namespace

double roc_auc(std::vector<Ranked> v) {
  std::sort(v.begin(), v.end(), [](const Ranked& a, const Ranked& b) { return a.score < b.score; });
  double pos = 0, neg = 0, rank_sum = 0;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j < v.size() && v[j].score == v[i].score) ++j;
    double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (size_t k = i; k < j; ++k)
      if (v[k].positive) rank_sum += avg_rank;
    i = j;
  }
  for (const auto& r : v) (r.positive ? pos : neg) += 1;
  if (pos == 0 || neg == 0) return 0.5;
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

double average_precision(std::vector<Ranked> v) {
  sort_desc(v);
  double total_pos = 0;
  for (const auto& r : v) total_pos += r.positive;
  if (total_pos == 0) return 0;
  double ap = 0, tp = 0, seen = 0, prev_recall = 0;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j < v.size() && v[j].score == v[i].score) {
      tp += v[j].positive;
      ++seen;
      ++j;
    }
    double recall = tp / total_pos;
    ap += (recall - prev_recall) * (tp / seen);
    prev_recall = recall;
    i = j;
  }
  return ap;
}

double precision_at(std::vector<Ranked> v, size_t k) {
  sort_desc(v);
  k = std::min(k, v.size());
  if (k == 0) return 0;
  double tp = 0;
  size_t taken = 0;
  for (size_t i = 0; i < v.size() && taken < k;) {
    size_t j = i;
    double group_pos = 0;
    while (j < v.size() && v[j].score == v[i].score) group_pos += v[j++].positive;
    size_t group = j - i, take = std::min(group, k - taken);
    tp += group_pos * static_cast<double>(take) / static_cast<double>(group);
    taken += take;
    i = j;
  }
  return tp / static_cast<double>(k);
}

namespace {

struct Label {
  std::string label, kind;
};

struct CsvTable {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
};

Result<std::unordered_map<std::string, Label>> read_labels(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(ErrorCode::kNotFound, fmt::format("{}: cannot open labels", path));
  csv_parser p;
  if (csv_init(&p, CSV_APPEND_NULL) != 0) return Status(ErrorCode::kIo, "csv parser");
  CsvTable t;
  auto on_field = [](void* s, size_t n, void* u) {
    static_cast<CsvTable*>(u)->row.emplace_back(s ? static_cast<const char*>(s) : "", s ? n : 0);
  };
  auto on_row = [](int, void* u) {
    auto* tt = static_cast<CsvTable*>(u);
    tt->rows.push_back(std::move(tt->row));
    tt->row.clear();
  };
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto n = static_cast<size_t>(in.gcount());
    if (csv_parse(&p, buf.data(), n, on_field, on_row, &t) != n) {
      std::string err = csv_strerror(csv_error(&p));
      csv_free(&p);
      return Status(ErrorCode::kParse, fmt::format("{}: {}", path, err));
    }
  }
  csv_fini(&p, on_field, on_row, &t);
  csv_free(&p);
  if (t.rows.empty()) return Status(ErrorCode::kParse, fmt::format("{}: empty", path));
  const auto& h = t.rows[0];
  auto col = [&](const char* name) -> int {
    auto it = std::find(h.begin(), h.end(), name);
    return it == h.end() ? -1 : static_cast<int>(it - h.begin());
  };
  int id = col("EventOriginId"), label = col("Label"), kind = col("Kind");
  if (id < 0 || label < 0 || kind < 0)
    return Status(ErrorCode::kParse, fmt::format("{}: needs the columns EventOriginId, Label and Kind", path));
  std::unordered_map<std::string, Label> out;
  for (size_t i = 1; i < t.rows.size(); ++i) {
    const auto& r = t.rows[i];
    if (r.size() != h.size()) {
      if (r.size() == 1 && r[0].empty()) continue;
      return Status(ErrorCode::kParse, fmt::format("{}: row {} has {} fields, the header {}", path, i + 1, r.size(), h.size()));
    }
    std::string key = r[static_cast<size_t>(id)];
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out[key] = {r[static_cast<size_t>(label)], r[static_cast<size_t>(kind)]};
  }
  return out;
}

struct Scored {
  double score;
  bool seen;
  bool alert;  // the scoring run's verdict: new to the model and above its threshold
  bool positive;
  std::string kind, label, user, resource;
  Ticks time;
};

DetectorFigures figures(const std::vector<Scored>& ev, bool model, std::optional<double> threshold, uint64_t users,
                        uint64_t days, const std::map<std::string, Ticks>& labelled) {
  DetectorFigures f;
  std::vector<Ranked> ranked;
  ranked.reserve(ev.size());
  std::set<std::tuple<std::string, std::string, Ticks>> alerts, false_alerts;
  std::map<std::pair<std::string, Ticks>, Ticks> incidents;  // (account, day) -> first flagged event
  double positives = 0, found = 0;
  for (const auto& e : ev) {
    double s = model ? e.score : (e.seen ? 0.0 : 1.0);
    bool flagged = !model ? !e.seen : threshold ? e.score > *threshold && !e.seen : e.alert;
    ranked.push_back({s, e.positive});
    auto& k = f.by_kind[e.kind.empty() ? "-" : e.kind];
    k.label = e.label;
    ++k.events;
    if (flagged) {
      ++k.flagged;
      ++f.flagged_events;
      alerts.emplace(e.user, e.resource, day_floor(e.time));
      if (!e.positive) false_alerts.emplace(e.user, e.resource, day_floor(e.time));
      // Scored hourly, an event is seen at the end of its hour.
      const Ticks seen_at = (e.time - day_floor(e.time)) / kTicksPerHour * kTicksPerHour + day_floor(e.time) + kTicksPerHour;
      auto [it, fresh] = incidents.try_emplace({e.user, day_floor(e.time)}, seen_at);
      if (!fresh) it->second = std::min(it->second, seen_at);
    }
    positives += e.positive;
    found += e.positive && flagged;
  }
  f.roc_auc = roc_auc(ranked);
  f.average_precision = average_precision(ranked);
  for (size_t k : {10, 100, 1000}) f.precision_at.emplace_back(k, precision_at(ranked, k));
  f.alerts = alerts.size();
  f.alerts_per_1000_users_per_day =
      users && days ? static_cast<double>(alerts.size()) * 1000.0 / static_cast<double>(users) / static_cast<double>(days) : 0;
  f.recall = positives > 0 ? found / positives : 0;
  auto per_1000 = [&](double n) { return users && days ? n * 1000.0 / static_cast<double>(users) / static_cast<double>(days) : 0; };
  f.false_alerts_per_1000_users_per_day = per_1000(static_cast<double>(false_alerts.size()));
  std::vector<IncidentRecord> records;
  for (const auto& [key, first] : incidents) records.push_back({{key.first}, first});
  f.incidents = incident_figures(records, labelled, users, days);
  return f;
}

EvaluationSet evaluation_set(const std::vector<Scored>& ev, std::optional<double> threshold, uint64_t users, uint64_t days,
                             const std::map<std::string, Ticks>& labelled) {
  EvaluationSet s;
  s.events = ev.size();
  for (const auto& e : ev) s.positives += e.positive;
  s.model = figures(ev, true, threshold, users, days, labelled);
  s.first_seen = figures(ev, false, threshold, users, days, labelled);
  return s;
}

}  // namespace

std::pair<double, double> median_and_max(std::vector<double> minutes) {
  if (minutes.empty()) return {0, 0};
  std::sort(minutes.begin(), minutes.end());
  const size_t n = minutes.size();
  return {n % 2 ? minutes[n / 2] : (minutes[n / 2 - 1] + minutes[n / 2]) / 2, minutes.back()};
}

IncidentFigures incident_figures(const std::vector<IncidentRecord>& incidents,
                                 const std::map<std::string, Ticks>& labelled_accounts, uint64_t users, uint64_t days) {
  IncidentFigures f;
  f.incidents = incidents.size();
  f.labelled_accounts = labelled_accounts.size();
  std::map<std::string, Ticks> first_incident;
  for (const auto& i : incidents) {
    bool names = false;
    for (const auto& a : i.accounts) {
      auto it = labelled_accounts.find(a);
      if (it == labelled_accounts.end()) continue;
      names = true;
      auto [at, fresh] = first_incident.try_emplace(a, i.created);
      if (!fresh) at->second = std::min(at->second, i.created);
    }
    f.naming_labelled += names;
  }
  f.accounts_named = first_incident.size();
  for (const auto& [account, created] : first_incident)
    f.minutes_to_incident.push_back(static_cast<double>(created - labelled_accounts.at(account)) /
                                    static_cast<double>(kTicksPerMinute));
  if (users && days)
    f.false_per_1000_users_per_day = static_cast<double>(f.incidents - f.naming_labelled) * 1000.0 /
                                     static_cast<double>(users) / static_cast<double>(days);
  return f;
}

Result<EvaluationReport> evaluate_files(const std::string& scores_path, const std::string& labels_path,
                                        std::optional<double> threshold) {
  auto labels = read_labels(labels_path);
  if (!labels) return labels.status();
  std::ifstream in(scores_path, std::ios::binary);
  if (!in) return Status(ErrorCode::kNotFound, fmt::format("{}: cannot open scores", scores_path));
  EvaluationReport rep;
  rep.threshold = threshold;
  std::vector<Scored> all;
  std::set<std::string> users;
  std::set<Ticks> days;
  std::set<std::string> matched;
  std::string line;
  for (uint64_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    auto problem = [&](const std::string& why) {
      ++rep.bad_lines;
      if (rep.problems.size() < 5) rep.problems.push_back(fmt::format("{}:{}: {}", scores_path, n, why));
    };
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      problem("not a JSON object");
      continue;
    }
    auto id = j.find("EventOriginId");
    auto score = j.find("AnomalyScore");
    auto seen = j.find("SeenInTraining");
    auto time = j.find("TimeGenerated");
    auto alert = j.find("Alert");
    if (id == j.end() || !id->is_string() || score == j.end() || !score->is_number() || seen == j.end() ||
        !seen->is_boolean() || time == j.end() || !time->is_string()) {
      problem("needs EventOriginId, TimeGenerated (strings), AnomalyScore (number), SeenInTraining (bool)");
      continue;
    }
    if (!threshold && (alert == j.end() || !alert->is_boolean())) {
      problem("needs Alert (bool), which byoml score --per-event writes; for older scores give --threshold");
      continue;
    }
    auto t = parse_timestamp(time->get<std::string>());
    if (!t) {
      problem("TimeGenerated: " + t.status().message());
      continue;
    }
    ++rep.scored_events;
    Scored s{score->get<double>(), seen->get<bool>(), !threshold && alert->get<bool>(), false, "", "",
             j.value("User", ""), j.value("Resource", ""), *t};
    users.insert(s.user);
    days.insert(day_floor(*t));
    std::string key = id->get<std::string>();
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto it = labels->find(key);
    if (it == labels->end()) {
      ++rep.unlabelled_scores;
      continue;
    }
    matched.insert(key);
    s.label = it->second.label;
    s.kind = it->second.kind;
    s.positive = s.label == "anomaly";
    if (s.positive) {
      auto [first, fresh] = rep.labelled_accounts.try_emplace(s.user, s.time);
      if (!fresh) first->second = std::min(first->second, s.time);
    }
    all.push_back(std::move(s));
  }
  rep.labelled_events = all.size();
  rep.unscored_labels = labels->size() - matched.size();
  rep.users = users.size();
  rep.days = days.size();
  if (all.empty())
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("no scored event has a label: do {} and {} describe the same events?", scores_path, labels_path));
  std::vector<Scored> fresh;
  for (const auto& s : all)
    if (!s.seen) fresh.push_back(s);
  rep.all = evaluation_set(all, threshold, rep.users, rep.days, rep.labelled_accounts);
  rep.new_pairs = evaluation_set(fresh, threshold, rep.users, rep.days, rep.labelled_accounts);
  return rep;
}

}  // namespace byoml
