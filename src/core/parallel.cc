#include "core/parallel.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace pqflow {

Status ParallelFor(size_t n, int workers, const std::function<Status(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::optional<Status> first_error;
  auto work = [&] {
    for (size_t i = next++; i < n && !failed; i = next++) {
      Status s = fn(i);
      if (s.ok()) continue;
      std::lock_guard<std::mutex> lock(mu);
      if (!first_error) first_error = std::move(s);
      failed = true;
      return;
    }
  };
  size_t threads = std::min<size_t>(static_cast<size_t>(std::max(workers, 1)), n);
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return first_error ? *first_error : Status::OK();
}

int FileWorkers() { return std::max(2, static_cast<int>(std::thread::hardware_concurrency())); }

}  // namespace pqflow
