// HTTP for the cloud connectors, through libcurl. One request at a time per call; each thread
// keeps its own connection cache, so a run's requests to one host reuse their connections.
// A request that never got an answer (refused, reset, timed out, DNS) is ErrorCode::kTransient;
// any answer, whatever its status, is a response for the caller to judge.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "byoml/common/status.h"
#include "byoml/common/time.h"

namespace byoml {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;
// The value of a header (name in any case), empty when absent.
std::string find_header(const HttpHeaders& headers, std::string_view name);

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HttpHeaders headers;
  std::string body;
  Ticks timeout = 120 * kTicksPerSecond;  // the whole exchange
  std::string ca_file;                    // trust these CAs instead of the system's; empty: system
  std::string header(std::string_view name) const { return find_header(headers, name); }
};

struct HttpResponse {
  long status = 0;
  HttpHeaders headers;  // names lower-case
  std::string body;
  std::string header(std::string_view name) const { return find_header(headers, name); }
};

// Sends the request and returns the whole answer.
Result<HttpResponse> http_send(const HttpRequest& request);
// As http_send, but the body goes to `on_body` as it arrives (not into the response); returning
// false from it aborts the transfer (an ErrorCode::kIo error).
Result<HttpResponse> http_send(const HttpRequest& request, const std::function<bool(std::string_view)>& on_body);

// RFC 3986 percent-encoding of everything but unreserved characters; `keep` adds characters to
// leave as they are ("/" for paths).
std::string percent_encode(std::string_view text, std::string_view keep = "");
std::string percent_decode(std::string_view text);

// An absolute URL taken apart: scheme://host[:port]/path?query. `path` keeps its encoding.
struct Url {
  std::string scheme, host, port, path, query;
  std::string origin() const;  // scheme://host[:port]
  // The query's name=value pairs, decoded, in their order.
  std::vector<std::pair<std::string, std::string>> query_params() const;
};
Result<Url> parse_url(std::string_view text);
// The URL without its query string and user info, for messages and identities: a SAS token in
// the query is a secret.
std::string url_without_secrets(std::string_view text);

}  // namespace byoml
