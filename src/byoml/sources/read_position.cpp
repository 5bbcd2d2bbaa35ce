#include "byoml/sources/read_position.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace byoml {

std::string positions_to_jsonl(const std::vector<ReadPosition>& positions) {
  std::string out;
  for (const auto& p : positions)
    out += nlohmann::json({{"source", p.source}, {"object", p.object}, {"version", p.version}, {"offset", p.offset},
                           {"size", p.size}})
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
           "\n";
  return out;
}

Result<std::vector<ReadPosition>> positions_from_jsonl(const std::string& text, const std::string& what) {
  std::vector<ReadPosition> out;
  size_t line_no = 0;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + at, end - at);
    at = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    auto bad = [&](const char* why) {
      return Status(ErrorCode::kParse, fmt::format("{}:{}: {}", what, line_no, why));
    };
    if (!j.is_object()) return bad("not a JSON object");
    ReadPosition p;
    for (auto [key, field] : {std::pair{"source", &p.source}, {"object", &p.object}, {"version", &p.version}}) {
      auto it = j.find(key);
      if (it == j.end() || !it->is_string()) return bad("source, object and version must be strings");
      *field = it->get<std::string>();
    }
    for (auto [key, field] : {std::pair{"offset", &p.offset}, {"size", &p.size}}) {
      auto it = j.find(key);
      if (it == j.end() || !it->is_number_unsigned()) return bad("offset and size must be whole numbers >= 0");
      *field = it->get<uint64_t>();
    }
    if (p.offset > p.size) return bad("offset is past the size");
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace byoml
