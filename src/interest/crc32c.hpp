// CRC-32C (Castagnoli), the checksum of every snapshot block.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nowrec::interest {

// Continues a CRC-32C over `size` more bytes; start with crc = 0.
std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t size) noexcept;

// The same by tables alone: the portable path, and the reference the instruction is tested against.
std::uint32_t crc32c_tables(std::uint32_t crc, const void* data, std::size_t size) noexcept;

}  // namespace nowrec::interest
