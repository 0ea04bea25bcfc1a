// Loading a Hugging Face / sentence-transformers model folder: its JSON files and its weights.
#include "nowrec/model_folder.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>
#include <utility>

#include "model/json_fields.hpp"
#include "model/model_files.hpp"
#include "nowrec/error.hpp"

namespace nowrec {

namespace model_files {

namespace {

using json_fields::FieldReader;

// Hugging Face writes int(1e30) for "no limit"; no real model has a billion positions.
constexpr double kUnstatedLengthThreshold = 1e9;

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// A special token is written either as its text or as an AddedToken object with "content".
std::optional<std::string> read_special_token(const FieldReader& fields, std::string_view field) {
  const nlohmann::json* value = fields.find(field);
  if (value == nullptr) return std::nullopt;
  if (value->is_string()) return value->get<std::string>();
  if (value->is_object()) {
    auto content = value->find("content");
    if (content != value->end() && content->is_string()) return content->get<std::string>();
  }
  fields.fail(field, "must be a string or an object with a string \"content\"");
}

void apply_special_tokens(const FieldReader& fields, TokenizerFiles& files) {
  const std::array<std::pair<std::string_view, std::string*>, 7> tokens{{
      {"cls_token", &files.cls_token},
      {"sep_token", &files.sep_token},
      {"pad_token", &files.pad_token},
      {"unk_token", &files.unk_token},
      {"mask_token", &files.mask_token},
      {"bos_token", &files.bos_token},
      {"eos_token", &files.eos_token},
  }};
  for (const auto& [field, target] : tokens) {
    if (auto token = read_special_token(fields, field)) *target = std::move(*token);
  }
}

// strip_accents is tri-state: an explicit null means "follow lowercase", so it resets what an
// earlier file said rather than leaving it.
void apply_strip_accents(const nlohmann::json& object, const FieldReader& fields,
                         TokenizerFiles& files) {
  auto it = object.find("strip_accents");
  if (it == object.end()) return;
  if (it->is_null()) {
    files.strip_accents.reset();
  } else if (it->is_boolean()) {
    files.strip_accents = it->get<bool>();
  } else {
    fields.fail("strip_accents", "must be a boolean or null");
  }
}

void apply_bert_normalizer(const nlohmann::json& normalizer, const FieldReader& fields,
                           TokenizerFiles& files) {
  if (auto value = fields.optional_bool("clean_text")) files.clean_text = *value;
  if (auto value = fields.optional_bool("handle_chinese_chars")) {
    files.tokenize_chinese_chars = *value;
  }
  if (auto value = fields.optional_bool("lowercase")) files.lowercase = *value;
  apply_strip_accents(normalizer, fields, files);
}

// Only BertNormalizer carries options nowrec follows; other normalizers (SentencePiece's
// Precompiled, NFKC, ...) are the SentencePiece model's business.
void apply_normalizer(const nlohmann::json& normalizer, const FieldReader& fields,
                      TokenizerFiles& files, int depth = 0) {
  // Real files nest a Sequence once at most; the bound keeps a hostile file from exhausting the
  // stack (and the field names in errors from growing without limit).
  constexpr int kMaxNormalizerDepth = 8;
  const std::string type = fields.required_string("type");
  if (type == "BertNormalizer") {
    apply_bert_normalizer(normalizer, fields, files);
    return;
  }
  if (type != "Sequence") return;
  if (depth == kMaxNormalizerDepth) {
    fields.fail("normalizers", "nests Sequence normalizers deeper than " +
                                   std::to_string(kMaxNormalizerDepth) + " levels");
  }
  const nlohmann::json* steps = fields.find("normalizers");
  if (steps == nullptr) return;
  if (!steps->is_array()) fields.fail("normalizers", "must be an array");
  for (std::size_t i = 0; i < steps->size(); ++i) {
    const std::string name = "normalizers[" + std::to_string(i) + "]";
    const nlohmann::json& step = (*steps)[i];
    if (!step.is_object()) fields.fail(name, "must be a JSON object");
    apply_normalizer(step, fields.nested(step, name), files, depth + 1);
  }
}

void apply_tokenizer_model(const FieldReader& fields, TokenizerFiles& files) {
  if (fields.optional_string("type").value_or("") != "WordPiece") return;
  if (auto value = fields.optional_positive_int("max_input_chars_per_word")) {
    files.max_input_chars_per_word = *value;
  }
  if (auto value = fields.optional_string("unk_token")) files.unk_token = std::move(*value);
}

// model_max_length: a positive integer, or a huge float meaning "no limit".
std::int64_t read_model_max_length(const FieldReader& fields) {
  const nlohmann::json* value = fields.find("model_max_length");
  if (value == nullptr) return 0;
  if (!value->is_number()) fields.fail("model_max_length", "must be a number");
  const double length = value->get<double>();
  if (length > kUnstatedLengthThreshold) return 0;
  if (!(length >= 1) || std::floor(length) != length) {
    fields.fail("model_max_length", "must be a positive integer");
  }
  return static_cast<std::int64_t>(length);
}

bool is_roberta_family(std::string_view model_type) {
  return model_type == "roberta" || model_type == "xlm-roberta" || model_type == "camembert";
}

// A folder-relative path from modules.json must stay inside the folder.
bool is_safe_relative_path(const std::string& text) {
  const std::filesystem::path path(text);
  if (path.is_absolute() || path.has_root_name()) return false;
  return std::none_of(path.begin(), path.end(), [](const auto& part) { return part == ".."; });
}

}  // namespace

TransformerConfig parse_transformer_config(std::string_view text, const std::string& label) {
  const nlohmann::json document = json_fields::parse_object(text, label);
  const FieldReader fields(document, label);
  TransformerConfig config;
  config.model_type = fields.required_string("model_type");
  config.hidden_size = fields.required_positive_int("hidden_size");
  config.num_hidden_layers = fields.required_positive_int("num_hidden_layers");
  config.num_attention_heads = fields.required_positive_int("num_attention_heads");
  config.intermediate_size = fields.required_positive_int("intermediate_size");
  config.max_position_embeddings = fields.required_positive_int("max_position_embeddings");
  config.vocab_size = fields.required_positive_int("vocab_size");
  // Defaults are those of transformers' BertConfig, which RobertaConfig inherits.
  config.type_vocab_size = fields.optional_positive_int("type_vocab_size").value_or(2);
  config.hidden_act = fields.optional_string("hidden_act").value_or("gelu");
  config.layer_norm_eps = fields.optional_number("layer_norm_eps").value_or(1e-12);
  const std::int64_t pad_default = is_roberta_family(config.model_type) ? 1 : 0;
  const std::int64_t pad = fields.optional_non_negative_int("pad_token_id").value_or(pad_default);
  config.position_embedding_type =
      fields.optional_string("position_embedding_type").value_or("absolute");

  if (config.hidden_size % config.num_attention_heads != 0) {
    fields.fail("hidden_size", "must be divisible by num_attention_heads (" +
                                   std::to_string(config.hidden_size) + " % " +
                                   std::to_string(config.num_attention_heads) + " != 0)");
  }
  if (!std::isfinite(config.layer_norm_eps) || config.layer_norm_eps <= 0) {
    fields.fail("layer_norm_eps", "must be a positive finite number");
  }
  if (pad >= config.vocab_size) {
    fields.fail("pad_token_id",
                "must be smaller than vocab_size (" + std::to_string(config.vocab_size) + ")");
  }
  config.pad_token_id = static_cast<int>(pad);
  return config;
}

ModulesInfo parse_modules(std::string_view text, const std::string& label) {
  const nlohmann::json document = json_fields::parse_document(text, label);
  if (!document.is_array()) {
    throw Error(
        ErrorCode::InvalidModel,
        label + ": the top level must be a JSON array of modules, not " + document.type_name());
  }
  const nlohmann::json root = nlohmann::json::object();
  const FieldReader root_fields(root, label);
  ModulesInfo info;
  for (std::size_t i = 0; i < document.size(); ++i) {
    const std::string name = "[" + std::to_string(i) + "]";
    const nlohmann::json& module = document[i];
    if (!module.is_object()) root_fields.fail(name, "must be a JSON object");
    const FieldReader fields = root_fields.nested(module, name);
    const std::string type = fields.required_string("type");
    if (ends_with(type, ".Pooling") || type == "Pooling") {
      if (info.pooling_path) fields.fail("type", "names a second Pooling module");
      std::string path = fields.optional_string("path").value_or("1_Pooling");
      if (path.empty() || !is_safe_relative_path(path)) {
        fields.fail("path", "must be a non-empty path inside the model folder");
      }
      info.pooling_path = std::move(path);
    } else if (ends_with(type, ".Normalize") || type == "Normalize") {
      info.normalize = true;
    }
  }
  return info;
}

PoolingFile parse_pooling_config(std::string_view text, const std::string& label) {
  const nlohmann::json document = json_fields::parse_object(text, label);
  const FieldReader fields(document, label);
  struct Flag {
    std::string_view field;
    PoolingMode mode;
  };
  constexpr std::array<Flag, 5> flags{{
      {"pooling_mode_cls_token", PoolingMode::Cls},
      {"pooling_mode_mean_tokens", PoolingMode::Mean},
      {"pooling_mode_max_tokens", PoolingMode::Max},
      {"pooling_mode_mean_sqrt_len_tokens", PoolingMode::MeanSqrtLen},
      {"pooling_mode_lasttoken", PoolingMode::LastToken},
  }};
  if (fields.optional_bool("pooling_mode_weightedmean_tokens").value_or(false)) {
    throw Error(ErrorCode::Unsupported,
                label +
                    ": field 'pooling_mode_weightedmean_tokens': weighted-mean pooling is "
                    "not supported");
  }
  std::vector<const Flag*> chosen;
  for (const Flag& flag : flags) {
    if (fields.optional_bool(flag.field).value_or(false)) chosen.push_back(&flag);
  }
  if (chosen.empty()) {
    throw Error(ErrorCode::InvalidModel,
                label + ": no pooling mode is set: exactly one pooling_mode_* field must be true");
  }
  if (chosen.size() > 1) {
    // sentence-transformers concatenates several poolings; nowrec produces one vector.
    throw Error(ErrorCode::Unsupported,
                label + ": fields '" + std::string(chosen[0]->field) + "' and '" +
                    std::string(chosen[1]->field) +
                    "' are both true: exactly one pooling_mode_* field must be true");
  }
  return {chosen.front()->mode, fields.optional_positive_int("word_embedding_dimension")};
}

std::optional<std::int64_t> parse_sentence_bert_max_seq_length(std::string_view text,
                                                               const std::string& label) {
  const nlohmann::json document = json_fields::parse_object(text, label);
  const FieldReader fields(document, label);
  auto length = fields.optional_positive_int("max_seq_length");
  if (!length) return std::nullopt;
  return *length;
}

TokenizerFiles default_tokenizer_files(TokenizerKind kind) {
  TokenizerFiles files;
  files.kind = kind;
  if (kind == TokenizerKind::WordPiece) {
    files.cls_token = "[CLS]";
    files.sep_token = "[SEP]";
    files.pad_token = "[PAD]";
    files.unk_token = "[UNK]";
    files.mask_token = "[MASK]";
    return files;
  }
  // The SentencePiece model normalises text itself; BERT's lowercasing does not apply.
  files.lowercase = false;
  files.cls_token = "<s>";
  files.sep_token = "</s>";
  files.pad_token = "<pad>";
  files.unk_token = "<unk>";
  files.mask_token = "<mask>";
  files.bos_token = "<s>";
  files.eos_token = "</s>";
  return files;
}

void apply_tokenizer_config(std::string_view text, const std::string& label,
                            TokenizerFiles& files) {
  const nlohmann::json document = json_fields::parse_object(text, label);
  const FieldReader fields(document, label);
  if (auto value = fields.optional_bool("do_lower_case")) files.lowercase = *value;
  apply_strip_accents(document, fields, files);
  if (auto value = fields.optional_bool("tokenize_chinese_chars")) {
    files.tokenize_chinese_chars = *value;
  }
  files.model_max_length = read_model_max_length(fields);
  apply_special_tokens(fields, files);
}

void apply_special_tokens_map(std::string_view text, const std::string& label,
                              TokenizerFiles& files) {
  const nlohmann::json document = json_fields::parse_object(text, label);
  apply_special_tokens(FieldReader(document, label), files);
}

void apply_tokenizer_json(std::string_view text, const std::string& label, TokenizerFiles& files) {
  const nlohmann::json document = json_fields::parse_object(text, label);
  const FieldReader fields(document, label);
  if (auto normalizer = fields.optional_object("normalizer")) {
    apply_normalizer(document["normalizer"], *normalizer, files);
  }
  if (auto model = fields.optional_object("model")) apply_tokenizer_model(*model, files);
}

std::size_t resolve_max_sequence_length(const TransformerConfig& config,
                                        const std::string& config_label,
                                        std::optional<std::int64_t> sentence_bert_max_seq_length,
                                        const TokenizerFiles& tokenizer) {
  // RoBERTa numbers positions from pad_token_id + 1, so the first slots of its table are unused.
  std::int64_t position_limit = config.max_position_embeddings;
  if (is_roberta_family(config.model_type)) position_limit -= config.pad_token_id + 1;
  if (position_limit < 1) {
    throw Error(ErrorCode::InvalidModel, config_label + ": field 'max_position_embeddings' (" +
                                             std::to_string(config.max_position_embeddings) +
                                             ") leaves no positions after pad_token_id + 1");
  }
  std::int64_t length = position_limit;
  if (sentence_bert_max_seq_length) {
    length = *sentence_bert_max_seq_length;
  } else if (tokenizer.model_max_length > 0) {
    length = tokenizer.model_max_length;
  }
  return static_cast<std::size_t>(std::min(length, position_limit));
}

}  // namespace model_files

namespace {

bool file_exists(const std::filesystem::path& path) {
  std::error_code ignored;
  return std::filesystem::is_regular_file(path, ignored);
}

bool has_tokenizer_files(const std::filesystem::path& dir) {
  return file_exists(dir / "vocab.txt") || file_exists(dir / "sentencepiece.bpe.model") ||
         file_exists(dir / "spiece.model");
}

TokenizerKind detect_tokenizer_kind(const std::filesystem::path& dir,
                                    std::filesystem::path& sentencepiece_model) {
  if (file_exists(dir / "vocab.txt")) return TokenizerKind::WordPiece;
  for (const char* name : {"sentencepiece.bpe.model", "spiece.model"}) {
    if (file_exists(dir / name)) {
      sentencepiece_model = dir / name;
      return TokenizerKind::SentencePiece;
    }
  }
  throw Error(ErrorCode::NotFound,
              dir.string() +
                  ": no tokenizer: the folder holds neither vocab.txt (WordPiece) nor "
                  "sentencepiece.bpe.model / spiece.model (SentencePiece)");
}

void require_directory(const std::filesystem::path& dir) {
  std::error_code ignored;
  if (!std::filesystem::is_directory(dir, ignored)) {
    throw Error(ErrorCode::NotFound, dir.string() + ": model folder not found");
  }
}

PoolingConfig read_pooling(const std::filesystem::path& dir, const TransformerConfig& config) {
  PoolingConfig pooling;
  std::optional<std::string> pooling_path;
  const std::filesystem::path modules_file = dir / "modules.json";
  if (file_exists(modules_file)) {
    const auto modules = model_files::parse_modules(json_fields::read_text_file(modules_file),
                                                    modules_file.string());
    if (!modules.pooling_path) {
      throw Error(ErrorCode::InvalidModel, modules_file.string() +
                                               ": no module of type sentence_transformers.models."
                                               "Pooling: nowrec needs one vector per text");
    }
    pooling_path = modules.pooling_path;
    pooling.normalize = modules.normalize;
  } else if (file_exists(dir / "1_Pooling" / "config.json")) {
    pooling_path = "1_Pooling";
  }
  // A plain transformers folder has no pooling files; sentence-transformers then mean-pools.
  if (!pooling_path) return pooling;

  const std::filesystem::path pooling_file = dir / *pooling_path / "config.json";
  const auto parsed = model_files::parse_pooling_config(json_fields::read_text_file(pooling_file),
                                                        pooling_file.string());
  if (parsed.word_embedding_dimension && *parsed.word_embedding_dimension != config.hidden_size) {
    throw Error(ErrorCode::InvalidModel, pooling_file.string() +
                                             ": field 'word_embedding_dimension' (" +
                                             std::to_string(*parsed.word_embedding_dimension) +
                                             ") must equal config.json's hidden_size (" +
                                             std::to_string(config.hidden_size) + ")");
  }
  pooling.mode = parsed.mode;
  return pooling;
}

}  // namespace

std::string_view pooling_mode_name(PoolingMode mode) noexcept {
  switch (mode) {
    case PoolingMode::Mean:
      return "mean";
    case PoolingMode::Cls:
      return "cls";
    case PoolingMode::Max:
      return "max";
    case PoolingMode::MeanSqrtLen:
      return "mean_sqrt_len";
    case PoolingMode::LastToken:
      return "last_token";
  }
  return "unknown";
}

TokenizerFiles read_tokenizer_files(const std::filesystem::path& dir) {
  require_directory(dir);
  std::filesystem::path sentencepiece_model;
  const TokenizerKind kind = detect_tokenizer_kind(dir, sentencepiece_model);
  TokenizerFiles files = model_files::default_tokenizer_files(kind);
  if (kind == TokenizerKind::WordPiece) files.vocab_txt = dir / "vocab.txt";
  files.sentencepiece_model = sentencepiece_model;

  if (const auto path = dir / "tokenizer_config.json"; file_exists(path)) {
    model_files::apply_tokenizer_config(json_fields::read_text_file(path), path.string(), files);
  }
  if (const auto path = dir / "special_tokens_map.json"; file_exists(path)) {
    model_files::apply_special_tokens_map(json_fields::read_text_file(path), path.string(), files);
  }
  if (const auto path = dir / "tokenizer.json"; file_exists(path)) {
    files.tokenizer_json = path;
    model_files::apply_tokenizer_json(json_fields::read_text_file(path), path.string(), files);
  }
  return files;
}

ModelFolder ModelFolder::load(const std::filesystem::path& dir) {
  require_directory(dir);
  ModelFolder folder;
  folder.dir_ = dir;

  const std::filesystem::path config_file = dir / "config.json";
  folder.config_ = model_files::parse_transformer_config(json_fields::read_text_file(config_file),
                                                         config_file.string());
  folder.pooling_ = read_pooling(dir, folder.config_);
  if (has_tokenizer_files(dir)) folder.tokenizer_ = read_tokenizer_files(dir);

  std::optional<std::int64_t> sentence_bert_length;
  if (const auto path = dir / "sentence_bert_config.json"; file_exists(path)) {
    sentence_bert_length = model_files::parse_sentence_bert_max_seq_length(
        json_fields::read_text_file(path), path.string());
  }
  folder.max_sequence_length_ = model_files::resolve_max_sequence_length(
      folder.config_, config_file.string(), sentence_bert_length,
      folder.tokenizer_.value_or(TokenizerFiles{}));

  if (const auto path = dir / "model.safetensors"; file_exists(path)) {
    folder.weights_ = std::make_shared<const SafetensorsFile>(SafetensorsFile::open(path));
  }
  return folder;
}

const TokenizerFiles& ModelFolder::tokenizer_files() const {
  if (!tokenizer_) {
    throw Error(ErrorCode::NotFound,
                dir_.string() +
                    ": the model folder has no tokenizer (neither vocab.txt nor "
                    "sentencepiece.bpe.model / spiece.model); it takes vector sequences only");
  }
  return *tokenizer_;
}

const SafetensorsFile& ModelFolder::weights() const {
  if (!weights_) {
    throw Error(ErrorCode::NotFound,
                (dir_ / "model.safetensors").string() + ": the model folder has no weights");
  }
  return *weights_;
}

}  // namespace nowrec
