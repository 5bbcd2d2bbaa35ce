// Reads Sentinel's IdentityInfo table (an export tree, JSON Lines, Event Hub records: any input
// byoml reads) into an IdentityTimeline. Accounts are keyed as SecurityEvent names them,
// "domain\name" in lower case: AccountDomain's first label ("contoso.local" -> "contoso") and
// AccountName, or else AccountUPN. A row without an account, time or Department is rejected,
// named by file and line, and the rest are still read.
#pragma once

#include <string>
#include <vector>

#include "byoml/features/identity_timeline.h"
#include "byoml/sources/input_set.h"

namespace byoml {

struct IdentityRead {
  IdentityTimeline timeline;
  ReadStats read;
  uint64_t without_department = 0;  // rows with an account but no Department: nothing to learn
};

Result<IdentityRead> read_identity(const std::vector<std::string>& paths, ReadOptions read, RejectLog& rejects);

}  // namespace byoml
