#include "temp_dir.h"

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>

namespace pqflow::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  // mkdtemp replaces the trailing XXXXXX with a unique suffix.
  std::string tmpl = (fs::temp_directory_path() / "pqflow-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace pqflow::testing
