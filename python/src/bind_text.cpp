// ModelFolder, Tokenizer and SequenceEncoder: texts, token ids and vector sequences to
// embeddings, with the GIL released while the encoder runs.
#include <nanobind/nanobind.h>
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include <string>
#include <string_view>
#include <vector>

#include "arrays.hpp"
#include "bindings.hpp"
#include "nowrec/model_folder.hpp"
#include "nowrec/sequence_encoder.hpp"
#include "nowrec/tokenizer.hpp"

namespace nowrec::python {
namespace {

// The texts of a list of str, as views that stay valid while `texts` lives.
std::vector<std::string_view> text_views(const std::vector<std::string>& texts) {
  return {texts.begin(), texts.end()};
}

// int32 id arrays, viewed in place (kept alive by `held`).
std::vector<std::span<const std::int32_t>> id_sequences(const nb::list& sequences,
                                                        std::vector<AnyArray>& held) {
  std::vector<std::span<const std::int32_t>> spans;
  for (std::size_t i = 0; i < sequences.size(); ++i) {
    const std::string name = "sequences[" + std::to_string(i) + "]";
    ArrayView<std::int32_t> view = view_array<std::int32_t>(sequences[i], name.c_str(), 1);
    spans.push_back(view.values);
    held.push_back(std::move(view.array));
  }
  return spans;
}

// float32 [length, dim] arrays, viewed in place.
std::vector<std::span<const float>> vector_sequences(const nb::list& sequences, std::size_t dim,
                                                     std::vector<AnyArray>& held) {
  std::vector<std::span<const float>> spans;
  for (std::size_t i = 0; i < sequences.size(); ++i) {
    const std::string name = "sequences[" + std::to_string(i) + "]";
    ArrayView<float> view = view_array<float>(sequences[i], name.c_str(), 2, dim);
    spans.push_back(view.values);
    held.push_back(std::move(view.array));
  }
  return spans;
}

nb::ndarray<nb::numpy, float> embeddings(std::vector<float>&& values, std::size_t rows,
                                         std::size_t dim) {
  return to_numpy(std::move(values), {rows, dim});
}

// A per-token result: (states [tokens, dim], offsets [sequences + 1]).
std::pair<nb::ndarray<nb::numpy, float>, nb::ndarray<nb::numpy, std::int64_t>> token_states(
    TokenStates&& states, std::size_t dim) {
  const std::size_t tokens = states.values.size() / dim;
  std::vector<std::int64_t> offsets(states.offsets.begin(), states.offsets.end());
  const std::size_t n = offsets.size();
  return {to_numpy(std::move(states.values), {tokens, dim}), to_numpy(std::move(offsets), {n})};
}

}  // namespace

void bind_text(nb::module_& m) {
  nb::enum_<Dtype>(m, "Dtype",
                   "Encoder arithmetic: Default (F32 on the CPU), F32, F16 (CUDA), BF16.")
      .value("Default", Dtype::Default)
      .value("F32", Dtype::F32)
      .value("F16", Dtype::F16)
      .value("BF16", Dtype::BF16);
  nb::enum_<Device>(m, "Device").value("CPU", Device::CPU).value("CUDA", Device::CUDA);
  nb::enum_<AttentionMask>(m, "AttentionMask", "Which tokens of a vector sequence attend to which.")
      .value("Bidirectional", AttentionMask::Bidirectional)
      .value("Causal", AttentionMask::Causal);
  nb::enum_<PoolingMode>(m, "PoolingMode")
      .value("Mean", PoolingMode::Mean)
      .value("Cls", PoolingMode::Cls)
      .value("Max", PoolingMode::Max)
      .value("MeanSqrtLen", PoolingMode::MeanSqrtLen)
      .value("LastToken", PoolingMode::LastToken);
  nb::enum_<TokenizerKind>(m, "TokenizerKind")
      .value("WordPiece", TokenizerKind::WordPiece)
      .value("SentencePiece", TokenizerKind::SentencePiece);

  nb::class_<ModelFolder>(m, "ModelFolder",
                          "A Hugging Face / sentence-transformers model folder: config, pooling, "
                          "tokenizer files and memory-mapped, validated weights.")
      .def_static("load", &ModelFolder::load, nb::arg("path"),
                  nb::call_guard<nb::gil_scoped_release>(),
                  "Reads and validates the folder. Raises nowrec.Error (NotFound, InvalidModel) "
                  "naming the file and field at fault.")
      .def_prop_ro("path", &ModelFolder::path)
      .def_prop_ro("max_sequence_length", &ModelFolder::max_sequence_length)
      .def_prop_ro("has_tokenizer", &ModelFolder::has_tokenizer)
      .def_prop_ro("has_weights", &ModelFolder::has_weights);

  nb::class_<Encoding>(m, "Encoding", "One tokenized text.")
      .def_prop_ro(
          "ids", [](const Encoding& e) { return copy_to_numpy(e.ids); }, nb::rv_policy::move)
      .def_prop_ro(
          "type_ids", [](const Encoding& e) { return copy_to_numpy(e.type_ids); },
          nb::rv_policy::move)
      .def_prop_ro(
          "attention_mask", [](const Encoding& e) { return copy_to_numpy(e.attention_mask); },
          nb::rv_policy::move)
      .def_prop_ro(
          "offsets",
          [](const Encoding& e) {
            std::vector<std::uint32_t> offsets;
            for (const TokenOffset& o : e.offsets) {
              offsets.push_back(o.begin);
              offsets.push_back(o.end);
            }
            return to_numpy(std::move(offsets), {e.offsets.size(), std::size_t(2)});
          },
          nb::rv_policy::move,
          "Byte ranges [begin, end) of each token in the UTF-8 text, shape (tokens, 2).")
      .def("__len__", [](const Encoding& e) { return e.ids.size(); });

  nb::class_<Tokenizer>(m, "Tokenizer",
                        "WordPiece (BERT family) or SentencePiece (XLM-R family) tokenizer, id for "
                        "id equal to Hugging Face tokenizers. Thread-safe.")
      .def_static(
          "load", [](const std::filesystem::path& dir) { return Tokenizer::load(dir); },
          nb::arg("model_dir"), nb::call_guard<nb::gil_scoped_release>(),
          "Loads the tokenizer of a model folder.")
      .def(
          "encode",
          [](const Tokenizer& t, std::string_view text, bool add_special_tokens,
             std::size_t max_length, bool truncate) {
            return t.encode(text, {.add_special_tokens = add_special_tokens,
                                   .max_length = max_length,
                                   .truncate = truncate});
          },
          nb::arg("text"), nb::arg("add_special_tokens") = true, nb::arg("max_length") = 0,
          nb::arg("truncate") = true, nb::call_guard<nb::gil_scoped_release>(),
          "Tokenizes one text ([CLS] ... [SEP] or <s> ... </s> with special tokens), truncated "
          "to max_length tokens (0: the model's maximum).")
      .def(
          "encode_batch",
          [](const Tokenizer& t, const std::vector<std::string>& texts, bool add_special_tokens,
             std::size_t max_length, bool truncate) {
            const std::vector<std::string_view> views = text_views(texts);
            nb::gil_scoped_release release;
            return t.encode_batch(views, {.add_special_tokens = add_special_tokens,
                                          .max_length = max_length,
                                          .truncate = truncate});
          },
          nb::arg("texts"), nb::arg("add_special_tokens") = true, nb::arg("max_length") = 0,
          nb::arg("truncate") = true, "encode() for each text.")
      .def_prop_ro("kind", &Tokenizer::kind)
      .def_prop_ro("vocab_size", &Tokenizer::vocab_size)
      .def_prop_ro("max_length", &Tokenizer::max_length)
      .def_prop_ro("pad_id", &Tokenizer::pad_id)
      .def("token_to_id", &Tokenizer::token_to_id, nb::arg("token"),
           "The token's id, or None when the vocabulary lacks it.")
      .def("id_to_token", &Tokenizer::id_to_token, nb::arg("id"),
           "The id's token; raises nowrec.Error (NotFound) outside the vocabulary.");

  nb::class_<EncoderInfo>(m, "EncoderInfo", "What a loaded encoder is.")
      .def_ro("model_type", &EncoderInfo::model_type)
      .def_ro("dim", &EncoderInfo::dim)
      .def_ro("layers", &EncoderInfo::layers)
      .def_ro("heads", &EncoderInfo::heads)
      .def_ro("max_length", &EncoderInfo::max_length)
      .def_prop_ro("pooling", [](const EncoderInfo& i) { return i.pooling.mode; })
      .def_prop_ro("normalize", [](const EncoderInfo& i) { return i.pooling.normalize; })
      .def_ro("device", &EncoderInfo::device)
      .def_ro("dtype", &EncoderInfo::dtype)
      .def_ro("cpu_matmul", &EncoderInfo::cpu_matmul);

  nb::class_<SequenceEncoder>(
      m, "SequenceEncoder",
      "A BERT-family encoder with the folder's pooling and normalisation (sentence-transformers "
      "semantics). Calls release the GIL, so Python threads encode in parallel; each call uses "
      "`threads` threads.")
      .def_static(
          "load",
          [](const std::filesystem::path& dir, int threads, Dtype dtype, Device device) {
            return SequenceEncoder::load(dir,
                                         {.device = device, .threads = threads, .dtype = dtype});
          },
          nb::arg("model_dir"), nb::arg("threads") = 0, nb::arg("dtype") = Dtype::Default,
          nb::arg("device") = Device::CPU, nb::call_guard<nb::gil_scoped_release>(),
          "Loads and packs the model's weights. threads: per encode call, 0 for all cores.")
      .def_prop_ro("dim", &SequenceEncoder::dim)
      .def_prop_ro("info", &SequenceEncoder::info)
      .def_prop_ro("tokenizer", &SequenceEncoder::tokenizer, nb::rv_policy::reference_internal)
      .def(
          "encode",
          [](const SequenceEncoder& e, const std::vector<std::string>& texts) {
            const std::vector<std::string_view> views = text_views(texts);
            std::vector<float> out(views.size() * e.dim());
            {
              nb::gil_scoped_release release;
              e.encode(views, out);
            }
            return embeddings(std::move(out), views.size(), e.dim());
          },
          nb::arg("texts"),
          "Embeds each text: a float32 array (len(texts), dim), rows in the texts' order.")
      .def(
          "encode_ids",
          [](const SequenceEncoder& e, const nb::list& sequences) {
            std::vector<AnyArray> held;
            const auto spans = id_sequences(sequences, held);
            std::vector<float> out(spans.size() * e.dim());
            {
              nb::gil_scoped_release release;
              e.encode_ids(spans, out);
            }
            return embeddings(std::move(out), spans.size(), e.dim());
          },
          nb::arg("sequences"),
          "Embeds pre-tokenized sequences (int32 arrays of the model's ids, special tokens "
          "included).")
      .def(
          "encode_tokens",
          [](const SequenceEncoder& e, const std::vector<std::string>& texts) {
            const std::vector<std::string_view> views = text_views(texts);
            TokenStates states;
            {
              nb::gil_scoped_release release;
              states = e.encode_tokens(views);
            }
            return token_states(std::move(states), e.dim());
          },
          nb::arg("texts"),
          "Every token's last hidden state: (states float32 (tokens, dim), offsets int64 "
          "(len(texts) + 1,)); text i owns rows offsets[i]:offsets[i + 1].")
      .def(
          "encode_vectors",
          [](const SequenceEncoder& e, const nb::list& sequences, AttentionMask mask) {
            std::vector<AnyArray> held;
            const auto spans = vector_sequences(sequences, e.dim(), held);
            std::vector<float> out(spans.size() * e.dim());
            {
              nb::gil_scoped_release release;
              e.encode_vectors(spans, mask, out);
            }
            return embeddings(std::move(out), spans.size(), e.dim());
          },
          nb::arg("sequences"), nb::arg("mask") = AttentionMask::Bidirectional,
          "Vector-sequence input: each sequence a float32 array (length, dim) that takes the "
          "place of the word embeddings; pooled as encode() pools.")
      .def(
          "encode_vectors_tokens",
          [](const SequenceEncoder& e, const nb::list& sequences, AttentionMask mask) {
            std::vector<AnyArray> held;
            const auto spans = vector_sequences(sequences, e.dim(), held);
            TokenStates states;
            {
              nb::gil_scoped_release release;
              states = e.encode_vectors_tokens(spans, mask);
            }
            return token_states(std::move(states), e.dim());
          },
          nb::arg("sequences"), nb::arg("mask") = AttentionMask::Bidirectional,
          "encode_vectors() without pooling: (states, offsets) as encode_tokens() returns.");
}

}  // namespace nowrec::python
