// Allowlists as data: accounts, resources or account×resource pairs (glob patterns, case
// insensitive) that are known to be fine. skip-result keeps them out of results (they are
// still scored, with the reason `allowlisted`); skip-model-update keeps their accesses out
// of training, so an automation account does not shape what "usual" means.
//
//   entries:
//     - account: "svc-backup*"
//       action: skip-result
//       reason: nightly backup
//     - resource: '\\*\netlogon'
//       action: skip-model-update
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "byoml/common/status.h"

namespace byoml {

enum class AllowAction { kSkipResult, kSkipModelUpdate };

struct AllowEntry {
  std::string account;   // glob; empty matches any account
  std::string resource;  // glob; empty matches any resource
  AllowAction action = AllowAction::kSkipResult;
  std::string reason;
};

class Allowlist {
 public:
  static Result<Allowlist> parse(const std::string& yaml_text, const std::string& source);
  static Result<Allowlist> load(const std::string& path);

  bool matches(AllowAction action, std::string_view account, std::string_view resource) const;
  const std::vector<AllowEntry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<AllowEntry> entries_;
};

}  // namespace byoml
