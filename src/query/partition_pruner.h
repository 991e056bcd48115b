// Partition pruning: which files of a dataset a query can need, judged from its WHERE
// clauses against the values each file's path encodes ({date}, {project_slug}, ...).
//
// DuckDB parses the query (json_serialize_sql); pqflow takes the conjuncts of each WHERE
// that mention only partition columns of one dataset and evaluates them, with DuckDB's own
// semantics, over a small table holding one row per file. A conjunct is used only where
// dropping the rows it rejects cannot change the answer: the dataset is read once in the
// whole query, the conjunct is a top-level AND term of the WHERE of the SELECT that reads
// it, not on the NULL-filled side of an outer join, with no subquery, parameter or volatile
// function. Anything else keeps every file: pruning may read too much, never too little.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "duck/duck.h"
#include "query/parsed_query.h"

namespace pqflow::query {

// A column whose value a file's path tells. An exact column holds one value per file
// ({project_slug}, or a DATE time column of a daily layout); a range column's values lie in
// [__lo, __hi) of the file (a timestamp column of an hourly layout, a DATE column of a
// monthly one).
struct PartitionColumn {
  std::string name;
  std::string sql_type;
  bool exact = true;
};

struct RelationPartitioning {
  std::string relation;                  // the view name the query uses
  std::vector<PartitionColumn> columns;  // at most one range column
  // Every column of the view: a bare `current_date` that names none of them is DuckDB's
  // current date (its parser cannot tell), and a condition on it can prune.
  std::vector<std::string> all_columns;
  // String columns that the layout does not encode but a split of the dataset does
  // (query/split_reader.h): their `= 'text'` and `IN ('a', 'b')` conjuncts are collected as pins.
  std::vector<std::string> pin_columns;
};

// Per relation, per pin column: the only values a row may have for the query to want it
// (the intersection over every usable conjunct naming the column).
using PartitionPins = std::map<std::string, std::map<std::string, std::vector<std::string>>>;

// For each relation the query lets us prune: a SQL predicate over a table whose columns are
// the exact partition columns by name and, for the range column, __lo and __hi. Relations
// the query does not filter on are absent.
// Under the same rules, `pins` (when given) receives the pins of each relation.
Result<std::map<std::string, std::string>> ExtractPartitionPredicates(
    duck::Connection& conn, const ParsedQuery& query, const std::vector<RelationPartitioning>& relations,
    PartitionPins* pins = nullptr);

}  // namespace pqflow::query
