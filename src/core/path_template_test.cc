#include "core/path_template.h"

#include <fnmatch.h>
#include <gtest/gtest.h>

#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace pqflow {

// Readable failure output for PartitionValues (found by ADL).
void PrintTo(const PartitionValues& v, std::ostream* os) {
  *os << "{date=" << (v.date ? v.date->ToIso() : "none") << " hour=" << (v.hour ? std::to_string(*v.hour) : "none");
  for (const auto& [k, val] : v.columns) *os << " " << k << "=" << (val ? ::testing::PrintToString(*val) : "NULL");
  *os << "}";
}

namespace {

constexpr const char* kQueryPerf = "query_perf/year={yyyy}/month={mm}/query_perf_{yyyy}{mm}{dd}.parquet";
constexpr const char* kPageviews = "analytics/pageviews/{YYYY}/{MM}/{DD}/pageviews_{YYYY-MM-DD}.parquet";
constexpr const char* kPageviewsProject =
    "analytics/pageviews/project/{project_slug}/{yyyy}/{mm}/{dd}/pageviews_{date}.parquet";
constexpr const char* kEvents = "{workspace_id}/{date}/{hh}/events.parquet";
constexpr const char* kDefaultPartition = "__HIVE_DEFAULT_PARTITION__";

PathTemplate MustMake(std::string_view text, std::string dataset = "ds") {
  auto t = PathTemplate::Make(text, std::move(dataset));
  EXPECT_TRUE(t.ok()) << text << ": " << t.status().message();
  if (!t.ok()) return PathTemplate::Make("fallback.parquet", "ds").value();
  return std::move(t).value();
}

CivilDate Date(std::string_view iso) { return CivilDate::Parse(iso).value(); }

PartitionValues DateValues(std::string_view iso) {
  PartitionValues v;
  v.date = Date(iso);
  return v;
}

std::string MustFormat(const PathTemplate& t, const PartitionValues& v) {
  auto s = t.Format(v);
  EXPECT_TRUE(s.ok()) << t.text() << ": " << s.status().message();
  return s.ok() ? *s : std::string();
}

PartitionValues MustParse(const PathTemplate& t, std::string_view path) {
  auto v = t.Parse(path);
  EXPECT_TRUE(v.ok()) << t.text() << " <- " << path << ": " << v.status().message();
  return v.ok() ? *v : PartitionValues{};
}

bool GlobMatches(const std::string& glob, const std::string& path) {
  return ::fnmatch(glob.c_str(), path.c_str(), FNM_PATHNAME) == 0;
}

std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) return out;
    start = slash + 1;
  }
}

// What must hold of any encoded value: it stays within one path segment, cannot name the
// current or parent directory, and carries no control or glob characters.
void ExpectSafeEncoding(const std::string& encoded) {
  EXPECT_FALSE(encoded.empty());
  EXPECT_NE(encoded, ".");
  EXPECT_NE(encoded, "..");
  EXPECT_FALSE(IsHiddenPathSegment(encoded)) << encoded;
  for (unsigned char c : encoded) {
    EXPECT_FALSE(c < 0x20 || c == 0x7f) << "control character " << static_cast<int>(c) << " in " << encoded;
    EXPECT_EQ(std::string("/\\*?[]{}").find(static_cast<char>(c)), std::string::npos)
        << "'" << c << "' in " << encoded;
  }
}

// ---- Make ------------------------------------------------------------------------------

// Listing walks only the directories a layout can produce (query catalog).
TEST(PathTemplateDirectoryTest, ADirectoryMayHoldFilesOnlyIfEachSegmentMatchesTheLayoutAtItsDepth) {
  auto daily = PathTemplate::Make("analytics/pageviews/{YYYY}/{MM}/{DD}/pageviews_{YYYY-MM-DD}.parquet", "pv");
  ASSERT_TRUE(daily.ok());
  for (const char* dir : {"analytics", "analytics/pageviews", "analytics/pageviews/2026", "analytics/pageviews/2026/01",
                          "analytics/pageviews/2026/01/15"}) {
    EXPECT_TRUE(daily->MayHoldFilesUnder(dir)) << dir;
  }
  for (const char* dir : {"other", "analytics/pageviews/project", "analytics/pageviews/project/docs",
                          "analytics/pageviews/202", "analytics/pageviews/2026/1", "analytics/pageviews/2026/01/15/x",
                          "analytics/pageviews/2026/01/xx"}) {
    EXPECT_FALSE(daily->MayHoldFilesUnder(dir)) << dir;
  }
  auto split = PathTemplate::Make("pv/project/{project_slug}/{date}/v{hh}_{project_slug}/f.parquet", "pv");
  ASSERT_TRUE(split.ok());
  EXPECT_TRUE(split->MayHoldFilesUnder("pv/project/a%2Fb"));
  EXPECT_TRUE(split->MayHoldFilesUnder("pv/project/docs/2026-01-15/v07_docs"));
  EXPECT_FALSE(split->MayHoldFilesUnder("pv/project/docs/2026-01-15/07_docs"));
  EXPECT_FALSE(split->MayHoldFilesUnder("pv/project/docs/20260115"));
  EXPECT_FALSE(split->MayHoldFilesUnder("pv/2026"));
  auto hive = PathTemplate::Make("{dataset}/year={yyyy}/month={mm}/q_{yyyy}{mm}{dd}.parquet", "query_perf");
  ASSERT_TRUE(hive.ok());
  EXPECT_TRUE(hive->MayHoldFilesUnder("query_perf/year=2025/month=10"));
  EXPECT_FALSE(hive->MayHoldFilesUnder("query_perf/year=2025/day=10"));
  EXPECT_FALSE(hive->MayHoldFilesUnder("other/year=2025"));
}

