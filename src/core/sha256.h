// SHA-256 of files and strings, as lowercase hex (OpenSSL's EVP interface).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace pqflow {

Result<std::string> Sha256File(const std::string& path);
std::string Sha256Hex(std::string_view data);

}  // namespace pqflow
