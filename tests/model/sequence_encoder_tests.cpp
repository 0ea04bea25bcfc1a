// SequenceEncoder::load: the real model, and folders it must refuse with the reason named.
#include <doctest/doctest.h>

#include <string>

#include "nowrec/device.hpp"
#include "nowrec/error.hpp"
#include "nowrec/sequence_encoder.hpp"
#include "test_support.hpp"
#include "tiny_model.hpp"

using nowrec::ErrorCode;
using nowrec::SequenceEncoder;
using nowrec::test::TempDir;

namespace {

void check_load_fails(const std::filesystem::path& dir, ErrorCode code,
                      std::initializer_list<std::string> fragments,
                      const nowrec::EncoderOptions& options = {}) {
  try {
    SequenceEncoder::load(dir, options);
    FAIL("loaded an encoder that should be refused");
  } catch (const nowrec::Error& error) {
    CHECK_MESSAGE(error.code() == code, error.what());
    const std::string message = error.what();
    for (const std::string& fragment : fragments) {
      CHECK_MESSAGE(message.find(fragment) != std::string::npos, message, " lacks ", fragment);
    }
  }
}

}  // namespace

TEST_CASE("SequenceEncoder loads all-MiniLM-L6-v2") {
  const SequenceEncoder encoder = SequenceEncoder::load(nowrec::test::model_dir());
  CHECK(encoder.dim() == 384);
  const auto& info = encoder.info();
  CHECK(info.model_type == "bert");
  CHECK(info.layers == 6);
  CHECK(info.heads == 12);
  CHECK(info.max_length == 256);
  CHECK(info.pooling.mode == nowrec::PoolingMode::Mean);
  CHECK(info.pooling.normalize);
}

TEST_CASE("SequenceEncoder: CUDA is refused without a usable device") {
  if (nowrec::cuda_device_count() > 0) return;
  check_load_fails(nowrec::test::model_dir(), ErrorCode::DeviceUnavailable, {"no CUDA device"},
                   {.device = nowrec::Device::CUDA});
}

TEST_CASE("SequenceEncoder: tiny BERT folders") {
  TempDir dir;
  auto config = nowrec::test::tiny_bert_config();

  SUBCASE("complete F32 weights") {
    nowrec::test::write_tiny_model(dir.path(), config, nowrec::test::tiny_bert_tensors(config));
    const auto encoder = SequenceEncoder::load(dir.path());
    CHECK(encoder.dim() == 8);
    CHECK(encoder.info().layers == 2);
    CHECK(encoder.info().max_length == 32);
  }
  SUBCASE("prefixed F16 and BF16 weights with a pooler") {
    for (const char* dtype : {"F16", "BF16"}) {
      for (const char* prefix : {"bert.", "roberta."}) {
        auto tensors = nowrec::test::tiny_bert_tensors(config, prefix, dtype);
        tensors.push_back({std::string(prefix) + "pooler.dense.weight", dtype, {8, 8}});
        tensors.push_back({std::string(prefix) + "pooler.dense.bias", dtype, {8}});
        nowrec::test::write_tiny_model(dir.path(), config, tensors);
        CHECK(SequenceEncoder::load(dir.path()).dim() == 8);
      }
    }
  }
  SUBCASE("xlm-roberta with every GELU variant") {
    config["model_type"] = "xlm-roberta";
    config["pad_token_id"] = 1;
    config["type_vocab_size"] = 1;
    for (const char* act : {"gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_python"}) {
      config["hidden_act"] = act;
      nowrec::test::write_tiny_model(dir.path(), config, nowrec::test::tiny_bert_tensors(config));
      CHECK(SequenceEncoder::load(dir.path()).info().max_length == 30);
    }
  }
  SUBCASE("unsupported options are named") {
    const std::pair<const char*, const char*> options[] = {
        {"hidden_act", "relu"},
        {"model_type", "gpt2"},
        {"position_embedding_type", "relative_key"},
    };
    for (const auto& [field, value] : options) {
      CAPTURE(field);
      auto changed = config;
      changed[field] = value;
      nowrec::test::write_tiny_model(dir.path(), changed, nowrec::test::tiny_bert_tensors(config));
      check_load_fails(dir.path(), ErrorCode::Unsupported,
                       {"config.json", std::string("field '") + field + "'", value});
    }
  }
  SUBCASE("a missing tensor") {
    auto tensors = nowrec::test::tiny_bert_tensors(config);
    std::erase_if(tensors, [](const auto& tensor) {
      return tensor.name == "encoder.layer.1.attention.self.value.bias";
    });
    nowrec::test::write_tiny_model(dir.path(), config, tensors);
    check_load_fails(
        dir.path(), ErrorCode::InvalidModel,
        {"model.safetensors", "encoder.layer.1.attention.self.value.bias", "missing", "[8]"});
  }
  SUBCASE("a tensor of the wrong shape") {
    auto tensors = nowrec::test::tiny_bert_tensors(config);
    for (auto& tensor : tensors) {
      if (tensor.name == "encoder.layer.0.intermediate.dense.weight") tensor.shape = {8, 16};
    }
    nowrec::test::write_tiny_model(dir.path(), config, tensors);
    check_load_fails(dir.path(), ErrorCode::InvalidModel,
                     {"encoder.layer.0.intermediate.dense.weight", "[8, 16]", "[16, 8]"});
  }
  SUBCASE("a pooler of the wrong shape") {
    auto tensors = nowrec::test::tiny_bert_tensors(config);
    tensors.push_back({"pooler.dense.bias", "F32", {4}});
    nowrec::test::write_tiny_model(dir.path(), config, tensors);
    check_load_fails(dir.path(), ErrorCode::InvalidModel, {"pooler.dense.bias", "[4]", "[8]"});
  }
  SUBCASE("an integer weight") {
    auto tensors = nowrec::test::tiny_bert_tensors(config);
    tensors[3].dtype = "I32";  // embeddings.LayerNorm.weight
    nowrec::test::write_tiny_model(dir.path(), config, tensors);
    check_load_fails(dir.path(), ErrorCode::Unsupported,
                     {"embeddings.LayerNorm.weight", "dtype I32"});
  }
  SUBCASE("more layers than config.json states") {
    auto bigger = config;
    bigger["num_hidden_layers"] = 3;
    nowrec::test::write_tiny_model(dir.path(), config, nowrec::test::tiny_bert_tensors(bigger));
    check_load_fails(dir.path(), ErrorCode::InvalidModel,
                     {"encoder.layer.2.", "num_hidden_layers is 2"});
  }
  SUBCASE("no weights") {
    nowrec::test::write_tiny_model(dir.path(), config, {});
    check_load_fails(dir.path(), ErrorCode::NotFound, {"model.safetensors"});
  }
  SUBCASE("negative thread count") {
    nowrec::test::write_tiny_model(dir.path(), config, nowrec::test::tiny_bert_tensors(config));
    check_load_fails(dir.path(), ErrorCode::InvalidArgument,
                     {"EncoderOptions::threads must be 0 (all cores) or a whole number", "not -1"},
                     {.threads = -1});
    check_load_fails(dir.path(), ErrorCode::InvalidArgument, {"threads", "not 1048576"},
                     {.threads = 1 << 20});
  }
}
