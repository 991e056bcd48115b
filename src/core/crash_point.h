// Test-only crash points. When the environment variable PQFLOW_CRASH_AT names a point, the
// process ends there at once with _exit(86): no destructors, no flushing, as after a
// SIGKILL. Tests use it to stop a run at an exact step instead of racing a kill against it.
#pragma once

namespace pqflow {

void CrashPoint(const char* name);

}  // namespace pqflow
