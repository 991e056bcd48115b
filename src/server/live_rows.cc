#include "server/live_rows.h"

#include "ingest/parquet_file_writer.h"

namespace pqflow::server {

Result<bool> SinkLiveRows::Snapshot(duck::Connection& conn, const std::string& relation, const std::string& table,
                                    const std::function<Status()>& list_files) const {
  // A dataset of the same name hides the stream from queries (query::ListRelations).
  if (config_.datasets.count(relation) != 0) return false;
  auto stream = config_.FindStream(relation);
  if (!stream.ok()) return false;
  PQ_ASSIGN_OR_RETURN(ingest::RowBatch rows, sink_.SnapshotBuffered(relation, list_files));
  PQ_RETURN_IF_ERROR(ingest::CreateTableFromRows(conn, **stream, rows, table));
  return true;
}

}  // namespace pqflow::server