TEST(PathTemplateMakeTest, AcceptsTheSeedLayouts) {
  for (const char* text : {kQueryPerf, kPageviews, kPageviewsProject, kEvents}) {
    auto t = PathTemplate::Make(text, "ds");
    ASSERT_TRUE(t.ok()) << text << ": " << t.status().message();
    EXPECT_EQ(t->text(), text);
  }
}

TEST(PathTemplateMakeTest, TokenizesQueryPerf) {
  PathTemplate t = MustMake(kQueryPerf);
  using K = PathTemplate::TokenKind;
  const std::vector<std::pair<K, std::string>> expected = {
      {K::kLiteral, "query_perf/year="}, {K::kYear, "yyyy"},  {K::kLiteral, "/month="},
      {K::kMonth, "mm"},                 {K::kLiteral, "/query_perf_"}, {K::kYear, "yyyy"},
      {K::kMonth, "mm"},                 {K::kDay, "dd"},       {K::kLiteral, ".parquet"},
  };
  ASSERT_EQ(t.tokens().size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(t.tokens()[i].kind, expected[i].first) << i;
    EXPECT_EQ(t.tokens()[i].text, expected[i].second) << i;
  }
  EXPECT_TRUE(t.HasDateTokens());
  EXPECT_FALSE(t.HasHourToken());
  EXPECT_TRUE(t.ColumnNames().empty());
}

TEST(PathTemplateMakeTest, ColumnNamesAndTokenKinds) {
  PathTemplate project = MustMake(kPageviewsProject);
  EXPECT_EQ(project.ColumnNames(), std::vector<std::string>{"project_slug"});
  EXPECT_TRUE(project.HasDateTokens());
  EXPECT_FALSE(project.HasHourToken());

  PathTemplate events = MustMake(kEvents);
  EXPECT_EQ(events.ColumnNames(), std::vector<std::string>{"workspace_id"});
  EXPECT_TRUE(events.HasDateTokens());
  EXPECT_TRUE(events.HasHourToken());

  PathTemplate multi = MustMake("{b}/{a}/{b}_{dataset}.parquet", "pv");
  EXPECT_EQ(multi.ColumnNames(), (std::vector<std::string>{"b", "a"}));
  EXPECT_FALSE(multi.HasDateTokens());

  PathTemplate plain = MustMake("static/file.parquet");
  EXPECT_FALSE(plain.HasDateTokens());
  EXPECT_TRUE(plain.ColumnNames().empty());
}

void ExpectMakeError(std::string_view text, std::string_view fragment) {
  auto t = PathTemplate::Make(text, "ds");
  ASSERT_FALSE(t.ok()) << "accepted layout " << text;
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << text;
  EXPECT_NE(t.status().message().find(std::string(text)), std::string::npos) << t.status().message();
  EXPECT_NE(t.status().message().find(std::string(fragment)), std::string::npos)
      << "expected '" << fragment << "' in: " << t.status().message();
}

TEST(PathTemplateMakeTest, RejectsAbsolutePaths) {
  ExpectMakeError("/data/{date}.parquet", "relative");
  ExpectMakeError("/x.parquet", "relative");
}

TEST(PathTemplateMakeTest, RejectsDotAndDotDotSegments) {
  ExpectMakeError("../x/{date}.parquet", "'..'");
  ExpectMakeError("a/../../{date}.parquet", "'..'");
  ExpectMakeError("a/{yyyy}/../{date}.parquet", "'..'");
  ExpectMakeError("./a/{date}.parquet", "'.'");
  ExpectMakeError("a/./{date}.parquet", "'.'");
  ExpectMakeError("a//{date}.parquet", "empty segments");
  // '..' inside a segment name is harmless.
  EXPECT_TRUE(PathTemplate::Make("a/b..c/x..{date}.parquet", "ds").ok());
}

// Readers skip names starting with '.' or '_' (staging, manifests): a layout's own folders and
// files must not, or every query of the dataset would read nothing.
TEST(PathTemplateMakeTest, RejectsFolderAndFileNamesThatReadersSkip) {
  ExpectMakeError("a/..b/x.{date}.parquet", "must not start with '.'");
  ExpectMakeError(".exports/{date}/x.parquet", "must not start with '.'");
  ExpectMakeError("{dataset}/_daily/{date}.parquet", "must not start with '_'");
  ExpectMakeError("a/{date}/_x.parquet", "must not start with '_'");
  EXPECT_TRUE(PathTemplate::Make("a_b/{date}/x_{date}.parquet", "ds").ok());
  EXPECT_TRUE(PathTemplate::Make("{dataset}/{date}.parquet", "_internal").ok());  // the name is encoded
}

