#include "core/civil_date.h"

#include <gtest/gtest.h>

#include <ctime>
#include <string>

namespace pqflow {
namespace {

CivilDate MustParse(std::string_view iso) {
  auto d = CivilDate::Parse(iso);
  EXPECT_TRUE(d.ok()) << iso << ": " << d.status().message();
  return d.ok() ? *d : CivilDate();
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

TEST(CivilDateTest, ParsesValidDates) {
  CivilDate d = MustParse("2025-10-28");
  EXPECT_EQ(d.year(), 2025);
  EXPECT_EQ(d.month(), 10);
  EXPECT_EQ(d.day(), 28);
  EXPECT_EQ(d.ToIso(), "2025-10-28");

  CivilDate first = MustParse("0001-01-01");
  EXPECT_EQ(first.year(), 1);
  EXPECT_EQ(first.month(), 1);
  EXPECT_EQ(first.day(), 1);

  CivilDate last = MustParse("9999-12-31");
  EXPECT_EQ(last.year(), 9999);
  EXPECT_EQ(last.month(), 12);
  EXPECT_EQ(last.day(), 31);

  EXPECT_EQ(MustParse("2025-01-31").day(), 31);
  EXPECT_EQ(MustParse("2025-04-30").day(), 30);
}

TEST(CivilDateTest, RejectsInvalidDates) {
  for (const char* bad : {"2025-02-30", "2025-02-29", "2025-04-31", "2025-06-31", "2025-09-31", "2025-11-31",
                          "1900-02-29", "2100-02-29", "2025-13-01", "2025-00-10", "2025-01-00", "2025-01-32",
                          "2025-1-01", "2025-01-1", "20251028", "2025/10/28", "2025-10-28 ", " 2025-10-28",
                          "2025-10-2x", "abcd-ef-gh", "2025--1-01", "2025-+1-01", "+025-10-28", "2025-10-28T00",
                          "", "2025-10"}) {
    SCOPED_TRACE(bad);
    auto d = CivilDate::Parse(bad);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(d.status().message().find("'" + std::string(bad) + "'"), std::string::npos) << d.status().message();
    EXPECT_NE(d.status().message().find("YYYY-MM-DD"), std::string::npos) << d.status().message();
  }
}

TEST(CivilDateTest, LeapYears) {
  EXPECT_EQ(MustParse("2024-02-29").ToIso(), "2024-02-29");
  EXPECT_EQ(MustParse("2000-02-29").ToIso(), "2000-02-29");
  EXPECT_EQ(MustParse("1600-02-29").ToIso(), "1600-02-29");
  int leap_years = 0;
  for (int y = 1583; y <= 2400; ++y) {
    char iso[16];
    std::snprintf(iso, sizeof iso, "%04d-02-29", y);
    EXPECT_EQ(CivilDate::Parse(iso).ok(), IsLeap(y)) << iso;
    leap_years += IsLeap(y) ? 1 : 0;
    std::snprintf(iso, sizeof iso, "%04d-02-28", y);
    ASSERT_TRUE(CivilDate::Parse(iso).ok()) << iso;
    // The day after Feb 28 is Feb 29 exactly in leap years.
    EXPECT_EQ(MustParse(iso).AddDays(1).ToIso(), std::string(iso).substr(0, 5) + (IsLeap(y) ? "02-29" : "03-01"));
  }
  EXPECT_EQ(leap_years, 199);  // 1584..2400: 205 multiples of 4, minus 1700,1800,1900,2100,2200,2300
}

TEST(CivilDateTest, KnownDayCounts) {
  EXPECT_EQ(CivilDate().ToIso(), "1970-01-01");
  EXPECT_EQ(CivilDate().DaysSinceEpoch(), 0);
  EXPECT_EQ(CivilDate::FromDays(0).ToIso(), "1970-01-01");
  EXPECT_EQ(CivilDate::FromDays(-1).ToIso(), "1969-12-31");
  EXPECT_EQ(CivilDate::FromDays(20389).ToIso(), "2025-10-28");
  EXPECT_EQ(CivilDate::FromDays(20468).ToIso(), "2026-01-15");
  EXPECT_EQ(CivilDate::FromDays(11016).ToIso(), "2000-02-29");
  EXPECT_EQ(CivilDate::FromDays(-25508).ToIso(), "1900-03-01");
  EXPECT_EQ(CivilDate::FromDays(-719162).ToIso(), "0001-01-01");
  EXPECT_EQ(CivilDate::FromDays(2932896).ToIso(), "9999-12-31");
  EXPECT_EQ(MustParse("2025-10-28").DaysSinceEpoch(), 20389);
  EXPECT_EQ(MustParse("1969-12-31").DaysSinceEpoch(), -1);
  EXPECT_EQ(MustParse("0001-01-01").DaysSinceEpoch(), -719162);
  EXPECT_EQ(MustParse("9999-12-31").DaysSinceEpoch(), 2932896);
}

// Walks every day from 0001-01-01 to 9999-12-31 with an independent calendar and checks
// FromDays, DaysSinceEpoch and (on a sample) ToIso/Parse against it.
TEST(CivilDateTest, DayCountRoundTripsOverTenThousandYears) {
  int y = 1, m = 1, d = 1;
  int checked_iso = 0;
  for (int32_t n = -719162; n <= 2932896; ++n) {
    CivilDate date = CivilDate::FromDays(n);
    ASSERT_EQ(date.year(), y) << n;
    ASSERT_EQ(date.month(), m) << n;
    ASSERT_EQ(date.day(), d) << n;
    ASSERT_EQ(date.DaysSinceEpoch(), n);
    if (n % 97 == 0 || d == 1 || d == DaysInMonth(y, m)) {
      std::string iso = date.ToIso();
      auto parsed = CivilDate::Parse(iso);
      ASSERT_TRUE(parsed.ok()) << iso;
      ASSERT_EQ(*parsed, date) << iso;
      ++checked_iso;
    }
    if (++d > DaysInMonth(y, m)) {
      d = 1;
      if (++m > 12) {
        m = 1;
        ++y;
      }
    }
  }
  EXPECT_EQ(y, 10000);
  EXPECT_GT(checked_iso, 240000);
}

TEST(CivilDateTest, DayCountRoundTripsBeforeYearOne) {
  // The algorithm is proleptic; negative eras must still invert exactly.
  for (int32_t n = -2000000; n < -719162; n += 7) {
    ASSERT_EQ(CivilDate::FromDays(n).DaysSinceEpoch(), n);
    ASSERT_EQ(CivilDate::FromDays(n).AddDays(1), CivilDate::FromDays(n + 1));
  }
}

TEST(CivilDateTest, AddDays) {
  CivilDate d = MustParse("2024-02-28");
  EXPECT_EQ(d.AddDays(0), d);
  EXPECT_EQ(d.AddDays(1).ToIso(), "2024-02-29");
  EXPECT_EQ(d.AddDays(2).ToIso(), "2024-03-01");
  EXPECT_EQ(MustParse("2025-02-28").AddDays(1).ToIso(), "2025-03-01");
  EXPECT_EQ(MustParse("2025-12-31").AddDays(1).ToIso(), "2026-01-01");
  EXPECT_EQ(MustParse("2026-01-01").AddDays(-1).ToIso(), "2025-12-31");
  EXPECT_EQ(MustParse("2025-03-01").AddDays(-1).ToIso(), "2025-02-28");
  EXPECT_EQ(MustParse("2024-03-01").AddDays(-1).ToIso(), "2024-02-29");
  EXPECT_EQ(MustParse("2025-10-28").AddDays(365).ToIso(), "2026-10-28");
  EXPECT_EQ(MustParse("2024-01-01").AddDays(366).ToIso(), "2025-01-01");
  // 400 Gregorian years are exactly 146097 days.
  EXPECT_EQ(MustParse("2025-10-28").AddDays(146097).ToIso(), "2425-10-28");
  EXPECT_EQ(MustParse("2025-10-28").AddDays(-146097).ToIso(), "1625-10-28");
  EXPECT_EQ(MustParse("1970-01-01").AddDays(-1).ToIso(), "1969-12-31");
}

TEST(CivilDateTest, ToIsoPadsFields) {
  EXPECT_EQ(MustParse("0099-01-05").ToIso(), "0099-01-05");
  EXPECT_EQ(CivilDate::FromDays(-719162 + 31 + 8).ToIso(), "0001-02-09");
}

TEST(CivilDateTest, OrderingIsChronological) {
  EXPECT_LT(MustParse("2025-01-31"), MustParse("2025-02-01"));
  EXPECT_LT(MustParse("2024-12-31"), MustParse("2025-01-01"));
  EXPECT_LT(MustParse("2025-10-09"), MustParse("2025-10-10"));
  EXPECT_GT(MustParse("2026-01-15"), MustParse("2025-10-28"));
  EXPECT_EQ(MustParse("2025-10-28"), CivilDate::FromDays(20389));
  EXPECT_NE(MustParse("2025-10-28"), MustParse("2025-10-29"));
}

TEST(CivilDateTest, TodayUtcMatchesTheSystemClock) {
  int64_t before = static_cast<int64_t>(std::time(nullptr)) / 86400;
  CivilDate today = CivilDate::TodayUtc();
  int64_t after = static_cast<int64_t>(std::time(nullptr)) / 86400;
  EXPECT_GE(today.DaysSinceEpoch(), before);
  EXPECT_LE(today.DaysSinceEpoch(), after);
}

}  // namespace
}  // namespace pqflow
