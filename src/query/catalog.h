// The catalog: every configured dataset, and every event stream of `pqflow serve`, as a
// DuckDB view of the same name, so `SELECT ... FROM pageviews` works. Views are made per
// query, for the relations it reads, over only the files its partition filters can need
// (partition_pruner.h); a relation without files is an empty view of its declared columns.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/dataset_config.h"
#include "core/status.h"
#include "duck/duck.h"
#include "storage/storage.h"

namespace pqflow::query {

// One queryable relation: a dataset or an event stream.
struct Relation {
  std::string name;
  std::string layout;
  std::vector<ColumnSpec> columns;  // declared columns; those with in_file = false are not in the view
  std::string time_column;
  std::string tenant_column;        // empty: the relation has no tenant (workspace) column
  std::string project_column;       // empty: the relation has no project column
};

// Datasets first, then the streams whose name no dataset has.
std::vector<Relation> ListRelations(const Config& config);
std::vector<std::string> RelationNames(const Config& config);

// Rows acknowledged by `pqflow serve` but not yet in Parquet files: a stream's view then
// reads its files and these rows, so a dashboard is current to the second.
class LiveRowSource {
 public:
  virtual ~LiveRowSource() = default;
  // Creates temporary table `table` with the buffered rows of `relation` and runs
  // `list_files` in the same instant, so that every row is in exactly one of the two.
  // Returns false (and creates nothing) when the relation is not a stream of this server.
  virtual Result<bool> Snapshot(duck::Connection& conn, const std::string& relation, const std::string& table,
                                const std::function<Status()>& list_files) const = 0;
};

// The columns of a relation's view and their DuckDB types (the declared file columns, then
// the layout's hive keys), without listing or reading any file.
Result<std::vector<std::pair<std::string, std::string>>> RelationColumnTypes(duck::Connection& conn,
                                                                              const Relation& rel);

// Who is asking: a key restricted to workspaces (projects) sees only their rows, and no
// relation without a tenant (project) column.
struct QueryAccess {
  std::vector<uint64_t> workspaces;  // empty = every workspace
  std::vector<std::string> projects; // empty = every project
  const LiveRowSource* live = nullptr;  // the server's buffers; none for the CLI
};

// What pruning left of a relation, for --explain and the bytes-read figure.
struct RelationScan {
  std::string relation;
  size_t files_total = 0;
  size_t files_selected = 0;
  uint64_t bytes_total = 0;
  uint64_t bytes_selected = 0;
  std::string partition_filter;  // the predicate used on the partition values ("" = none)
  std::string split;             // the split read instead of the main layout ("" = none)
  size_t split_partitions = 0;   // main partitions read from it, of partitions_selected
  size_t partitions_selected = 0;
  uint64_t live_rows = 0;        // rows read from the server's buffers
  uint64_t bytes_fetched = 0;    // S3: downloaded into the local cache for this query
  size_t files_fetched = 0;
  std::shared_ptr<void> pin;     // keeps the selected files' cached copies; release before the storage goes
};

// Creates a temporary view for each relation in `used` (names as the query spells them),
// over the files of `storage` that `sql`'s partition filters can need.
Result<std::vector<RelationScan>> CreateViews(duck::Connection& conn, const Config& config, storage::Storage& storage,
                                              const std::string& sql, const std::vector<std::string>& used,
                                              const QueryAccess& access);

}  // namespace pqflow::query
