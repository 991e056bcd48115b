// Small text helpers shared across modules.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pqflow {

// ASCII lower case, as DuckDB folds identifiers and HTTP/S3 fold header names.
std::string AsciiLower(std::string_view s);

// "855.5 KB": a byte count for people (1024-based, one decimal above bytes).
std::string HumanBytes(int64_t bytes);

}  // namespace pqflow