// A file's date is read back from its path, so the layout must fix it from the year down.
TEST(PathTemplateMakeTest, DateTokensMustFixTheDate) {
  ExpectMakeError("logs/{mm}/{dd}/x.parquet", "{mm} needs {yyyy}");
  ExpectMakeError("logs/{yyyy}/{dd}/x.parquet", "{dd} needs {yyyy} and {mm}");
  ExpectMakeError("logs/{hh}/x.parquet", "{hh} needs the date");
  ExpectMakeError("logs/{yyyy}/{mm}/{hh}/x.parquet", "{hh} needs the date");
  for (const char* ok : {"l/{yyyy}/x.parquet", "l/{yyyy}/{mm}/x.parquet", "l/{yyyy}/{mm}/{dd}/{hh}/x.parquet",
                         "l/{date}/{hh}/x.parquet", "l/{mm}/{date}.parquet"}) {
    EXPECT_TRUE(PathTemplate::Make(ok, "ds").ok()) << ok;
  }
}

TEST(PathTemplateMakeTest, RequiresParquetExtension) {
  ExpectMakeError("a/{date}.csv", ".parquet");
  ExpectMakeError("a/{date}.parquet.tmp", ".parquet");
  ExpectMakeError("a/{date}", ".parquet");
  ExpectMakeError("parquet", ".parquet");
  ExpectMakeError("", "empty");
}

TEST(PathTemplateMakeTest, RejectsUnknownTokensAndUnbalancedBraces) {
  ExpectMakeError("a/{yyyy-mm-dd}.parquet", "{yyyy-mm-dd}");
  ExpectMakeError("a/{}.parquet", "{}");
  ExpectMakeError("a/{project slug}.parquet", "not a token");
  ExpectMakeError("a/{date.parquet", "unmatched '{'");
  ExpectMakeError("a/date}.parquet", "unmatched '}'");
  ExpectMakeError("a/{{date}}.parquet", "not a token");
}

TEST(PathTemplateMakeTest, RejectsGlobCharactersAndBackslashes) {
  ExpectMakeError("a/*/{date}.parquet", "glob");
  ExpectMakeError("a/x?/{date}.parquet", "glob");
  ExpectMakeError("a/[ab]/{date}.parquet", "glob");
  ExpectMakeError("a\\b/{date}.parquet", "backslash");
}

// ---- Format / Parse of the seed layouts -------------------------------------------------

TEST(PathTemplateFormatTest, QueryPerf) {
  PathTemplate t = MustMake(kQueryPerf, "query_perf");
  const std::string path = MustFormat(t, DateValues("2025-10-28"));
  EXPECT_EQ(path, "query_perf/year=2025/month=10/query_perf_20251028.parquet");
  EXPECT_EQ(MustParse(t, path), DateValues("2025-10-28"));
  EXPECT_EQ(MustFormat(t, DateValues("2026-01-05")), "query_perf/year=2026/month=01/query_perf_20260105.parquet");
}

TEST(PathTemplateFormatTest, Pageviews) {
  PathTemplate t = MustMake(kPageviews, "pageviews");
  const std::string path = MustFormat(t, DateValues("2026-01-15"));
  EXPECT_EQ(path, "analytics/pageviews/2026/01/15/pageviews_2026-01-15.parquet");
  EXPECT_EQ(MustParse(t, path), DateValues("2026-01-15"));
}

TEST(PathTemplateFormatTest, PageviewsPerProject) {
  PathTemplate t = MustMake(kPageviewsProject, "pageviews");
  PartitionValues v = DateValues("2026-01-15");
  v.columns["project_slug"] = "my-project";
  const std::string path = MustFormat(t, v);
  EXPECT_EQ(path, "analytics/pageviews/project/my-project/2026/01/15/pageviews_2026-01-15.parquet");
  EXPECT_EQ(MustParse(t, path), v);
}

TEST(PathTemplateFormatTest, EventsWithHour) {
  PathTemplate t = MustMake(kEvents, "events");
  PartitionValues v = DateValues("2025-10-28");
  v.hour = 7;
  v.columns["workspace_id"] = "ws_42";
  const std::string path = MustFormat(t, v);
  EXPECT_EQ(path, "ws_42/2025-10-28/07/events.parquet");
  PartitionValues parsed = MustParse(t, path);
  EXPECT_EQ(parsed, v);
  ASSERT_TRUE(parsed.hour.has_value());
  EXPECT_EQ(*parsed.hour, 7);

  v.hour = 23;
  EXPECT_EQ(MustFormat(t, v), "ws_42/2025-10-28/23/events.parquet");
  v.hour = 0;
  EXPECT_EQ(MustFormat(t, v), "ws_42/2025-10-28/00/events.parquet");
}

