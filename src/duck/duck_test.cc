#include "duck/duck.h"

#include <gtest/gtest.h>

#include "temp_dir.h"
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace pqflow::duck {
namespace {

namespace fs = std::filesystem;

class DuckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DatabaseOptions options;
    options.threads = 2;
    auto db = Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_.emplace(std::move(db).value());
    auto conn = Connection::Make(*db_);
    ASSERT_TRUE(conn.ok()) << conn.status().message();
    conn_.emplace(std::move(conn).value());
  }

  // The single cell of a one-row, one-column query.
  std::optional<std::string> Scalar(const std::string& sql) {
    auto r = conn_->Query(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().message();
    if (!r.ok()) return std::nullopt;
    EXPECT_EQ(r->row_count(), 1u) << sql;
    EXPECT_EQ(r->column_count(), 1u) << sql;
    if (r->row_count() != 1 || r->column_count() != 1) return std::nullopt;
    return r->Get(0, 0);
  }

  std::optional<Database> db_;
  std::optional<Connection> conn_;
};

TEST(DuckLibraryTest, VersionIsPinned) { EXPECT_EQ(LibraryVersion(), "v1.4.4"); }

TEST_F(DuckTest, ExecuteAndQuery) {
  ASSERT_TRUE(conn_->Execute("CREATE TABLE t (i INTEGER, s VARCHAR, d DOUBLE, b BOOLEAN, dt DATE)").ok());
  ASSERT_TRUE(conn_->Execute("INSERT INTO t VALUES (1, 'one', 1.5, true, DATE '2025-10-28'), "
                             "(2, NULL, NULL, false, NULL)")
                  .ok());
  auto r = conn_->Query("SELECT i, s, d, b, dt FROM t ORDER BY i");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->column_names(), (std::vector<std::string>{"i", "s", "d", "b", "dt"}));
  EXPECT_EQ(r->column_types(), (std::vector<std::string>{"INTEGER", "VARCHAR", "DOUBLE", "BOOLEAN", "DATE"}));
  ASSERT_EQ(r->row_count(), 2u);
  ASSERT_EQ(r->column_count(), 5u);
  EXPECT_EQ(r->Get(0, 0), std::optional<std::string>("1"));
  EXPECT_EQ(r->Get(0, 1), std::optional<std::string>("one"));
  EXPECT_EQ(r->Get(0, 2), std::optional<std::string>("1.5"));
  EXPECT_EQ(r->Get(0, 3), std::optional<std::string>("true"));
  EXPECT_EQ(r->Get(0, 4), std::optional<std::string>("2025-10-28"));
  EXPECT_EQ(r->Get(1, 0), std::optional<std::string>("2"));
  EXPECT_EQ(r->Get(1, 1), std::nullopt);
  EXPECT_EQ(r->Get(1, 2), std::nullopt);
  EXPECT_EQ(r->Get(1, 3), std::optional<std::string>("false"));
  EXPECT_EQ(r->Get(1, 4), std::nullopt);

  EXPECT_EQ(r->ColumnIndex("s"), 1);
  EXPECT_EQ(r->ColumnIndex("dt"), 4);
  EXPECT_EQ(r->ColumnIndex("missing"), -1);
  EXPECT_EQ(r->GetOr(1, 1, "fallback"), "fallback");
  EXPECT_EQ(r->GetOr(0, 1, "fallback"), "one");
  EXPECT_EQ(r->GetInt64(1, 0), 2);
  EXPECT_EQ(r->GetInt64(1, 2, -7), -7);   // NULL
  EXPECT_EQ(r->GetInt64(0, 1, -9), -9);   // not a number
  EXPECT_EQ(r->rows().size(), 2u);
}

TEST_F(DuckTest, ResultsLargerThanOneChunkAreComplete) {
  auto r = conn_->Query("SELECT range AS n, range::VARCHAR || 'x' AS s FROM range(5000) ORDER BY n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->row_count(), 5000u);
  EXPECT_EQ(r->column_types()[0], "BIGINT");
  for (size_t i = 0; i < 5000; i += 499) {
    EXPECT_EQ(r->GetInt64(i, 0, -1), static_cast<int64_t>(i));
    EXPECT_EQ(r->Get(i, 1), std::optional<std::string>(std::to_string(i) + "x"));
  }
  EXPECT_EQ(r->GetInt64(4999, 0, -1), 4999);
}

TEST_F(DuckTest, Int64Extremes) {
  auto r = conn_->Query("SELECT 9223372036854775807::BIGINT AS hi, (-9223372036854775807 - 1)::BIGINT AS lo");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->GetInt64(0, 0), INT64_MAX);
  EXPECT_EQ(r->GetInt64(0, 1), INT64_MIN);
}

