// Local servers for the parts of Azure only the cloud has, enforcing the documented protocol
// strictly (../shared/reference/formats.md §4, §7, §9), on 127.0.0.1 (cpp-httplib):
// - EntraServer: OAuth2 client credentials and a managed identity endpoint; issues signed JWTs
//   with audience, issuer and expiry, and checks them for the other servers;
// - LogsIngestionServer: a data collection rule's stream: token audience and expiry, api-version,
//   gzip, the 1 MB limit before and after compression, a JSON array of flat objects with the
//   stream's declared columns only, values up to 64 KB; on demand 429 with Retry-After, 413,
//   503 and answers slower than the client waits.
#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <regex>
#include <sstream>
#include <set>
#include <string>
#include <thread>

#include "byoml/cloud/shared_key.h"
#include "byoml/common/time.h"
#include "byoml/common/text.h"

namespace byoml::test {

inline std::string base64url(std::string_view bytes) {
  std::string s = base64_encode(bytes);
  for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

inline std::string base64url_decode(std::string s) {
  for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  auto d = base64_decode(s);
  return d ? *d : std::string();
}

// Runs an httplib server on 127.0.0.1 in its own thread.
class LocalServer {
 public:
  LocalServer() = default;
  virtual ~LocalServer() { stop(); }
  void start() {
    // A connection per request: stop() then need not wait out a client's idle keep-alive.
    server_.set_keep_alive_max_count(1);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  void stop() {
    if (!thread_.joinable()) return;
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 protected:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

class EntraServer : public LocalServer {
 public:
  std::string tenant = "72f988bf-0000-4000-8000-2d7cd011db47";
  std::string client_id = "5d1f3a0e-1111-4222-8333-6c8f1b2a9e01";
  std::string client_secret = "test-client-secret-Q~7f2b9d1e";
  std::atomic<long> lifetime{3600};  // seconds
  std::atomic<int> tokens_issued{0};
  std::vector<std::string> issued() const {
    std::lock_guard<std::mutex> lock(mu_);
    return issued_;
  }

  EntraServer() {
    server_.Post(R"(/([^/]+)/oauth2/v2.0/token)", [this](const httplib::Request& req, httplib::Response& res) {
      auto fail = [&](int status, const std::string& error, const std::string& description) {
        res.status = status;
        res.set_content(nlohmann::json({{"error", error}, {"error_description", description}}).dump(), "application/json");
      };
      if (req.get_header_value("Content-Type") != "application/x-www-form-urlencoded")
        return fail(400, "invalid_request", "AADSTS900144: the request body must be a form");
      if (req.matches[1] != tenant) return fail(400, "invalid_request", "AADSTS90002: Tenant not found.");
      httplib::Params form;
      httplib::detail::parse_query_text(req.body, form);
      auto field = [&](const char* k) {
        auto it = form.find(k);
        return it == form.end() ? std::string() : it->second;
      };
      if (field("grant_type") != "client_credentials")
        return fail(400, "unsupported_grant_type", "AADSTS70003: unsupported grant type");
      if (field("client_id") != client_id)
        return fail(400, "unauthorized_client", "AADSTS700016: Application not found in the directory.");
      if (field("client_secret") != client_secret)
        return fail(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.");
      std::string scope = field("scope");
      if (scope.size() < 9 || scope.compare(scope.size() - 9, 9, "/.default") != 0)
        return fail(400, "invalid_scope", "AADSTS1002012: The provided value for scope is not valid.");
      issue(res, scope.substr(0, scope.size() - 9), false);
    });
    server_.Get("/metadata/identity/oauth2/token", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.get_header_value("Metadata") != "true" || req.get_param_value("api-version").empty() ||
          req.get_param_value("resource").empty()) {
        res.status = 400;
        res.set_content(R"({"error":"invalid_request","error_description":"Required metadata header not specified"})",
                        "application/json");
        return;
      }
      issue(res, req.get_param_value("resource"), true);
    });
    start();
  }
  ~EntraServer() override { stop(); }  // before the members the handlers use go

  // Whether `authorization` ("Bearer JWT") holds a token this server signed, for `audience`,
  // not expired. `why` says what is wrong.
  bool check(const std::string& authorization, const std::string& audience, std::string& why) const {
    if (authorization.rfind("Bearer ", 0) != 0) return (why = "no bearer token"), false;
    std::string jwt = authorization.substr(7);
    size_t a = jwt.find('.'), b = jwt.rfind('.');
    if (a == std::string::npos || a == b) return (why = "not a JWT"), false;
    if (base64url(hmac_sha256(key_, jwt.substr(0, b))) != jwt.substr(b + 1)) return (why = "bad signature"), false;
    auto claims = nlohmann::json::parse(base64url_decode(jwt.substr(a + 1, b - a - 1)), nullptr, false);
    if (!claims.is_object()) return (why = "bad claims"), false;
    if (claims.value("aud", "") != audience) return (why = "wrong audience " + claims.value("aud", "")), false;
    if (claims.value("exp", 0L) <= std::time(nullptr)) return (why = "expired"), false;
    return true;
  }

 private:
  void issue(httplib::Response& res, const std::string& audience, bool managed) {
    long now = static_cast<long>(std::time(nullptr)), life = lifetime.load();
    nlohmann::json header = {{"alg", "HS256"}, {"typ", "JWT"}};
    nlohmann::json claims = {{"aud", audience}, {"iss", "https://sts.windows.net/" + tenant + "/"}, {"iat", now},
                             {"nbf", now - 60}, {"exp", now + life}, {"appid", client_id}, {"tid", tenant},
                             {"jti", std::to_string(++tokens_issued)}};
    std::string unsigned_part = base64url(header.dump()) + "." + base64url(claims.dump());
    std::string token = unsigned_part + "." + base64url(hmac_sha256(key_, unsigned_part));
    {
      std::lock_guard<std::mutex> lock(mu_);
      issued_.push_back(token);
    }
    nlohmann::json body = {{"token_type", "Bearer"}, {"access_token", token}};
    if (managed) body["expires_in"] = std::to_string(life);  // a string from this endpoint
    else body["expires_in"] = life;
    res.set_content(body.dump(), "application/json");
  }
  std::string key_ = "entra-test-signing-key";
  mutable std::mutex mu_;
  std::vector<std::string> issued_;
};

class LogsIngestionServer : public LocalServer {
 public:
  struct Fault {
    int status = 0;          // 429, 413, 503 ...; 0: none
    int retry_after = -1;    // seconds, with 429/503
    int delay_ms = 0;        // answer this much later
    bool store = false;      // keep the rows although the answer is late or an error
  };
  std::string rule = "dcr-00000000000000000000000000000001";
  std::string stream = "Custom-AnomalousResourceAccessResult_CL";
  std::set<std::string> columns;  // the stream's declared columns
  std::string audience = "https://monitor.azure.com/";
  size_t max_bytes = 1u << 20;
  bool forbidden = false;  // the app lacks the role on the rule

  explicit LogsIngestionServer(const EntraServer& entra) : entra_(entra) {
    server_.Post(R"(/dataCollectionRules/([^/]+)/streams/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      handle(req, res);
    });
    start();
  }
  ~LogsIngestionServer() override { stop(); }
  std::string stream_url() const { return url() + "/dataCollectionRules/" + rule + "/streams/" + stream; }

  void plan(Fault f) {
    std::lock_guard<std::mutex> lock(mu_);
    faults_.push_back(f);
  }
  std::vector<nlohmann::json> rows() const {
    std::lock_guard<std::mutex> lock(mu_);
    return rows_;
  }
  std::vector<std::string> request_ids() const {
    std::lock_guard<std::mutex> lock(mu_);
    return request_ids_;
  }
  std::vector<int> statuses() const {
    std::lock_guard<std::mutex> lock(mu_);
    return statuses_;
  }
  // Seconds between a 429 and the next request.
  double waited_after_429() const {
    std::lock_guard<std::mutex> lock(mu_);
    return waited_;
  }

 private:
  void answer(httplib::Response& res, int status, const std::string& code, const std::string& message) {
    res.status = status;
    if (!code.empty()) res.set_content(nlohmann::json({{"error", {{"code", code}, {"message", message}}}}).dump(), "application/json");
    statuses_.push_back(status);
  }

  void handle(const httplib::Request& req, httplib::Response& res) {
    std::unique_lock<std::mutex> lock(mu_);
    auto now = std::chrono::steady_clock::now();
    if (last_429_) {
      waited_ = std::chrono::duration<double>(now - *last_429_).count();
      last_429_.reset();
    }
    std::string why;
    if (req.get_param_value("api-version") != "2023-01-01")
      return answer(res, 400, "InvalidApiVersion", "api-version 2023-01-01 expected");
    if (!entra_.check(req.get_header_value("Authorization"), audience, why))
      return answer(res, 401, "InvalidToken", "token refused: " + why);
    if (forbidden) return answer(res, 403, "OperationFailed", "The authentication token provided does not have access to ingest data for the data collection rule");
    if (req.matches[1] != rule || req.matches[2] != stream) return answer(res, 404, "NotFound", "no such rule or stream");
    if (req.get_header_value("Content-Type") != "application/json")
      return answer(res, 415, "UnsupportedMediaType", "Content-Type must be application/json");
    // As sent (httplib may already have inflated the body it hands over).
    if (std::stoull("0" + req.get_header_value("Content-Length")) > max_bytes || req.body.size() > max_bytes)
      return answer(res, 413, "ContentLengthLimitExceeded", "body over 1 MB");
    std::string body = req.body;
    if (req.get_header_value("Content-Encoding") == "gzip") {
      if (body.size() >= 2 && body[0] == '\x1f' && body[1] == '\x8b' && !gunzip(req.body, body))
        return answer(res, 400, "InvalidContentEncoding", "not gzip");
    } else if (!req.get_header_value("Content-Encoding").empty()) {
      return answer(res, 400, "InvalidContentEncoding", "gzip or nothing");
    }
    if (body.size() > max_bytes) return answer(res, 413, "ContentLengthLimitExceeded", "uncompressed body over 1 MB");
    Fault f;
    if (!faults_.empty()) {
      f = faults_.front();
      faults_.pop_front();
    }
    auto parsed = nlohmann::json::parse(body, nullptr, false);
    if (!parsed.is_array()) return answer(res, 400, "InvalidPayload", "a JSON array of objects expected");
    static const std::set<std::string> reserved = {"_ResourceId", "id", "_SubscriptionId", "TenantId", "Type", "UniqueId", "Title"};
    for (const auto& row : parsed) {
      if (!row.is_object()) return answer(res, 400, "InvalidPayload", "array elements must be objects");
      for (const auto& [k, v] : row.items()) {
        if (k.size() > 45 || reserved.count(k)) return answer(res, 400, "InvalidColumn", "column name not allowed: " + k);
        if (!columns.empty() && !columns.count(k)) return answer(res, 400, "InvalidColumn", "column not in the stream: " + k);
        if (v.dump().size() > 64 * 1024) return answer(res, 400, "InvalidValue", "value over 64 KB in " + k);
      }
    }
    if (f.store || f.status == 0)
      for (const auto& row : parsed) rows_.push_back(row);
    request_ids_.push_back(req.get_header_value("x-ms-client-request-id"));
    if (f.delay_ms > 0) {
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(f.delay_ms));
      lock.lock();
    }
    if (f.status != 0) {
      if (f.retry_after >= 0) res.set_header("Retry-After", std::to_string(f.retry_after));
      if (f.status == 429) last_429_ = std::chrono::steady_clock::now();
      return answer(res, f.status, f.status == 429 ? "TooManyRequests" : f.status == 413 ? "ContentLengthLimitExceeded" : "ServiceUnavailable",
                    "planned");
    }
    answer(res, 204, "", "");
  }

  static bool gunzip(const std::string& in, std::string& out) {
    z_stream z{};
    if (inflateInit2(&z, 15 + 16) != Z_OK) return false;
    out.clear();
    char buf[1 << 16];
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    int rc;
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof(buf);
      rc = inflate(&z, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END) break;
      out.append(buf, sizeof(buf) - z.avail_out);
    } while (rc != Z_STREAM_END);
    inflateEnd(&z);
    return rc == Z_STREAM_END;
  }

  const EntraServer& entra_;
  mutable std::mutex mu_;
  std::deque<Fault> faults_;
  std::vector<nlohmann::json> rows_;
  std::vector<std::string> request_ids_;
  std::vector<int> statuses_;
  std::optional<std::chrono::steady_clock::time_point> last_429_;
  double waited_ = -1;
};

// A workspace's query API: bearer token for api.loganalytics.io, a JSON body with query and
// timespan; answers tables of positional rows, and over `row_limit` rows a partial answer
// with an error object beside the table, as the service does.
class QueryServer : public LocalServer {
 public:
  std::string workspace = "8e2d1f40-5a6b-4c7d-9e8f-0a1b2c3d4e5f";
  std::string audience = "https://api.loganalytics.io";
  size_t row_limit = 1000;
  std::vector<nlohmann::json> table;  // SecurityEvent rows, in time order
  std::atomic<int> queries{0}, partial{0};

