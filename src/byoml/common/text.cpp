#include "byoml/common/text.h"

#include <algorithm>
#include <mutex>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include <cctype>

namespace byoml {

bool valid_utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

namespace {

// Length of the escaped character at s[i], or 0 when it is shown as is; `cp` gets the code point.
size_t escaped_at(std::string_view s, size_t i, unsigned& cp) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x20 || c == 0x7F) {
    cp = c;
    return 1;
  }
  // U+202A..U+202E are E2 80 AA..AE; U+2066..U+2069 are E2 81 A6..A9.
  if (c == 0xE2 && i + 2 < s.size()) {
    auto b = static_cast<unsigned char>(s[i + 1]), d = static_cast<unsigned char>(s[i + 2]);
    if ((b == 0x80 && d >= 0xAA && d <= 0xAE) || (b == 0x81 && d >= 0xA6 && d <= 0xA9)) {
      cp = 0x2000u + ((b & 0x3Fu) << 6) + (d & 0x3Fu);
      return 3;
    }
  }
  return 0;
}

}  // namespace

bool needs_display_escape(std::string_view s) {
  unsigned cp;
  for (size_t i = 0; i < s.size(); ++i)
    if (escaped_at(s, i, cp)) return true;
  return false;
}

std::string display_safe(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    unsigned cp;
    size_t n = escaped_at(s, i, cp);
    if (n == 0) {
      out += s[i++];
      continue;
    }
    out += fmt::format("\\u{:04X}", cp);
    i += n;
  }
  return out;
}

namespace {
struct SecretValues {
  std::mutex mu;
  std::vector<std::string> values;
};
SecretValues& secret_values() {
  static SecretValues v;
  return v;
}
}  // namespace

void register_secret(std::string_view value) {
  if (value.size() < 8) return;
  SecretValues& v = secret_values();
  std::lock_guard<std::mutex> lock(v.mu);
  if (std::find(v.values.begin(), v.values.end(), value) == v.values.end()) v.values.emplace_back(value);
}

std::string redact_secrets(std::string s) {
  {
    SecretValues& v = secret_values();
    std::lock_guard<std::mutex> lock(v.mu);
    for (const auto& secret : v.values)
      for (size_t at = s.find(secret); at != std::string::npos; at = s.find(secret, at + 8)) s.replace(at, secret.size(), "REDACTED");
  }
  // Names compared case-insensitively; the value runs to the next separator.
  static constexpr std::string_view kKeys[] = {"sig=", "signature=", "accountkey=", "sharedaccesskey=",
                                               "access_token=", "client_secret=", "password="};
  std::string lower(s.size(), '\0');
  for (size_t i = 0; i < s.size(); ++i) lower[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    bool at_start = i == 0 || std::string_view("?&;\" ").find(s[i - 1]) != std::string_view::npos;
    size_t key = 0;
    if (at_start)
      for (auto k : kKeys)
        if (std::string_view(lower).substr(i, k.size()) == k) key = k.size();
    if (key == 0) {
      out += s[i++];
      continue;
    }
    out.append(s, i, key);
    out += "REDACTED";
    i += key;
    while (i < s.size() && std::string_view("&;\" \n").find(s[i]) == std::string_view::npos) ++i;
  }
  // scheme://user:password@host
  for (size_t scheme = out.find("://"); scheme != std::string::npos; scheme = out.find("://", scheme + 3)) {
    size_t start = scheme + 3, end = out.find_first_of("/ \"", start), at = out.find('@', start);
    if (at == std::string::npos || (end != std::string::npos && at > end)) continue;
    size_t colon = out.find(':', start);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "REDACTED");
  }
  return out;
}

}  // namespace byoml