TEST_F(DuckTest, ErrorsCarryDuckDbsMessage) {
  auto parse = conn_->Query("SELEC 1");
  ASSERT_FALSE(parse.ok());
  EXPECT_EQ(parse.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(parse.status().message().find("Parser Error"), std::string::npos) << parse.status().message();
  EXPECT_NE(parse.status().message().find("SELEC"), std::string::npos) << parse.status().message();

  auto catalog = conn_->Query("SELECT * FROM no_such_table");
  ASSERT_FALSE(catalog.ok());
  EXPECT_EQ(catalog.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(catalog.status().message().find("Catalog Error"), std::string::npos) << catalog.status().message();
  EXPECT_NE(catalog.status().message().find("no_such_table"), std::string::npos) << catalog.status().message();

  Status exec = conn_->Execute("INSERT INTO no_such_table VALUES (1)");
  ASSERT_FALSE(exec.ok());
  EXPECT_NE(exec.message().find("no_such_table"), std::string::npos) << exec.message();

  auto conversion = conn_->Query("SELECT CAST('abc' AS INTEGER)");
  ASSERT_FALSE(conversion.ok());
  EXPECT_EQ(conversion.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(conversion.status().message().find("Conversion Error"), std::string::npos)
      << conversion.status().message();
  EXPECT_NE(conversion.status().message().find("abc"), std::string::npos) << conversion.status().message();

  auto io = conn_->Query("SELECT * FROM read_csv('/nonexistent/pqflow/none.csv')");
  ASSERT_FALSE(io.ok());
  EXPECT_NE(io.status().message().find("/nonexistent/pqflow/none.csv"), std::string::npos) << io.status().message();

  // The connection is still usable after errors.
  EXPECT_EQ(Scalar("SELECT 41 + 1"), std::optional<std::string>("42"));
}

TEST_F(DuckTest, ConstraintViolationIsAnError) {
  ASSERT_TRUE(conn_->Execute("CREATE TABLE k (id INTEGER PRIMARY KEY, v VARCHAR NOT NULL)").ok());
  ASSERT_TRUE(conn_->Execute("INSERT INTO k VALUES (1, 'a')").ok());
  Status dup = conn_->Execute("INSERT INTO k VALUES (1, 'b')");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.message().find("Constraint Error"), std::string::npos) << dup.message();
  Status null = conn_->Execute("INSERT INTO k VALUES (2, NULL)");
  ASSERT_FALSE(null.ok());
  EXPECT_NE(null.message().find("NOT NULL"), std::string::npos) << null.message();
  EXPECT_EQ(Scalar("SELECT count(*) FROM k"), std::optional<std::string>("1"));
}

TEST_F(DuckTest, PreparedStatementsBindParameters) {
  auto stmt = conn_->Prepare("SELECT ?::VARCHAR || '!' AS s, ?::BIGINT + 1 AS n, ? IS NULL AS isnull");
  ASSERT_TRUE(stmt.ok()) << stmt.status().message();
  ASSERT_TRUE(stmt->BindString(1, "it's \"quoted\"").ok());
  ASSERT_TRUE(stmt->BindInt64(2, 41).ok());
  ASSERT_TRUE(stmt->BindNull(3).ok());
  auto r = stmt->Execute();
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->row_count(), 1u);
  EXPECT_EQ(r->Get(0, 0), std::optional<std::string>("it's \"quoted\"!"));
  EXPECT_EQ(r->GetInt64(0, 1), 42);
  EXPECT_EQ(r->Get(0, 2), std::optional<std::string>("true"));

  // Rebinding and executing again.
  ASSERT_TRUE(stmt->BindString(1, std::string_view("a\0b", 3)).ok());
  ASSERT_TRUE(stmt->BindInt64(2, -1).ok());
  ASSERT_TRUE(stmt->BindString(3, "x").ok());
  auto r2 = stmt->Execute();
  ASSERT_TRUE(r2.ok()) << r2.status().message();
  EXPECT_EQ(r2->GetInt64(0, 1, 99), 0);
  EXPECT_EQ(r2->Get(0, 2), std::optional<std::string>("false"));

  EXPECT_FALSE(stmt->BindInt64(4, 1).ok());
  EXPECT_FALSE(stmt->BindString(0, "x").ok());
}

TEST_F(DuckTest, PreparedStatementsAgainstATable) {
  ASSERT_TRUE(conn_->Execute("CREATE TABLE p (id BIGINT, name VARCHAR)").ok());
  auto insert = conn_->Prepare("INSERT INTO p VALUES (?, ?)");
  ASSERT_TRUE(insert.ok()) << insert.status().message();
  for (int64_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(insert->BindInt64(1, i).ok());
    if (i == 1) {
      ASSERT_TRUE(insert->BindNull(2).ok());
    } else {
      ASSERT_TRUE(insert->BindString(2, "n" + std::to_string(i)).ok());
    }
    auto r = insert->Execute();
    ASSERT_TRUE(r.ok()) << r.status().message();
  }
  auto select = conn_->Prepare("SELECT name FROM p WHERE id = ?");
  ASSERT_TRUE(select.ok());
  ASSERT_TRUE(select->BindInt64(1, 2).ok());
  auto r = select->Execute();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->row_count(), 1u);
  EXPECT_EQ(r->Get(0, 0), std::optional<std::string>("n2"));
  ASSERT_TRUE(select->BindInt64(1, 1).ok());
  r = select->Execute();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->row_count(), 1u);
  EXPECT_EQ(r->Get(0, 0), std::nullopt);
}

