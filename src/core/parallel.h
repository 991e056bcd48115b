// A bounded fork-join loop for work that is many small, independent, mostly-syscall steps
// (hashing and renaming hundreds of thousands of small files), where two or more threads
// overlap the kernel's per-file latency.
#pragma once

#include <cstddef>
#include <functional>

#include "core/status.h"

namespace pqflow {

// Calls fn(i) for every i in [0, n) on up to `workers` threads (the calling thread is one of
// them). After the first failure no further index is started; that failure is returned.
Status ParallelFor(size_t n, int workers, const std::function<Status(size_t)>& fn);

// Workers for file-system work: the number of cores, at least 2 (the syscalls block).
int FileWorkers();

}  // namespace pqflow