TEST(PathTemplateFormatTest, DatasetToken) {
  PathTemplate t = MustMake("{dataset}/{dataset}_{date}.parquet", "pv");
  const std::string path = MustFormat(t, DateValues("2025-10-28"));
  EXPECT_EQ(path, "pv/pv_2025-10-28.parquet");
  EXPECT_EQ(MustParse(t, path), DateValues("2025-10-28"));
  EXPECT_FALSE(t.Parse("other/other_2025-10-28.parquet").ok());
  // The dataset name is encoded like any value.
  PathTemplate odd = MustMake("{dataset}/x_{date}.parquet", "a/b");
  EXPECT_EQ(MustFormat(odd, DateValues("2025-10-28")), "a%2Fb/x_2025-10-28.parquet");
  EXPECT_EQ(MustParse(odd, "a%2Fb/x_2025-10-28.parquet"), DateValues("2025-10-28"));
}

TEST(PathTemplateFormatTest, YearFolderWithDatedFileRoundTrips) {
  for (const char* layout : {"{dataset}/{yyyy}/{dataset}_{date}.parquet", "x/{yyyy}/{mm}/x_{date}.parquet"}) {
    SCOPED_TRACE(layout);
    PathTemplate t = MustMake(layout, "pv");
    const std::string path = MustFormat(t, DateValues("2025-10-28"));
    EXPECT_EQ(MustParse(t, path), DateValues("2025-10-28"));
  }
}

TEST(PathTemplateFormatTest, MissingValuesAreErrors) {
  PathTemplate events = MustMake(kEvents);
  PartitionValues no_hour = DateValues("2025-10-28");
  no_hour.columns["workspace_id"] = "w";
  EXPECT_FALSE(events.Format(no_hour).ok());

  PartitionValues no_column = DateValues("2025-10-28");
  no_column.hour = 1;
  EXPECT_FALSE(events.Format(no_column).ok());

  PartitionValues no_date;
  no_date.hour = 1;
  no_date.columns["workspace_id"] = "w";
  EXPECT_FALSE(events.Format(no_date).ok());
}

TEST(PathTemplateParseTest, RejectsPathsThatDoNotMatch) {
  PathTemplate qp = MustMake(kQueryPerf);
  for (const char* path : {"query_perf/year=2025/month=10/query_perf_20251028.csv",
                           "query_perf/year=2025/month=10/query_perf_2025102.parquet",
                           "query_perf/year=2025/month=10/extra/query_perf_20251028.parquet",
                           "other/year=2025/month=10/query_perf_20251028.parquet",
                           "query_perf/year=2025/month=10/query_perf_20251028.parquet.tmp",
                           "query_perf/year=2025/month=10/_query_perf_20251028.manifest.json", ""}) {
    SCOPED_TRACE(path);
    auto v = qp.Parse(path);
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.status().code(), StatusCode::kNotFound);
  }
  // {date} and {YYYY}/{MM}/{DD} that disagree.
  auto inconsistent = MustMake(kPageviews).Parse("analytics/pageviews/2026/01/16/pageviews_2026-01-15.parquet");
  ASSERT_FALSE(inconsistent.ok());
  EXPECT_EQ(inconsistent.status().code(), StatusCode::kNotFound);
  // Well-formed digits that are not a date.
  EXPECT_FALSE(qp.Parse("query_perf/year=2025/month=02/query_perf_20250230.parquet").ok());
  EXPECT_FALSE(MustMake(kPageviews).Parse("analytics/pageviews/2025/02/30/pageviews_2025-02-30.parquet").ok());

  // The per-project layout and the main layout never claim each other's files.
  PathTemplate main = MustMake(kPageviews);
  PathTemplate project = MustMake(kPageviewsProject);
  EXPECT_FALSE(main.Parse("analytics/pageviews/project/p/2026/01/15/pageviews_2026-01-15.parquet").ok());
  EXPECT_FALSE(project.Parse("analytics/pageviews/2026/01/15/pageviews_2026-01-15.parquet").ok());

  // A column value never spans two segments.
  EXPECT_FALSE(MustMake(kEvents).Parse("a/b/2025-10-28/07/events.parquet").ok());
}

TEST(PathTemplateParseTest, RepeatedDateTokensThatDisagreeDoNotMatch) {
  PathTemplate qp = MustMake(kQueryPerf);
  for (const char* path : {"query_perf/year=2025/month=11/query_perf_20251028.parquet",
                           "query_perf/year=2024/month=10/query_perf_20251028.parquet"}) {
    SCOPED_TRACE(path);
    auto v = qp.Parse(path);
    ASSERT_FALSE(v.ok()) << "parsed as " << (v->date ? v->date->ToIso() : "no date");
    EXPECT_EQ(v.status().code(), StatusCode::kNotFound);
  }
}

TEST(PathTemplateParseTest, HourOutsideTheDayDoesNotMatch) {
  PathTemplate t = MustMake(kEvents);
  for (const char* path : {"w/2025-10-28/24/events.parquet", "w/2025-10-28/99/events.parquet"}) {
    SCOPED_TRACE(path);
    EXPECT_FALSE(t.Parse(path).ok());
  }
  PartitionValues v = DateValues("2025-10-28");
  v.columns["workspace_id"] = "w";
  v.hour = 24;
  EXPECT_FALSE(t.Format(v).ok());
  v.hour = -1;
  EXPECT_FALSE(t.Format(v).ok());
}

