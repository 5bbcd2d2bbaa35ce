// Scoring with the access-anomaly model. Unlike the reference, every pair gets a finite
// score and reason codes:
// - known user, known resource: the z-score −(x·y − μ)/σ; `new_pair` when the pair was not
//   in training; `cross_component` when the model has no path between them, and then the
//   score is at least the tenant's highest training score + 1 (the reference gave +∞).
// - unseen user: folded in. Its vector is solved from its accesses in the scored window to
//   known resources (one ALS half-step with the model's resource factors); the pair then
//   scores as the user's nearest known users (cosine of factors) score on the resource. A new
//   hire who works like a team scores like that team: low on its shares, high elsewhere.
// - unseen resource: folded in the same way from the known users who access it in the
//   window, and scored as the user scores on the nearest known resources of the same host
//   (a new share on a file server the model knows stands in for that server's shares; any
//   known resource when the host is new or the resource names no host). A user who already
//   uses shares on that host scores on the new one as on those: a team's new share on its
//   file server is its own business, while a new share on a server foreign to the user is not. A new share the
//   finance team uses resembles finance shares, so finance users score low on it and a
//   stranger high. (Scoring the folded vectors directly would flag nearly every user of a
//   new share: a vector fitted to a few accesses has a small norm, so its dots sit below μ.)
// - nothing to fold from (unknown tenant, or a new user whose every access is to new
//   resources): score 0, the training mean, with `no_history`.
// `low_affinity` marks scores at or above the threshold; `allowlisted` marks pairs an
// allowlist's skip-result entry covers (scored as usual, kept out of results).
// `burst`: the account opened burst_resources or more resources new to it, each scoring above
// a normal day's median new pair, within burst_window. Every pair of the account active during
// the burst alerts, its usual resources included: a sweep or a ransomware run touches those
// too, and an analyst wants the whole run in one place.
// `exclusive_resource`: a known account's new pair on a resource that at most exclusive_users
// people used in training (broad accounts aside, so none at all counts too), i.e. a closed
// group's share opened by someone outside it. With identity data, also a resource that at most
// exclusive_department_users people used, all of one department and at most half of it,
// opened by an account of another department (a department's restricted share, where
// departments are large). It alerts from a normal day's median new pair up, not only above
// the threshold.
// `peer_group_change` (with identity data): the account moved into a department (a recorded
// change at or before the access), and most of the resource's training users were in that
// department: the new colleagues' share is expected, and the pair does not alert.
// Broad accounts (machine accounts, and those that used ten times the tenant's median number of
// resources and at least 20: backup, antivirus, replication) are modelled like any other, but
// count in no group and stand in no explanation: they use everything, so they explain nothing.
// A pair alerts when it scores above the threshold and is new to the model: a pair the account
// used in training is its usual behaviour, whatever its affinity. The threshold is the
// tenant's calibrated one (access_calibration.h) unless a fixed one is given.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "byoml/features/allowlist.h"
#include "byoml/features/pair_features.h"
#include "byoml/models/access_anomaly.h"

