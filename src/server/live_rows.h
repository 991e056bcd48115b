// The event sink's buffers as a query::LiveRowSource: server-side queries of a stream read
// its Parquet files and the rows acknowledged since, as one consistent snapshot.
#pragma once

#include "core/dataset_config.h"
#include "ingest/event_sink.h"
#include "query/catalog.h"

namespace pqflow::server {

class SinkLiveRows : public query::LiveRowSource {
 public:
  SinkLiveRows(const Config& config, const ingest::EventSink& sink) : config_(config), sink_(sink) {}

  Result<bool> Snapshot(duck::Connection& conn, const std::string& relation, const std::string& table,
                        const std::function<Status()>& list_files) const override;

 private:
  const Config& config_;
  const ingest::EventSink& sink_;
};

}  // namespace pqflow::server
