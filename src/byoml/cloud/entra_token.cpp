#include "byoml/cloud/entra_token.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "byoml/common/text.h"

namespace byoml {

Result<std::string> TokenSource::token(const std::string& scope) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(scope);
  if (it != cache_.end() && now_ticks() < it->second.refresh_at) return it->second.token;
  auto fresh = fetch(scope);
  if (!fresh) return fresh.status();
  cache_[scope] = *fresh;
  return fresh->token;
}

void TokenSource::invalidate(const std::string& scope) {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.erase(scope);
}

Result<TokenSource::Cached> TokenSource::fetch(const std::string& scope) const {
  if (!configured())
    return Status(ErrorCode::kInvalidArgument,
                  "no Entra ID credentials: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or a "
                  "managed identity endpoint), in the environment or a --credentials file");
  const bool app = c_.has_client_credentials();
  std::string where;
  auto make = [&]() -> Result<HttpRequest> {
    HttpRequest r;
    if (app) {
      std::string authority = c_.authority_host;
      while (!authority.empty() && authority.back() == '/') authority.pop_back();
      r.method = "POST";
      r.url = fmt::format("{}/{}/oauth2/v2.0/token", authority, percent_encode(c_.tenant_id));
      r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
      r.body = fmt::format("client_id={}&client_secret={}&grant_type=client_credentials&scope={}",
                           percent_encode(c_.client_id), percent_encode(c_.client_secret), percent_encode(scope));
    } else {
      // The managed identity endpoint takes a resource, not a scope.
      std::string resource = scope;
      if (resource.size() > 9 && resource.compare(resource.size() - 9, 9, "/.default") == 0) resource.resize(resource.size() - 9);
      r.url = fmt::format("{}{}api-version=2018-02-01&resource={}", c_.managed_identity_endpoint,
                          c_.managed_identity_endpoint.find('?') == std::string::npos ? "?" : "&", percent_encode(resource));
      r.headers = {{"Metadata", "true"}};
    }
    r.ca_file = c_.ca_bundle;
    where = url_without_secrets(r.url);
    return r;
  };
  auto response = send_with_retry(make, http_);
  if (!response) return response.status().with_context("Entra ID token for " + scope);
  nlohmann::json body = nlohmann::json::parse(response->body, nullptr, false);
  if (response->status != 200) {
    std::string why = body.is_object() ? body.value("error_description", body.value("error", std::string())) : "";
    if (why.empty()) why = response->body.substr(0, 200);
    why = why.substr(0, why.find("\r\n"));
    return Status(response->status == 400 || response->status == 401 ? ErrorCode::kInvalidArgument : ErrorCode::kIo,
                  redact_secrets(fmt::format("{} refused a token for {} (HTTP {}): {}", where, scope, response->status,
                                             display_safe(why))));
  }
  if (!body.is_object() || !body.contains("access_token") || !body["access_token"].is_string())
    return Status(ErrorCode::kParse, fmt::format("{}: the token answer has no access_token", where));
  Cached c;
  c.token = body["access_token"].get<std::string>();
  register_secret(c.token);
  // expires_in is a number from Entra ID and a string from the managed identity endpoint.
  long long lifetime = 3600;
  if (auto e = body.find("expires_in"); e != body.end()) {
    if (e->is_number()) lifetime = e->get<long long>();
    else if (e->is_string()) lifetime = std::atoll(e->get<std::string>().c_str());
  }
  long long margin = std::min<long long>(300, lifetime / 2);
  c.refresh_at = now_ticks() + (lifetime - margin) * kTicksPerSecond;
  return c;
}

}  // namespace byoml
