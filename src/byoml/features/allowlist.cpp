#include "byoml/features/allowlist.h"

#include <fmt/format.h>
#include <fnmatch.h>
#include <yaml-cpp/yaml.h>

#include "byoml/common/atomic_file.h"
#include "byoml/common/text.h"

#include <algorithm>

namespace byoml {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// fnmatch stops at a NUL, so "svc\0attacker" would match the exact entry "svc". Log names are
// any bytes: a NUL becomes 0xFF, which no pattern can hold literally (patterns are refused unless
// they are valid UTF-8 without NUL), so only a wildcard can match across it.
// FNM_NOESCAPE: backslashes are literal, as in \\server\share.
bool glob(const std::string& pattern, std::string_view text) {
  if (pattern.empty()) return true;
  std::string t = lower(std::string(text));
  std::replace(t.begin(), t.end(), '\0', '\xFF');
  return fnmatch(pattern.c_str(), t.c_str(), FNM_NOESCAPE) == 0;
}

Result<std::string> pattern(const YAML::Node& value, const std::string& where) {
  auto p = lower(value.as<std::string>());
  if (p.find('\0') != std::string::npos || !valid_utf8(p))
    return Status(ErrorCode::kParse, fmt::format("{}: a pattern must be UTF-8 text without NUL", where));
  return p;
}

}  // namespace

Result<Allowlist> Allowlist::parse(const std::string& text, const std::string& source) {
  Allowlist list;
  try {
    YAML::Node root = YAML::Load(text);
    YAML::Node entries = root.IsMap() ? root["entries"] : root;
    if (!entries || !entries.IsSequence())
      return Status(ErrorCode::kParse, fmt::format("{}: expected `entries:` with a list of entries", source));
    for (const auto& e : entries) {
      auto where = fmt::format("{}: line {}", source, e.Mark().line + 1);
      if (!e.IsMap()) return Status(ErrorCode::kParse, where + ": an entry is a mapping");
      AllowEntry a;
      for (const auto& kv : e) {
        auto key = kv.first.as<std::string>();
        if (key == "account" || key == "resource") {
          auto p = pattern(kv.second, where);
          if (!p) return p.status();
          (key == "account" ? a.account : a.resource) = std::move(p).value();
        }
        else if (key == "reason") a.reason = kv.second.as<std::string>();
        else if (key == "action") {
          auto v = kv.second.as<std::string>();
          if (v == "skip-result") a.action = AllowAction::kSkipResult;
          else if (v == "skip-model-update") a.action = AllowAction::kSkipModelUpdate;
          else return Status(ErrorCode::kParse, fmt::format("{}: action \"{}\" (skip-result, skip-model-update)", where, v));
        } else {
          return Status(ErrorCode::kParse,
                        fmt::format("{}: unknown key \"{}\" (account, resource, action, reason)", where, key));
        }
      }
      if (a.account.empty() && a.resource.empty())
        return Status(ErrorCode::kParse, where + ": an entry needs an account, a resource or both");
      list.entries_.push_back(std::move(a));
    }
  } catch (const YAML::Exception& e) {
    return Status(ErrorCode::kParse, fmt::format("{}: {}", source, e.what()));
  }
  return list;
}

Result<Allowlist> Allowlist::load(const std::string& path) {
  auto text = read_whole_file(path, "allowlist");
  if (!text) return text.status();
  return parse(*text, path);
}

bool Allowlist::matches(AllowAction action, std::string_view account, std::string_view resource) const {
  return std::any_of(entries_.begin(), entries_.end(), [&](const AllowEntry& e) {
    return e.action == action && glob(e.account, account) && glob(e.resource, resource);
  });
}

}  // namespace byoml
