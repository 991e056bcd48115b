#include "source/pg_source.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace pqflow::source {
namespace {

PgDateRange Range(const char* from, const char* to) { return {*CivilDate::Parse(from), *CivilDate::Parse(to)}; }

TEST(BindDatesTest, ReplacesEveryParameterWithADateLiteral) {
  EXPECT_EQ(BindDates("SELECT * FROM pv WHERE date BETWEEN {from} AND {to}", Range("2026-01-15", "2026-01-17")),
            "SELECT * FROM pv WHERE date BETWEEN '2026-01-15'::date AND '2026-01-17'::date");
  EXPECT_EQ(BindDates("WHERE day = {date} OR day = {date}", Range("2026-02-01", "2026-02-01")),
            "WHERE day = '2026-02-01'::date OR day = '2026-02-01'::date");
}

TEST(BindDatesTest, LeavesOtherBracesAlone) {
  EXPECT_EQ(BindDates("SELECT '{x}', '{dates}', {to", Range("2026-01-15", "2026-01-15")), "SELECT '{x}', '{dates}', {to");
}

TEST(DescribeDsnTest, NamesTheServerButNeverThePassword) {
  std::string d = DescribeDsn("host=db.internal port=6543 dbname=rtd user=etl password=s3cret sslmode=require");
  EXPECT_EQ(d, "host=db.internal port=6543 dbname=rtd user=etl");
  std::string url = DescribeDsn("postgresql://etl:s3cret@db.internal:6543/rtd");
  EXPECT_EQ(url.find("s3cret"), std::string::npos) << url;
  EXPECT_NE(url.find("host=db.internal"), std::string::npos) << url;
  EXPECT_NE(url.find("dbname=rtd"), std::string::npos) << url;
}

TEST(DescribeDsnTest, FallsBackToTheEnvironment) {
  ::setenv("PGHOST", "envhost", 1);
  ::setenv("PGDATABASE", "envdb", 1);
  std::string d = DescribeDsn("");
  ::unsetenv("PGHOST");
  ::unsetenv("PGDATABASE");
  EXPECT_NE(d.find("host=envhost"), std::string::npos) << d;
  EXPECT_NE(d.find("dbname=envdb"), std::string::npos) << d;
  EXPECT_EQ(DescribeDsn("host='unterminated"), "(unparseable connection string)");
}

}  // namespace
}  // namespace pqflow::source
