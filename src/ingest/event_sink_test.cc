// The event sink on its own: windows, rotation, memory pressure, late rows, and the
// recovery rule (replayed rows already in a file's WAL range are skipped).
#include "ingest/event_sink.h"

#include <filesystem>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "ingest/parquet_file_writer.h"
#include "temp_dir.h"

namespace pqflow::ingest {
namespace {

constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kT0 = 1768471200000;  // 2026-01-15T10:00:00Z

StreamConfig TestStream() {
  StreamConfig s;
  s.name = "ev";
  auto col = [](const char* name, TypeKind kind) {
    ColumnSpec c;
    c.name = c.field = name;
    c.type.kind = kind;
    c.nullable = false;
    return c;
  };
  s.columns = {col("timestamp", TypeKind::kInt64), col("workspace_id", TypeKind::kUInt64), col("name", TypeKind::kString)};
  s.layout = "p/{workspace_id}/{date}/{hour}/ev.parquet";
  s.grace_seconds = 0;
  return s;
}

struct Row {
  int64_t ts;
  uint64_t ws;
  std::string name;
};

RowBatch Rows(const std::vector<Row>& rows) {
  RowBatch b({ColumnType{TypeKind::kInt64}, ColumnType{TypeKind::kUInt64}, ColumnType{TypeKind::kString}});
  for (const Row& r : rows) {
    b.column(0).AppendFixed(&r.ts);
    b.column(1).AppendFixed(&r.ws);
    b.column(2).AppendVariable(r.name);
  }
  return b;
}

// The local storage, with a failure injected into the next N publishes or directory syncs:
// what a full disk or a failing device does to the sink.
class FaultyStorage final : public storage::Storage {
 public:
  explicit FaultyStorage(std::unique_ptr<storage::Storage> inner) : inner_(std::move(inner)) {}
  std::atomic<int> fail_publishes{0};
  std::atomic<int> fail_syncs{0};

  Status Publish(const std::string& staged, const std::string& dest) override {
    if (fail_publishes.fetch_sub(1) > 0) return Status::IOError("injected: no space left on device");
    return inner_->Publish(staged, dest);
  }
  Status SyncPublished() override {
    if (fail_syncs.fetch_sub(1) > 0) return Status::IOError("injected: fsync of a directory failed");
    return inner_->SyncPublished();
  }
  std::string Describe() const override { return inner_->Describe(); }
  Result<std::string> MakeStagingDir(const std::string& n) override { return inner_->MakeStagingDir(n); }
  Status RemoveStagingDir(const std::string& d) override { return inner_->RemoveStagingDir(d); }
  Status SyncStaged(const std::vector<std::string>& p) override { return inner_->SyncStaged(p); }
  Status PublishAll(const std::vector<storage::StagedMove>& m) override { return inner_->PublishAll(m); }
  Status WriteFileAtomic(const std::string& d, std::string_view data) override { return inner_->WriteFileAtomic(d, data); }
  Status WriteFilesAtomic(const std::vector<std::pair<std::string, std::string>>& f) override {
    return inner_->WriteFilesAtomic(f);
  }
  Result<std::string> ReadFile(const std::string& p) override { return inner_->ReadFile(p); }
  Result<storage::FileInfo> Stat(const std::string& p) override { return inner_->Stat(p); }
  Status Delete(const std::string& p) override { return inner_->Delete(p); }
  Result<std::vector<storage::FileInfo>> List(const std::string& p) override { return inner_->List(p); }
  Result<std::unique_ptr<storage::DatasetLock>> LockDataset(const std::string& d) override {
    return inner_->LockDataset(d);
  }
  std::string DisplayPath(const std::string& p) const override { return inner_->DisplayPath(p); }
  Result<storage::ReadableFiles> OpenForReading(const std::vector<storage::FileInfo>& f) override {
    return inner_->OpenForReading(f);
  }
  std::string ReadableRoot() const override { return inner_->ReadableRoot(); }

 private:
  std::unique_ptr<storage::Storage> inner_;
};

class EventSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    streams_["ev"] = TestStream();
    auto faulty = std::make_unique<FaultyStorage>(storage::MakeLocalStorage(dir_ / "data"));
    faulty_ = faulty.get();
    storage_ = std::move(faulty);
    auto db = duck::Database::Open({});
    ASSERT_TRUE(db.ok());
    db_ = std::make_unique<duck::Database>(std::move(*db));
    auto conn = duck::Connection::Make(*db_);
    ASSERT_TRUE(conn.ok());
    conn_ = std::make_unique<duck::Connection>(std::move(*conn));
  }