namespace byoml {

enum ScoreReason : uint32_t {
  kReasonAllowlisted = 1u << 0,
  kReasonUnseenUser = 1u << 1,
  kReasonUnseenResource = 1u << 2,
  kReasonNoHistory = 1u << 3,
  kReasonNewPair = 1u << 4,
  kReasonCrossComponent = 1u << 5,
  kReasonLowAffinity = 1u << 6,
  kReasonBurst = 1u << 7,
  kReasonExclusiveResource = 1u << 8,
  kReasonPeerGroupChange = 1u << 9,
};
std::vector<std::string> reason_names(uint32_t reasons);

// kReference scores as the reference implementation and the Sentinel notebooks did, to compare
// with: a pair's plain score; an unseen user or resource is not scored (no_history: the
// reference's NULL) and never alerts; any pair above the threshold alerts, one the account used
// in training too; "auto" is the notebooks' 0.5; no context (burst, exclusive_resource,
// peer_group_change).
enum class ScoringMode { kByoml, kReference };

// Scoring tunables (--threshold, --top), declared beside the training ones in templates.
struct ScoringParams {
  ScoringMode mode = ScoringMode::kByoml;
  std::string threshold = "auto";  // "auto" (calibrated) or a score
  int64_t top = 25;                // result rows shown in the summary (0: all); every alert is stored
  int64_t burst_resources = 10;    // new resources within burst_window that make a burst (0: off)
  int64_t exclusive_users = 5;     // a resource this few people used is a closed group's (0: off)
  int64_t exclusive_department_users = 15;  // with identity data: this few, all of one department (0: off)
  Ticks burst_window = 10 * kTicksPerMinute;
};
const ParamTable<ScoringParams>& scoring_params();
std::vector<ParamSpec> scoring_param_specs();  // scoring_params().specs()

// The reference notebooks' threshold: used for a tenant the model could not calibrate.
inline constexpr double kReferenceThreshold = 0.5;
// "auto" gives none (each tenant's calibrated threshold); otherwise a finite number.
Result<std::optional<double>> parse_threshold(const std::string& text);

// The host of a machine-scoped resource: "fs01" for "\\fs01\hr"; empty for any other name.
std::string_view host_of(std::string_view resource);

struct WindowPair {
  std::string_view tenant, user, resource;
  PairStats stats;
};

struct PairScore {
  double score = 0;     // always finite
  double severity = 0;  // 0–100: percentile among the tenant's training scores
  uint32_t reasons = 0;
  bool seen_in_training = false;
  bool above = false;   // above the threshold, new to the model, not allowlisted
  bool alert = false;   // above, or active during a burst of the account (and not allowlisted)
  Ticks burst_from = 0, burst_to = 0;  // the account's burst the pair was active in (burst only)
  // Whether an access of the pair at `t` alerts: any when the pair scored above the threshold,
  // those within the burst when only the burst raised it.
  bool alerts_at(Ticks t) const { return above || (alert && t >= burst_from && t <= burst_to); }
  int64_t tenant = -1;                // model tenant, -1 when unseen
  int64_t user = -1, resource = -1;   // scorer vector ids (see AccessScorer), -1 when none
};

struct Explanation {
  std::vector<std::pair<std::string, double>> usual_resources;  // the user's, by likelihood
  std::vector<std::pair<std::string, double>> similar_users;    // who use this resource, by cosine
  uint32_t resource_users = 0;  // users of the resource in training
  uint32_t peers = 0;           // the user's nearest users in the model
  uint32_t peers_using = 0;     // of those, how many used this resource in training
};

struct ScoreOptions {
  std::optional<double> threshold;  // fixed; none: each tenant's calibrated one
  bool reference = false;           // ScoringMode::kReference
  const Allowlist* allowlist = nullptr;
  int neighbours = 3;  // known users / resources standing in for an unseen one
  int64_t burst_resources = 0;  // 0: no bursts
  int64_t exclusive_users = 0;  // 0: no exclusive resources
  int64_t exclusive_department_users = 0;  // 0: no department-closed resources
  const IdentityTimeline* identity = nullptr;
  Ticks burst_window = 0;
  int explain_usual = 5, explain_similar = 3, explain_peers = 10;
};

class AccessScorer {
 public:
  AccessScorer(const AccessAnomalyModel& m, ScoreOptions o);

  // Scores the window's distinct pairs; fold-ins use all of them together.
  std::vector<PairScore> score(std::span<const WindowPair> pairs);

  // The same in two phases, so that a window split into partitions scores as it would whole:
  // fold_in() is the global phase (every pair of the window, from all partitions, in any
  // order; it may be called again with more pairs), then score_folded() scores any partition
  // with what was folded in. The scores do not depend on the split or on the order.
  void fold_in(std::span<const WindowPair> pairs);
  std::vector<PairScore> score_folded(std::span<const WindowPair> pairs) const;
  Explanation explain(const PairScore& s) const;
  // The threshold a pair of the model tenant (-1: unseen) is held to.
  double threshold(int64_t tenant) const;

