#include "duck/concurrent.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

namespace pqflow::duck {

Result<std::vector<QueryResult>> RunConcurrently(const Database& db, const std::vector<std::string>& statements,
                                                 int workers, const std::function<void(size_t)>& on_done) {
  std::vector<QueryResult> results(statements.size());
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;  // guards first_error, done and on_done
  std::optional<Status> first_error;
  size_t done = 0;
  auto work = [&] {
    auto conn = Connection::Make(db);
    if (!conn.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      if (!first_error) first_error = conn.status();
      failed = true;
      return;
    }
    for (size_t i = next++; i < statements.size() && !failed; i = next++) {
      auto r = conn->Query(statements[i]);
      std::lock_guard<std::mutex> lock(mu);
      if (!r.ok()) {
        if (!first_error) first_error = r.status();
        failed = true;
        return;
      }
      results[i] = std::move(r).value();
      ++done;
      if (on_done) on_done(done);
    }
  };
  size_t n = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(std::max(workers, 1)), statements.size()));
  std::vector<std::thread> threads;
  for (size_t t = 1; t < n; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  if (first_error) return *first_error;
  return results;
}

}  // namespace pqflow::duck
