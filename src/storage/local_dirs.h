// Local-directory steps that both storages take: the local root keeps staging and locks under
// <root>/.pqflow, an S3 root under storage.cache_dir.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "storage/storage.h"

namespace pqflow::storage {

// Creates or replaces the local file `path` with `data` (no sync); errors say "writing `name`".
Status WriteLocalFile(const std::string& path, std::string_view data, const std::string& name);
// Removes what a killed run left in `dir`, then creates it empty.
Result<std::string> MakeEmptyDir(const std::string& dir);
Status RemoveDirTree(const std::string& dir);
// An exclusive flock on `lock_path` (created with its parents), held by the returned object;
// FailedPrecondition naming `what` when another process holds it.
Result<std::unique_ptr<DatasetLock>> LockFile(const std::string& lock_path, const std::string& what);

}  // namespace pqflow::storage
