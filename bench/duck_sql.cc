// pqflow-bench-duckdb: the "bare DuckDB" peer of the benchmarks. Runs SQL on a DuckDB
// database (in-memory by default) through the same C API and library pqflow uses, times every
// statement, and prints the last statement's result as a small table.
//
//   pqflow-bench-duckdb --threads 2 --memory-limit 4GB
//       "COPY (SELECT * FROM read_csv('pv.csv')) TO 'out' (FORMAT parquet, PARTITION_BY (date))"
//
// SQL comes from --file F (all files first, in the order given) then from the positional
// arguments; each may hold several statements separated by ';'. Timings go to stderr, the
// result table to stdout, and --json F writes both in machine-readable form (also on failure,
// so a benchmark script can record what went wrong).
//
// Guards for runs that could take the machine down: --rss-limit interrupts the running query
// when the process's resident memory exceeds the limit, --timeout when it runs too long; if
// the query does not stop within a grace period the process exits with status 137.
#define DUCKDB_API_NO_DEPRECATED
#include <duckdb.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

struct Options {
  std::vector<std::string> sql;    // positional arguments
  std::vector<std::string> files;  // --file, run before the positional SQL
  std::string db = ":memory:";
  std::string threads;       // empty = DuckDB default (number of cores)
  std::string memory_limit;  // empty = DuckDB default (80% of RAM)
  std::vector<std::string> settings;  // name=value pairs applied when the database opens
  std::string json_path;     // empty = no JSON; "-" = stdout (replaces the table)
  std::string rss_limit;     // e.g. "8GiB"; empty = no limit
  double timeout_s = 0;      // 0 = none
  size_t max_rows = 40;      // rows of the last result printed
  bool quiet = false;        // no per-statement timing lines
};

// ---------------------------------------------------------------------------------------------
// Small helpers

// "8GiB", "512MB", "1.5G", "1073741824" -> bytes; nullopt if unparsable.
std::optional<uint64_t> ParseBytes(const std::string& text) {
  size_t pos = 0;
  double value = 0;
  try {
    value = std::stod(text, &pos);
  } catch (...) {
    return std::nullopt;
  }
  std::string unit = text.substr(pos);
  unit.erase(std::remove(unit.begin(), unit.end(), ' '), unit.end());
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::tolower(c); });
  const std::pair<std::string_view, double> units[] = {
      {"", 1},          {"b", 1},         {"k", 1024.0},   {"kb", 1e3},       {"kib", 1024.0},
      {"m", 1048576.0}, {"mb", 1e6},      {"mib", 1048576.0}, {"g", 1073741824.0}, {"gb", 1e9},
      {"gib", 1073741824.0}, {"t", 1099511627776.0}, {"tb", 1e12}, {"tib", 1099511627776.0}};
  for (const auto& [name, factor] : units) {
    if (unit == name && value >= 0) return static_cast<uint64_t>(value * factor);
  }
  return std::nullopt;
}

uint64_t CurrentRssBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  const int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

// VmHWM: the peak resident set size of this process so far.
uint64_t PeakRssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

std::string OneLine(std::string_view sql, size_t max_len) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  if (out.size() > max_len) out = out.substr(0, max_len - 3) + "...";
  return out;
}

// Splits SQL text at top-level ';' (outside quotes and comments). Only used to label
// statements in the output; DuckDB's own parser decides what is executed.
std::vector<std::string> SplitForLabels(const std::string& text) {
  std::vector<std::string> parts;
  std::string cur;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      cur += c;
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
      cur += c;
    } else if (c == '-' && i + 1 < text.size() && text[i + 1] == '-') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == ';') {
      if (!OneLine(cur, 1 << 20).empty()) parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!OneLine(cur, 1 << 20).empty()) parts.push_back(cur);
  return parts;
}

// ---------------------------------------------------------------------------------------------
// Value formatting (data-chunk API; no deprecated value accessors)

