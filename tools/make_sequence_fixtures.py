#!/usr/bin/env python3
"""Reference fixtures for SequenceEncoder's vector-sequence and per-token modes.

Builds a tiny random BERT with transformers (fixed seed), saves it as a model folder
(config.json, model.safetensors, vocab.txt) and runs it in PyTorch on:
  - sequences of random input vectors through `inputs_embeds=` (the input vectors replace the
    word embeddings; position embeddings and the token type 0 embedding are added, then the
    embedding LayerNorm), once with bidirectional attention and once causal;
  - sequences of token ids, for the per-token hidden states of encode_ids.
Each sequence runs alone (batch 1), so no padding mask is involved.

Usage: tools/make_sequence_fixtures.py [OUT_DIR]  (default tests/fixtures/sequence)
Writes: tiny_bert/, inputs.npy [total, hidden], bidirectional_tokens.npy and causal_tokens.npy
[total, hidden], ids_tokens.npy [total_ids, hidden], and sequences.json (lengths, ids).
"""
import json
import pathlib
import sys

import numpy as np
import torch
from transformers import BertConfig, BertModel

SEED = 1234
LENGTHS = [1, 2, 5, 9, 16, 23, 40]  # tails for 8- and 16-float vectors, one sequence of 1
IDS = [[2, 7, 11, 3], [2, 5, 3], [2, 30, 31, 32, 40, 41, 42, 50, 51, 52, 60, 61, 62, 63, 3], [2]]


def main() -> None:
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/sequence")
    torch.manual_seed(SEED)
    config = BertConfig(
        vocab_size=64, hidden_size=40, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=80, max_position_embeddings=64, type_vocab_size=2,
        hidden_act="gelu", layer_norm_eps=1e-12, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0, attn_implementation="eager")
    model = BertModel(config, add_pooling_layer=False).eval()
    # The default init (std 0.02) makes every layer close to the identity; larger weights make
    # attention and the mask matter.
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "LayerNorm" in name:
                parameter.copy_(1.0 + 0.2 * torch.randn_like(parameter) if name.endswith("weight")
                                else 0.2 * torch.randn_like(parameter))
            else:
                parameter.copy_(0.3 * torch.randn_like(parameter))

    folder = out / "tiny_bert"
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(59)]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")

    causal_config = BertConfig.from_dict({**config.to_dict(), "is_decoder": True})
    causal_config._attn_implementation = "eager"
    causal = BertModel(causal_config, add_pooling_layer=False).eval()
    causal.load_state_dict(model.state_dict())

    generator = torch.Generator().manual_seed(SEED + 1)
    inputs = [torch.randn(n, config.hidden_size, generator=generator) for n in LENGTHS]
    with torch.no_grad():
        bidirectional = [model(inputs_embeds=x[None]).last_hidden_state[0] for x in inputs]
        causal_states = [causal(inputs_embeds=x[None]).last_hidden_state[0] for x in inputs]
        ids_states = [model(input_ids=torch.tensor([ids])).last_hidden_state[0] for ids in IDS]

        # The causal reference must be causal: a token's state may not depend on later inputs.
        x = inputs[-1].clone()
        # Fresh values: a constant shift would vanish in the embedding LayerNorm.
        x[20:] = torch.randn(x[20:].shape, generator=generator)
        changed = causal(inputs_embeds=x[None]).last_hidden_state[0]
        assert torch.allclose(changed[:20], causal_states[-1][:20], atol=1e-6)
        assert not torch.allclose(changed[20:], causal_states[-1][20:], atol=1e-3)
        assert not torch.allclose(bidirectional[-1][:20], causal_states[-1][:20], atol=1e-3)

    def save(name, tensors):
        np.save(out / name, torch.cat(tensors).numpy().astype(np.float32))

    save("inputs.npy", inputs)
    save("bidirectional_tokens.npy", bidirectional)
    save("causal_tokens.npy", causal_states)
    save("ids_tokens.npy", ids_states)
    (out / "sequences.json").write_text(json.dumps({"lengths": LENGTHS, "ids": IDS}) + "\n")


if __name__ == "__main__":
    main()
