// A Hugging Face / sentence-transformers model folder: configuration, tokenizer files, weights.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "nowrec/pooling_mode.hpp"
#include "nowrec/safetensors.hpp"

namespace nowrec {

// The transformer as config.json describes it.
struct TransformerConfig {
  std::string model_type;  // "bert", "xlm-roberta", ...
  int hidden_size = 0;
  int num_hidden_layers = 0;
  int num_attention_heads = 0;
  int intermediate_size = 0;
  int max_position_embeddings = 0;
  int vocab_size = 0;
  int type_vocab_size = 0;
  std::string hidden_act;  // "gelu", "gelu_new", "gelu_pytorch_tanh", ...
  double layer_norm_eps = 1e-12;
  int pad_token_id = 0;
  std::string position_embedding_type = "absolute";
};

std::string_view pooling_mode_name(PoolingMode mode) noexcept;

// 1_Pooling/config.json plus modules.json's Normalize module.
struct PoolingConfig {
  PoolingMode mode = PoolingMode::Mean;
  bool normalize = false;
};

enum class TokenizerKind { WordPiece, SentencePiece };

// Where the tokenizer lives and how it behaves, from tokenizer_config.json,
// special_tokens_map.json and tokenizer.json. Before those files are read, the defaults are
// BERT's for WordPiece and XLM-R's for SentencePiece (<s> </s> <pad> <unk> <mask>, no
// lowercasing).
struct TokenizerFiles {
  TokenizerKind kind = TokenizerKind::WordPiece;
  std::filesystem::path vocab_txt;            // WordPiece vocabulary, one token a line
  std::filesystem::path tokenizer_json;       // empty when absent
  std::filesystem::path sentencepiece_model;  // sentencepiece.bpe.model or spiece.model
  bool lowercase = true;
  std::optional<bool> strip_accents;  // unset: follows lowercase (BERT's rule)
  bool tokenize_chinese_chars = true;
  bool clean_text = true;
  std::string cls_token, sep_token, pad_token, unk_token, mask_token;
  std::string bos_token, eos_token;   // SentencePiece models
  std::int64_t model_max_length = 0;  // 0: not stated
  int max_input_chars_per_word = 100;
};

// Reads only the tokenizer's files of a model folder (no config.json or weights needed).
// Throws Error(InvalidModel) naming the file and field at fault, Error(NotFound) when the folder
// holds neither vocab.txt nor a SentencePiece model.
TokenizerFiles read_tokenizer_files(const std::filesystem::path& dir);

// Thread-safety: immutable after load(); may be shared across threads.
class ModelFolder {
 public:
  // Reads and validates every configuration file and maps model.safetensors when present. Throws
  // Error(InvalidModel) naming the file and field at fault, Error(NotFound) for missing files,
  // Error(Unsupported) for a pooling nowrec does not compute (several modes at once, weighted
  // mean) and Error(InvalidFormat) for a malformed model.safetensors. A folder without
  // modules.json or 1_Pooling/ mean-pools, as sentence-transformers does. A folder without
  // tokenizer files (neither vocab.txt nor a SentencePiece model) loads too: such a model takes
  // vector sequences only (SequenceEncoder::encode_vectors).
  static ModelFolder load(const std::filesystem::path& dir);

  const std::filesystem::path& path() const noexcept { return dir_; }
  const TransformerConfig& config() const noexcept { return config_; }
  const PoolingConfig& pooling() const noexcept { return pooling_; }
  bool has_tokenizer() const noexcept { return tokenizer_.has_value(); }
  // Throws Error(NotFound) when the folder has no tokenizer.
  const TokenizerFiles& tokenizer_files() const;
  // Tokens per sequence, special tokens included: sentence_bert_config.json's max_seq_length,
  // else the tokenizer's model_max_length, bounded by the position table.
  std::size_t max_sequence_length() const noexcept { return max_sequence_length_; }
  bool has_weights() const noexcept { return weights_ != nullptr; }
  // Throws Error(NotFound) when the folder has no model.safetensors.
  const SafetensorsFile& weights() const;

 private:
  std::filesystem::path dir_;
  TransformerConfig config_;
  PoolingConfig pooling_;
  std::optional<TokenizerFiles> tokenizer_;
  std::size_t max_sequence_length_ = 0;
  std::shared_ptr<const SafetensorsFile> weights_;
};

}  // namespace nowrec
