// Who belonged to which department when: the side input for peer groups, from Sentinel's
// IdentityInfo table (jobs/identity_input.h reads it). Rows are snapshots; a department change
// shows as a later row with another Department. Names are the events' account names
// ("domain\user", lower case).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "byoml/common/time.h"

namespace byoml {

class IdentityTimeline {
 public:
  // Any order; a repeated snapshot (same user, time and department) counts once.
  void add(std::string user, Ticks time, std::string department);

  // The department of the user's latest snapshot at or before `t` (none: no snapshot yet).
  std::optional<std::string_view> department_at(std::string_view user, Ticks t) const;

  struct Change {
    std::string_view department;  // moved into
    Ticks since = 0;
  };
  // The user's latest change of department at or before `t`: a snapshot whose department
  // differs from the snapshot before it.
  std::optional<Change> change_at(std::string_view user, Ticks t) const;

  size_t users() const { return by_user_.size(); }
  size_t snapshots() const { return snapshots_; }
  size_t changes() const;

 private:
  using Snapshots = std::vector<std::pair<Ticks, std::string>>;  // by time
  const Snapshots* find(std::string_view user) const;
  std::map<std::string, Snapshots, std::less<>> by_user_;
  size_t snapshots_ = 0;
};

}  // namespace byoml
