// The catalog: every configured dataset, and every event stream of `pqflow serve`, as a
// DuckDB view of the same name, so `SELECT ... FROM pageviews` works. Views are made per
// query, for the relations it reads, over only the files its partition filters can need
// (partition_pruner.h); a relation without files is an empty view of its declared columns.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/dataset_config.h"
#include "core/path_template.h"
#include "core/status.h"
#include "duck/duck.h"
#include "query/parsed_query.h"
#include "sink/manifest.h"
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
  bool declared_schema = false;  // the manifests show every selected file has the declared columns
  uint64_t live_rows = 0;        // rows read from the server's buffers
  uint64_t bytes_fetched = 0;    // S3: downloaded into the local cache for this query
  size_t files_fetched = 0;
  std::shared_ptr<void> pin;     // keeps the selected files' cached copies; release before the storage goes
};

// A published data file of a relation's layout, with the partition values its path encodes.
struct LayoutFile {
  storage::FileInfo info;
  PartitionValues values;
};

// The manifests a listing found beside a layout's files.
struct ListedManifests {
  std::vector<std::string> paths;              // present when the layout was listed, sorted
  std::map<std::string, sink::Manifest> read;  // those read so far, by path (split_reader.h uses them too)
};

// A relation's files, listed ahead of its view.
struct RelationListing {
  std::vector<LayoutFile> files;  // in path order
  ListedManifests manifests;
};

// By lower-case relation name.
using PrefetchedListings = std::map<std::string, RelationListing>;

// The relations whose names occur in `sql` as identifiers (not inside a string literal or a
// comment). A superset of those the query reads; the guard finds the exact set, later.
std::vector<std::string> RelationsNamedIn(const Config& config, std::string_view sql);

// Lists `relations` (names from RelationsNamedIn) before DuckDB is needed: a one-shot command
// does it while DuckDB starts on another thread. Local storage only, where the manifests are
// also read (up to a bound); a relation whose listing fails is left out, and CreateViews lists
// it again and reports the error in its place.
PrefetchedListings PrefetchListings(const Config& config, storage::Storage& storage,
                                    const std::vector<std::string>& relations);

// Creates a temporary view for each relation in `used` (names as the query spells them),
// over the files of `storage` that the query's partition filters can need, each partition as
// its manifest names it (published_files.h). A relation in `prefetched` is not listed again:
// its listing is taken from there (not used with access.live, which lists at a snapshot).
Result<std::vector<RelationScan>> CreateViews(duck::Connection& conn, const Config& config, storage::Storage& storage,
                                              const ParsedQuery& query, const std::vector<std::string>& used,
                                              const QueryAccess& access, PrefetchedListings* prefetched = nullptr);

}  // namespace pqflow::query
