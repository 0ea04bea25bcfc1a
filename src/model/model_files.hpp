// Parsers for the JSON files of a model folder, working on file contents so that tests and
// fuzzers can run them without a disk. `label` names the file in errors (usually its path).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "nowrec/model_folder.hpp"

namespace nowrec::model_files {

// config.json. Throws Error(InvalidModel) naming the field.
TransformerConfig parse_transformer_config(std::string_view text, const std::string& label);

// What modules.json says about the sentence-transformers pipeline.
struct ModulesInfo {
  std::optional<std::string> pooling_path;  // relative to the model folder; unset: no Pooling
  bool normalize = false;
};
ModulesInfo parse_modules(std::string_view text, const std::string& label);

// 1_Pooling/config.json: exactly one pooling_mode_* flag must be true.
struct PoolingFile {
  PoolingMode mode = PoolingMode::Mean;
  std::optional<int> word_embedding_dimension;
};
PoolingFile parse_pooling_config(std::string_view text, const std::string& label);

// sentence_bert_config.json's max_seq_length, when stated.
std::optional<std::int64_t> parse_sentence_bert_max_seq_length(std::string_view text,
                                                               const std::string& label);

// Special tokens and behaviour before any file is read: BERT's for WordPiece, XLM-R's for
// SentencePiece.
TokenizerFiles default_tokenizer_files(TokenizerKind kind);

// Each file overrides what the previous ones set, in the order Hugging Face applies them:
// tokenizer_config.json, special_tokens_map.json, tokenizer.json.
void apply_tokenizer_config(std::string_view text, const std::string& label, TokenizerFiles& files);
void apply_special_tokens_map(std::string_view text, const std::string& label,
                              TokenizerFiles& files);
void apply_tokenizer_json(std::string_view text, const std::string& label, TokenizerFiles& files);

// The longest sequence the model accepts, special tokens included. Throws Error(InvalidModel)
// naming `config_label` when the position table leaves no room.
std::size_t resolve_max_sequence_length(const TransformerConfig& config,
                                        const std::string& config_label,
                                        std::optional<std::int64_t> sentence_bert_max_seq_length,
                                        const TokenizerFiles& tokenizer);

}  // namespace nowrec::model_files
