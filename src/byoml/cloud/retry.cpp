#include "byoml/cloud/retry.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <thread>

#include "byoml/common/param_table.h"

namespace byoml {

const ParamTable<HttpOptions>& http_params() {
  static const ParamTable<HttpOptions> table = [] {
    ParamTable<HttpOptions> t;
    t.with_unit(ParamType::kDuration, "http_timeout", &HttpOptions::timeout,
                "Cloud requests: give up on one request (and retry it) after this long.", 1, 3600)
        .add("http_attempts", &HttpOptions::attempts,
             "Cloud requests: tries per request on timeouts, 429 and 5xx answers, the first included.", 1, 100)
        .with_unit(ParamType::kDuration, "http_backoff", &HttpOptions::backoff,
                   "Cloud requests: the first wait before a retry; each further wait doubles.", 0, 600)
        .with_unit(ParamType::kDuration, "http_max_backoff", &HttpOptions::max_backoff,
                   "Cloud requests: the longest wait before a retry, Retry-After included.", 0, 3600);
    return t;
  }();
  return table;
}

std::vector<ParamSpec> http_param_specs() { return http_params().specs(); }

HttpOptions http_options_from(const ParamSet& params) { return http_params().bind(params); }

bool is_retryable_status(long status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

Ticks retry_after(const HttpResponse& response) {
  std::string v = response.header("retry-after");
  if (v.empty()) return -1;
  long long seconds = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  if (ec == std::errc() && end == v.data() + v.size()) return std::max<long long>(seconds, 0) * kTicksPerSecond;
  std::tm tm{};
  if (strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) == nullptr) return -1;
  long long wait = static_cast<long long>(timegm(&tm)) - static_cast<long long>(std::time(nullptr));
  return std::max<long long>(wait, 0) * kTicksPerSecond;
}

Result<HttpResponse> send_with_retry(const std::function<Result<HttpRequest>()>& make, const HttpOptions& options,
                                     const RetryNotice& on_retry) {
  Ticks wait = options.backoff;
  for (int attempt = 1;; ++attempt) {
    auto request = make();
    if (!request) return request.status();
    request->timeout = options.timeout;
    if (request->ca_file.empty()) request->ca_file = options.ca_file;
    auto response = http_send(*request);
    bool retry = response ? is_retryable_status(response->status) : response.status().code() == ErrorCode::kTransient;
    if (!retry || attempt >= options.attempts) return response;
    Ticks asked = response ? retry_after(*response) : -1;
    Ticks pause = std::min(asked >= 0 ? asked : wait, options.max_backoff);
    if (on_retry)
      on_retry(fmt::format("{}; retry {} of {} in {:.1f} s",
                           response ? fmt::format("HTTP {}", response->status) : response.status().message(), attempt,
                           options.attempts - 1, static_cast<double>(pause) / kTicksPerSecond));
    std::this_thread::sleep_for(std::chrono::microseconds(pause / 10));
    wait = std::min(wait * 2, options.max_backoff);
  }
}

}  // namespace byoml
