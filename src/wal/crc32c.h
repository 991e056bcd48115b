// CRC-32C (Castagnoli), the checksum of every WAL record and segment header (docs/wal.md).
// Portable slicing-by-8; about 1.5-3 GB/s, enough for the WAL, where appending threads
// checksum their own payloads in parallel.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pqflow::wal {

// The CRC-32C of data[0, n): crc32c("123456789") == 0xE3069283.
uint32_t Crc32c(const void* data, size_t n);

// The CRC-32C of A followed by data[0, n), given crc == Crc32c(A): checksums a record in
// pieces without copying them together.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n);

}  // namespace pqflow::wal
