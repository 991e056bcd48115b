// A storage root in an S3 bucket: s3://bucket/prefix. Files are objects under the prefix;
// an object appears only complete (a single PUT, or a multipart upload that S3 assembles at
// CompleteMultipartUpload), so publishing is uploading. What S3 cannot do locally is kept in
// a local directory: DuckDB's staged output (uploaded, then removed), dataset locks (they
// exclude other pqflow processes on this machine only: two machines must not export the
// same dataset to the same prefix at once), and the read cache (object_cache.h) from which
// queries read the files their partition filters select.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "storage/s3_client.h"
#include "storage/storage.h"

namespace pqflow::storage {

struct S3StorageOptions {
  S3ClientOptions client;  // bucket, endpoint, credentials, retries, part size
  std::string prefix;      // keys are prefix + "/" + path; "" = the bucket's top
  std::string local_dir;   // staging, locks and cache
  uint64_t cache_bytes = uint64_t{4} << 30;
  int parallel_transfers = 8;  // objects uploaded or fetched at once
};

Result<std::unique_ptr<Storage>> MakeS3Storage(S3StorageOptions options);

// The client settings of an s3:// root from the configuration: endpoint, region, path style,
// part size, and credentials from the profile or the standard AWS environment and files.
Result<S3ClientOptions> S3ClientOptionsFor(const StorageConfig& config, const S3Root& root);

}  // namespace pqflow::storage
