#include "byoml/cloud/http_client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace byoml {
namespace {

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlGlobal() { curl_global_cleanup(); }
};

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

// One handle per thread: libcurl keeps the thread's open connections in it.
CURL* thread_handle() {
  static CurlGlobal global;
  thread_local std::unique_ptr<CURL, EasyDeleter> handle(curl_easy_init());
  curl_easy_reset(handle.get());
  return handle.get();
}

struct Exchange {
  HttpResponse* response;
  const std::function<bool(std::string_view)>* on_body;
  bool aborted = false;
};

size_t on_write(char* data, size_t size, size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  std::string_view chunk(data, size * n);
  if (x->on_body == nullptr) {
    x->response->body.append(chunk);
  } else if (!(*x->on_body)(chunk)) {
    x->aborted = true;
    return 0;
  }
  return chunk.size();
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<HttpResponse*>(user);
  std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) r->headers.clear();  // a new response (after a 100 Continue)
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
    r->headers.emplace_back(std::move(name), std::string(value));
  }
  return line.size();
}

bool is_unreserved(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '~';
}

Result<HttpResponse> send(const HttpRequest& req, const std::function<bool(std::string_view)>* on_body) {
  CURL* c = thread_handle();
  HttpResponse response;
  Exchange x{&response, on_body};
  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout / (kTicksPerSecond / 1000)));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response);
  if (!req.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, req.ca_file.c_str());
  if (req.method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    if (req.method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  }
  struct curl_slist* headers = nullptr;
  for (const auto& [name, value] : req.headers)
    headers = curl_slist_append(headers, value.empty() ? (name + ";").c_str() : (name + ": " + value).c_str());
  // libcurl would add "Expect: 100-continue" to large bodies (one round trip more for nothing)
  // and a form Content-Type to any body (a header a SharedKey signature does not cover).
  headers = curl_slist_append(headers, "Expect:");
  if (req.method != "GET" && req.header("content-type").empty()) headers = curl_slist_append(headers, "Content-Type:");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (x.aborted) return Status(ErrorCode::kIo, "transfer stopped by its reader");
  if (rc != CURLE_OK) {
    Url u;
    if (auto parsed = parse_url(req.url)) u = *parsed;
    std::string what = fmt::format("{} {}{}: {}", req.method, u.origin(), u.path, curl_easy_strerror(rc));
    switch (rc) {
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        return Status(ErrorCode::kInvalidArgument, what);
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CERTPROBLEM:
        return Status(ErrorCode::kIo, what);
      default:
        return Status(ErrorCode::kTransient, what);
    }
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace

std::string find_header(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [n, v] : headers)
    if (n.size() == name.size() &&
        std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return v;
  return {};
}

Result<HttpResponse> http_send(const HttpRequest& request) { return send(request, nullptr); }

Result<HttpResponse> http_send(const HttpRequest& request, const std::function<bool(std::string_view)>& on_body) {
  return send(request, &on_body);
}

std::string percent_encode(std::string_view text, std::string_view keep) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (is_unreserved(c) || keep.find(c) != std::string_view::npos) out += c;
    else out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
  }
  return out;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string Url::origin() const { return scheme + "://" + host + (port.empty() ? "" : ":" + port); }

std::vector<std::pair<std::string, std::string>> Url::query_params() const {
  std::vector<std::pair<std::string, std::string>> out;
  size_t at = 0;
  while (at < query.size()) {
    size_t end = query.find('&', at);
    if (end == std::string::npos) end = query.size();
    std::string_view part(query.data() + at, end - at);
    if (!part.empty()) {
      size_t eq = part.find('=');
      out.emplace_back(percent_decode(part.substr(0, eq)),
                       eq == std::string_view::npos ? std::string() : percent_decode(part.substr(eq + 1)));
    }
    at = end + 1;
  }
  return out;
}

Result<Url> parse_url(std::string_view text) {
  Url u;
  size_t sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0)
    return Status(ErrorCode::kInvalidArgument, fmt::format("\"{}\" is not a URL (scheme://host/...)", url_without_secrets(text)));
  u.scheme = std::string(text.substr(0, sep));
  for (char& c : u.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view rest = text.substr(sep + 3);
  size_t path_at = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_at);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (auto colon = authority.rfind(':'); colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    u.port = std::string(authority.substr(colon + 1));
    authority = authority.substr(0, colon);
    if (u.port.empty() || !std::all_of(u.port.begin(), u.port.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      return Status(ErrorCode::kInvalidArgument, fmt::format("\"{}\": the port is not a number", url_without_secrets(text)));
  }
  u.host = std::string(authority);
  for (char& c : u.host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (u.host.empty()) return Status(ErrorCode::kInvalidArgument, fmt::format("\"{}\" names no host", url_without_secrets(text)));
  if (path_at == std::string_view::npos) return u;
  rest.remove_prefix(path_at);
  if (auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  size_t q = rest.find('?');
  u.path = std::string(rest.substr(0, q));
  if (q != std::string_view::npos) u.query = std::string(rest.substr(q + 1));
  return u;
}

std::string url_without_secrets(std::string_view text) {
  std::string s(text.substr(0, text.find('?')));
  size_t sep = s.find("://");
  if (sep != std::string::npos) {
    size_t host_end = s.find('/', sep + 3);
    size_t at = s.rfind('@', host_end == std::string::npos ? s.size() : host_end);
    if (at != std::string::npos && at > sep) s.erase(sep + 3, at - sep - 2);
  }
  return s;
}

}  // namespace byoml