  std::unique_ptr<EventSink> MakeSink(int64_t memory_limit = 64 << 20) {
    SinkOptions o;
    o.memory_limit = memory_limit;
    o.now_ms = [this] { return now_.load(); };
    o.flush_check_ms = 20;
    o.on_commit = [this] { commits_++; };
    auto sink = EventSink::Make(streams_, storage_.get(), db_.get(), o);
    EXPECT_TRUE(sink.ok()) << sink.status().message();
    return sink.ok() ? std::move(*sink) : nullptr;
  }

  std::string Query(const std::string& sql) {
    auto r = conn_->Query(sql);
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (!r.ok() || r->row_count() == 0) return "";
    return r->GetOr(0, 0, "NULL");
  }

  std::string Path(const std::string& rel) { return storage_->DisplayPath(rel); }

  bool WaitFor(const std::string& rel) {
    for (int i = 0; i < 300; ++i) {
      if (storage_->Stat(rel).ok()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  pqflow::testing::TempDir dir_;
  std::map<std::string, StreamConfig> streams_;
  std::unique_ptr<storage::Storage> storage_;
  FaultyStorage* faulty_ = nullptr;  // storage_, for injecting failures
  std::unique_ptr<duck::Database> db_;
  std::unique_ptr<duck::Connection> conn_;
  std::atomic<int64_t> now_{kT0 + 30 * 60 * 1000};  // 10:30
  std::atomic<int> commits_{0};
};

TEST_F(EventSinkTest, ClosedWindowsAreWrittenWithTheirWalRange) {
  auto sink = MakeSink();
  sink->Start();
  const StreamConfig& s = streams_["ev"];
  ASSERT_TRUE(sink->Apply(100, 101, s, Rows({{kT0 + 5, 1, "a"}, {kT0 + 6, 2, "b"}})).ok());
  ASSERT_TRUE(sink->Apply(200, 201, s, Rows({{kT0 + 7, 1, "c"}})).ok());
  EXPECT_EQ(sink->TruncationPoint(), 100u);  // nothing written yet: keep everything
  now_ = kT0 + kHour;                          // 11:00: the 10:00 hour closes (grace 0)
  ASSERT_TRUE(WaitFor("p/1/2026-01-15/10/ev.parquet"));
  ASSERT_TRUE(WaitFor("p/2/2026-01-15/10/ev.parquet"));
  for (int i = 0; i < 100 && sink->TruncationPoint() != 201u; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(sink->TruncationPoint(), 201u);
  auto writer = ParquetFileWriter::Make(*db_);
  ASSERT_TRUE(writer.ok());
  auto kv = (*writer)->ReadKvMetadata(Path("p/1/2026-01-15/10/ev.parquet"));
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ((*kv)["pqflow_stream"], "ev");
  EXPECT_EQ((*kv)["pqflow_wal_first"], "100");
  EXPECT_EQ((*kv)["pqflow_wal_last"], "200");
  EXPECT_EQ(Query("SELECT string_agg(name, ',' ORDER BY name) FROM '" + Path("p/1/2026-01-15/10/ev.parquet") + "'"), "a,c");
  SinkStats st = sink->Stats();
  EXPECT_EQ(st.rows_written["ev"], 3u);
  EXPECT_EQ(st.files_created, 2u);
  EXPECT_EQ(st.buffered_rows, 0u);
  EXPECT_GT(commits_.load(), 0);
  ASSERT_TRUE(sink->FlushAllAndStop().ok());
}

// A layout column's NULL and "" are one partition (__HIVE_DEFAULT_PARTITION__), so one buffer
// and one file: two buffers of one path would share the WAL ranges its files record.
TEST_F(EventSinkTest, NullAndEmptyLayoutValuesShareOneBufferAndOneFile) {
  StreamConfig& s = streams_["ev"];
  s.columns[2].nullable = true;
  s.layout = "p/{name}/{date}/{hour}/ev.parquet";
  RowBatch rows({ColumnType{TypeKind::kInt64}, ColumnType{TypeKind::kUInt64}, ColumnType{TypeKind::kString}});
  for (int i = 0; i < 2; ++i) {
    const int64_t ts = kT0 + i;
    const uint64_t ws = 1;
    rows.column(0).AppendFixed(&ts);
    rows.column(1).AppendFixed(&ws);
    if (i == 0) {
      rows.column(2).AppendNull();
    } else {
      rows.column(2).AppendVariable("");
    }
  }
  auto sink = MakeSink();
  sink->Start();
  ASSERT_TRUE(sink->Apply(10, 11, s, rows).ok());
  ASSERT_TRUE(sink->FlushAllAndStop().ok());
  const std::string files = Path("p/__HIVE_DEFAULT_PARTITION__/2026-01-15/10/*.parquet");
  EXPECT_EQ(Query("SELECT count(*) FROM glob('" + files + "')"), "1");
  EXPECT_EQ(Query("SELECT count(*) FROM '" + files + "'"), "2");
}

TEST_F(EventSinkTest, ReplayAfterACrashSkipsRowsAlreadyInFiles) {
  const StreamConfig& s = streams_["ev"];
  // Record 1 and 2 touch the closed 10:00 hour and the open 12:00 hour.
  auto r1 = Rows({{kT0, 1, "old-1"}, {kT0 + 2 * kHour, 1, "new-1"}});
  auto r2 = Rows({{kT0 + 1, 1, "old-2"}, {kT0 + 2 * kHour + 1, 1, "new-2"}});
  now_ = kT0 + 2 * kHour + 10;
  {
    auto sink = MakeSink();
    sink->Start();
    ASSERT_TRUE(sink->Apply(10, 11, s, r1).ok());
    ASSERT_TRUE(sink->Apply(20, 21, s, r2).ok());
    ASSERT_TRUE(WaitFor("p/1/2026-01-15/10/ev.parquet"));
    EXPECT_EQ(sink->TruncationPoint(), 10u);  // the 12:00 buffer still needs record 10
  }  // destroyed without writing the open hour: a crash, as far as files go
  EXPECT_FALSE(storage_->Stat("p/1/2026-01-15/12/ev.parquet").ok());
  {
    auto sink = MakeSink();  // recovering until Start()
    ASSERT_TRUE(sink->Apply(10, 11, s, r1).ok());
    ASSERT_TRUE(sink->Apply(20, 21, s, r2).ok());
    EXPECT_EQ(sink->Stats().buffered_rows, 2u);  // only the 12:00 rows
    sink->Start();
    ASSERT_TRUE(sink->FlushAllAndStop().ok());
  }
  EXPECT_EQ(Query("SELECT string_agg(name, ',' ORDER BY name) FROM '" + Path("p/1/2026-01-15/*/*.parquet") + "'"),
            "new-1,new-2,old-1,old-2");
  EXPECT_EQ(Query("SELECT count(*) FROM glob('" + Path("p/1/2026-01-15/*/*.parquet") + "')"), "2");
}

TEST_F(EventSinkTest, FullBuffersRotateAndLateRowsGetANewFile) {
  streams_["ev"].max_rows = 3;
  const StreamConfig& s = streams_["ev"];
  auto sink = MakeSink();
  sink->Start();
  ASSERT_TRUE(sink->Apply(1, 2, s, Rows({{kT0 + 1, 5, "a"}, {kT0 + 2, 5, "b"}})).ok());
  ASSERT_TRUE(sink->Apply(2, 3, s, Rows({{kT0 + 3, 5, "c"}, {kT0 + 4, 5, "d"}})).ok());  // 4 rows: full
  ASSERT_TRUE(WaitFor("p/5/2026-01-15/10/ev.parquet"));
  ASSERT_TRUE(sink->Apply(3, 4, s, Rows({{kT0 + 5, 5, "e"}})).ok());
  ASSERT_TRUE(sink->FlushAllAndStop().ok());
  EXPECT_EQ(Query("SELECT count(*) FROM '" + Path("p/5/2026-01-15/10/ev.parquet") + "'"), "4");  // whole records
  EXPECT_EQ(Query("SELECT string_agg(name, ',') FROM '" + Path("p/5/2026-01-15/10/ev-0002.parquet") + "'"), "e");
  // A new sink (restart) continues the numbering rather than overwriting.
  auto again = MakeSink();
  again->Start();
  ASSERT_TRUE(again->Apply(4, 5, s, Rows({{kT0 + 6, 5, "f"}})).ok());
  ASSERT_TRUE(again->FlushAllAndStop().ok());
  EXPECT_EQ(Query("SELECT string_agg(name, ',') FROM '" + Path("p/5/2026-01-15/10/ev-0003.parquet") + "'"), "f");
}

// From the 10,000th file of a partition on, numbers are groups of four digits, which the
// query listing takes for rotation (path_template.h); a file named the old way ("-10000")
// still counts when the next number is chosen.
TEST_F(EventSinkTest, TheTenThousandthFileOfAPartitionIsNamedInGroupsOfFourDigits) {
  const StreamConfig& s = streams_["ev"];
  auto write_one_row = [&](Lsn lsn, const std::string& name) {  // one run of the server
    auto sink = MakeSink();
    sink->Start();
    ASSERT_TRUE(sink->Apply(lsn, lsn + 1, s, Rows({{kT0 + static_cast<int64_t>(lsn), 5, name}})).ok());
    ASSERT_TRUE(sink->FlushAllAndStop().ok());
  };
  const std::string dir = "p/5/2026-01-15/10/";
  write_one_row(1, "a");
  std::filesystem::rename(Path(dir + "ev.parquet"), Path(dir + "ev-9999.parquet"));
  write_one_row(2, "b");
  EXPECT_EQ(Query("SELECT string_agg(name, ',') FROM '" + Path(dir + "ev-0001-0000.parquet") + "'"), "b");
  std::filesystem::rename(Path(dir + "ev-0001-0000.parquet"), Path(dir + "ev-10000.parquet"));
  write_one_row(3, "c");
  EXPECT_EQ(Query("SELECT string_agg(name, ',') FROM '" + Path(dir + "ev-0001-0001.parquet") + "'"), "c");
}

TEST_F(EventSinkTest, MemoryPressureWritesTheLargestBuffersEarly) {
  auto sink = MakeSink(/*memory_limit=*/64 << 10);
  const StreamConfig& s = streams_["ev"];
  std::vector<Row> big, small;
  for (int i = 0; i < 2000; ++i) big.push_back({kT0 + 20 * 60000, 7, std::string(20, 'x')});
  small.push_back({kT0 + 20 * 60000, 8, "s"});
  ASSERT_TRUE(sink->Apply(1, 2, s, Rows(small)).ok());
  ASSERT_TRUE(sink->Apply(2, 3, s, Rows(big)).ok());
  EXPECT_TRUE(sink->OverMemoryLimit());
  sink->Start();  // the hour is open, but the budget is not
  ASSERT_TRUE(WaitFor("p/7/2026-01-15/10/ev.parquet"));
  for (int i = 0; i < 100 && sink->OverMemoryLimit(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(sink->OverMemoryLimit());
  EXPECT_FALSE(storage_->Stat("p/8/2026-01-15/10/ev.parquet").ok());  // the small one waits for its hour
  EXPECT_EQ(sink->TruncationPoint(), 1u);
  ASSERT_TRUE(sink->FlushAllAndStop().ok());
  EXPECT_TRUE(storage_->Stat("p/8/2026-01-15/10/ev.parquet").ok());
}

TEST_F(EventSinkTest, BuffersPinningTheOldLogAreWrittenOnRequest) {
  auto sink = MakeSink();
  sink->Start();
  const StreamConfig& s = streams_["ev"];
  ASSERT_TRUE(sink->Apply(1, 2, s, Rows({{kT0 + 20 * 60000, 1, "old"}})).ok());
  ASSERT_TRUE(sink->Apply(2, 3, s, Rows({{kT0 + 20 * 60000, 2, "new"}})).ok());
  EXPECT_EQ(sink->TruncationPoint(), 1u);
  sink->WriteBuffersBefore(2);  // the hour is still open, but workspace 1 pins record 1
  ASSERT_TRUE(WaitFor("p/1/2026-01-15/10/ev.parquet"));
  for (int i = 0; i < 100 && sink->TruncationPoint() != 2u; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(sink->TruncationPoint(), 2u);
  EXPECT_FALSE(storage_->Stat("p/2/2026-01-15/10/ev.parquet").ok());
  ASSERT_TRUE(sink->FlushAllAndStop().ok());
}

TEST_F(EventSinkTest, AFailedPublishKeepsTheRowsAndAWriteLaterSucceeds) {
  auto sink = MakeSink();
  const StreamConfig& s = streams_["ev"];
  ASSERT_TRUE(sink->Apply(1, 2, s, Rows({{kT0 + 5, 3, "a"}, {kT0 + 6, 3, "b"}})).ok());
  faulty_->fail_publishes = 1;  // the first write fails, as on a full disk
  now_ = kT0 + kHour;
  sink->Start();
  for (int i = 0; i < 300 && sink->Stats().write_errors == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  SinkStats failed = sink->Stats();
  EXPECT_EQ(failed.write_errors, 1u);
  EXPECT_NE(failed.last_error.find("no space left on device"), std::string::npos) << failed.last_error;
  EXPECT_NE(failed.last_error.find("writing 2 ev rows"), std::string::npos) << failed.last_error;
  // Kept, and still pinning the WAL, until a write succeeds.
  ASSERT_TRUE(sink->FlushAllAndStop().ok());
  EXPECT_EQ(Query("SELECT string_agg(name, ',' ORDER BY name) FROM '" + Path("p/3/2026-01-15/10/*.parquet") + "'"), "a,b");
  EXPECT_EQ(sink->Stats().rows_written["ev"], 2u);
  EXPECT_EQ(sink->TruncationPoint(), 2u);
}

TEST_F(EventSinkTest, ABufferOfSeveralChunksIsWrittenWholeAndInOrder) {
  auto sink = MakeSink();
  const StreamConfig& s = streams_["ev"];
  // Three records, 2.5 chunks of rows in all; the second record's rows arrive while the
  // first buffer is being restored after a failed write.
  const size_t per_record = RowChunks::kRowsPerChunk * 5 / 6;
  int64_t next = 0;
  auto record = [&] {
    std::vector<Row> rows;
    for (size_t i = 0; i < per_record; ++i, ++next) rows.push_back({kT0 + next % 1000, 4, std::to_string(next)});
    return Rows(rows);
  };
  ASSERT_TRUE(sink->Apply(1, 2, s, record()).ok());
  ASSERT_TRUE(sink->Apply(2, 3, s, record()).ok());
  faulty_->fail_publishes = 1;
  now_ = kT0 + kHour;
  sink->Start();
  for (int i = 0; i < 300 && sink->Stats().write_errors == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(sink->Apply(3, 4, s, record()).ok());
  ASSERT_TRUE(sink->FlushAllAndStop().ok());
  const std::string files = "read_parquet('" + Path("p/4/2026-01-15/10/*.parquet") +
                            "', filename = true, file_row_number = true)";
  EXPECT_EQ(Query("SELECT count(DISTINCT name) FROM " + files), std::to_string(3 * per_record));
  // Inside each file, rows are in arrival order: each event follows the one before it.
  EXPECT_EQ(Query("SELECT count(*) FROM (SELECT CAST(name AS BIGINT) AS n, lag(CAST(name AS BIGINT)) OVER "
                  "(PARTITION BY filename ORDER BY file_row_number) AS prev FROM " + files +
                  ") WHERE prev IS NOT NULL AND n <> prev + 1"),
            "0");
}

TEST_F(EventSinkTest, AFailedDirectorySyncIsReportedButThePublishedRowsAreNotWrittenAgain) {
  auto sink = MakeSink();
  const StreamConfig& s = streams_["ev"];
  ASSERT_TRUE(sink->Apply(1, 2, s, Rows({{kT0 + 5, 4, "a"}, {kT0 + 6, 4, "b"}})).ok());
  faulty_->fail_syncs = 2;  // the write's sync and the first retry
  now_ = kT0 + kHour;
  sink->Start();
  ASSERT_TRUE(WaitFor("p/4/2026-01-15/10/ev.parquet"));
  // Until a directory sync succeeds, a crash could lose the file's name: the WAL keeps its rows.
  for (int i = 0; i < 300 && sink->Stats().write_errors < 2; ++i) {
    EXPECT_EQ(sink->TruncationPoint(), 1u);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(sink->Stats().write_errors, 2u);
  for (int i = 0; i < 300 && sink->TruncationPoint() == 1u; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(sink->TruncationPoint(), 2u);  // retried, synced, released
  ASSERT_TRUE(sink->FlushAllAndStop().ok());
  SinkStats st = sink->Stats();
  // The file became visible before the sync failed: writing its rows again would duplicate
  // them, so they count as written and the failure is reported.
  EXPECT_EQ(st.write_errors, 2u);
  EXPECT_NE(st.last_error.find("syncing the directories of published files"), std::string::npos) << st.last_error;
  EXPECT_EQ(st.rows_written["ev"], 2u);
  EXPECT_EQ(Query("SELECT count(*) FROM glob('" + Path("p/4/2026-01-15/10/*.parquet") + "')"), "1");
  EXPECT_EQ(Query("SELECT count(*) FROM '" + Path("p/4/2026-01-15/10/*.parquet") + "'"), "2");
}

}  // namespace
}  // namespace pqflow::ingest