std::string Int128ToString(Int128 v) {
  if (v == 0) return "0";
  const bool neg = v < 0;
  UInt128 u = neg ? static_cast<UInt128>(-(v + 1)) + 1 : static_cast<UInt128>(v);
  std::string digits;
  while (u != 0) {
    digits += static_cast<char>('0' + static_cast<int>(u % 10));
    u /= 10;
  }
  if (neg) digits += '-';
  std::reverse(digits.begin(), digits.end());
  return digits;
}

std::string UInt128ToString(UInt128 u) {
  if (u == 0) return "0";
  std::string digits;
  while (u != 0) {
    digits += static_cast<char>('0' + static_cast<int>(u % 10));
    u /= 10;
  }
  std::reverse(digits.begin(), digits.end());
  return digits;
}

Int128 ToInt128(duckdb_hugeint h) {
  return static_cast<Int128>((static_cast<UInt128>(static_cast<uint64_t>(h.upper)) << 64) | h.lower);
}

std::string FormatDecimal(Int128 v, uint8_t scale) {
  std::string digits = Int128ToString(v < 0 ? -v : v);
  if (scale > 0) {
    if (digits.size() <= scale) digits.insert(0, scale + 1 - digits.size(), '0');
    digits.insert(digits.size() - scale, ".");
  }
  return v < 0 ? "-" + digits : digits;
}

std::string FormatDate(duckdb_date d) {
  if (d.days == INT32_MAX) return "infinity";
  if (d.days == -INT32_MAX) return "-infinity";
  const duckdb_date_struct s = duckdb_from_date(d);
  return fmt::format("{:04}-{:02}-{:02}", s.year, s.month, s.day);
}