TEST(PathTemplateParseTest, RotatedFileNamesParse) {
  EXPECT_EQ(RotatedFileName("a/b/x.parquet", 2), "a/b/x-0002.parquet");
  EXPECT_EQ(RotatedFileName("x.parquet", 1), "x-0001.parquet");
  EXPECT_EQ(RotatedFileName("x.parquet", 1234), "x-1234.parquet");

  PathTemplate qp = MustMake(kQueryPerf);
  EXPECT_EQ(MustParse(qp, "query_perf/year=2025/month=10/query_perf_20251028-0001.parquet"), DateValues("2025-10-28"));
  PathTemplate pv = MustMake(kPageviews);
  EXPECT_EQ(MustParse(pv, RotatedFileName(MustFormat(pv, DateValues("2026-01-15")), 3)), DateValues("2026-01-15"));

  PathTemplate events = MustMake(kEvents);
  PartitionValues v = DateValues("2025-10-28");
  v.hour = 13;
  v.columns["workspace_id"] = "w1";
  EXPECT_EQ(MustParse(events, RotatedFileName(MustFormat(events, v), 17)), v);
  EXPECT_EQ(MustParse(events, "w1/2025-10-28/13/events-0001.parquet"), v);
  // Only a four-digit suffix is a rotation.
  EXPECT_FALSE(events.Parse("w1/2025-10-28/13/events-1.parquet").ok());
  EXPECT_FALSE(events.Parse("w1/2025-10-28/13/events-00001.parquet").ok());
}

// A partition rotated into 10,000 files or more: its files are still its own (the listing of
// a query took "events-10000.parquet" for another layout's file, and its rows went unread).
TEST(PathTemplateParseTest, RotationNumbersFromTenThousandOnAreGroupsOfFourDigits) {
  EXPECT_EQ(RotatedFileName("x.parquet", 9999), "x-9999.parquet");
  EXPECT_EQ(RotatedFileName("x.parquet", 10000), "x-0001-0000.parquet");
  EXPECT_EQ(RotatedFileName("x.parquet", 123456789), "x-0001-2345-6789.parquet");
  PathTemplate events = MustMake(kEvents);
  PartitionValues v = DateValues("2025-10-28");
  v.hour = 13;
  v.columns["workspace_id"] = "w1";
  const std::string path = MustFormat(events, v);
  for (int n : {1, 2, 9999, 10000, 10001, 99999, 100000, 123456789}) {
    SCOPED_TRACE(n);
    const std::string rotated = RotatedFileName(path, n);
    EXPECT_EQ(MustParse(events, rotated), v) << rotated;
    EXPECT_EQ(RotationNumber("events.parquet", rotated.substr(rotated.rfind('/') + 1)), n);
  }
  // A value of the file name's own ending in digits is not taken for a rotation.
  PathTemplate sku = MustMake("x/{date}/{sku}.parquet");
  for (const std::string value : {"order-10000", "a-0001-0000", "b-9999-9999"}) {
    PartitionValues w = DateValues("2025-10-28");
    w.columns["sku"] = value;
    const std::string p = MustFormat(sku, w);
    EXPECT_EQ(MustParse(sku, p).columns["sku"], std::optional<std::string>(value)) << p;
    EXPECT_EQ(MustParse(sku, RotatedFileName(p, 10000)).columns["sku"], std::optional<std::string>(value)) << p;
  }
}

TEST(PathTemplateParseTest, RotationNumberOfAFileName) {
  EXPECT_EQ(RotationNumber("events.parquet", "events.parquet"), 1);
  EXPECT_EQ(RotationNumber("events.parquet", "events-0002.parquet"), 2);
  EXPECT_EQ(RotationNumber("events.parquet", "events-0001-0000.parquet"), 10000);
  EXPECT_EQ(RotationNumber("events.parquet", "events-10000.parquet"), 10000);  // as named before 0.1.1
  EXPECT_EQ(RotationNumber("events.parquet", "events-123456.parquet"), 123456);
  for (const char* other : {"other.parquet", "events-2.parquet", "events-00a1.parquet", "events-.parquet",
                            "events-0001-.parquet", "events-0001-00.parquet", "events-0000.parquet",
                            "events-0001.json", "events-1234567890.parquet"}) {
    EXPECT_EQ(RotationNumber("events.parquet", other), 0) << other;
  }
}

// ---- Partition value encoding -----------------------------------------------------------

TEST(PartitionValueTest, HostileValuesAreEncoded) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"../..", "%2E.%2F.."},
      {"..", "%2E%2E"},
      {".", "%2E"},
      {"a/b", "a%2Fb"},
      {"a\\b", "a%5Cb"},
      {"\n", "%0A"},
      {std::string("\x01"), "%01"},
      {std::string("\x7f"), "%7F"},
      {"*?[]{}", "%2A%3F%5B%5D%7B%7D"},
      {"%", "%25"},
      {"%2F", "%252F"},
      {"a:b", "a%3Ab"},
      {"my-project_1.2", "my-project_1.2"},
      {"_internal", "%5Finternal"},
      {"A-1234", "A%2D1234"},
      {"release-2024", "release%2D2024"},
      {"a-12345", "a-12345"},
      {"a-123", "a-123"},
      {".hidden", "%2Ehidden"},
      {"__x__", "%5F_x__"},
      {"caf\xc3\xa9", "caf\xc3\xa9"},
  };
  for (const auto& [value, encoded] : cases) {
    SCOPED_TRACE(value);
    EXPECT_EQ(EncodePartitionValue(value), encoded);
    ExpectSafeEncoding(EncodePartitionValue(value));
    EXPECT_EQ(DecodePartitionValue(encoded), std::optional<std::string>(value));
  }
}

