// Retries for the cloud connectors. What may pass on a second try: no answer at all (refused,
// reset, timed out), 408, 429, 500, 502, 503 and 504. A 429 or 503 with Retry-After waits as
// long as the server asks (up to max_backoff); others back off exponentially from `backoff`.
// Anything else is the caller's to judge.
#pragma once

#include <functional>
#include <string>

#include "byoml/cloud/http_client.h"
#include "byoml/common/params.h"

namespace byoml {

struct HttpOptions {
  Ticks timeout = 120 * kTicksPerSecond;  // one request, answer included
  int attempts = 6;                       // tries per request, the first included
  Ticks backoff = kTicksPerSecond;        // the first wait; doubled each time (whole seconds: a duration)
  Ticks max_backoff = 60 * kTicksPerSecond;
  std::string ca_file;  // a CA bundle to trust instead of the system's (env BYOML_CA_BUNDLE)
};

// The HTTP tunables, declared once (CLI options and docs come from here).
const ParamTable<HttpOptions>& http_params();
std::vector<ParamSpec> http_param_specs();             // http_params().specs()
HttpOptions http_options_from(const ParamSet& params);  // http_params().bind()

// Whether an answer with this status may pass on retry.
bool is_retryable_status(long status);
// How long the server asked to wait (Retry-After in seconds or as an HTTP date), or -1.
Ticks retry_after(const HttpResponse& response);

// Sends `make()`'s request until it gets an answer that is not retryable, or the attempts run
// out. The last answer is returned whatever its status; when no answer came at all, the last
// kTransient error. `on_retry` hears each wait (may be empty). `make` is called for every
// attempt, so a signed request gets a fresh date and signature.
using RetryNotice = std::function<void(const std::string&)>;
Result<HttpResponse> send_with_retry(const std::function<Result<HttpRequest>()>& make, const HttpOptions& options,
                                     const RetryNotice& on_retry = {});

}  // namespace byoml
