// How a shadow model's results differ from the live model's over the same cycles (the watcher
// writes both: TABLE and TABLE_Shadow): which pairs only one of them ranks in its top N, and
// the rank correlation of the scores of the pairs both reported.
#pragma once

#include <string>
#include <vector>

#include "byoml/results/result_store.h"

namespace byoml {

struct ComparedPair {
  std::string user, resource;
  double score = 0;  // the highest the model gave the pair
};

struct ScoreComparison {
  uint64_t live_pairs = 0, shadow_pairs = 0, common_pairs = 0;
  double rank_correlation = 0;  // Spearman's, over the common pairs (0 with fewer than 2)
  std::vector<ComparedPair> only_live, only_shadow;  // in one model's top N, not in the other's results at all
};

// `table` is the live result table; its rows of `live_version` against TABLE_Shadow's rows of
// `shadow_version`. Pairs are keyed by the columns User and Resource.
Result<ScoreComparison> compare_scores(ResultStore& store, const std::string& table, int live_version,
                                       int shadow_version, size_t top);

}  // namespace byoml