// Readers pass over segments starting with '.' or '_' (staging, manifests), but never over a
// partition's folder: the default partition is data, and no value encodes to a hidden name.
TEST(PartitionValueTest, OnlyStagingAndManifestNamesAreHidden) {
  for (const char* hidden : {".pqflow", "_pageviews.manifest.json", "_x", ".", "__HIVE_DEFAULT_PARTITIO"}) {
    EXPECT_TRUE(IsHiddenPathSegment(hidden)) << hidden;
  }
  for (const char* data : {"__HIVE_DEFAULT_PARTITION__", "__HIVE_DEFAULT_PARTITION__.parquet", "docs", "%5Fx",
                           "a_b", "pageviews_2026-01-01.parquet"}) {
    EXPECT_FALSE(IsHiddenPathSegment(data)) << data;
  }
}

TEST(PartitionValueTest, NullAndEmptyAreTheDefaultPartition) {
  EXPECT_EQ(EncodePartitionValue(std::nullopt), kDefaultPartition);
  EXPECT_EQ(EncodePartitionValue(std::string()), kDefaultPartition);
  EXPECT_EQ(DecodePartitionValue(kDefaultPartition), std::nullopt);
}

TEST(PartitionValueTest, HostileValuesRoundTripThroughTheEventsLayout) {
  PathTemplate t = MustMake(kEvents);
  const std::vector<std::optional<std::string>> values = {
      "../..", "..", ".", "a/b", "a\\b", "\n", std::string("\x01"), "*?[]{}", "%", "", std::nullopt,
      "a b", "x=y", "caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "-0001", std::string("a\0b", 3)};
  for (const auto& value : values) {
    SCOPED_TRACE(value ? "value '" + *value + "'" : std::string("NULL"));
    PartitionValues v = DateValues("2025-10-28");
    v.hour = 9;
    v.columns["workspace_id"] = value;
    const std::string path = MustFormat(t, v);
    std::vector<std::string> segs = Segments(path);
    ASSERT_EQ(segs.size(), 4u) << path;  // no '/' came from the value
    EXPECT_EQ(segs[1], "2025-10-28");
    EXPECT_EQ(segs[3], "events.parquet");
    for (const auto& s : segs) {
      EXPECT_NE(s, "..");
      EXPECT_NE(s, ".");
      EXPECT_FALSE(s.empty());
    }
    ExpectSafeEncoding(segs[0]);
    EXPECT_TRUE(GlobMatches(t.Glob(), path)) << t.Glob() << " vs " << path;

    PartitionValues parsed = MustParse(t, path);
    EXPECT_EQ(parsed.date, v.date);
    EXPECT_EQ(parsed.hour, v.hour);
    ASSERT_EQ(parsed.columns.count("workspace_id"), 1u);
    if (value && !value->empty()) {
      EXPECT_EQ(parsed.columns["workspace_id"], value);
    } else {
      EXPECT_EQ(segs[0], kDefaultPartition);
      EXPECT_EQ(parsed.columns["workspace_id"], std::nullopt);
    }
  }
}

// A value at the end of a file name that ends like a rotation number ("-0001") must not read
// back as the rotated file of a shorter value: "x-0001" is not the second file of "x".
TEST(PartitionValueTest, ValuesEndingLikeARotationNumberRoundTripAtTheEndOfAFileName) {
  PathTemplate t = MustMake("x/{date}/{sku}.parquet");
  for (const std::string value : {"A-1234", "x-0001", "release-2024", "-0001", "a-12345", "x"}) {
    SCOPED_TRACE(value);
    PartitionValues v = DateValues("2025-10-28");
    v.columns["sku"] = value;
    const std::string path = MustFormat(t, v);
    EXPECT_EQ(MustParse(t, path).columns["sku"], std::optional<std::string>(value)) << path;
    // Its own rotated files still belong to it.
    EXPECT_EQ(MustParse(t, RotatedFileName(path, 2)).columns["sku"], std::optional<std::string>(value));
  }
}

TEST(PartitionValueTest, LiteralDefaultPartitionStringRoundTrips) {
  const std::string value = kDefaultPartition;
  EXPECT_NE(EncodePartitionValue(value), kDefaultPartition);
  EXPECT_EQ(DecodePartitionValue(EncodePartitionValue(value)), std::optional<std::string>(value));
}

TEST(PartitionValueTest, RandomByteStringsAreSafeAndRoundTrip) {
  std::mt19937 rng(20251028);
  // Biased towards the bytes that matter: separators, dots, escapes, controls, globs, high bytes.
  const std::string special = std::string("./\\%*?[]{}:=-_ \n\t\r") + std::string(1, '\0') + "\x7f\x80\xff";
  std::uniform_int_distribution<int> len_dist(0, 12);
  std::uniform_int_distribution<int> byte_dist(0, 255);
  std::uniform_int_distribution<int> pick(0, 2);
  std::uniform_int_distribution<size_t> special_dist(0, special.size() - 1);
  PathTemplate t = MustMake("data/{c}/part_{c}_{date}.parquet");
  const std::string glob = t.Glob();
  for (int iter = 0; iter < 3000; ++iter) {
    std::string value;
    int len = len_dist(rng);
    for (int i = 0; i < len; ++i) {
      value += pick(rng) == 0 ? static_cast<char>(byte_dist(rng)) : special[special_dist(rng)];
    }
    SCOPED_TRACE("iteration " + std::to_string(iter));
    const std::string enc = EncodePartitionValue(value);
    ExpectSafeEncoding(enc);
    if (value.empty()) {
      EXPECT_EQ(enc, kDefaultPartition);
      EXPECT_EQ(DecodePartitionValue(enc), std::nullopt);
    } else {
      EXPECT_EQ(DecodePartitionValue(enc), std::optional<std::string>(value));
    }

    PartitionValues v = DateValues("2025-10-28");
    v.columns["c"] = value;
    const std::string path = MustFormat(t, v);
    std::vector<std::string> segs = Segments(path);
    ASSERT_EQ(segs.size(), 3u) << path;
    EXPECT_EQ(segs[0], "data");
    EXPECT_EQ(segs[1], enc);
    EXPECT_EQ(segs[2], "part_" + enc + "_2025-10-28.parquet");
    EXPECT_TRUE(GlobMatches(glob, path)) << glob << " vs " << path;
    auto parsed = t.Parse(path);
    ASSERT_TRUE(parsed.ok()) << path << ": " << parsed.status().message();
    EXPECT_EQ(parsed->date, v.date);
    EXPECT_EQ(parsed->columns.at("c"), value.empty() ? std::nullopt : std::optional<std::string>(value));
    if (::testing::Test::HasFailure()) break;
  }
}

// ---- Glob -----------------------------------------------------------------------------

TEST(PathTemplateStaticDirectoryTest, TextBeforeTheFirstVariableToken) {
  EXPECT_EQ(MustMake("query_perf/year={yyyy}/month={mm}/query_perf_{yyyy}{mm}{dd}.parquet").StaticDirectory(),
            "query_perf/");
  EXPECT_EQ(MustMake("analytics/pageviews/project/{project_slug}/{YYYY}/{MM}/{DD}/pageviews_{YYYY-MM-DD}.parquet")
                .StaticDirectory(),
            "analytics/pageviews/project/");
  EXPECT_EQ(MustMake("{workspace_id}/{date}/{hh}/events.parquet").StaticDirectory(), "");
  EXPECT_EQ(MustMake("a/b/static.parquet").StaticDirectory(), "a/b/");
  // {dataset} is fixed, so it belongs to the static part.
  EXPECT_EQ(PathTemplate::Make("{dataset}/{date}.parquet", "pv")->StaticDirectory(), "pv/");
}

TEST(PathTemplateGlobTest, SeedLayouts) {
  EXPECT_EQ(MustMake(kQueryPerf).Glob(), "query_perf/year=*/month=*/query_perf_*.parquet");
  EXPECT_EQ(MustMake(kPageviews).Glob(), "analytics/pageviews/*/*/*/pageviews_*.parquet");
  EXPECT_EQ(MustMake(kPageviewsProject).Glob(), "analytics/pageviews/project/*/*/*/*/pageviews_*.parquet");
  EXPECT_EQ(MustMake(kEvents).Glob(), "*/*/*/events*.parquet");
  EXPECT_EQ(MustMake("{dataset}/{yyyy}/{dataset}_{date}.parquet", "pv").Glob(), "pv/*/pv_*.parquet");
  EXPECT_EQ(MustMake("{dataset}/{yyyy}/{dataset}_{date}.parquet", "a*b").Glob(), "a%2Ab/*/a%2Ab_*.parquet");
  EXPECT_EQ(MustMake("static/file.parquet").Glob(), "static/file*.parquet");
}

TEST(PathTemplateGlobTest, MatchesFormattedAndRotatedFiles) {
  struct Case {
    const char* layout;
    PartitionValues values;
  };
  PartitionValues project = DateValues("2026-01-15");
  project.columns["project_slug"] = "a/b";
  PartitionValues events = DateValues("2025-10-28");
  events.hour = 5;
  events.columns["workspace_id"] = std::nullopt;
  const std::vector<Case> cases = {{kQueryPerf, DateValues("2025-10-28")},
                                   {kPageviews, DateValues("2026-01-15")},
                                   {kPageviewsProject, project},
                                   {kEvents, events},
                                   {"static/file.parquet", {}}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.layout);
    PathTemplate t = MustMake(c.layout);
    const std::string path = MustFormat(t, c.values);
    EXPECT_TRUE(GlobMatches(t.Glob(), path)) << t.Glob() << " vs " << path;
    EXPECT_TRUE(GlobMatches(t.Glob(), RotatedFileName(path, 1))) << t.Glob();
    EXPECT_FALSE(GlobMatches(t.Glob(), path + ".tmp"));
    // The manifest beside the first file is never matched.
    std::string manifest = path;
    size_t slash = manifest.rfind('/');
    manifest.insert(slash == std::string::npos ? 0 : slash + 1, "_");
    manifest.replace(manifest.size() - 8, 8, ".manifest.json");
    EXPECT_FALSE(GlobMatches(t.Glob(), manifest)) << manifest;
  }
  // The main pageviews glob does not reach into the per-project copies.
  EXPECT_FALSE(GlobMatches(MustMake(kPageviews).Glob(),
                           "analytics/pageviews/project/p/2026/01/15/pageviews_2026-01-15.parquet"));
}

