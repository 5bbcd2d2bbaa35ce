#include "byoml/features/identity_timeline.h"

#include <algorithm>

namespace byoml {

void IdentityTimeline::add(std::string user, Ticks time, std::string department) {
  Snapshots& s = by_user_[std::move(user)];
  auto at = std::lower_bound(s.begin(), s.end(), std::make_pair(time, department));
  if (at != s.end() && at->first == time && at->second == department) return;
  s.insert(at, {time, std::move(department)});
  ++snapshots_;
}

const IdentityTimeline::Snapshots* IdentityTimeline::find(std::string_view user) const {
  auto it = by_user_.find(user);
  return it == by_user_.end() ? nullptr : &it->second;
}

std::optional<std::string_view> IdentityTimeline::department_at(std::string_view user, Ticks t) const {
  const Snapshots* s = find(user);
  if (!s) return std::nullopt;
  auto after = std::upper_bound(s->begin(), s->end(), t, [](Ticks x, const auto& snap) { return x < snap.first; });
  if (after == s->begin()) return std::nullopt;
  return std::string_view(std::prev(after)->second);
}

std::optional<IdentityTimeline::Change> IdentityTimeline::change_at(std::string_view user, Ticks t) const {
  const Snapshots* s = find(user);
  if (!s) return std::nullopt;
  auto after = std::upper_bound(s->begin(), s->end(), t, [](Ticks x, const auto& snap) { return x < snap.first; });
  for (auto it = after; it != s->begin() && std::prev(it) != s->begin(); --it) {
    const auto &now = *std::prev(it), &before = *std::prev(it, 2);
    if (now.second != before.second) return Change{now.second, now.first};
  }
  return std::nullopt;
}

size_t IdentityTimeline::changes() const {
  size_t n = 0;
  for (const auto& [user, s] : by_user_)
    for (size_t i = 1; i < s.size(); ++i) n += s[i].second != s[i - 1].second;
  return n;
}

}  // namespace byoml
