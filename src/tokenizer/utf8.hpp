// UTF-8 decoding and lossy repair with the same replacement rule as Rust's
// String::from_utf8_lossy (one U+FFFD per maximal invalid subpart).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nowrec::detail {

inline constexpr char32_t kReplacementChar = 0xFFFD;

struct Utf8Char {
  char32_t code_point = 0;   // kReplacementChar when the bytes are invalid
  std::uint32_t length = 0;  // bytes consumed: a whole character or one maximal invalid subpart
  bool valid = false;
};

// Decodes the character at `p`; `end` bounds the input and must be greater than `p`.
Utf8Char decode_utf8(const unsigned char* p, const unsigned char* end) noexcept;

// Writes the UTF-8 form of a valid scalar value to `out` (room for 4 bytes); returns its length.
std::size_t encode_utf8(char32_t code_point, char* out) noexcept;

// The offset of the first byte of `text` that does not begin a valid UTF-8 character (a
// maximal invalid subpart starts there), or text.size() when the whole text is valid.
std::size_t first_invalid_utf8(std::string_view text) noexcept;

inline bool is_valid_utf8(std::string_view text) noexcept {
  return first_invalid_utf8(text) == text.size();
}

// Replaces every maximal invalid subpart of `text` with U+FFFD. `origin` receives
// repaired.size() + 1 entries: origin[i] is the offset in `text` of the character that starts at
// repaired[i] (at character boundaries; the last entry is text.size()), so a byte range
// [b, e) of the repaired text maps back to [origin[b], origin[e]).
void repair_utf8(std::string_view text, std::string& repaired, std::vector<std::uint32_t>& origin);

}  // namespace nowrec::detail