  explicit QueryServer(const EntraServer& entra) : entra_(entra) {
    server_.Post(R"(/v1/workspaces/([^/]+)/query)", [this](const httplib::Request& req, httplib::Response& res) {
      handle(req, res);
    });
    start();
  }
  ~QueryServer() override { stop(); }
  std::string workspace_url() const { return url() + "/v1/workspaces/" + workspace; }

 private:
  static void fail(httplib::Response& res, int status, const std::string& code, const std::string& message) {
    res.status = status;
    res.set_content(nlohmann::json({{"error", {{"code", code}, {"message", message}}}}).dump(), "application/json");
  }
  void handle(const httplib::Request& req, httplib::Response& res) {
    ++queries;
    std::string why;
    if (!entra_.check(req.get_header_value("Authorization"), audience, why)) return fail(res, 403, "InvalidTokenError", why);
    if (req.matches[1] != workspace) return fail(res, 404, "WorkspaceNotFoundError", "no such workspace");
    if (req.get_header_value("Content-Type").rfind("application/json", 0) != 0)
      return fail(res, 415, "UnsupportedMediaType", "application/json expected");
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body["query"].is_string() || !body["timespan"].is_string())
      return fail(res, 400, "BadArgumentError", "query and timespan expected");
    std::string span = body["timespan"], query = body["query"];
    auto from = parse_timestamp(span.substr(0, span.find('/'))), to = parse_timestamp(span.substr(span.find('/') + 1));
    if (span.find('/') == std::string::npos || !from || !to) return fail(res, 400, "BadArgumentError", "timespan A/B expected");
    if (query.substr(0, query.find_first_of(" \n|")) != "SecurityEvent") return fail(res, 400, "SemanticError", "unknown table");
    size_t take = table.size();
    if (std::regex_search(query, m0_, std::regex(R"(\| take ([0-9]+))"))) take = std::stoul(m0_[1].str());
    std::set<long> ids;
    std::smatch& m = m0_;
    if (std::regex_search(query, m, std::regex(R"(EventID in \(([0-9, ]+)\))"))) {
      std::stringstream list(m[1].str());
      for (std::string id; std::getline(list, id, ',');) ids.insert(std::stol(id));
    }
    std::vector<std::string> project;
    if (std::regex_search(query, m, std::regex(R"(\| project ([A-Za-z_, ]+)$)"))) {
      std::stringstream list(m[1].str());
      for (std::string c; std::getline(list, c, ',');) project.push_back(c.substr(c.find_first_not_of(' ')));
    }
    std::vector<const nlohmann::json*> hits;
    for (const auto& row : table) {
      auto t = parse_timestamp(row.value("TimeGenerated", ""));
      if (!t || *t < *from || *t >= *to) continue;
      if (!ids.empty() && !ids.count(row.value("EventID", -1L))) continue;
      hits.push_back(&row);
    }
    if (project.empty()) project = {"TimeGenerated", "EventID", "Account", "Computer", "ShareName", "EventOriginId"};
    nlohmann::json columns = nlohmann::json::array(), rows = nlohmann::json::array();
    for (const auto& c : project)
      columns.push_back({{"name", c}, {"type", c == "TimeGenerated" ? "datetime" : c == "EventID" ? "int" : "string"}});
    if (hits.size() > take) hits.resize(take);
    for (size_t i = 0; i < hits.size() && i < row_limit; ++i) {
      nlohmann::json r = nlohmann::json::array();
      for (const auto& c : project) r.push_back(hits[i]->contains(c) ? (*hits[i])[c] : nlohmann::json(""));
      rows.push_back(std::move(r));
    }
    nlohmann::json answer = {{"tables", {{{"name", "PrimaryResult"}, {"columns", columns}, {"rows", rows}}}}};
    if (hits.size() > row_limit) {
      ++partial;
      answer["error"] = {{"code", "PartialError"}, {"message", "There were some errors when processing your query."},
                         {"details", {{{"code", "EngineError"}, {"innererror", {{"code", "-2133196797"},
                                      {"message", "Query result set has exceeded the internal record count limit"}}}}}}};
    }
    res.set_content(answer.dump(), "application/json");
  }
  const EntraServer& entra_;
  std::smatch m0_;
};

}  // namespace byoml::test
