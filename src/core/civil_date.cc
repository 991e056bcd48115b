#include "core/civil_date.h"

#include <charconv>
#include <chrono>
#include <cstdio>

namespace pqflow {

// Howard Hinnant's days_from_civil / civil_from_days algorithms.
int32_t CivilDate::DaysSinceEpoch() const {
  int y = year_ - (month_ <= 2 ? 1 : 0);
  int era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = static_cast<unsigned>(y - era * 400);
  unsigned mp = static_cast<unsigned>(month_ + (month_ > 2 ? -3 : 9));
  unsigned doy = (153 * mp + 2) / 5 + static_cast<unsigned>(day_) - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int32_t>(doe) - 719468;
}

CivilDate CivilDate::FromDays(int32_t z) {
  z += 719468;
  int era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = static_cast<unsigned>(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int y = static_cast<int>(yoe) + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  unsigned d = doy - (153 * mp + 2) / 5 + 1;
  unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate(y + (m <= 2 ? 1 : 0), static_cast<int>(m), static_cast<int>(d));
}

Result<CivilDate> CivilDate::Parse(std::string_view s) {
  auto bad = [&] { return Status::InvalidArgument("'" + std::string(s) + "' is not a date (expected YYYY-MM-DD)"); };
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return bad();
  int y = 0, m = 0, d = 0;
  auto num = [](std::string_view part, int* out) {
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), *out);
    return ec == std::errc() && p == part.data() + part.size();
  };
  if (!num(s.substr(0, 4), &y) || !num(s.substr(5, 2), &m) || !num(s.substr(8, 2), &d)) return bad();
  if (m < 1 || m > 12 || d < 1 || d > 31) return bad();
  CivilDate date(y, m, d);
  // Round-tripping through the day count rejects 2025-02-30 and friends.
  if (FromDays(date.DaysSinceEpoch()) != date) return bad();
  return date;
}

CivilDate CivilDate::TodayUtc() {
  auto now = std::chrono::system_clock::now();
  auto days = std::chrono::floor<std::chrono::days>(now).time_since_epoch().count();
  return FromDays(static_cast<int32_t>(days));
}

std::string CivilDate::ToIso() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year_, month_, day_);
  return buf;
}

}  // namespace pqflow