std::string FormatTimeOfDay(int64_t micros) {
  const int64_t secs = micros / 1'000'000, frac = micros % 1'000'000;
  std::string out = fmt::format("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
  if (frac != 0) out += fmt::format(".{:06}", frac);
  return out;
}

std::string FormatTimestampMicros(int64_t micros) {
  if (micros == INT64_MAX) return "infinity";
  if (micros == -INT64_MAX) return "-infinity";
  const duckdb_timestamp_struct s = duckdb_from_timestamp(duckdb_timestamp{micros});
  return fmt::format("{:04}-{:02}-{:02} ", s.date.year, s.date.month, s.date.day) +
         FormatTimeOfDay(((s.time.hour * 60LL + s.time.min) * 60 + s.time.sec) * 1'000'000 + s.time.micros);
}

std::string FormatString(const duckdb_string_t& str, bool blob) {
  duckdb_string_t copy = str;
  const char* data = duckdb_string_t_data(&copy);
  const uint32_t len = duckdb_string_t_length(str);
  if (!blob) return std::string(data, len);
  std::string out;
  for (uint32_t i = 0; i < len; ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    out += (c >= 0x20 && c < 0x7f && c != '\\') ? std::string(1, static_cast<char>(c)) : fmt::format("\\x{:02X}", c);
  }
  return out;
}

// RAII for logical types handed out by the C API.
struct LogicalType {
  duckdb_logical_type t;
  explicit LogicalType(duckdb_logical_type type) : t(type) {}
  ~LogicalType() { duckdb_destroy_logical_type(&t); }
  LogicalType(const LogicalType&) = delete;
  LogicalType& operator=(const LogicalType&) = delete;
};

std::optional<std::string> FormatValue(duckdb_vector vec, duckdb_logical_type type, idx_t row);

std::string FormatNested(duckdb_vector vec, duckdb_logical_type type, idx_t row, bool quote_strings) {
  auto v = FormatValue(vec, type, row);
  if (!v) return "NULL";
  const duckdb_type id = duckdb_get_type_id(type);
  if (quote_strings && (id == DUCKDB_TYPE_VARCHAR || id == DUCKDB_TYPE_DATE || id == DUCKDB_TYPE_ENUM)) {
    return "'" + *v + "'";
  }
  return *v;
}

std::string FormatList(duckdb_vector vec, duckdb_logical_type type, idx_t row) {
  const auto* entries = static_cast<const duckdb_list_entry*>(duckdb_vector_get_data(vec));
  const LogicalType child_type(duckdb_list_type_child_type(type));
  duckdb_vector child = duckdb_list_vector_get_child(vec);
  std::string out = "[";
  for (uint64_t i = 0; i < entries[row].length; ++i) {
    if (i > 0) out += ", ";
    out += FormatNested(child, child_type.t, entries[row].offset + i, true);
  }
  return out + "]";
}

std::string FormatArray(duckdb_vector vec, duckdb_logical_type type, idx_t row) {
  const idx_t size = duckdb_array_type_array_size(type);
  const LogicalType child_type(duckdb_array_type_child_type(type));
  duckdb_vector child = duckdb_array_vector_get_child(vec);
  std::string out = "[";
  for (idx_t i = 0; i < size; ++i) {
    if (i > 0) out += ", ";
    out += FormatNested(child, child_type.t, row * size + i, true);
  }
  return out + "]";
}

std::string FormatStruct(duckdb_vector vec, duckdb_logical_type type, idx_t row) {
  const idx_t n = duckdb_struct_type_child_count(type);
  std::string out = "{";
  for (idx_t i = 0; i < n; ++i) {
    char* name = duckdb_struct_type_child_name(type, i);
    const LogicalType child_type(duckdb_struct_type_child_type(type, i));
    if (i > 0) out += ", ";
    out += fmt::format("'{}': {}", name, FormatNested(duckdb_struct_vector_get_child(vec, i), child_type.t, row, true));
    duckdb_free(name);
  }
  return out + "}";
}

template <typename T>
const T& At(duckdb_vector vec, idx_t row) {
  return static_cast<const T*>(duckdb_vector_get_data(vec))[row];
}

std::optional<std::string> FormatValue(duckdb_vector vec, duckdb_logical_type type, idx_t row) {
  uint64_t* validity = duckdb_vector_get_validity(vec);
  if (validity != nullptr && !duckdb_validity_row_is_valid(validity, row)) return std::nullopt;
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_BOOLEAN: return At<bool>(vec, row) ? "true" : "false";
    case DUCKDB_TYPE_TINYINT: return fmt::format("{}", At<int8_t>(vec, row));
    case DUCKDB_TYPE_SMALLINT: return fmt::format("{}", At<int16_t>(vec, row));
    case DUCKDB_TYPE_INTEGER: return fmt::format("{}", At<int32_t>(vec, row));
    case DUCKDB_TYPE_BIGINT: return fmt::format("{}", At<int64_t>(vec, row));
    case DUCKDB_TYPE_UTINYINT: return fmt::format("{}", At<uint8_t>(vec, row));
    case DUCKDB_TYPE_USMALLINT: return fmt::format("{}", At<uint16_t>(vec, row));
    case DUCKDB_TYPE_UINTEGER: return fmt::format("{}", At<uint32_t>(vec, row));
    case DUCKDB_TYPE_UBIGINT: return fmt::format("{}", At<uint64_t>(vec, row));
    case DUCKDB_TYPE_FLOAT: return fmt::format("{}", At<float>(vec, row));
    case DUCKDB_TYPE_DOUBLE: return fmt::format("{}", At<double>(vec, row));
    case DUCKDB_TYPE_HUGEINT: return Int128ToString(ToInt128(At<duckdb_hugeint>(vec, row)));
    case DUCKDB_TYPE_UHUGEINT: {
      const auto& u = At<duckdb_uhugeint>(vec, row);
      return UInt128ToString((static_cast<UInt128>(u.upper) << 64) | u.lower);
    }
    case DUCKDB_TYPE_DECIMAL: {
      const uint8_t scale = duckdb_decimal_scale(type);
      switch (duckdb_decimal_internal_type(type)) {
        case DUCKDB_TYPE_SMALLINT: return FormatDecimal(At<int16_t>(vec, row), scale);
        case DUCKDB_TYPE_INTEGER: return FormatDecimal(At<int32_t>(vec, row), scale);
        case DUCKDB_TYPE_BIGINT: return FormatDecimal(At<int64_t>(vec, row), scale);
        default: return FormatDecimal(ToInt128(At<duckdb_hugeint>(vec, row)), scale);
      }
    }
    case DUCKDB_TYPE_VARCHAR: return FormatString(At<duckdb_string_t>(vec, row), false);
    case DUCKDB_TYPE_BLOB: return FormatString(At<duckdb_string_t>(vec, row), true);
    case DUCKDB_TYPE_DATE: return FormatDate(At<duckdb_date>(vec, row));
    case DUCKDB_TYPE_TIME: return FormatTimeOfDay(At<duckdb_time>(vec, row).micros);
    case DUCKDB_TYPE_TIMESTAMP: return FormatTimestampMicros(At<int64_t>(vec, row));
    case DUCKDB_TYPE_TIMESTAMP_TZ: return FormatTimestampMicros(At<int64_t>(vec, row)) + "+00";
    case DUCKDB_TYPE_TIMESTAMP_S: return FormatTimestampMicros(At<int64_t>(vec, row) * 1'000'000);
    case DUCKDB_TYPE_TIMESTAMP_MS: return FormatTimestampMicros(At<int64_t>(vec, row) * 1'000);
    case DUCKDB_TYPE_TIMESTAMP_NS: return FormatTimestampMicros(At<int64_t>(vec, row) / 1'000);
    case DUCKDB_TYPE_INTERVAL: {
      const auto& iv = At<duckdb_interval>(vec, row);
      return fmt::format("{} months {} days ", iv.months, iv.days) + FormatTimeOfDay(iv.micros);
    }
    case DUCKDB_TYPE_UUID: {
      const auto& h = At<duckdb_hugeint>(vec, row);
      const auto hex = fmt::format("{:016x}{:016x}", static_cast<uint64_t>(h.upper) ^ (uint64_t{1} << 63), h.lower);
      return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
             hex.substr(20);
    }
    case DUCKDB_TYPE_ENUM: {
      idx_t index = 0;
      switch (duckdb_enum_internal_type(type)) {
        case DUCKDB_TYPE_UTINYINT: index = At<uint8_t>(vec, row); break;
        case DUCKDB_TYPE_USMALLINT: index = At<uint16_t>(vec, row); break;
        default: index = At<uint32_t>(vec, row); break;
      }
      char* text = duckdb_enum_dictionary_value(type, index);
      std::string out = text != nullptr ? text : "?";
      duckdb_free(text);
      return out;
    }
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_MAP: return FormatList(vec, type, row);
    case DUCKDB_TYPE_ARRAY: return FormatArray(vec, type, row);
    case DUCKDB_TYPE_STRUCT: return FormatStruct(vec, type, row);
    default: return fmt::format("<type {}>", static_cast<int>(duckdb_get_type_id(type)));
  }
}

bool IsNumeric(duckdb_type t) {
  switch (t) {
    case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER: case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT: case DUCKDB_TYPE_UINTEGER: case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT: case DUCKDB_TYPE_UHUGEINT: case DUCKDB_TYPE_FLOAT: case DUCKDB_TYPE_DOUBLE:
    case DUCKDB_TYPE_DECIMAL:
      return true;
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Results

struct Table {
  std::vector<std::string> columns;
  std::vector<bool> numeric;
  std::vector<std::vector<std::optional<std::string>>> rows;  // at most max_rows kept
  uint64_t total_rows = 0;
};

Table ReadTable(duckdb_result& result, size_t max_rows) {
  Table table;
  const idx_t ncols = duckdb_column_count(&result);
  for (idx_t c = 0; c < ncols; ++c) {
    table.columns.emplace_back(duckdb_column_name(&result, c));
    table.numeric.push_back(IsNumeric(duckdb_column_type(&result, c)));
  }
  std::vector<duckdb_logical_type> types(ncols);
  for (idx_t c = 0; c < ncols; ++c) types[c] = duckdb_column_logical_type(&result, c);
  while (duckdb_data_chunk chunk = duckdb_fetch_chunk(result)) {
    const idx_t n = duckdb_data_chunk_get_size(chunk);
    for (idx_t r = 0; r < n && table.rows.size() < max_rows; ++r) {
      auto& row = table.rows.emplace_back();
      for (idx_t c = 0; c < ncols; ++c) row.push_back(FormatValue(duckdb_data_chunk_get_vector(chunk, c), types[c], r));
    }
    table.total_rows += n;
    duckdb_destroy_data_chunk(&chunk);
  }
  for (auto& t : types) duckdb_destroy_logical_type(&t);
  return table;
}

std::string Clip(const std::string& s, size_t width) {
  std::string one = OneLine(s, 1 << 20);
  return one.size() <= width ? one : one.substr(0, width - 3) + "...";
}

void PrintTable(const Table& t) {
  constexpr size_t kMaxWidth = 60;
  std::vector<size_t> widths;
  for (const auto& c : t.columns) widths.push_back(std::min(c.size(), kMaxWidth));
  for (const auto& row : t.rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], Clip(row[c].value_or("NULL"), kMaxWidth).size());
    }
  }
  auto print_row = [&](auto cell) {
    std::string line = "|";
    for (size_t c = 0; c < widths.size(); ++c) {
      auto [text, right] = cell(c);
      line += right ? fmt::format(" {:>{}} |", text, widths[c]) : fmt::format(" {:<{}} |", text, widths[c]);
    }
    fmt::print("{}\n", line);
  };
  print_row([&](size_t c) { return std::pair{Clip(t.columns[c], kMaxWidth), false}; });
  std::string sep = "|";
  for (size_t w : widths) sep += std::string(w + 2, '-') + "|";
  fmt::print("{}\n", sep);
  for (const auto& row : t.rows) {
    print_row([&](size_t c) { return std::pair{Clip(row[c].value_or("NULL"), kMaxWidth), bool(t.numeric[c])}; });
  }
  if (t.total_rows > t.rows.size()) {
    fmt::print("({} rows, {} shown)\n", t.total_rows, t.rows.size());
  }
}

// ---------------------------------------------------------------------------------------------
// Guard: interrupts the running query on an RSS or time limit, exits if it does not stop.

class Guard {
 public:
  // json_path: where to leave a minimal failure report if the guard has to end the process.
  Guard(duckdb_connection conn, uint64_t rss_limit, double timeout_s, std::string json_path)
      : conn_(conn), rss_limit_(rss_limit), timeout_s_(timeout_s), json_path_(std::move(json_path)),
        start_(Clock::now()) {
    if (rss_limit_ > 0 || timeout_s_ > 0) thread_ = std::thread([this] { Run(); });
  }
  ~Guard() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;

  // Why the guard fired, empty if it did not. Safe to call from any thread after it fired.
  std::string reason() {
    std::lock_guard lock(mu_);
    return reason_;
  }

 private:
  void Run() {
    constexpr auto kPoll = std::chrono::milliseconds(50);
    constexpr auto kGrace = std::chrono::seconds(5);
    std::unique_lock lock(mu_);
    std::optional<Clock::time_point> fired_at;
    while (!cv_.wait_for(lock, kPoll, [this] { return stop_; })) {
      if (fired_at) {
        if (Clock::now() - *fired_at > kGrace) {
          fmt::print(stderr, "pqflow-bench-duckdb: {}; query did not stop after interrupt, exiting\n", reason_);
          std::fflush(stderr);
          WriteForcedExitJson();
          _exit(137);
        }
        continue;
      }
      const uint64_t rss = CurrentRssBytes();
      const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
      if (rss_limit_ > 0 && rss > rss_limit_) {
        reason_ = fmt::format("rss limit exceeded: {:.2f} GiB > {:.2f} GiB", rss / 1073741824.0,
                              rss_limit_ / 1073741824.0);
      } else if (timeout_s_ > 0 && elapsed > timeout_s_) {
        reason_ = fmt::format("timeout: {:.0f} s elapsed", elapsed);
      } else {
        continue;
      }
      fmt::print(stderr, "pqflow-bench-duckdb: {}; interrupting\n", reason_);
      duckdb_interrupt(conn_);
      fired_at = Clock::now();
    }
  }

  void WriteForcedExitJson() const {
    if (json_path_.empty() || json_path_ == "-") return;
    const nlohmann::json j{{"ok", false},
                           {"forced_exit", true},
                           {"error", reason_ + "; query did not stop after interrupt, process exited"},
                           {"total_seconds", std::chrono::duration<double>(Clock::now() - start_).count()},
                           {"peak_rss_bytes", PeakRssBytes()},
                           {"duckdb_version", duckdb_library_version()}};
    std::ofstream(json_path_, std::ios::binary | std::ios::trunc) << j.dump(2) << "\n";
  }

  duckdb_connection conn_;
  uint64_t rss_limit_;
  double timeout_s_;
  std::string json_path_;
  Clock::time_point start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::string reason_;
  std::thread thread_;
};

// ---------------------------------------------------------------------------------------------
// Running

struct StatementRun {
  std::string label;
  double seconds = 0;
  bool ok = false;
  std::optional<uint64_t> rows_changed;
  std::string error;
};

struct Source {
  std::string name;  // file name or "arg N"
  std::string text;
};

struct Session {
  duckdb_database db = nullptr;
  duckdb_connection conn = nullptr;
  ~Session() {
    if (conn != nullptr) duckdb_disconnect(&conn);
    if (db != nullptr) duckdb_close(&db);
  }
};

bool Open(const Options& opt, Session& s, std::string& error) {
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) != DuckDBSuccess) {
    error = "cannot create DuckDB config";
    return false;
  }
  std::vector<std::pair<std::string, std::string>> settings;
  if (!opt.threads.empty()) settings.emplace_back("threads", opt.threads);
  if (!opt.memory_limit.empty()) settings.emplace_back("memory_limit", opt.memory_limit);
  for (const auto& kv : opt.settings) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos) {
      duckdb_destroy_config(&config);
      error = fmt::format("--set wants name=value, got '{}'", kv);
      return false;
    }
    settings.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  for (const auto& [name, value] : settings) {
    if (duckdb_set_config(config, name.c_str(), value.c_str()) != DuckDBSuccess) {
      duckdb_destroy_config(&config);
      error = fmt::format("invalid DuckDB setting {}={}", name, value);
      return false;
    }
  }
  char* open_error = nullptr;
  const char* path = opt.db == ":memory:" ? nullptr : opt.db.c_str();
  const bool opened = duckdb_open_ext(path, &s.db, config, &open_error) == DuckDBSuccess;
  duckdb_destroy_config(&config);
  if (!opened) {
    error = fmt::format("cannot open database: {}", open_error != nullptr ? open_error : "unknown error");
    duckdb_free(open_error);
    return false;
  }
  if (duckdb_connect(s.db, &s.conn) != DuckDBSuccess) {
    error = "cannot connect to database";
    return false;
  }
  return true;
}

