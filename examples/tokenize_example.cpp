// Tokenizes a few texts with a model folder's tokenizer through the C++ API.
// Usage: tokenize_example [MODEL_DIR]   (default: $NOWREC_MODEL)
#include <nowrec/nowrec.hpp>

#include <cstdlib>
#include <iostream>
#include <string_view>
#include <vector>

int main(int argc, char** argv) {
  const char* model_dir = argc > 1 ? argv[1] : std::getenv("NOWREC_MODEL");
  if (argc > 2 || model_dir == nullptr) {
    std::cerr << "usage: tokenize_example [MODEL_DIR]   (default: $NOWREC_MODEL)\n";
    return 2;
  }
  try {
    const nowrec::ModelFolder model = nowrec::ModelFolder::load(model_dir);
    const nowrec::Tokenizer tokenizer = nowrec::Tokenizer::load(model);

    const std::vector<std::string_view> texts = {"Toy Story (1995)", "我 喜欢 吃 饼干"};
    nowrec::TokenizeOptions options;
    options.padding = nowrec::Padding::Longest;
    const auto batch = tokenizer.encode_batch(texts, options);

    for (std::size_t i = 0; i < texts.size(); ++i) {
      std::cout << texts[i] << "\n";
      const nowrec::Encoding& encoding = batch[i];
      for (std::size_t t = 0; t < encoding.ids.size(); ++t) {
        const auto [begin, end] = encoding.offsets[t];
        std::cout << "  " << encoding.ids[t] << '\t' << tokenizer.id_to_token(encoding.ids[t])
                  << "\tmask " << int(encoding.attention_mask[t]) << "\tbytes [" << begin << ", "
                  << end << ")\n";
      }
    }
    return 0;
  } catch (const nowrec::Error& error) {
    std::cerr << "error (" << nowrec::error_code_name(error.code()) << "): " << error.what()
              << '\n';
    return 1;
  }
}
