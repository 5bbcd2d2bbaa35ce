#include "byoml/common/time.h"

#include <chrono>

#include <fmt/format.h>

#include <cctype>
#include <cstring>
#include <optional>

namespace byoml {
namespace {

Status bad_time(std::string_view text, const char* why) {
  std::string shown(text.substr(0, 64));
  return {ErrorCode::kParse, fmt::format("invalid time \"{}\": {}", shown, why)};
}

// Reads exactly n digits at pos; false if any is not a digit.
bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

// Reads 1..max digits at pos, advancing pos.
bool some_digits(std::string_view s, size_t& pos, size_t max, int& out) {
  size_t start = pos;
  int v = 0;
  while (pos < s.size() && pos - start < max && std::isdigit(static_cast<unsigned char>(s[pos]))) {
    v = v * 10 + (s[pos] - '0');
    ++pos;
  }
  out = v;
  return pos > start;
}

int days_in_month(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// Fraction digits after '.', scaled to ticks; digits past the seventh are dropped.
size_t parse_fraction(std::string_view s, size_t pos, Ticks& ticks) {
  Ticks frac = 0;
  int n = 0;
  while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
    if (n < 7) {
      frac = frac * 10 + (s[pos] - '0');
      ++n;
    }
    ++pos;
  }
  for (; n < 7; ++n) frac *= 10;
  ticks = frac;
  return pos;
}

Result<Ticks> finish(std::string_view text, int y, int mo, int d, int h, int mi, int se, Ticks frac) {
  if (mo < 1 || mo > 12) return bad_time(text, "month out of range");
  if (d < 1 || d > days_in_month(y, mo)) return bad_time(text, "day out of range");
  if (h > 23 || mi > 59 || se > 60) return bad_time(text, "time of day out of range");
  if (se == 60) se = 59;  // leap second: keep the event, clamp to the last representable second
  return make_ticks(y, mo, d, h, mi, se) + frac;
}

// "M/D/YYYY, h:mm:ss[.fff] AM|PM" as the Log Analytics portal exports CSV.
Result<Ticks> parse_portal(std::string_view s) {
  size_t p = 0;
  int mo, d, y, h, mi, se;
  if (!some_digits(s, p, 2, mo) || p >= s.size() || s[p++] != '/') return bad_time(s, "expected M/D/YYYY");
  if (!some_digits(s, p, 2, d) || p >= s.size() || s[p++] != '/') return bad_time(s, "expected M/D/YYYY");
  if (!some_digits(s, p, 4, y) || p + 1 >= s.size() || s[p] != ',' || s[p + 1] != ' ')
    return bad_time(s, "expected M/D/YYYY, h:mm:ss AM");
  p += 2;
  if (!some_digits(s, p, 2, h) || p >= s.size() || s[p++] != ':' || !digits(s, p, 2, mi) ||
      s.size() < p + 3 || s[p + 2] != ':' || !digits(s, p + 3, 2, se))
    return bad_time(s, "expected h:mm:ss");
  p += 5;
  Ticks frac = 0;
  if (p < s.size() && s[p] == '.') p = parse_fraction(s, p + 1, frac);
  std::string_view rest = s.substr(p);
  if (rest == " AM" || rest == " PM") {
    if (h < 1 || h > 12) return bad_time(s, "hour out of range for AM/PM");
    h = (h % 12) + (rest == " PM" ? 12 : 0);
  } else if (!rest.empty()) {
    return bad_time(s, "unexpected text after time");
  }
  return finish(s, y, mo, d, h, mi, se, frac);
}

// The value of two ASCII digits, or a negative number when either is not a digit.
int two_digits(const char* p) {
  unsigned a = static_cast<unsigned char>(p[0]) - '0', b = static_cast<unsigned char>(p[1]) - '0';
  return a < 10 && b < 10 ? static_cast<int>(a * 10 + b) : -1;
}

// "YYYY-MM-DDTHH:MM:SS.fffffffZ" exactly, as Log Analytics writes TimeGenerated (the form of
// nearly every event): these read its separators, and its minutes, seconds and fraction as
// ticks into the hour (nullopt for any other text, or a time out of range, which the general
// parser then reads and reports).
bool export_form(std::string_view s) {
  const char* p = s.data();
  return s.size() == 28 && p[4] == '-' && p[7] == '-' && p[10] == 'T' && p[13] == ':' && p[16] == ':' && p[19] == '.' &&
         p[27] == 'Z';
}
std::optional<Ticks> export_time_in_hour(const char* p) {
  int mi = two_digits(p + 14), se = two_digits(p + 17), f1 = two_digits(p + 20), f2 = two_digits(p + 22),
      f3 = two_digits(p + 24), f4 = two_digits(p + 25);
  if ((mi | se | f1 | f2 | f3 | f4) < 0 || mi > 59 || se > 60) return std::nullopt;
  if (se == 60) se = 59;  // as finish() does
  return mi * kTicksPerMinute + se * kTicksPerSecond + (static_cast<Ticks>(f1) * 10000 + f2 * 100 + f3) * 10 + f4 % 10;
}

std::optional<Result<Ticks>> parse_export_time(std::string_view s) {
  if (!export_form(s)) return std::nullopt;
  const char* p = s.data();
  auto within = export_time_in_hour(p);
  int c = two_digits(p), y = two_digits(p + 2), mo = two_digits(p + 5), d = two_digits(p + 8), h = two_digits(p + 11);
  if (!within || (c | y | mo | d | h) < 0) return std::nullopt;
  auto hour = finish(s, c * 100 + y, mo, d, h, 0, 0, 0);
  if (!hour) return hour;
  return *hour + *within;
}

}  // namespace

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

Ticks make_ticks(int year, int month, int day, int hour, int minute, int second) {
  int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return days * kTicksPerDay + hour * kTicksPerHour + minute * kTicksPerMinute +
         second * kTicksPerSecond;
}

Result<Ticks> parse_timestamp(std::string_view s) {
  if (auto t = parse_export_time(s)) return *t;
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  if (s.empty()) return bad_time(s, "empty");
  if (s.find('/') != std::string_view::npos) return parse_portal(s);

  int y, mo, d, h = 0, mi = 0, se = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return bad_time(s, "expected YYYY-MM-DD");
  if (s.size() == 10) return finish(s, y, mo, d, 0, 0, 0, 0);
  if (s[10] != 'T' && s[10] != ' ') return bad_time(s, "expected 'T' or ' ' after the date");
  if (!digits(s, 11, 2, h) || s.size() < 16 || s[13] != ':' || !digits(s, 14, 2, mi))
    return bad_time(s, "expected HH:MM");
  size_t p = 16;
  if (p < s.size() && s[p] == ':') {
    if (!digits(s, p + 1, 2, se)) return bad_time(s, "expected seconds");
    p += 3;
  }
  Ticks frac = 0;
  if (p < s.size() && (s[p] == '.' || s[p] == ',')) p = parse_fraction(s, p + 1, frac);
  Ticks offset = 0;
  if (p < s.size()) {
    char z = s[p];
    if ((z == 'Z' || z == 'z') && p + 1 == s.size()) {
      // UTC
    } else if (z == '+' || z == '-') {
      int oh, om = 0;
      if (!digits(s, p + 1, 2, oh)) return bad_time(s, "bad zone offset");
      size_t q = p + 3;
      if (q < s.size() && s[q] == ':') ++q;
      if (q < s.size() && !digits(s, q, 2, om)) return bad_time(s, "bad zone offset");
      if (q < s.size()) q += 2;
      if (q != s.size() || oh > 14 || om > 59) return bad_time(s, "bad zone offset");
      offset = (oh * kTicksPerHour + om * kTicksPerMinute) * (z == '+' ? 1 : -1);
    } else {
      return bad_time(s, "unexpected text after time");
    }
  }
  auto t = finish(s, y, mo, d, h, mi, se, frac);
  if (!t) return t;
  return *t - offset;
}

Result<Ticks> TimestampParser::parse(std::string_view s) {
  // The 13 bytes compared as two overlapping words; they hold the date's separators.
  if (hour_known_ && s.size() == 28 && std::memcmp(s.data(), hour_.data(), 8) == 0 &&
      std::memcmp(s.data() + 5, hour_.data() + 5, 8) == 0 && export_form(s))
    if (auto within = export_time_in_hour(s.data())) return hour_start_ + *within;
  auto t = parse_timestamp(s);
  if (t && export_form(s))
    if (auto within = export_time_in_hour(s.data())) {
      std::memcpy(hour_.data(), s.data(), hour_.size());
      hour_start_ = *t - *within;
      hour_known_ = true;
    }
  return t;
}

Ticks day_floor(Ticks t) {
  Ticks r = t % kTicksPerDay;
  return t - (r < 0 ? r + kTicksPerDay : r);
}

int weekday(Ticks t) {
  int64_t days = day_floor(t) / kTicksPerDay;  // 1970-01-01 was a Thursday (3)
  return static_cast<int>(((days % 7) + 7 + 3) % 7);
}

std::string format_timestamp(Ticks t, int fraction_digits) {
  Ticks day = day_floor(t);
  Ticks in_day = t - day;
  int64_t z = day / kTicksPerDay + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
  int64_t secs = in_day / kTicksPerSecond;
  int64_t frac = in_day % kTicksPerSecond;
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", y, m, d, secs / 3600,
                                (secs / 60) % 60, secs % 60);
  if (fraction_digits > 0) {
    int n = fraction_digits > 7 ? 7 : fraction_digits;
    for (int i = n; i < 7; ++i) frac /= 10;
    out += fmt::format(".{:0{}}", frac, n);
  }
  out += 'Z';
  return out;
}

