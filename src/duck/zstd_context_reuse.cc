// One zstd context per thread for DuckDB's Parquet pages.
//
// DuckDB 1.4.4 compresses each Parquet page with zstd's one-shot ZSTD_compress and
// decompresses it with ZSTD_decompress. Both build a fresh context on every call, and
// building one runs the CPUID instruction twice (zstd checks for BMI2). In a virtual machine
// CPUID traps to the hypervisor: on this project's 2-vCPU machines those two instructions were
// 19% of the CPU time of an export into 206,795 one-file partitions (~3 million pages).
//
// libduckdb.so calls both functions through its PLT, so the definitions below, in the pqflow
// binary, take their place (the build exports them from the executable; see
// pqflow_reuse_zstd_contexts in cmake/Dependencies.cmake). They do what zstd's own one-shot
// functions do, with a context kept per thread instead of made per call: zstd documents
// ZSTD_compressCCtx and ZSTD_decompressDCtx as the one-shot functions on an explicit
// context, ignoring any parameter set on it before, so pages come out byte for byte the same
// (zstd_context_reuse_test.cc compares them with libduckdb's own functions).
//
// The declarations are those of DuckDB's bundled zstd (namespace duckdb_zstd, C++ linkage),
// pinned with DuckDB itself in scripts/bootstrap.sh.

#include "duck/zstd_context_reuse.h"

#include <atomic>
#include <cstddef>

namespace duckdb_zstd {

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;
ZSTD_CCtx_s* ZSTD_createCCtx();
size_t ZSTD_freeCCtx(ZSTD_CCtx_s* cctx);
size_t ZSTD_compressCCtx(ZSTD_CCtx_s* cctx, void* dst, size_t dst_capacity, const void* src, size_t src_size,
                         int level);
ZSTD_DCtx_s* ZSTD_createDCtx();
size_t ZSTD_freeDCtx(ZSTD_DCtx_s* dctx);
size_t ZSTD_decompressDCtx(ZSTD_DCtx_s* dctx, void* dst, size_t dst_capacity, const void* src, size_t src_size);

size_t ZSTD_compress(void* dst, size_t dst_capacity, const void* src, size_t src_size, int level);
size_t ZSTD_decompress(void* dst, size_t dst_capacity, const void* src, size_t src_size);

}  // namespace duckdb_zstd

namespace {

// zstd's error code for a failed allocation (ZSTD_error_memory_allocation), as ZSTD_isError
// recognises it: the negated enum value.
constexpr size_t kZstdMemoryAllocationError = static_cast<size_t>(-64);

std::atomic<uint64_t> reused_calls{0};

struct ThreadContexts {
  duckdb_zstd::ZSTD_CCtx_s* compress = nullptr;
  duckdb_zstd::ZSTD_DCtx_s* decompress = nullptr;
  ~ThreadContexts() {
    if (compress != nullptr) duckdb_zstd::ZSTD_freeCCtx(compress);
    if (decompress != nullptr) duckdb_zstd::ZSTD_freeDCtx(decompress);
  }
};

ThreadContexts& Contexts() {
  thread_local ThreadContexts contexts;
  return contexts;
}

}  // namespace

namespace duckdb_zstd {

size_t ZSTD_compress(void* dst, size_t dst_capacity, const void* src, size_t src_size, int level) {
  ThreadContexts& t = Contexts();
  if (t.compress == nullptr) t.compress = ZSTD_createCCtx();
  if (t.compress == nullptr) return kZstdMemoryAllocationError;
  reused_calls.fetch_add(1, std::memory_order_relaxed);
  return ZSTD_compressCCtx(t.compress, dst, dst_capacity, src, src_size, level);
}

size_t ZSTD_decompress(void* dst, size_t dst_capacity, const void* src, size_t src_size) {
  ThreadContexts& t = Contexts();
  if (t.decompress == nullptr) t.decompress = ZSTD_createDCtx();
  if (t.decompress == nullptr) return kZstdMemoryAllocationError;
  reused_calls.fetch_add(1, std::memory_order_relaxed);
  return ZSTD_decompressDCtx(t.decompress, dst, dst_capacity, src, src_size);
}

}  // namespace duckdb_zstd

namespace pqflow::duck {

uint64_t ZstdCallsOnReusedContexts() { return reused_calls.load(std::memory_order_relaxed); }

}  // namespace pqflow::duck
