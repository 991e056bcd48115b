// pqflow-bench-ingest-steps: the CPU cost of each step `pqflow serve` takes per ingested
// batch, in one process and without HTTP, so that a change to one step can be measured
// apart from the whole-server benchmark (bench/run_ingest_bench.sh), whose events/s swing
// by ±15% between runs on a shared 2-core VM.
//
// Batches are 1,000 seed-004 events shaped like pqflow-loadgen's (uuids, an IPv4 address,
// a JSON payload, ~360 bytes a line) over 20 workspaces in one hour.
//
//   decode       NDJSON body -> typed rows (NdjsonDecoder); in place: as serve does, from a
//                buffer with room after the body, which is then not copied
//   apply        rows -> per-(workspace, hour) buffers (EventSink::Apply, on the WAL thread)
//   write        a buffer of 100,000 rows -> one Parquet file with the stream's codec and row
//                group size (ParquetFileWriter, DuckDB's writer), into the page cache, not synced
//
// Usage: build/bench/pqflow-bench-ingest-steps [--benchmark_repetitions=5 ...]
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "core/dataset_config.h"
#include "duck/duck.h"
#include "ingest/event_sink.h"
#include "ingest/ndjson_decoder.h"
#include "ingest/parquet_file_writer.h"
#include "ingest/row_batch.h"
#include "storage/storage.h"

namespace {

using namespace pqflow;

constexpr int64_t kHourStartMs = 1768471200000;  // 2026-01-15T10:00:00Z

// A deterministic generator (64-bit LCG), enough for realistic field shapes.
struct Lcg {
  uint64_t state;
  uint64_t Next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 17;
  }
};

std::string Uuid(Lcg& rng) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
    out += kHex[rng.Next() % 16];
  }
  return out;
}

std::string Batch(size_t events, uint64_t seed) {
  static const char* kTypes[] = {"track", "track", "track", "identify", "group"};
  static const char* kNames[] = {"page_view", "button_click", "search", "add_to_cart", "login"};
  Lcg rng{seed};
  std::string body;
  for (size_t i = 0; i < events; ++i) {
    const uint64_t ws = 1 + rng.Next() % 20;
    char ip[32];
    std::snprintf(ip, sizeof ip, "10.%u.%u.%u", static_cast<unsigned>(rng.Next() % 256),
                  static_cast<unsigned>(rng.Next() % 256), static_cast<unsigned>(rng.Next() % 256));
    body += "{\"timestamp\":" + std::to_string(kHourStartMs + static_cast<int64_t>(rng.Next() % 3'600'000)) +
            ",\"workspace_id\":" + std::to_string(ws) + ",\"event_type\":\"" + kTypes[rng.Next() % 5] +
            "\",\"event_name\":\"" + kNames[rng.Next() % 5] + "\",\"device_id\":\"" + Uuid(rng) +
            "\",\"session_id\":\"" + Uuid(rng) + "\",\"source_ip\":\"" + ip + "\",\"payload\":{\"seq\":" +
            std::to_string(i) + ",\"path\":\"/docs/guide/page-" + std::to_string(rng.Next() % 400) +
            "\",\"referrer\":\"https://www.google.com/\",\"duration_ms\":" + std::to_string(rng.Next() % 5000) +
            "}}\n";
  }
  return body;
}

StreamConfig EventsStream() {
  for (StreamConfig& s : BuiltinStreams()) {
    if (s.name == "events") return s;
  }
  std::fprintf(stderr, "no built-in events stream\n");
  std::abort();
}

