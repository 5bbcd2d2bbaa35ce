// Text checks shared by the readers, the loaders and the outputs. Log fields are attacker
// controlled: they may hold any bytes, including NUL and Unicode controls.
#pragma once

#include <string>
#include <string_view>

namespace byoml {

bool valid_utf8(std::string_view s);

// For a person reading a terminal or a page: bidirectional overrides and isolates (U+202A–E,
// U+2066–9), which make "evil\u202Eexe.txt" read as "eviltxt.exe", and C0 controls become
// visible \uXXXX escapes. Everything else is kept; stored values are never changed.
std::string display_safe(std::string_view s);

// Credentials in URLs and connection strings (a SAS token's sig=, AccountKey=,
// SharedAccessKey=, access_token=, a user:password@ part) are replaced by "REDACTED", so that
// inputs and errors can be stored, logged and shown in reports. So is every value given to
// register_secret, wherever it appears (a client secret in an echoed request, a token).
std::string redact_secrets(std::string s);
// A secret byoml holds (from the environment, a file or a config file); values shorter than 8
// bytes are not registered (they would match too much and are no secret).
void register_secret(std::string_view value);
bool needs_display_escape(std::string_view s);

}  // namespace byoml
