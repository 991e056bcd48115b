#include "wal/wal_format.h"

#include <cstdio>
#include <cstring>

#include "wal/crc32c.h"

namespace pqflow::wal {

namespace {

constexpr std::string_view kMagic = "PQWAL";
constexpr std::string_view kSegmentSuffix = ".wal";
constexpr size_t kSegmentNameDigits = 20;  // UINT64_MAX has 20 digits

void StoreLe(char* p, uint64_t v, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

uint64_t LoadLe(const char* p, size_t bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

std::string Hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

}  // namespace

std::string SegmentFileName(Lsn first_lsn) {
  char buf[kSegmentNameDigits + 1];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(first_lsn));
  return std::string(buf) + std::string(kSegmentSuffix);
}

std::optional<Lsn> ParseSegmentFileName(std::string_view name) {
  if (name.size() != kSegmentNameDigits + kSegmentSuffix.size() || !name.ends_with(kSegmentSuffix)) return std::nullopt;
  Lsn lsn = 0;
  for (size_t i = 0; i < kSegmentNameDigits; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    Lsn digit = static_cast<Lsn>(c - '0');
    if (lsn > (UINT64_MAX - digit) / 10) return std::nullopt;
    lsn = lsn * 10 + digit;
  }
  return lsn;
}

std::array<char, kSegmentHeaderBytes> EncodeSegmentHeader(Lsn first_lsn) {
  std::array<char, kSegmentHeaderBytes> h{};
  std::memcpy(h.data(), kMagic.data(), kMagic.size());
  h[5] = static_cast<char>(kFormatVersion);
  StoreLe(h.data() + 8, first_lsn, 8);
  StoreLe(h.data() + 16, Crc32c(h.data(), 16), 4);
  return h;
}

Result<Lsn> DecodeSegmentHeader(std::string_view header) {
  if (header.size() < kSegmentHeaderBytes) {
    return Status::Corruption(std::to_string(header.size()) + " bytes, shorter than the " +
                              std::to_string(kSegmentHeaderBytes) + "-byte segment header");
  }
  if (header.substr(0, kMagic.size()) != kMagic) {
    return Status::Corruption("it does not start with \"PQWAL\"");
  }
  auto stored = static_cast<uint32_t>(LoadLe(header.data() + 16, 4));
  uint32_t computed = Crc32c(header.data(), 16);
  if (stored != computed) {
    return Status::Corruption("its header checksum is wrong (stored " + Hex32(stored) +
                              ", computed " + Hex32(computed) + ")");
  }
  auto version = static_cast<uint8_t>(header[5]);
  if (version != kFormatVersion) {
    return Status::FailedPrecondition("format version " + std::to_string(version) + ", but this pqflow reads version " +
                                      std::to_string(kFormatVersion) + " only; open it with the pqflow that wrote it");
  }
  return LoadLe(header.data() + 8, 8);
}

uint32_t RecordCrc(uint32_t payload_crc, Lsn lsn, uint8_t type, uint32_t length) {
  char trailer[13];
  StoreLe(trailer, lsn, 8);
  trailer[8] = static_cast<char>(type);
  StoreLe(trailer + 9, length, 4);
  return Crc32cExtend(payload_crc, trailer, sizeof trailer);
}

std::array<char, kRecordHeaderBytes> EncodeRecordHeader(uint32_t length, uint8_t type, uint32_t crc) {
  std::array<char, kRecordHeaderBytes> h{};
  StoreLe(h.data(), length, 4);
  h[4] = static_cast<char>(type);
  StoreLe(h.data() + 5, crc, 4);
  return h;
}

size_t PayloadBytesToRead(std::string_view header) {
  if (header.size() < kRecordHeaderBytes || header[4] == 0) return 0;
  uint64_t length = LoadLe(header.data(), 4);
  return length > kMaxPayloadBytes ? 0 : static_cast<size_t>(length);
}

ParsedRecord ParseRecord(std::string_view bytes, Lsn lsn) {
  ParsedRecord out;
  if (bytes.size() < kRecordHeaderBytes) {
    out.problem = "only " + std::to_string(bytes.size()) + " of the " + std::to_string(kRecordHeaderBytes) +
                  " bytes of a record header before the end of the file";
    return out;
  }
  auto length = static_cast<uint32_t>(LoadLe(bytes.data(), 4));
  auto type = static_cast<uint8_t>(bytes[4]);
  auto stored = static_cast<uint32_t>(LoadLe(bytes.data() + 5, 4));
  if (type == 0) {
    out.problem = "record type 0, which is never written (zeros or garbage where a record should start)";
    return out;
  }
  if (length > kMaxPayloadBytes) {
    out.problem = "record length " + std::to_string(length) +
                  " is over the 64 MiB limit (garbage where a record should start)";
    return out;
  }
  if (bytes.size() - kRecordHeaderBytes < length) {
    out.problem = "record payload cut short: " + std::to_string(bytes.size() - kRecordHeaderBytes) + " of " +
                  std::to_string(length) + " bytes before the end of the file";
    return out;
  }
  std::string_view payload = bytes.substr(kRecordHeaderBytes, length);
  uint32_t computed = RecordCrc(Crc32c(payload.data(), payload.size()), lsn, type, length);
  if (stored != computed) {
    out.problem = "record checksum mismatch (stored " + Hex32(stored) + ", computed " + Hex32(computed) + ")";
    return out;
  }
  out.record = Record{lsn, type, payload, {}};
  out.frame_bytes = kRecordHeaderBytes + length;
  return out;
}

}  // namespace pqflow::wal