// ---- Input patterns -------------------------------------------------------------------

TEST(PathTemplateInputTest, MakeInputAcceptsAbsolutePathsGlobsAndDateTokens) {
  auto t = PathTemplate::MakeInput("/srv/g/reports/query_perf_daily_{yyyy}{mm}{dd}.csv");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_TRUE(t->HasDateTokens());
  PartitionValues v = MustParse(*t, "/srv/g/reports/query_perf_daily_20251028.csv");
  EXPECT_EQ(v, DateValues("2025-10-28"));
  EXPECT_FALSE(t->Parse("/srv/g/reports/query_perf_daily_20251028.csv.bak").ok());
  EXPECT_FALSE(t->Parse("/srv/g/reports/query_perf_weekly_20251028.csv").ok());
  EXPECT_FALSE(t->Parse("/srv/g/reports/query_perf_daily_20251328.csv").ok());

  auto plain = PathTemplate::MakeInput("knowledge/optimize/index_advisor_report.json");
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_FALSE(plain->HasDateTokens());
  auto none = plain->Parse("knowledge/optimize/index_advisor_report.json");
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_EQ(none->date, std::nullopt);
}

TEST(PathTemplateInputTest, GlobCharactersInInputPatterns) {
  auto star = PathTemplate::MakeInput("/data/*/in_{date}.csv");
  ASSERT_TRUE(star.ok()) << star.status().message();
  EXPECT_EQ(MustParse(*star, "/data/host1/in_2025-10-28.csv"), DateValues("2025-10-28"));
  EXPECT_EQ(MustParse(*star, "/data/in_x/in_2024-02-29.csv"), DateValues("2024-02-29"));
  EXPECT_FALSE(star->Parse("/data/a/b/in_2025-10-28.csv").ok()) << "'*' must not cross '/'";
  EXPECT_FALSE(star->Parse("/data/host1/in_2025-10-28.json").ok());

  auto question = PathTemplate::MakeInput("in/pv_?_{yyyy}-{mm}-{dd}.csv");
  ASSERT_TRUE(question.ok()) << question.status().message();
  EXPECT_EQ(MustParse(*question, "in/pv_a_2026-01-15.csv"), DateValues("2026-01-15"));
  EXPECT_FALSE(question->Parse("in/pv_ab_2026-01-15.csv").ok());
  EXPECT_FALSE(question->Parse("in/pv_/_2026-01-15.csv").ok());

  auto klass = PathTemplate::MakeInput("in/[ab]_{date}.json");
  ASSERT_TRUE(klass.ok()) << klass.status().message();
  EXPECT_EQ(MustParse(*klass, "in/b_2026-01-15.json"), DateValues("2026-01-15"));
  EXPECT_FALSE(klass->Parse("in/c_2026-01-15.json").ok());

  // Regex metacharacters in literal parts are literal.
  auto dots = PathTemplate::MakeInput("in/a.b+(c)_{date}.csv");
  ASSERT_TRUE(dots.ok()) << dots.status().message();
  EXPECT_EQ(MustParse(*dots, "in/a.b+(c)_2026-01-15.csv"), DateValues("2026-01-15"));
  EXPECT_FALSE(dots->Parse("in/aXb+(c)_2026-01-15.csv").ok());
}