TEST_F(DuckTest, PrepareAndExecuteErrors) {
  auto bad = conn_->Prepare("SELECT FROM WHERE ?");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("Parser Error"), std::string::npos) << bad.status().message();

  auto missing = conn_->Prepare("SELECT * FROM nope WHERE x = ?");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope"), std::string::npos) << missing.status().message();

  auto cast = conn_->Prepare("SELECT CAST(? AS INTEGER)");
  ASSERT_TRUE(cast.ok()) << cast.status().message();
  ASSERT_TRUE(cast->BindString(1, "not a number").ok());
  auto r = cast->Execute();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a number"), std::string::npos) << r.status().message();
}

TEST_F(DuckTest, AppenderRoundTrip) {
  ASSERT_TRUE(conn_->Execute("CREATE TABLE a (s VARCHAR, n BIGINT)").ok());
  {
    auto app = Appender::Make(*conn_, "a");
    ASSERT_TRUE(app.ok()) << app.status().message();
    for (int64_t i = 0; i < 3000; ++i) {
      if (i % 1000 == 7) {
        ASSERT_TRUE(app->AppendNull().ok());
      } else {
        ASSERT_TRUE(app->AppendString("row '" + std::to_string(i) + "'").ok());
      }
      ASSERT_TRUE(app->AppendInt64(i * 3).ok());
      ASSERT_TRUE(app->EndRow().ok());
    }
    ASSERT_TRUE(app->AppendString(std::string_view("nul\0inside", 10)).ok());
    ASSERT_TRUE(app->AppendNull().ok());
    ASSERT_TRUE(app->EndRow().ok());
    ASSERT_TRUE(app->Flush().ok());
  }
  EXPECT_EQ(Scalar("SELECT count(*) FROM a"), std::optional<std::string>("3001"));
  EXPECT_EQ(Scalar("SELECT count(*) FROM a WHERE s IS NULL"), std::optional<std::string>("3"));
  EXPECT_EQ(Scalar("SELECT sum(n) FROM a"), std::optional<std::string>(std::to_string(3 * 2999 * 3000 / 2)));
  EXPECT_EQ(Scalar("SELECT s FROM a WHERE n = 30"), std::optional<std::string>("row '10'"));
  EXPECT_EQ(Scalar("SELECT length(s) FROM a WHERE n IS NULL"), std::optional<std::string>("10"));
}

TEST_F(DuckTest, AppenderFlushesWhenDestroyed) {
  ASSERT_TRUE(conn_->Execute("CREATE TABLE d (n BIGINT)").ok());
  {
    auto app = Appender::Make(*conn_, "d");
    ASSERT_TRUE(app.ok()) << app.status().message();
    ASSERT_TRUE(app->AppendInt64(5).ok());
    ASSERT_TRUE(app->EndRow().ok());
  }
  EXPECT_EQ(Scalar("SELECT sum(n) FROM d"), std::optional<std::string>("5"));
}