Result<Ticks> parse_duration(std::string_view s) {
  if (s.empty()) return Status(ErrorCode::kInvalidArgument, "empty duration");
  Ticks total = 0;
  size_t p = 0;
  bool any = false;
  while (p < s.size()) {
    size_t start = p;
    int64_t v = 0;
    while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) {
      if (v > 1'000'000'000) return Status(ErrorCode::kInvalidArgument, fmt::format("duration \"{}\" too large", s));
      v = v * 10 + (s[p++] - '0');
    }
    if (p == start) return Status(ErrorCode::kInvalidArgument, fmt::format("invalid duration \"{}\": expected a number", s));
    Ticks unit = kTicksPerSecond;
    if (p < s.size()) {
      switch (s[p++]) {
        case 's': unit = kTicksPerSecond; break;
        case 'm': unit = kTicksPerMinute; break;
        case 'h': unit = kTicksPerHour; break;
        case 'd': unit = kTicksPerDay; break;
        default:
          return Status(ErrorCode::kInvalidArgument,
                        fmt::format("invalid duration \"{}\": units are s, m, h, d", s));
      }
    } else if (any) {
      return Status(ErrorCode::kInvalidArgument, fmt::format("invalid duration \"{}\": missing unit", s));
    }
    // Ticks hold about 29,000 years; anything near that is a typo, not a duration.
    if (__builtin_mul_overflow(v, unit, &v) || __builtin_add_overflow(total, v, &total) || total > kMaxDuration)
      return Status(ErrorCode::kInvalidArgument, fmt::format("duration \"{}\" too large (at most {}d)", s,
                                                             kMaxDuration / kTicksPerDay));
    any = true;
  }
  return total;
}

std::string format_duration(Ticks d) {
  if (d % kTicksPerDay == 0 && d != 0) return fmt::format("{}d", d / kTicksPerDay);
  if (d % kTicksPerHour == 0 && d != 0) return fmt::format("{}h", d / kTicksPerHour);
  if (d % kTicksPerMinute == 0 && d != 0) return fmt::format("{}m", d / kTicksPerMinute);
  return fmt::format("{}s", d / kTicksPerSecond);
}

Ticks now_ticks() {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch());
  return static_cast<Ticks>(us.count()) * 10;
}

}  // namespace byoml
