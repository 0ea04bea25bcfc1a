// UTF-8 decoding and lossy repair (see utf8.hpp).
#include "tokenizer/utf8.hpp"

#include <cstring>

namespace nowrec::detail {
namespace {

bool is_continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

}  // namespace

Utf8Char decode_utf8(const unsigned char* p, const unsigned char* end) noexcept {
  const unsigned char lead = p[0];
  if (lead < 0x80) return {lead, 1, true};
  // The bounds of the second byte depend on the lead byte: they exclude overlong forms,
  // surrogates and values above U+10FFFF (Unicode table 3-7). A lead byte outside C2..F4 is a
  // maximal subpart of its own.
  std::uint32_t need = 0;
  unsigned char low = 0x80, high = 0xBF;
  char32_t value = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 1;
    value = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 2;
    value = lead & 0x0F;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 3;
    value = lead & 0x07;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return {kReplacementChar, 1, false};
  }
  std::uint32_t length = 1;
  for (std::uint32_t i = 0; i < need; ++i) {
    if (p + length >= end) return {kReplacementChar, length, false};
    const unsigned char byte = p[length];
    const bool in_range = i == 0 ? (byte >= low && byte <= high) : is_continuation(byte);
    if (!in_range) return {kReplacementChar, length, false};
    value = (value << 6) | (byte & 0x3F);
    ++length;
  }
  return {value, length, true};
}

std::size_t encode_utf8(char32_t cp, char* out) noexcept {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

std::size_t first_invalid_utf8(std::string_view text) noexcept {
  const auto* begin = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = begin + text.size();
  const auto* p = begin;
  while (p < end) {
    // Most text is ASCII: skip it eight bytes at a time.
    while (end - p >= 8) {
      std::uint64_t chunk;
      std::memcpy(&chunk, p, 8);
      if (chunk & 0x8080808080808080ULL) break;
      p += 8;
    }
    if (p == end) break;
    if (*p < 0x80) {
      ++p;
      continue;
    }
    const Utf8Char c = decode_utf8(p, end);
    if (!c.valid) return static_cast<std::size_t>(p - begin);
    p += c.length;
  }
  return text.size();
}

void repair_utf8(std::string_view text, std::string& repaired, std::vector<std::uint32_t>& origin) {
  repaired.clear();
  origin.clear();
  const auto* begin = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = begin + text.size();
  const auto* p = begin;
  char buffer[4];
  while (p < end) {
    const Utf8Char c = decode_utf8(p, end);
    const auto at = static_cast<std::uint32_t>(p - begin);
    if (c.valid) {
      repaired.append(reinterpret_cast<const char*>(p), c.length);
      for (std::uint32_t i = 0; i < c.length; ++i) origin.push_back(at + i);
    } else {
      const std::size_t n = encode_utf8(kReplacementChar, buffer);
      repaired.append(buffer, n);
      origin.insert(origin.end(), n, at);
    }
    p += c.length;
  }
  origin.push_back(static_cast<std::uint32_t>(text.size()));
}

}  // namespace nowrec::detail
