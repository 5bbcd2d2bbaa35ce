#include "byoml/features/allowlist.h"

#include <fmt/format.h>
#include <fnmatch.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace byoml {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// FNM_NOESCAPE: backslashes are literal, as in \\server\share.
bool glob(const std::string& pattern, std::string_view text) {
  return pattern.empty() || fnmatch(pattern.c_str(), lower(std::string(text)).c_str(), FNM_NOESCAPE) == 0;
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
        if (key == "account") a.account = lower(kv.second.as<std::string>());
        else if (key == "resource") a.resource = lower(kv.second.as<std::string>());
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
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(ErrorCode::kNotFound, fmt::format("{}: cannot open allowlist", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

bool Allowlist::matches(AllowAction action, std::string_view account, std::string_view resource) const {
  return std::any_of(entries_.begin(), entries_.end(), [&](const AllowEntry& e) {
    return e.action == action && glob(e.account, account) && glob(e.resource, resource);
  });
}

}  // namespace byoml
