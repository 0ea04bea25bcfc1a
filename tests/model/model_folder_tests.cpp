// ModelFolder::load: the real model folder, and folders with broken or missing files.
#include <doctest/doctest.h>

#include <string>

#include "nowrec/error.hpp"
#include "nowrec/model_folder.hpp"
#include "test_support.hpp"
#include "tiny_model.hpp"

using nowrec::ErrorCode;
using nowrec::ModelFolder;
using nowrec::PoolingMode;
using nowrec::test::TempDir;
using nowrec::test::write_file;

namespace {

// Asserts that loading `dir` fails with `code` and a message holding every fragment.
void check_load_fails(const std::filesystem::path& dir, ErrorCode code,
                      std::initializer_list<std::string> fragments) {
  try {
    ModelFolder::load(dir);
    FAIL("loaded a broken folder");
  } catch (const nowrec::Error& error) {
    CHECK_MESSAGE(error.code() == code, error.what());
    const std::string message = error.what();
    for (const std::string& fragment : fragments) {
      CHECK_MESSAGE(message.find(fragment) != std::string::npos, message, " lacks ", fragment);
    }
  }
}

// A tiny valid folder without weights, whose config.json is `config`.
void write_config_only(const std::filesystem::path& dir, const nlohmann::json& config) {
  nowrec::test::write_tiny_model(dir, config, {});
}

}  // namespace

TEST_CASE("ModelFolder loads the real all-MiniLM-L6-v2 folder") {
  const ModelFolder model = ModelFolder::load(nowrec::test::model_dir());
  const auto& config = model.config();
  CHECK(config.model_type == "bert");
  CHECK(config.hidden_size == 384);
  CHECK(config.num_hidden_layers == 6);
  CHECK(config.num_attention_heads == 12);
  CHECK(config.intermediate_size == 1536);
  CHECK(config.max_position_embeddings == 512);
  CHECK(config.vocab_size == 30522);
  CHECK(config.type_vocab_size == 2);
  CHECK(config.hidden_act == "gelu");
  CHECK(config.layer_norm_eps == 1e-12);
  CHECK(config.pad_token_id == 0);
  CHECK(config.position_embedding_type == "absolute");

  CHECK(model.pooling().mode == PoolingMode::Mean);
  CHECK(model.pooling().normalize);
  CHECK(nowrec::pooling_mode_name(model.pooling().mode) == "mean");
  CHECK(model.max_sequence_length() == 256);

  CHECK(model.tokenizer_files().kind == nowrec::TokenizerKind::WordPiece);
  CHECK(model.tokenizer_files().lowercase);

  REQUIRE(model.has_weights());
  CHECK(model.weights().tensors().size() == 104);
  CHECK(model.weights().at("embeddings.word_embeddings.weight").shape ==
        std::vector<std::int64_t>{30522, 384});
}

TEST_CASE("ModelFolder: missing folder, config.json and weights") {
  TempDir dir;
  check_load_fails(dir.path() / "nowhere", ErrorCode::NotFound, {"nowhere", "not found"});
  check_load_fails(dir.path(), ErrorCode::NotFound, {(dir.path() / "config.json").string()});

  write_config_only(dir.path(), nowrec::test::tiny_bert_config());
  const ModelFolder model = ModelFolder::load(dir.path());
  CHECK_FALSE(model.has_weights());
  CHECK_THROWS_WITH_AS(model.weights(), doctest::Contains("model.safetensors"), nowrec::Error);
  try {
    model.weights();
  } catch (const nowrec::Error& error) {
    CHECK(error.code() == ErrorCode::NotFound);
  }
}

TEST_CASE("ModelFolder: broken config.json fields are named") {
  struct Case {
    const char* field;
    nlohmann::json value;  // null: remove the field
    const char* rule;
  };
  const Case cases[] = {
      {"hidden_size", 0, "must be a positive integer"},
      {"hidden_size", -384, "must be a positive integer"},
      {"hidden_size", "384", "must be a positive integer"},
      {"hidden_size", 8.5, "must be a positive integer"},
      {"hidden_size", nullptr, "is missing"},
      {"num_hidden_layers", 0, "must be a positive integer"},
      {"num_attention_heads", 3, "must be divisible by num_attention_heads"},
      {"intermediate_size", nullptr, "is missing"},
      {"vocab_size", 4294967296.0, "must be a positive integer"},
      {"max_position_embeddings", true, "must be a positive integer"},
      {"layer_norm_eps", 0, "must be a positive finite number"},
      {"layer_norm_eps", -1e-5, "must be a positive finite number"},
      {"layer_norm_eps", "tiny", "must be a number"},
      {"model_type", nullptr, "is missing"},
      {"model_type", 7, "must be a string"},
      {"hidden_act", 1, "must be a string"},
      {"pad_token_id", 12, "must be smaller than vocab_size"},
      {"pad_token_id", -1, "must be a non-negative integer"},
  };
  for (const Case& test_case : cases) {
    CAPTURE(test_case.field);
    CAPTURE(test_case.value.dump());
    TempDir dir;
    auto config = nowrec::test::tiny_bert_config();
    if (test_case.value.is_null()) {
      config.erase(test_case.field);
    } else {
      config[test_case.field] = test_case.value;
    }
    write_config_only(dir.path(), config);
    const std::string expected_field = test_case.rule == std::string(
                                                             "must be divisible by "
                                                             "num_attention_heads")
                                           ? "hidden_size"
                                           : test_case.field;
    check_load_fails(dir.path(), ErrorCode::InvalidModel,
                     {"config.json", "field '" + expected_field + "'", test_case.rule});
  }
}

