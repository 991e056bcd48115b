// CRC-32C (Castagnoli), the checksum of every WAL record and segment header (docs/wal.md).
// The SSE 4.2 instruction where the CPU has it (~20 GB/s), else portable slicing-by-8
// (about 1.5-3 GB/s); the two are tested against each other.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pqflow::wal {

// The CRC-32C of data[0, n): crc32c("123456789") == 0xE3069283.
uint32_t Crc32c(const void* data, size_t n);

// The CRC-32C of A followed by data[0, n), given crc == Crc32c(A): checksums a record in
// pieces without copying them together.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n);

// Crc32cExtend without the hardware instruction, for tests.
uint32_t Crc32cSoftware(uint32_t crc, const void* data, size_t n);

}  // namespace pqflow::wal
