// What every cloud connector of a run shares: the credentials, the HTTP tunables, one token
// cache, and where retry notices go.
#pragma once

#include <memory>

#include "byoml/cloud/credentials.h"
#include "byoml/cloud/entra_token.h"
#include "byoml/cloud/retry.h"

namespace byoml {

struct CloudContext {
  CloudCredentials credentials;
  HttpOptions http;
  std::shared_ptr<TokenSource> tokens;
  RetryNotice on_retry;  // each retry's reason and wait; may be empty

  static std::shared_ptr<const CloudContext> make(CloudCredentials credentials, HttpOptions http, RetryNotice on_retry = {});
  // From the environment alone, for a run that was given no context.
  static std::shared_ptr<const CloudContext> from_environment();
};

}  // namespace byoml
