// Calendar dates without time zones: what `--date`, `--from/--to` and the layout's
// {yyyy}/{mm}/{dd} tokens are made of. Days are counted from 1970-01-01 (UTC).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace pqflow {

class CivilDate {
 public:
  CivilDate() = default;
  static CivilDate FromDays(int32_t days_since_epoch);
  static Result<CivilDate> Parse(std::string_view iso);  // "YYYY-MM-DD"
  static CivilDate TodayUtc();

  int year() const { return year_; }
  int month() const { return month_; }
  int day() const { return day_; }
  int32_t DaysSinceEpoch() const;
  CivilDate AddDays(int32_t n) const { return FromDays(DaysSinceEpoch() + n); }
  std::string ToIso() const;  // "YYYY-MM-DD"
  auto operator<=>(const CivilDate&) const = default;

 private:
  CivilDate(int y, int m, int d) : year_(y), month_(m), day_(d) {}
  int year_ = 1970;
  int month_ = 1;
  int day_ = 1;
};

}  // namespace pqflow
