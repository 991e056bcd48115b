// libpq, opened when a PostgreSQL source first connects (core/dynamic_library.h says why).
#pragma once

#include "core/status.h"

namespace pqflow::source {

// Loads libpq once per process; the error says which package to install. Calling a libpq
// function loads it too, but can only abort when it is missing: call this first.
Status LoadLibPq();

}  // namespace pqflow::source