TEST_CASE("ModelFolder: config.json that is not a JSON object") {
  TempDir dir;
  write_config_only(dir.path(), nowrec::test::tiny_bert_config());
  write_file(dir.path() / "config.json", "{\"hidden_size\": 8,");
  check_load_fails(dir.path(), ErrorCode::InvalidModel, {"config.json", "not valid JSON"});
  write_file(dir.path() / "config.json", R"({"layer_norm_eps": 1e999})");
  check_load_fails(dir.path(), ErrorCode::InvalidModel, {"config.json", "not valid JSON"});
  write_file(dir.path() / "config.json",
             nowrec::test::tiny_bert_config().dump() + std::string("\0junk", 5));
  check_load_fails(dir.path(), ErrorCode::InvalidModel, {"config.json", "NUL byte"});
  write_file(dir.path() / "config.json", "[1, 2]");
  check_load_fails(dir.path(), ErrorCode::InvalidModel, {"config.json", "must be a JSON object"});
}

TEST_CASE("ModelFolder: pooling configuration") {
  TempDir dir;
  write_config_only(dir.path(), nowrec::test::tiny_bert_config());
  const auto pooling_file = dir.path() / "1_Pooling" / "config.json";

  SUBCASE("each single mode") {
    const std::pair<const char*, PoolingMode> modes[] = {
        {"pooling_mode_cls_token", PoolingMode::Cls},
        {"pooling_mode_mean_tokens", PoolingMode::Mean},
        {"pooling_mode_max_tokens", PoolingMode::Max},
        {"pooling_mode_mean_sqrt_len_tokens", PoolingMode::MeanSqrtLen},
        {"pooling_mode_lasttoken", PoolingMode::LastToken},
    };
    for (const auto& [field, mode] : modes) {
      CAPTURE(field);
      write_file(pooling_file, std::string("{\"") + field + "\": true}");
      const auto model = ModelFolder::load(dir.path());
      CHECK(model.pooling().mode == mode);
      CHECK(model.pooling().normalize);
    }
  }
  SUBCASE("no mode set") {
    write_file(pooling_file, R"({"pooling_mode_mean_tokens": false})");
    check_load_fails(dir.path(), ErrorCode::InvalidModel,
                     {pooling_file.string(), "exactly one pooling_mode_* field must be true"});
  }
  SUBCASE("two modes set") {
    write_file(pooling_file,
               R"({"pooling_mode_cls_token": true, "pooling_mode_max_tokens": true})");
    check_load_fails(dir.path(), ErrorCode::Unsupported,
                     {pooling_file.string(), "pooling_mode_cls_token", "pooling_mode_max_tokens"});
  }
  SUBCASE("flag of the wrong type") {
    write_file(pooling_file, R"({"pooling_mode_mean_tokens": 1})");
    check_load_fails(dir.path(), ErrorCode::InvalidModel,
                     {pooling_file.string(), "field 'pooling_mode_mean_tokens' must be a boolean"});
  }
  SUBCASE("weighted mean is not supported") {
    write_file(pooling_file, R"({"pooling_mode_weightedmean_tokens": true})");
    check_load_fails(dir.path(), ErrorCode::Unsupported, {"pooling_mode_weightedmean_tokens"});
  }
  SUBCASE("width differs from hidden_size") {
    write_file(pooling_file,
               R"({"word_embedding_dimension": 16, "pooling_mode_mean_tokens": true})");
    check_load_fails(dir.path(), ErrorCode::InvalidModel,
                     {pooling_file.string(), "word_embedding_dimension", "hidden_size"});
  }
  SUBCASE("pooling config listed in modules.json but missing") {
    std::filesystem::remove(pooling_file);
    check_load_fails(dir.path(), ErrorCode::NotFound, {pooling_file.string()});
  }
  SUBCASE("modules.json names another folder and no Normalize") {
    std::filesystem::create_directories(dir.path() / "2_Pool");
    write_file(dir.path() / "2_Pool" / "config.json", R"({"pooling_mode_cls_token": true})");
    write_file(dir.path() / "modules.json",
               R"([{"path": "", "type": "sentence_transformers.models.Transformer"},
                   {"path": "2_Pool", "type": "sentence_transformers.models.Pooling"}])");
    const auto model = ModelFolder::load(dir.path());
    CHECK(model.pooling().mode == PoolingMode::Cls);
    CHECK_FALSE(model.pooling().normalize);
  }
  SUBCASE("no modules.json and no pooling folder: mean pooling") {
    std::filesystem::remove(dir.path() / "modules.json");
    std::filesystem::remove_all(dir.path() / "1_Pooling");
    const auto model = ModelFolder::load(dir.path());
    CHECK(model.pooling().mode == PoolingMode::Mean);
    CHECK_FALSE(model.pooling().normalize);
  }
  SUBCASE("modules.json without a Pooling module") {
    write_file(dir.path() / "modules.json",
               R"([{"path": "", "type": "sentence_transformers.models.Transformer"}])");
    check_load_fails(dir.path(), ErrorCode::InvalidModel, {"modules.json", "Pooling"});
  }
  SUBCASE("modules.json path leaving the folder") {
    write_file(dir.path() / "modules.json",
               R"([{"path": "../elsewhere", "type": "sentence_transformers.models.Pooling"}])");
    check_load_fails(dir.path(), ErrorCode::InvalidModel, {"modules.json", "field '[0].path'"});
  }
  SUBCASE("modules.json is not an array of objects") {
    write_file(dir.path() / "modules.json", R"({"type": "Pooling"})");
    check_load_fails(dir.path(), ErrorCode::InvalidModel, {"modules.json", "JSON array"});
    write_file(dir.path() / "modules.json", R"([{"path": "1_Pooling"}])");
    check_load_fails(dir.path(), ErrorCode::InvalidModel, {"modules.json", "field '[0].type'"});
  }
}

