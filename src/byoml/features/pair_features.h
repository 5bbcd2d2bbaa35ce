// Per (tenant, user, resource) access statistics over a window: the training input of the
// collaborative-filtering detector, and the window statistics (count, first and last access) that
// scoring reports. Ids are those of the reading Vocabulary.
#pragma once

#include <cstdint>
#include <vector>

#include "byoml/common/time.h"
#include "byoml/events/event_batch.h"

namespace byoml {

struct PairKey {
  uint32_t tenant = 0, user = 0, resource = 0;
  friend bool operator==(const PairKey&, const PairKey&) = default;
};

struct PairStats {
  uint64_t count = 0;
  Ticks first = kMaxTicks;
  Ticks last = kMinTicks;
  uint32_t machine = 0;  // machine of the latest access (reading Vocabulary id)
};

// The reference's likelihood: accesses / (1 + whole days between the first and the last
// UTC day the pair was seen), i.e. the mean daily count over the pair's active span.
double pair_likelihood(const PairStats& s);

inline constexpr int64_t kNoPair = -1;

class PairAccumulator {
 public:
  // `event_ids` selects the modelled events (empty: all). With `dedupe`, a record id seen
  // before from the same machine (export retries, overlapping files) is counted once; the
  // set keeps a 64-bit digest per record, so 2^-64-scale collisions are the only error.
  PairAccumulator(std::vector<uint32_t> event_ids, bool dedupe);

  // Adds the selected rows that have a user and a resource. When `row_pairs` is given it
  // receives, per row of the batch, the pair index or kNoPair (not selected, missing
  // field, or duplicate).
  void add(const EventBatch& batch, const Vocabulary& vocab, std::vector<int64_t>* row_pairs = nullptr);

  size_t size() const { return keys_.size(); }
  const std::vector<PairKey>& keys() const { return keys_; }
  const std::vector<PairStats>& stats() const { return stats_; }
  int64_t find(const PairKey& key) const;

  uint64_t events() const { return events_; }          // rows counted into a pair
  uint64_t duplicates() const { return duplicates_; }  // rows dropped as repeats of a record
  uint64_t incomplete() const { return incomplete_; }  // selected rows without user or resource
  Ticks first_time() const { return first_; }
  Ticks last_time() const { return last_; }

 private:
  bool seen_before(uint64_t digest);
  size_t slot_of(const PairKey& key, uint64_t hash) const;
  void grow_pairs();

  // The key sits in the slot so that a probe costs one cache miss; rows are hashed ahead and
  // their slots prefetched, since the table is far larger than the cache.
  struct Slot {
    PairKey key;
    uint32_t idx1 = 0;  // pair index + 1, 0 = empty
  };

  std::vector<uint32_t> event_ids_;
  bool dedupe_;
  std::vector<PairKey> keys_;
  std::vector<PairStats> stats_;
  std::vector<Slot> pair_slots_;      // at most half full
  std::vector<uint64_t> hashes_, digests_;  // per row of the batch being added
  std::vector<uint64_t> record_slots_;  // record digests, 0 = empty; at most half full
  size_t records_ = 0;
  uint64_t events_ = 0, duplicates_ = 0, incomplete_ = 0;
  Ticks first_ = kMaxTicks, last_ = kMinTicks;
};

}  // namespace byoml
