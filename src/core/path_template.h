// A dataset layout: a relative path with tokens, e.g.
//   query_perf/year={yyyy}/month={mm}/query_perf_{yyyy}{mm}{dd}.parquet
//   analytics/pageviews/project/{project_slug}/{YYYY}/{MM}/{DD}/pageviews_{YYYY-MM-DD}.parquet
// Time tokens come from the partition's date (and hour); {dataset} from the dataset name;
// any other {name} from the value of that column. Format and Parse are inverses; values
// are percent-encoded so that no value can add a path segment, climb out of the dataset
// root, or inject glob characters (see docs/layout.md).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "core/civil_date.h"
#include "core/status.h"

namespace pqflow {

struct PartitionValues {
  std::optional<CivilDate> date;         // required when the template has date tokens
  std::optional<int> hour;               // required when it has {hh}
  std::map<std::string, std::optional<std::string>> columns;  // nullopt = NULL
  bool operator==(const PartitionValues&) const = default;
};

class PathTemplate {
 public:
  enum class TokenKind { kLiteral, kDataset, kYear, kMonth, kDay, kHour, kDate, kColumn };
  struct Token {
    TokenKind kind;
    std::string text;  // literal text, or the column name
  };

  // Validates an output layout: relative, no ".." segments, ends in ".parquet", balanced braces.
  static Result<PathTemplate> Make(std::string_view text, std::string dataset_name);
  // An input path pattern (source.path): may be absolute and contain glob characters
  // (* ? [..]) in its literal parts; only date tokens are allowed.
  static Result<PathTemplate> MakeInput(std::string_view text);

  const std::string& text() const { return text_; }
  const std::vector<Token>& tokens() const { return tokens_; }
  bool HasDateTokens() const;
  // The finest date unit the template names: files per day, per month or per year.
  enum class DateGranularity { kNone, kYear, kMonth, kDay };
  DateGranularity Granularity() const;
  bool HasHourToken() const;
  std::vector<std::string> ColumnNames() const;  // in order of first appearance

  Result<std::string> Format(const PartitionValues& values) const;
  // Inverse of Format; NotFound when the path does not match the template.
  Result<PartitionValues> Parse(std::string_view relative_path) const;
  // A glob matching every file this template can produce (rotation suffixes included).
  std::string Glob() const;
  // The directory every file of the template lies under: the text before the first
  // variable token, up to its last '/' ("query_perf/year={yyyy}/..." -> "query_perf/").
  std::string StaticDirectory() const;
  // Whether a directory (relative, no trailing '/') can hold files of the template: each of
  // its segments matches the template's segment at that depth. "analytics/pageviews/2026"
  // can for ".../pageviews/{YYYY}/{MM}/...", "analytics/pageviews/project" cannot.
  bool MayHoldFilesUnder(std::string_view relative_dir) const;

 private:
  static Result<PathTemplate> Tokenize(std::string_view text, std::string dataset_name);
  std::string ParsePattern() const;
  std::vector<std::vector<Token>> DirectorySegments() const;
  std::string text_;
  std::string dataset_;
  bool input_ = false;
  std::vector<Token> tokens_;
  // Compiled on the first Parse, not when the configuration is read: a std::regex costs
  // ~0.2 ms to build, and most commands parse no path of most layouts.
  struct LazyRegex {
    explicit LazyRegex(std::string p) : pattern(std::move(p)) {}
    const std::regex& Get();
    std::string pattern;
    std::once_flag once;
    std::optional<std::regex> regex;
  };
  std::shared_ptr<LazyRegex> parse_regex_;  // shared by copies
  // The tokens of each directory segment (every segment but the file name), literal tokens
  // cut at '/' and {dataset} resolved: what MayHoldFilesUnder matches a directory against.
  std::vector<std::vector<Token>> directory_segments_;
};

// Percent-encodes a partition value for use as (part of) one path segment.
// NULL and "" both become __HIVE_DEFAULT_PARTITION__, as in Hive and Spark. A leading '.' or
// '_' is escaped, so that no value makes a hidden segment (IsHiddenPathSegment).
std::string EncodePartitionValue(const std::optional<std::string>& value);
std::optional<std::string> DecodePartitionValue(std::string_view encoded);

// Whether readers pass over a path segment, by the convention pqflow shares with Hive and
// Spark: it starts with '.' or '_' (staging, journals, manifests). The default partition,
// which starts with '_', is data.
bool IsHiddenPathSegment(std::string_view segment);

// "a/b/x.parquet", 2 -> "a/b/x-0002.parquet": the name of the n-th file of a partition
// that was rotated into several files; from 10,000 on in groups of four digits
// ("x-0001-0000.parquet"), which Parse tells apart from a value's own digits.
std::string RotatedFileName(const std::string& path, int n);
// The inverse, on file names: 1 for the partition's file name itself, n for its n-th rotated
// file, 0 for any other name.
int RotationNumber(std::string_view partition_file_name, std::string_view name);

}  // namespace pqflow
