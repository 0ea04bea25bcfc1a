// libFuzzer target: the default model's tokenizer on arbitrary bytes. Set NOWREC_MODEL to the
// model folder; without it every input is skipped.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "nowrec/tokenizer.hpp"

namespace {

const nowrec::Tokenizer* tokenizer() {
  static const std::unique_ptr<nowrec::Tokenizer> loaded =
      []() -> std::unique_ptr<nowrec::Tokenizer> {
    const char* dir = std::getenv("NOWREC_MODEL");
    if (dir == nullptr || *dir == '\0') return nullptr;
    return std::make_unique<nowrec::Tokenizer>(nowrec::Tokenizer::load(std::filesystem::path(dir)));
  }();
  return loaded.get();
}

// The invariants every encoding keeps, whatever the input; a breach stops the fuzzer.
void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const nowrec::Tokenizer* tok = tokenizer();
  if (tok == nullptr || size == 0) return 0;
  // The first byte picks the options, the rest is the text.
  const std::uint8_t selector = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  nowrec::TokenizeOptions options;
  options.add_special_tokens = (selector & 1) != 0;
  options.truncate = (selector & 2) != 0;
  options.max_length = (selector & 4) != 0 ? (selector >> 3) : 0;
  options.padding = (selector & 0x80) != 0 ? nowrec::Padding::MaxLength : nowrec::Padding::None;

  const nowrec::Encoding encoding = tok->encode(text, options);
  const std::size_t n = encoding.ids.size();
  check(encoding.type_ids.size() == n && encoding.attention_mask.size() == n &&
        encoding.offsets.size() == n);
  for (std::size_t i = 0; i < n; ++i) {
    check(encoding.ids[i] >= 0 && static_cast<std::size_t>(encoding.ids[i]) < tok->vocab_size());
    check(encoding.offsets[i].begin <= encoding.offsets[i].end);
    check(encoding.offsets[i].end <= text.size());
  }
  if (options.truncate && options.padding == nowrec::Padding::None) {
    const std::size_t limit = options.max_length != 0 ? options.max_length : tok->max_length();
    check(limit == 0 || n <= std::max<std::size_t>(limit, 2));
  }
  std::vector<std::int32_t> ids;
  tok->encode_ids(text, ids, options);
  check(ids == encoding.ids);
  return 0;
}
