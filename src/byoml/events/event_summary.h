// What a set of events holds: counts by event id, time range, distinct values per column,
// overall and for the events a template models. Fed batch by batch, so it works on streams.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "byoml/events/event_batch.h"

namespace byoml {

struct DistinctCounts {
  uint64_t events = 0;
  uint64_t tenants = 0, users = 0, machines = 0, resources = 0, addresses = 0;
  uint64_t user_accounts = 0, machine_accounts = 0;
};

class EventSummary {
 public:
  // `scope_event_ids`: the events a template models (empty: all).
  explicit EventSummary(std::vector<uint32_t> scope_event_ids = {});
  void add(const EventBatch& batch);

  uint64_t events() const { return events_; }
  Ticks first_time() const { return first_; }
  Ticks last_time() const { return last_; }
  const std::map<uint32_t, uint64_t>& by_event_id() const { return by_event_id_; }
  DistinctCounts all() const { return counts(all_); }
  DistinctCounts in_scope() const { return counts(scoped_); }

 private:
  struct Seen {
    uint64_t events = 0;
    std::vector<bool> tenants, users, machines, resources, addresses;
    std::vector<uint8_t> user_types;  // bit 0: seen as user, bit 1: as machine
  };
  static void mark(std::vector<bool>& seen, uint32_t id);
  DistinctCounts counts(const Seen& s) const;

  std::vector<uint32_t> scope_ids_;
  uint64_t events_ = 0;
  Ticks first_ = kMaxTicks, last_ = kMinTicks;
  std::map<uint32_t, uint64_t> by_event_id_;
  Seen all_, scoped_;
};

}  // namespace byoml
