// Azure Storage SharedKey signing and the other small pieces of cryptography the connectors
// need (base64, HMAC-SHA256), through OpenSSL.
#pragma once

#include <string>
#include <string_view>

#include "byoml/cloud/http_client.h"

namespace byoml {

std::string base64_encode(std::string_view bytes);
// Standard base64 (padding optional); an invalid text is an error.
Result<std::string> base64_decode(std::string_view text);
std::string hmac_sha256(std::string_view key, std::string_view message);

// The storage API version byoml speaks (bearer tokens need 2017-11-09 or later).
inline constexpr const char* kStorageApiVersion = "2021-08-06";

// Adds x-ms-date (when absent) and Authorization: SharedKey to `request`, signing exactly the
// headers it carries. `key` is the account key as given (base64). The canonical resource is
// "/" + account + the URL's path as sent, then the query parameters (Azure's rules; the
// emulator's path-style URLs thus name the account twice).
Status sign_shared_key(HttpRequest& request, const std::string& account, const std::string& key);

}  // namespace byoml
