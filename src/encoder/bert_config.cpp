// BertConfig from config.json and the pooling files.
#include "encoder/bert_config.hpp"

namespace nowrec::encoder {

BertConfig read_bert_config(const ModelFolder& model) {
  const TransformerConfig& config = model.config();
  BertConfig c;
  c.hidden = static_cast<std::size_t>(config.hidden_size);
  c.heads = static_cast<std::size_t>(config.num_attention_heads);
  c.head_dim = c.hidden / c.heads;
  c.intermediate = static_cast<std::size_t>(config.intermediate_size);
  c.vocab_size = static_cast<std::size_t>(config.vocab_size);
  const bool roberta = config.model_type == "roberta" || config.model_type == "xlm-roberta";
  c.position_offset = roberta ? static_cast<std::size_t>(config.pad_token_id) + 1 : 0;
  c.norm_eps = static_cast<float>(config.layer_norm_eps);
  c.tanh_gelu = config.hidden_act == "gelu_new" || config.hidden_act == "gelu_pytorch_tanh";
  c.pooling = model.pooling();
  return c;
}

}  // namespace nowrec::encoder
