#include "byoml/features/pair_features.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>

namespace byoml {

double pair_likelihood(const PairStats& s) {
  int64_t days = (day_floor(s.last) - day_floor(s.first)) / kTicksPerDay;
  return static_cast<double>(s.count) / static_cast<double>(1 + days);
}

namespace {

// The record set is large and probed at random, so TLB misses cost as much as cache misses;
// transparent huge pages (where the kernel allows them on request) remove most of those.
template <typename T>
void advise_huge_pages(std::vector<T>& v) {
  constexpr uintptr_t kHuge = 2u << 20;
  auto begin = (reinterpret_cast<uintptr_t>(v.data()) + kHuge - 1) & ~(kHuge - 1);
  auto end = reinterpret_cast<uintptr_t>(v.data() + v.size()) & ~(kHuge - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

uint64_t mix(uint64_t x) {  // splitmix64 finaliser: cheap and well spread for dense ids
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t key_hash(const PairKey& k) {
  return mix((static_cast<uint64_t>(k.user) << 32 | k.resource) ^ mix(k.tenant + 0x9E3779B97F4A7C15ull));
}

}  // namespace

PairAccumulator::PairAccumulator(std::vector<uint32_t> event_ids, bool dedupe)
    : event_ids_(std::move(event_ids)), dedupe_(dedupe), pair_slots_(1024) {
  std::sort(event_ids_.begin(), event_ids_.end());
  if (dedupe_) record_slots_.assign(1 << 16, 0);
}

size_t PairAccumulator::slot_of(const PairKey& key, uint64_t hash) const {
  size_t mask = pair_slots_.size() - 1;
  for (size_t s = hash & mask;; s = (s + 1) & mask) {
    const Slot& slot = pair_slots_[s];
    if (slot.idx1 == 0 || slot.key == key) return s;
  }
}

int64_t PairAccumulator::find(const PairKey& key) const {
  uint32_t v = pair_slots_[slot_of(key, key_hash(key))].idx1;
  return v == 0 ? kNoPair : static_cast<int64_t>(v - 1);
}

void PairAccumulator::grow_pairs() {
  pair_slots_.assign(pair_slots_.size() * 2, Slot{});
  for (size_t i = 0; i < keys_.size(); ++i) pair_slots_[slot_of(keys_[i], key_hash(keys_[i]))] = {keys_[i], static_cast<uint32_t>(i + 1)};
}

bool PairAccumulator::seen_before(uint64_t digest) {
  if (digest == 0) digest = 1;  // 0 marks an empty slot
  size_t mask = record_slots_.size() - 1;
  for (size_t s = digest & mask;; s = (s + 1) & mask) {
    if (record_slots_[s] == digest) return true;
    if (record_slots_[s] == 0) {
      record_slots_[s] = digest;
      if (++records_ * 2 > record_slots_.size()) {
        std::vector<uint64_t> old(record_slots_.size() * 2, 0);
        old.swap(record_slots_);
        advise_huge_pages(record_slots_);
        mask = record_slots_.size() - 1;
        for (uint64_t d : old) {
          if (d == 0) continue;
          size_t t = d & mask;
          while (record_slots_[t] != 0) t = (t + 1) & mask;
          record_slots_[t] = d;
        }
      }
      return false;
    }
  }
}

void PairAccumulator::add(const EventBatch& b, const Vocabulary& vocab, std::vector<int64_t>* row_pairs) {
  if (row_pairs) row_pairs->assign(b.size(), kNoPair);
  const size_t n = b.size();
  hashes_.resize(n);
  digests_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    hashes_[i] = key_hash({b.tenant[i], b.user[i], b.resource[i]});
    const RecordId& rid = b.record_id[i];
    // Record numbers are unique per machine only, so the machine is part of the identity.
    digests_[i] = !dedupe_ || rid.kind == RecordId::Kind::kNone
                      ? 0
                      : mix(rid.hi ^ mix(rid.lo ^ vocab.machines.hash(b.machine[i])) ^ static_cast<uint64_t>(rid.kind));
  }
  constexpr size_t kAhead = 16;
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) {
      __builtin_prefetch(&pair_slots_[hashes_[i + kAhead] & (pair_slots_.size() - 1)]);
      if (dedupe_) __builtin_prefetch(&record_slots_[digests_[i + kAhead] & (record_slots_.size() - 1)]);
    }
    if (i + kAhead / 2 < n) {  // its slot arrived by now: fetch the statistics it points to
      const Slot& ahead = pair_slots_[hashes_[i + kAhead / 2] & (pair_slots_.size() - 1)];
      if (ahead.idx1 != 0) __builtin_prefetch(&stats_[ahead.idx1 - 1]);
    }
    if (!event_ids_.empty() && !std::binary_search(event_ids_.begin(), event_ids_.end(), b.event_id[i])) continue;
    if (b.user[i] == 0 || b.resource[i] == 0) {
      ++incomplete_;
      continue;
    }
    if (digests_[i] != 0 && seen_before(digests_[i])) {
      ++duplicates_;
      continue;
    }
    PairKey key{b.tenant[i], b.user[i], b.resource[i]};
    size_t s = slot_of(key, hashes_[i]);
    if (pair_slots_[s].idx1 == 0) {
      keys_.push_back(key);
      stats_.emplace_back();
      pair_slots_[s] = {key, static_cast<uint32_t>(keys_.size())};
      if (keys_.size() * 2 > pair_slots_.size()) {
        grow_pairs();
        s = slot_of(key, hashes_[i]);
      }
    }
    uint32_t idx = pair_slots_[s].idx1 - 1;
    PairStats& st = stats_[idx];
    Ticks t = b.time[i];
    ++st.count;
    st.first = std::min(st.first, t);
    if (t >= st.last) {
      st.last = t;
      st.machine = b.machine[i];
    }
    first_ = std::min(first_, t);
    last_ = std::max(last_, t);
    ++events_;
    if (row_pairs) (*row_pairs)[i] = idx;
  }
}

}  // namespace byoml