// Runs every statement of `src`; the result of the very last statement overall lands in `last`.
bool RunSource(const Source& src, bool is_last_source, const Options& opt, Session& s, Guard& guard,
               std::vector<StatementRun>& runs, std::optional<Table>& last) {
  duckdb_extracted_statements extracted = nullptr;
  const idx_t count = duckdb_extract_statements(s.conn, src.text.c_str(), &extracted);
  if (count == 0) {
    const char* err = duckdb_extract_statements_error(extracted);
    runs.push_back({src.name, 0, false, std::nullopt, fmt::format("parse error: {}", err != nullptr ? err : "no statements")});
    duckdb_destroy_extracted(&extracted);
    return false;
  }
  const std::vector<std::string> pieces = SplitForLabels(src.text);
  bool ok = true;
  for (idx_t i = 0; i < count && ok; ++i) {
    StatementRun run;
    run.label = OneLine(pieces.size() == count ? pieces[i] : src.text, 100);
    if (pieces.size() != count && count > 1) run.label = fmt::format("{} (statement {}/{})", src.name, i + 1, count);
    const auto t0 = Clock::now();
    duckdb_prepared_statement stmt = nullptr;
    duckdb_result result;
    std::memset(&result, 0, sizeof(result));
    bool have_result = false;
    if (duckdb_prepare_extracted_statement(s.conn, extracted, i, &stmt) != DuckDBSuccess) {
      const char* err = duckdb_prepare_error(stmt);
      run.error = err != nullptr ? err : "prepare failed";
    } else {
      have_result = true;
      if (duckdb_execute_prepared(stmt, &result) != DuckDBSuccess) {
        const char* err = duckdb_result_error(&result);
        run.error = err != nullptr ? err : "execution failed";
      } else {
        run.ok = true;
        if (duckdb_result_return_type(result) == DUCKDB_RESULT_TYPE_CHANGED_ROWS) {
          run.rows_changed = duckdb_rows_changed(&result);
        }
      }
    }
    const bool is_last = is_last_source && i + 1 == count;
    if (run.ok && is_last) last = ReadTable(result, opt.max_rows);
    if (have_result) duckdb_destroy_result(&result);
    duckdb_destroy_prepare(&stmt);
    run.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!run.ok) {
      const std::string why = guard.reason();
      if (!why.empty()) run.error = why + " (" + run.error + ")";
    }
    if (!opt.quiet) {
      fmt::print(stderr, "[{}] {:8.3f} s  {}{}\n", runs.size() + 1, run.seconds, run.label,
                 run.ok ? "" : "  FAILED: " + run.error);
    }
    ok = run.ok;
    runs.push_back(std::move(run));
  }
  duckdb_destroy_extracted(&extracted);
  return ok;
}

