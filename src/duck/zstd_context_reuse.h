#pragma once

#include <cstdint>

namespace pqflow::duck {

// How many of DuckDB's zstd page compressions and decompressions in this process ran on a
// reused per-thread context (zstd_context_reuse.cc). Zero while DuckDB has compressed pages
// means the binary does not export the replacements and DuckDB uses its own.
uint64_t ZstdCallsOnReusedContexts();

}  // namespace pqflow::duck