TEST_F(DuckTest, AppenderErrors) {
  auto missing = Appender::Make(*conn_, "no_such_table");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no_such_table"), std::string::npos) << missing.status().message();

  ASSERT_TRUE(conn_->Execute("CREATE TABLE e (a BIGINT, b BIGINT)").ok());
  auto app = Appender::Make(*conn_, "e");
  ASSERT_TRUE(app.ok());
  ASSERT_TRUE(app->AppendInt64(1).ok());
  Status early = app->EndRow();  // one column short
  ASSERT_FALSE(early.ok());
  EXPECT_NE(early.message().find("end row"), std::string::npos) << early.message();

  ASSERT_TRUE(conn_->Execute("CREATE TABLE f (n BIGINT)").ok());
  auto typed = Appender::Make(*conn_, "f");
  ASSERT_TRUE(typed.ok());
  Status conv = typed->AppendString("not a number");
  if (conv.ok()) conv = typed->EndRow();
  if (conv.ok()) conv = typed->Flush();
  EXPECT_FALSE(conv.ok()) << "appending text to a BIGINT column must fail somewhere before the data lands";
}

TEST(QuoteTest, EscapesQuotes) {
  EXPECT_EQ(QuoteIdentifier("plain"), "\"plain\"");
  EXPECT_EQ(QuoteIdentifier("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(QuoteIdentifier(""), "\"\"");
  EXPECT_EQ(QuoteIdentifier("\"\""), "\"\"\"\"\"\"");
  EXPECT_EQ(QuoteLiteral("it's"), "'it''s'");
  EXPECT_EQ(QuoteLiteral(""), "''");
  EXPECT_EQ(QuoteLiteral("''"), "''''''");
  EXPECT_EQ(QuoteLiteral("a\"b"), "'a\"b'");
  EXPECT_EQ(QuoteLiteral("back\\slash"), "'back\\slash'");
}

TEST_F(DuckTest, HostileLiteralsStayInsideTheString) {
  ASSERT_TRUE(conn_->Execute("CREATE TABLE victim (n INTEGER)").ok());
  ASSERT_TRUE(conn_->Execute("INSERT INTO victim VALUES (1)").ok());
  const std::vector<std::string> hostile = {
      "x'); DROP TABLE victim; --",
      "'; DROP TABLE victim; SELECT '",
      "' || (SELECT 'pwned') || '",
      "'",
      "''",
      "\\'; DROP TABLE victim; --",
      "\\",
      "\n'; DROP TABLE victim;\n--",
      "$$; DROP TABLE victim; $$",
      "*/ DROP TABLE victim; /*",
      "\"; DROP TABLE victim; --",
      "caf\xc3\xa9 \xe6\x97\xa5",
      "tab\there",
  };
  for (const auto& v : hostile) {
    SCOPED_TRACE(v);
    EXPECT_EQ(Scalar("SELECT " + QuoteLiteral(v)), std::optional<std::string>(v));
    EXPECT_EQ(Scalar("SELECT count(*) FROM victim WHERE " + QuoteLiteral(v) + " <> ''"),
              std::optional<std::string>(v.empty() ? "0" : "1"));
  }
  EXPECT_EQ(Scalar("SELECT count(*) FROM victim"), std::optional<std::string>("1"));

  // A NUL byte ends the C string DuckDB receives; that must fail, not run a truncated statement.
  const char kNul[] = "a\0'; DROP TABLE victim; --";
  auto nul = conn_->Query("SELECT " + QuoteLiteral(std::string(kNul, sizeof kNul - 1)));
  EXPECT_FALSE(nul.ok());
  EXPECT_EQ(Scalar("SELECT count(*) FROM victim"), std::optional<std::string>("1"));
}

TEST_F(DuckTest, HostileIdentifiersStayInsideTheName) {
  const std::vector<std::string> names = {"we\"ird name", "select", "a\"; DROP TABLE x; --", "\"", "ünïcode"};
  std::string cols;
  for (const auto& n : names) cols += (cols.empty() ? "" : ", ") + QuoteIdentifier(n) + " INTEGER";
  ASSERT_TRUE(conn_->Execute("CREATE TABLE " + QuoteIdentifier("t\"bl") + " (" + cols + ")").ok());
  auto r = conn_->Query("SELECT * FROM " + QuoteIdentifier("t\"bl"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->column_names(), names);
}

TEST(DatabaseTest, OptionsAreApplied) {
  DatabaseOptions options;
  options.threads = 3;
  options.memory_limit = "1GB";
  options.preserve_insertion_order = false;
  auto db = Database::Open(options);
  ASSERT_TRUE(db.ok()) << db.status().message();
  auto conn = Connection::Make(*db);
  ASSERT_TRUE(conn.ok());
  auto r = conn->Query("SELECT current_setting('threads')::VARCHAR, current_setting('preserve_insertion_order')::VARCHAR, "
                       "current_setting('autoinstall_known_extensions')::VARCHAR, "
                       "current_setting('autoload_known_extensions')::VARCHAR");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->Get(0, 0), std::optional<std::string>("3"));
  EXPECT_EQ(r->Get(0, 1), std::optional<std::string>("false"));
  EXPECT_EQ(r->Get(0, 2), std::optional<std::string>("false"));
  EXPECT_EQ(r->Get(0, 3), std::optional<std::string>("false"));
}

TEST(DatabaseTest, BadOptionsAndPathsAreErrors) {
  DatabaseOptions bad_memory;
  bad_memory.memory_limit = "lots";
  auto db = Database::Open(bad_memory);
  EXPECT_FALSE(db.ok());

  DatabaseOptions bad_path;
  bad_path.path = "/nonexistent/pqflow/dir/db.duckdb";
  auto db2 = Database::Open(bad_path);
  ASSERT_FALSE(db2.ok());
  EXPECT_NE(db2.status().message().find("opening DuckDB"), std::string::npos) << db2.status().message();
}

TEST(DatabaseTest, FileDatabasePersistsAcrossOpens) {
  pqflow::testing::TempDir dir;
  DatabaseOptions options;
  options.path = dir / "db.duckdb";
  {
    auto db = Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().message();
    auto conn = Connection::Make(*db);
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE(conn->Execute("CREATE TABLE kept AS SELECT 7 AS n").ok());
  }
  {
    auto db = Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().message();
    auto conn = Connection::Make(*db);
    ASSERT_TRUE(conn.ok());
    auto r = conn->Query("SELECT n FROM kept");
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->GetInt64(0, 0), 7);
  }
}

