// Entra ID access tokens for the connectors: OAuth2 client credentials against the
// authority (login.microsoftonline.com or a sovereign cloud's), or a managed identity's token
// endpoint. Tokens are cached per scope until shortly before they expire (5 minutes, or half
// the lifetime of a short-lived token), so a long run asks once an hour, not once a request.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "byoml/cloud/credentials.h"
#include "byoml/cloud/retry.h"

namespace byoml {

class TokenSource {
 public:
  TokenSource(CloudCredentials credentials, HttpOptions http) : c_(std::move(credentials)), http_(std::move(http)) {}

  bool configured() const { return c_.has_token_source(); }
  // A bearer token for `scope` (e.g. https://storage.azure.com/.default). A refusal by the
  // authority (wrong secret, unknown client) is kInvalidArgument with its AADSTS text.
  Result<std::string> token(const std::string& scope);
  // Forgets the cached token of `scope` (a server answered 401 to it).
  void invalidate(const std::string& scope);

 private:
  struct Cached {
    std::string token;
    Ticks refresh_at = 0;
  };
  Result<Cached> fetch(const std::string& scope) const;
  CloudCredentials c_;
  HttpOptions http_;
  std::mutex mu_;
  std::map<std::string, Cached> cache_;
};

}  // namespace byoml