TEST_CASE("ModelFolder: max_sequence_length sources and bounds") {
  TempDir dir;
  auto config = nowrec::test::tiny_bert_config();  // 32 positions
  write_config_only(dir.path(), config);

  SUBCASE("the position table when nothing else is stated") {
    CHECK(ModelFolder::load(dir.path()).max_sequence_length() == 32);
  }
  SUBCASE("tokenizer model_max_length") {
    write_file(dir.path() / "tokenizer_config.json", R"({"model_max_length": 20})");
    CHECK(ModelFolder::load(dir.path()).max_sequence_length() == 20);
  }
  SUBCASE("the Hugging Face 'no limit' sentinel is ignored") {
    write_file(dir.path() / "tokenizer_config.json",
               R"({"model_max_length": 1000000000000000019884624838656})");
    CHECK(ModelFolder::load(dir.path()).max_sequence_length() == 32);
  }
  SUBCASE("sentence_bert_config wins, bounded by the position table") {
    write_file(dir.path() / "tokenizer_config.json", R"({"model_max_length": 20})");
    write_file(dir.path() / "sentence_bert_config.json", R"({"max_seq_length": 24})");
    CHECK(ModelFolder::load(dir.path()).max_sequence_length() == 24);
    write_file(dir.path() / "sentence_bert_config.json", R"({"max_seq_length": 4096})");
    CHECK(ModelFolder::load(dir.path()).max_sequence_length() == 32);
  }
  SUBCASE("RoBERTa's positions start after the padding id") {
    config["model_type"] = "xlm-roberta";
    config["pad_token_id"] = 1;
    write_config_only(dir.path(), config);
    CHECK(ModelFolder::load(dir.path()).max_sequence_length() == 30);
  }
  SUBCASE("a RoBERTa position table too small for its padding id") {
    config["model_type"] = "roberta";
    config["max_position_embeddings"] = 2;
    config["pad_token_id"] = 1;
    write_config_only(dir.path(), config);
    check_load_fails(dir.path(), ErrorCode::InvalidModel,
                     {"config.json", "max_position_embeddings"});
  }
  SUBCASE("broken length fields") {
    write_file(dir.path() / "sentence_bert_config.json", R"({"max_seq_length": -1})");
    check_load_fails(dir.path(), ErrorCode::InvalidModel,
                     {"sentence_bert_config.json", "field 'max_seq_length'"});
    std::filesystem::remove(dir.path() / "sentence_bert_config.json");
    write_file(dir.path() / "tokenizer_config.json", R"({"model_max_length": 0})");
    check_load_fails(dir.path(), ErrorCode::InvalidModel,
                     {"tokenizer_config.json", "field 'model_max_length'"});
  }
}

TEST_CASE("ModelFolder: broken weights are reported as the file's format error") {
  TempDir dir;
  write_config_only(dir.path(), nowrec::test::tiny_bert_config());
  write_file(dir.path() / "model.safetensors", "short");
  check_load_fails(dir.path(), ErrorCode::InvalidFormat, {"model.safetensors", "8-byte"});
}