nlohmann::json ToJson(const std::vector<StatementRun>& runs, const std::optional<Table>& last, double total,
                      const Options& opt) {
  nlohmann::json j;
  j["duckdb_version"] = duckdb_library_version();
  j["threads"] = opt.threads.empty() ? nlohmann::json(nullptr) : nlohmann::json(opt.threads);
  j["memory_limit"] = opt.memory_limit.empty() ? nlohmann::json(nullptr) : nlohmann::json(opt.memory_limit);
  j["statements"] = nlohmann::json::array();
  bool ok = true;
  for (const auto& r : runs) {
    nlohmann::json s{{"sql", r.label}, {"seconds", r.seconds}, {"ok", r.ok}};
    if (r.rows_changed) s["rows_changed"] = *r.rows_changed;
    if (!r.ok) s["error"] = r.error;
    ok = ok && r.ok;
    j["statements"].push_back(std::move(s));
  }
  j["ok"] = ok;
  j["total_seconds"] = total;
  j["peak_rss_bytes"] = PeakRssBytes();
  if (last) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& row : last->rows) {
      nlohmann::json r = nlohmann::json::array();
      for (const auto& v : row) r.push_back(v ? nlohmann::json(*v) : nlohmann::json(nullptr));
      rows.push_back(std::move(r));
    }
    j["result"] = {{"columns", last->columns}, {"rows", rows}, {"total_rows", last->total_rows}};
  }
  return j;
}

