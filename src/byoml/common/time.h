// Event time: signed 100 ns ticks since 1970-01-01T00:00:00Z, the resolution Windows and
// Log Analytics record (7 fraction digits).
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "byoml/common/status.h"

namespace byoml {

using Ticks = int64_t;

inline constexpr Ticks kTicksPerSecond = 10'000'000;
inline constexpr Ticks kTicksPerMinute = 60 * kTicksPerSecond;
inline constexpr Ticks kTicksPerHour = 60 * kTicksPerMinute;
inline constexpr Ticks kTicksPerDay = 24 * kTicksPerHour;
// The longest duration a template, rule or option may give: 100 years.
inline constexpr Ticks kMaxDuration = 36525 * kTicksPerDay;
inline constexpr Ticks kMinTicks = std::numeric_limits<Ticks>::min();
inline constexpr Ticks kMaxTicks = std::numeric_limits<Ticks>::max();

// Half-open [from, to); the defaults admit every time.
struct TimeWindow {
  Ticks from = kMinTicks;
  Ticks to = kMaxTicks;
  bool contains(Ticks t) const { return t >= from && t < to; }
  bool overlaps(Ticks start, Ticks end) const { return start < to && end > from; }
  bool bounded() const { return from != kMinTicks || to != kMaxTicks; }
};

// Days since the epoch of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
Ticks make_ticks(int year, int month, int day, int hour = 0, int minute = 0, int second = 0);

// Accepts what the supported renderings write:
//   2021-04-26T18:08:51.3600000Z   (0-9 fraction digits, digits past 7 are truncated)
//   2021-04-26 18:08:51.360        (no zone: taken as UTC)
//   2021-04-26T20:08:51+02:00      (offset applied)
//   2021-04-26                     (midnight UTC)
//   4/26/2021, 6:08:51.360 PM      (Log Analytics portal CSV export)
Result<Ticks> parse_timestamp(std::string_view text);

// parse_timestamp for a stream of times. Export rows of one file share the date and hour of
// their TimeGenerated: a time in the export form with the date and hour of the last such
// time costs only its minutes, seconds and fraction.
class TimestampParser {
 public:
  Result<Ticks> parse(std::string_view text);

 private:
  std::array<char, 13> hour_{};  // "YYYY-MM-DDTHH"
  Ticks hour_start_ = 0;
  bool hour_known_ = false;
};

// ISO-8601 UTC with the given number of fraction digits (0..7), e.g. 7 for export files.
std::string format_timestamp(Ticks t, int fraction_digits = 7);

// "90s", "15m", "1h", "7d", "1h30m"; also plain seconds ("3600").
Result<Ticks> parse_duration(std::string_view text);
std::string format_duration(Ticks d);

// The current time (system clock), in ticks.
Ticks now_ticks();

// Start of the UTC day containing t (floor, also for times before 1970).
Ticks day_floor(Ticks t);
// 0 = Monday ... 6 = Sunday.
int weekday(Ticks t);

}  // namespace byoml