 private:
  struct Side {
    FactorMatrix fixed;     // the other side's factors the fold-in solves against
    Eigen::MatrixXd gram;
    uint32_t offset = 0;    // model row of fixed.row(0)
  };
  using FoldKey = std::pair<int64_t, std::string>;  // tenant, name
  std::vector<PairScore> resolve(std::span<const WindowPair> pairs) const;  // model tenant, user, resource ids
  void fold(std::span<const WindowPair> pairs, const std::vector<PairScore>& ids);
  // Folded ids for the unseen, then scores, reasons and severity.
  std::vector<PairScore> finish(std::span<const WindowPair> pairs, std::vector<PairScore> ids) const;
  // Marks the pairs of accounts that had a burst in the window (scores and alerts already set).
  void mark_bursts(std::span<const WindowPair> pairs, std::vector<PairScore>& scores) const;
  const Side& side(uint32_t tenant, bool of_resources);
  const float* user_vec(int64_t id) const;
  const float* resource_vec(int64_t id) const;
  // Among `candidates` (rows of `f`), the ones nearest to `v` by cosine.
  std::vector<uint32_t> nearest(const FactorMatrix& f, std::vector<uint32_t> candidates, const Eigen::VectorXf& v) const;
  struct Partners {  // CSR: the partners of entity i are ids[offsets[i] .. offsets[i + 1])
    std::vector<uint64_t> offsets;
    std::vector<uint32_t> ids;
  };
  // Stand-ins for an unseen user are the nearest of all the tenant's users while the tenant has
  // at most kExactSearch of them. In a larger tenant they are looked for among the users of the
  // unseen user's resources, and for an unseen resource among the resources of its users: each
  // entity's kCandidates strongest partners in training. Either way the cost per unseen entity
  // is bounded, whatever the model's size.
  static constexpr size_t kCandidates = 64;
  static constexpr uint32_t kExactSearch = 50'000;
  std::vector<uint32_t> stand_in_candidates(uint32_t begin, uint32_t end, const Partners& partners,
                                            const std::vector<uint32_t>& known);
  // The tenant's known resources on `host`, by row (empty for no host or an unknown one).
  const std::vector<uint32_t>& host_resources(uint32_t tenant, std::string_view host);
  // Whether most of a known resource's training users (broad accounts aside, those the identity
  // data knows) were in `department` when they used it.
  bool belongs_to(uint32_t resource, std::string_view department) const;
  // The one department of the resource's training users (broad ones aside), if every one has
  // a known department and it is the same.
  std::optional<std::string_view> only_department(uint32_t resource) const;
  // The resources on `host` that a known user used in training.
  std::vector<uint32_t> own_on_host(uint32_t user, std::string_view host) const;
  void build_candidates();
  static std::vector<uint32_t> candidates_of(const Partners& partners, const std::vector<uint32_t>& of);

  const AccessAnomalyModel& m_;
  ScoreOptions o_;
  // Vector ids: [0, model rows) are the model's; folded-in rows follow.
  FactorMatrix folded_users_, folded_resources_;
  std::vector<std::vector<std::pair<uint32_t, double>>> folded_user_usual_;  // model resource, likelihood
  std::vector<std::vector<uint32_t>> user_neighbours_, resource_neighbours_;  // per folded row: model rows
  std::map<FoldKey, int64_t> folded_user_ids_, folded_resource_ids_;          // vector ids
  std::vector<std::pair<uint32_t, Side>> user_sides_, resource_sides_;       // per tenant, built lazily
  std::vector<double> user_norms_;
  std::vector<uint8_t> broad_;            // per model user: a broad account (see above)
  std::vector<uint32_t> group_size_;      // per model resource: its training users, broad ones aside
  // Per model resource, with identity data: the department all of its training users (broad
  // ones aside) were in, when it is small enough to be that department's closed group.
  std::vector<std::optional<std::string_view>> group_department_;
  Partners resource_users_, user_resources_;  // kCandidates strongest partners, built lazily
  std::map<std::pair<uint32_t, std::string>, std::vector<uint32_t>> host_resources_;  // tenant, host; built lazily
  bool hosts_built_ = false;
};

}  // namespace byoml