bool ReadFile(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

int Run(const Options& opt) {
  std::vector<Source> sources;
  for (const auto& f : opt.files) {
    Source src{f, {}};
    if (!ReadFile(f, src.text)) {
      fmt::print(stderr, "pqflow-bench-duckdb: cannot read {}: {}\n", f, std::strerror(errno));
      return 2;
    }
    sources.push_back(std::move(src));
  }
  for (size_t i = 0; i < opt.sql.size(); ++i) sources.push_back({fmt::format("arg {}", i + 1), opt.sql[i]});
  if (sources.empty()) {
    fmt::print(stderr, "pqflow-bench-duckdb: no SQL given (arguments or --file)\n");
    return 2;
  }
  uint64_t rss_limit = 0;
  if (!opt.rss_limit.empty()) {
    const auto parsed = ParseBytes(opt.rss_limit);
    if (!parsed) {
      fmt::print(stderr, "pqflow-bench-duckdb: bad --rss-limit '{}'\n", opt.rss_limit);
      return 2;
    }
    rss_limit = *parsed;
  }

  Session session;
  std::string error;
  if (!Open(opt, session, error)) {
    fmt::print(stderr, "pqflow-bench-duckdb: {}\n", error);
    return 1;
  }
  std::vector<StatementRun> runs;
  std::optional<Table> last;
  const auto t0 = Clock::now();
  bool ok = true;
  {
    Guard guard(session.conn, rss_limit, opt.timeout_s, opt.json_path);
    for (size_t i = 0; i < sources.size() && ok; ++i) {
      ok = RunSource(sources[i], i + 1 == sources.size(), opt, session, guard, runs, last);
    }
  }
  const double total = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!opt.quiet) {
    fmt::print(stderr, "total {:.3f} s, peak RSS {:.1f} MiB\n", total, PeakRssBytes() / 1048576.0);
  }
  if (!opt.json_path.empty()) {
    const std::string text = ToJson(runs, last, total, opt).dump(2) + "\n";
    if (opt.json_path == "-") {
      fmt::print("{}", text);
    } else {
      std::ofstream out(opt.json_path, std::ios::binary | std::ios::trunc);
      out << text;
      if (!out.flush()) {
        fmt::print(stderr, "pqflow-bench-duckdb: cannot write {}\n", opt.json_path);
        return 1;
      }
    }
  }
  if (last && opt.json_path != "-") PrintTable(*last);
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"Run SQL on DuckDB (C API) and time each statement; the bare-DuckDB benchmark peer"};
  app.add_option("sql", opt.sql, "SQL text; several statements may be separated by ';'");
  app.add_option("-f,--file", opt.files, "File with SQL, run before the SQL arguments (repeatable)")->allow_extra_args(false);
  app.add_option("--db", opt.db, "Database file, :memory: for in-memory");
  app.add_option("-t,--threads", opt.threads, "DuckDB threads (default: number of cores)");
  app.add_option("-m,--memory-limit", opt.memory_limit, "DuckDB memory_limit, e.g. 4GB (default: 80% of RAM)");
  app.add_option("-s,--set", opt.settings, "Extra DuckDB setting name=value applied at open (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--json", opt.json_path, "Write timings and the last result as JSON to this file (- = stdout)");
  app.add_option("--rss-limit", opt.rss_limit, "Interrupt the query when resident memory exceeds this, e.g. 8GiB");
  app.add_option("--timeout", opt.timeout_s, "Interrupt the query after this many seconds")->check(CLI::NonNegativeNumber);
  app.add_option("--max-rows", opt.max_rows, "Rows of the last result to print");
  app.add_flag("-q,--quiet", opt.quiet, "No timing lines on stderr");
  CLI11_PARSE(app, argc, argv);
  return Run(opt);
}
