#include "core/crash_point.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace pqflow {

void CrashPoint(const char* name) {
  const char* at = std::getenv("PQFLOW_CRASH_AT");
  if (at != nullptr && std::strcmp(at, name) == 0) ::_exit(86);
}

}  // namespace pqflow