void BM_Decode(benchmark::State& state) {
  const StreamConfig stream = EventsStream();
  const std::string body = Batch(1000, 42);
  ingest::NdjsonDecoder decoder(stream);
  for (auto _ : state) {
    ingest::DecodedBatch batch = decoder.Decode(body, kHourStartMs + 3'600'000);
    if (!batch.errors.empty()) state.SkipWithError(batch.errors[0].reason.c_str());
    benchmark::DoNotOptimize(batch);
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMicrosecond);

// As the server decodes: the body's buffer has the decoder's padding after it, so it is
// parsed where it is instead of being copied first.
void BM_DecodeInPlace(benchmark::State& state) {
  const StreamConfig stream = EventsStream();
  std::string body = Batch(1000, 42);
  const size_t size = body.size();
  body.append(ingest::kDecodePadding, '\0');
  body.resize(size);
  ingest::NdjsonDecoder decoder(stream);
  for (auto _ : state) {
    ingest::DecodedBatch batch = decoder.Decode(body, kHourStartMs + 3'600'000, 100, body.capacity() - body.size());
    if (!batch.errors.empty()) state.SkipWithError(batch.errors[0].reason.c_str());
    benchmark::DoNotOptimize(batch);
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(size));
}
BENCHMARK(BM_DecodeInPlace)->Unit(benchmark::kMicrosecond);

// Buffers grow as in a server under load: the argument's number of batches (200: ~10,000
// rows per buffer; 2,000: ~100,000 rows, 35 MB, as with serve's default 512 MB budget over
// 20 workspaces) before the sink is dropped and a new one starts; nothing is written.
void BM_Apply(benchmark::State& state) {
  std::map<std::string, StreamConfig> streams{{"events", EventsStream()}};
  const StreamConfig& stream = streams["events"];
  ingest::NdjsonDecoder decoder(stream);
  std::vector<ingest::DecodedBatch> batches;
  for (uint64_t seed = 0; seed < 16; ++seed) batches.push_back(decoder.Decode(Batch(1000, seed), kHourStartMs));
  auto db = duck::Database::Open({});
  if (!db.ok()) return state.SkipWithError(db.status().message().c_str());
  const std::string root = "/tmp/pqflow-bench-ingest-steps";
  auto storage = storage::MakeLocalStorage(root);
  ingest::SinkOptions options;
  options.memory_limit = int64_t{4} << 30;  // never reached: nothing is written
  options.now_ms = [] { return kHourStartMs; };
  std::unique_ptr<ingest::EventSink> sink;
  uint64_t lsn = 0;
  size_t applied = 0;
  for (auto _ : state) {
    if (applied % static_cast<size_t>(state.range(0)) == 0) {
      state.PauseTiming();
      sink.reset();
      auto made = ingest::EventSink::Make(streams, storage.get(), &*db, options);
      if (!made.ok()) return state.SkipWithError(made.status().message().c_str());
      sink = std::move(*made);
      sink->Start();  // out of recovery; its hour stays open, so nothing is written
      state.ResumeTiming();
    }
    const ingest::RowBatch& rows = batches[applied % batches.size()].rows;
    Status s = sink->Apply(lsn, lsn + 1, stream, rows);
    if (!s.ok()) return state.SkipWithError(s.message().c_str());
    ++lsn;
    ++applied;
  }
  sink.reset();
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_Apply)->Arg(200)->Arg(2000)->Unit(benchmark::kMicrosecond);

// The step that turns a buffer into a file: the rows of 100 batches, of 20 workspaces as
// serve's buffers hold one each, written as one file of 100,000 rows (a buffer at serve's
// default row limit).
void BM_WriteParquet(benchmark::State& state) {
  const StreamConfig stream = EventsStream();
  ingest::NdjsonDecoder decoder(stream);
  std::vector<ColumnType> types;
  for (const auto& c : stream.columns) types.push_back(c.type);
  ingest::RowChunks rows(types);
  for (uint64_t seed = 0; seed < 100; ++seed) {
    ingest::DecodedBatch batch = decoder.Decode(Batch(1000, seed), kHourStartMs);
    std::vector<uint32_t> all(batch.rows.rows());
    for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
    rows.AppendRows(batch.rows, all);
  }
  auto db = duck::Database::Open({});
  if (!db.ok()) return state.SkipWithError(db.status().message().c_str());
  auto writer = ingest::ParquetFileWriter::Make(*db);
  if (!writer.ok()) return state.SkipWithError(writer.status().message().c_str());
  const std::string path = "/tmp/pqflow-bench-ingest-steps.parquet";
  for (auto _ : state) {
    Status s = (*writer)->Write(stream, rows, path, {{"pqflow_stream", "events"}});
    if (!s.ok()) return state.SkipWithError(s.message().c_str());
  }
  std::remove(path.c_str());
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(rows.rows()));
}
BENCHMARK(BM_WriteParquet)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();

}  // namespace

BENCHMARK_MAIN();
