#include <gtest/gtest.h>

#include "byoml/common/time.h"

namespace byoml {

TEST(Time, ParsesZeroToSevenFractionDigits) {
  Ticks base = make_ticks(2021, 8, 2, 13, 6, 38);
  EXPECT_EQ(*parse_timestamp("2021-08-02T13:06:38Z"), base);
  EXPECT_EQ(*parse_timestamp("2021-08-02T13:06:38.3Z"), base + 3'000'000);
  EXPECT_EQ(*parse_timestamp("2021-08-02T13:06:38.33Z"), base + 3'300'000);
  EXPECT_EQ(*parse_timestamp("2021-08-02T13:06:38.3600000Z"), base + 3'600'000);
  EXPECT_EQ(*parse_timestamp("2021-08-02T13:06:38.1234567Z"), base + 1'234'567);
  EXPECT_EQ(*parse_timestamp("2021-08-02T13:06:38.123456789Z"), base + 1'234'567);  // truncated past 100 ns
  EXPECT_EQ(*parse_timestamp("2021-08-02T13:06:38.0000001Z"), base + 1);
  EXPECT_EQ(*parse_timestamp("2024-02-29T23:59:59.9999999Z"), make_ticks(2024, 2, 29, 23, 59, 59) + 9'999'999);
}

TEST(Time, ParsesOtherRenderings) {
  EXPECT_EQ(*parse_timestamp("2020-10-19 03:30:46.625"), make_ticks(2020, 10, 19, 3, 30, 46) + 6'250'000);
  EXPECT_EQ(*parse_timestamp("2021-04-26T20:08:51+02:00"), make_ticks(2021, 4, 26, 18, 8, 51));
  EXPECT_EQ(*parse_timestamp("2021-04-26T16:08:51-0200"), make_ticks(2021, 4, 26, 18, 8, 51));
  EXPECT_EQ(*parse_timestamp("2026-11-01"), make_ticks(2026, 11, 1));
  EXPECT_EQ(*parse_timestamp("4/26/2021, 6:08:51.360 PM"), make_ticks(2021, 4, 26, 18, 8, 51) + 3'600'000);
  EXPECT_EQ(*parse_timestamp("4/26/2021, 12:08:51 AM"), make_ticks(2021, 4, 26, 0, 8, 51));
  EXPECT_EQ(*parse_timestamp("1969-12-31T23:59:59Z"), -kTicksPerSecond);
}

TEST(Time, RejectsGarbageWithAReason) {
  for (const char* bad : {"", "yesterday", "2021-13-01T00:00:00Z", "2021-02-30T00:00:00Z", "2021-02-03T25:00:00Z",
                          "2021-02-03T10:00:00Zjunk", "2021-02-03X10:00", "2021-02-03T10:00:00+99:00", "13/45/2021, 1:00:00 PM",
                          "\xff\xfe",
                          // The export's own form, read by its fast path, with one thing wrong each.
                          "2021-13-02T13:06:38.1234567Z", "2021-02-29T13:06:38.1234567Z", "2021-08-02T24:06:38.1234567Z",
                          "2021-08-02T13:06:38.12a4567Z", "2021-08-02T13:0x:38.1234567Z", "2021-08-02T13:06:38.1234567z!",
                          "2021-08-02 13:06:38.1234567ZZ"}) {
    auto r = parse_timestamp(bad);
    ASSERT_FALSE(r.is_ok()) << bad;
    EXPECT_NE(r.status().message().find("invalid time"), std::string::npos);
  }
}

// The stream parser keeps the date and hour of the last export-form time: it must agree with
// parse_timestamp on times in that hour, out of it, in other forms, and on every bad one.
TEST(Time, TheStreamParserAgreesWithParseTimestamp) {
  TimestampParser p;
  for (const char* t : {"2021-08-02T13:06:38.1234567Z", "2021-08-02T13:59:60.0000000Z", "2021-08-02T13:00:00.0000000Z",
                        "2021-08-02T13:60:00.0000000Z", "2021-08-02T13:06:3x.1234567Z", "2021-08-02T13:06:38.1234567z",
                        "2021-08-02T14:06:38.1234567Z", "2021-08-02T13:06:38.1234567Z", "2021-08-02 13:06:38.1234567Z",
                        "2021-08-02T13:06:38Z", "2024-02-29T23:59:59.9999999Z", "2023-02-29T23:59:59.9999999Z",
                        "2024-02-29T23:00:00.0000001Z", "garbage", "2024-02-29T23:17:01.5000000Z"}) {
    auto want = parse_timestamp(t);
    auto got = p.parse(t);
    ASSERT_EQ(got.is_ok(), want.is_ok()) << t;
    if (want.is_ok()) EXPECT_EQ(*got, *want) << t;
    else EXPECT_EQ(got.status().message(), want.status().message()) << t;
  }
}

TEST(Time, FormatsAndRoundTrips) {
  Ticks t = make_ticks(2021, 4, 26, 18, 8, 51) + 3'600'000;
  EXPECT_EQ(format_timestamp(t), "2021-04-26T18:08:51.3600000Z");
  EXPECT_EQ(format_timestamp(t, 3), "2021-04-26T18:08:51.360Z");
  EXPECT_EQ(format_timestamp(t, 0), "2021-04-26T18:08:51Z");
  for (Ticks x : {Ticks{0}, -kTicksPerDay - 1, make_ticks(2400, 2, 29, 23, 59, 59) + 9'999'999})
    EXPECT_EQ(*parse_timestamp(format_timestamp(x)), x);
}

TEST(Time, DaysAndWeekdays) {
  EXPECT_EQ(weekday(make_ticks(2026, 10, 5, 12)), 0);  // a Monday
  EXPECT_EQ(weekday(make_ticks(1970, 1, 1)), 3);
  EXPECT_EQ(day_floor(make_ticks(2026, 10, 5, 12)), make_ticks(2026, 10, 5));
  EXPECT_EQ(day_floor(-1), -kTicksPerDay);
}

TEST(Time, Durations) {
  EXPECT_EQ(*parse_duration("15m"), 15 * kTicksPerMinute);
  EXPECT_EQ(*parse_duration("1h30m"), 90 * kTicksPerMinute);
  EXPECT_EQ(*parse_duration("3600"), kTicksPerHour);
  EXPECT_EQ(format_duration(2 * kTicksPerDay), "2d");
  EXPECT_FALSE(parse_duration("5x").is_ok());
  EXPECT_FALSE(parse_duration("h").is_ok());
  EXPECT_FALSE(parse_duration("99999999999999d").is_ok());
}

}  // namespace byoml
