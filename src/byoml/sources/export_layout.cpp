#include "byoml/sources/export_layout.h"

#include <fmt/format.h>

#include <charconv>
#include <vector>

namespace byoml {
namespace {

bool component(std::string_view c, std::string_view key, int digits, int lo, int hi, int& out) {
  if (c.size() != key.size() + static_cast<size_t>(digits) || c.substr(0, key.size()) != key) return false;
  auto r = std::from_chars(c.data() + key.size(), c.data() + c.size(), out);
  return r.ec == std::errc() && r.ptr == c.data() + c.size() && out >= lo && out <= hi;
}

std::vector<std::string_view> split_path(std::string_view p) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= p.size(); ++i) {
    if (i == p.size() || p[i] == '/' || p[i] == '\\') {
      if (i > start) out.push_back(p.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

}  // namespace

bool has_export_folder(std::string_view path) {
  for (auto c : split_path(path))
    if (c.substr(0, 2) == "y=") return true;
  return false;
}

Result<ExportBlobName> parse_export_blob_path(std::string_view path) {
  auto parts = split_path(path);
  auto bad = [&](const char* why) {
    return Status(ErrorCode::kParse, fmt::format("not in the export layout (y=/m=/d=/h=/m=/PT05M.json): {}", why));
  };
  if (parts.size() < 6) return bad("too few folders");
  size_t n = parts.size();
  int y, mo, d, h, mi;
  if (!component(parts[n - 6], "y=", 4, 1970, 9999, y)) return bad("bad y= folder");
  if (!component(parts[n - 5], "m=", 2, 1, 12, mo)) return bad("bad m= (month) folder");
  if (!component(parts[n - 4], "d=", 2, 1, 31, d)) return bad("bad d= folder");
  if (!component(parts[n - 3], "h=", 2, 0, 23, h)) return bad("bad h= folder");
  if (!component(parts[n - 2], "m=", 2, 0, 59, mi)) return bad("bad m= (minute) folder");
  std::string_view file = parts[n - 1];
  ExportBlobName b;
  if (file == "PT1H.json") {
    if (mi != 0) return bad("PT1H.json outside an m=00 folder");
    b.span = kTicksPerHour;
  } else if (file == "PT05M.json") {
    b.span = 5 * kTicksPerMinute;
  } else if (file.size() > 11 && file.substr(0, 6) == "PT05M_" && file.substr(file.size() - 5) == ".json") {
    std::string_view num = file.substr(6, file.size() - 11);
    auto r = std::from_chars(num.data(), num.data() + num.size(), b.overflow);
    if (r.ec != std::errc() || r.ptr != num.data() + num.size() || b.overflow < 1) return bad("bad overflow blob name");
    b.span = 5 * kTicksPerMinute;
  } else {
    return bad("file name is not PT05M.json, PT05M_N.json or PT1H.json");
  }
  if (b.span == 5 * kTicksPerMinute && mi % 5 != 0) return bad("5-minute blob in a minute folder not divisible by 5");
  auto date = parse_timestamp(fmt::format("{:04}-{:02}-{:02}", y, mo, d));
  if (!date) return bad("no such date");
  b.start = *date + h * kTicksPerHour + mi * kTicksPerMinute;
  return b;
}

std::optional<TimeWindow> export_day_folder(std::string_view path) {
  auto parts = split_path(path);
  size_t n = parts.size();
  int y, mo, d;
  if (n < 3 || !component(parts[n - 3], "y=", 4, 1970, 9999, y) || !component(parts[n - 2], "m=", 2, 1, 12, mo) ||
      !component(parts[n - 1], "d=", 2, 1, 31, d))
    return std::nullopt;
  Ticks start = make_ticks(y, mo, d);
  return TimeWindow{start, start + kTicksPerDay};
}

std::string export_blob_path(Ticks slot_start, int overflow) {
  std::string iso = format_timestamp(slot_start, 0);  // YYYY-MM-DDTHH:MM:SSZ
  std::string file = overflow == 0 ? "PT05M.json" : fmt::format("PT05M_{}.json", overflow);
  return fmt::format("y={}/m={}/d={}/h={}/m={}/{}", iso.substr(0, 4), iso.substr(5, 2), iso.substr(8, 2),
                     iso.substr(11, 2), iso.substr(14, 2), file);
}

}  // namespace byoml