TEST(DatabaseTest, MovedFromHandlesAreInert) {
  auto db = Database::Open({});
  ASSERT_TRUE(db.ok());
  Database moved = std::move(db).value();
  ASSERT_NE(moved.raw(), nullptr);
  Database target = std::move(moved);
  EXPECT_EQ(moved.raw(), nullptr);  // NOLINT(bugprone-use-after-move)
  ASSERT_NE(target.raw(), nullptr);

  auto conn = Connection::Make(target);
  ASSERT_TRUE(conn.ok());
  Connection c2 = std::move(conn).value();
  Connection c3 = std::move(c2);
  EXPECT_EQ(c2.raw(), nullptr);  // NOLINT(bugprone-use-after-move)
  auto r = c3.Query("SELECT 1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->GetInt64(0, 0), 1);
  EXPECT_EQ(c2.QueryProgress(), -1);
}

TEST(DatabaseTest, InterruptStopsARunningQuery) {
  DatabaseOptions options;
  options.threads = 1;
  auto db = Database::Open(options);
  ASSERT_TRUE(db.ok());
  auto conn = Connection::Make(*db);
  ASSERT_TRUE(conn.ok());
  std::atomic<bool> done{false};
  Connection* c = &*conn;
  std::thread interrupter([&] {
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      c->Interrupt();
    }
  });
  auto start = std::chrono::steady_clock::now();
  auto r = conn->Query("SELECT sum(hash(range)) FROM range(100000000000)");
  done = true;
  interrupter.join();
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("nterrupt"), std::string::npos) << r.status().message();
  EXPECT_LT(elapsed, std::chrono::seconds(1));
  // The connection works again afterwards.
  auto again = conn->Query("SELECT 2");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->GetInt64(0, 0), 2);
}

}  // namespace
}  // namespace pqflow::duck
