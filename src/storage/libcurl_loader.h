// libcurl, opened when an S3 client is first made (core/dynamic_library.h says why).
#pragma once

#include "core/status.h"

namespace pqflow::storage {

// Loads libcurl once per process; the error says which package to install. Calling a curl
// function loads it too, but can only abort when it is missing: call this first.
Status LoadLibCurl();

}  // namespace pqflow::storage
