#include "byoml/events/event_summary.h"

#include <algorithm>

namespace byoml {

EventSummary::EventSummary(std::vector<uint32_t> scope_event_ids) : scope_ids_(std::move(scope_event_ids)) {
  std::sort(scope_ids_.begin(), scope_ids_.end());
}

void EventSummary::mark(std::vector<bool>& seen, uint32_t id) {
  if (id == 0) return;  // absent
  if (id >= seen.size()) seen.resize(std::max<size_t>(id + 1, seen.size() * 2));
  seen[id] = true;
}

void EventSummary::add(const EventBatch& b) {
  for (size_t r = 0; r < b.size(); ++r) {
    ++events_;
    first_ = std::min(first_, b.time[r]);
    last_ = std::max(last_, b.time[r]);
    ++by_event_id_[b.event_id[r]];
    bool scoped = scope_ids_.empty() || std::binary_search(scope_ids_.begin(), scope_ids_.end(), b.event_id[r]);
    for (Seen* s : {&all_, scoped ? &scoped_ : nullptr}) {
      if (s == nullptr) continue;
      ++s->events;
      mark(s->tenants, b.tenant[r]);
      mark(s->users, b.user[r]);
      mark(s->machines, b.machine[r]);
      mark(s->resources, b.resource[r]);
      mark(s->addresses, b.source_ip[r]);
      uint32_t u = b.user[r];
      if (u != 0) {
        if (u >= s->user_types.size()) s->user_types.resize(std::max<size_t>(u + 1, s->user_types.size() * 2));
        s->user_types[u] = static_cast<uint8_t>(s->user_types[u] | (b.account_type[r] == AccountType::kMachine ? 2 : 1));
      }
    }
  }
}

DistinctCounts EventSummary::counts(const Seen& s) const {
  auto n = [](const std::vector<bool>& v) { return static_cast<uint64_t>(std::count(v.begin(), v.end(), true)); };
  DistinctCounts c;
  c.events = s.events;
  c.tenants = n(s.tenants);
  c.users = n(s.users);
  c.machines = n(s.machines);
  c.resources = n(s.resources);
  c.addresses = n(s.addresses);
  for (uint8_t t : s.user_types) {
    if (t & 1) ++c.user_accounts;
    if (t & 2) ++c.machine_accounts;
  }
  return c;
}

}  // namespace byoml