TEST(PathTemplateInputTest, NegatedGlobClassFollowsGlobSemantics) {
  auto t = PathTemplate::MakeInput("in/[!a]_{date}.csv");
  ASSERT_TRUE(t.ok()) << t.status().message();
  // glob(3), which finds the candidate files, matches this name; Parse must agree with it.
  ASSERT_EQ(::fnmatch("in/[!a]_2026-01-15.csv", "in/b_2026-01-15.csv", FNM_PATHNAME), 0);
  EXPECT_EQ(MustParse(*t, "in/b_2026-01-15.csv"), DateValues("2026-01-15"));
  EXPECT_FALSE(t->Parse("in/a_2026-01-15.csv").ok());
}

TEST(PathTemplateInputTest, MakeInputRejectsNonDateTokens) {
  for (const char* text : {"in/{project}_{date}.csv", "in/{hh}.csv", "in/{dataset}_{date}.csv"}) {
    SCOPED_TRACE(text);
    auto t = PathTemplate::MakeInput(text);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(t.status().message().find("only date tokens"), std::string::npos) << t.status().message();
  }
  EXPECT_FALSE(PathTemplate::MakeInput("in/{date.csv").ok());
  EXPECT_FALSE(PathTemplate::MakeInput("").ok());
}

}  // namespace
}  // namespace pqflow
