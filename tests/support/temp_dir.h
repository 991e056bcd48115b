// A fresh directory under $TMPDIR (or /tmp) for one test, removed with everything in it
// when the object is destroyed. Shared by the unit tests and the end-to-end harness.
#pragma once

#include <string>

namespace pqflow::testing {

class TempDir {
 public:
  TempDir();  // throws std::runtime_error if no directory can be created
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

}  // namespace pqflow::testing
