// libFuzzer target: the default model's tokenizer on arbitrary bytes. NOWREC_MODEL names the
// model folder (tools/fuzz.sh sets it); without it the target refuses to start, since it would
// otherwise run every input through nothing.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "nowrec/tokenizer.hpp"

namespace {

const nowrec::Tokenizer& tokenizer() {
  static const nowrec::Tokenizer loaded = [] {
    const char* dir = std::getenv("NOWREC_MODEL");
    return nowrec::Tokenizer::load(std::filesystem::path(dir));
  }();
  return loaded;
}

// The invariants every encoding keeps, whatever the input; a breach stops the fuzzer.
void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* dir = std::getenv("NOWREC_MODEL");
  if (dir == nullptr || *dir == '\0') {
    std::fprintf(stderr, "fuzz_tokenizer: set NOWREC_MODEL to a model folder\n");
    std::abort();
  }
  (void)tokenizer();  // a folder that does not load stops the run here, not on the first input
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const nowrec::Tokenizer* tok = &tokenizer();
  if (size == 0) return 0;
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
