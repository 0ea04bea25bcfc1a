#!/usr/bin/env python3
"""Reference fixture for the C++ LearnedNextInterestModel: PyTorch's predictions on event windows.

Builds a tiny next-interest model with tools/train_next_interest.py's module (fixed seed, weights
scaled up so that every part matters, rounded to float16 as the training stores them), exports it
with the same export() the training uses, and
runs it in PyTorch on event windows that exercise the C++ input rules:
  - events whose item is -1 or unknown to the item store are skipped before the window is cut;
  - the window keeps the last `window` remaining events, oldest first;
  - the first event of the window has gap bucket 0, each other one the bucket of the seconds
    since the remaining event before it (negative gaps count as 0);
  - an action outside the model's list, or none, takes embedding row 0;
  - items with an id embedding (ID_ITEMS, rows given out of catalog order) add it to their input
    and to their item vector; the other items use their text alone.

Usage: tools/make_next_interest_fixture.py [OUT_DIR]  (default tests/fixtures/next_interest)
Writes: model/ (config.json, model.safetensors, 1_Pooling/config.json), item_ids.npy (int64),
item_embeddings.npy [items][text_dim], windows.json (each window's events and the expected
number of events used, the item ids), predictions.npy [windows][text_dim] and item_vectors.npy
[items][text_dim].
"""
import json
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import train_next_interest as trainer  # noqa: E402

SEED = 4321
TEXT_DIM, HIDDEN, ITEM_SPACE, ITEM_MLP, WINDOW, BUCKETS = 24, 16, 16, 12, 6, 10
ACTIONS = ["like", "view"]
ITEM_IDS = list(range(100, 120))
UNKNOWN_ITEM = 999
# Items with their own id embedding, in id-row order (1, 2, ...): not the catalog order, and
# items 100, 101, 103, 105, ... have none.
ID_ITEMS = [112, 104, 102, 119, 106, 110, 108, 114, 107, 116, 109]

# (item, timestamp, action) lists; timestamps in seconds.
WINDOWS = {
    "one event": [(100, 1000, "like")],
    "two events, same second": [(101, 1000, "view"), (102, 1000, "like")],
    "full window": [(100 + i, 1000 + 7 ** i, "like" if i % 2 else "view") for i in range(6)],
    "overflow keeps the last six": [(103 + i, 5000 + 3 * i * i, "view") for i in range(10)],
    "unknown and empty actions": [(104, 10, "purchase"), (105, 20, ""), (106, 4000, "like"),
                                  (107, 4100, "skip")],
    "unknown items skipped": [(UNKNOWN_ITEM, 1, "like"), (108, 100, "like"), (-1, 150, "view"),
                              (109, 200, "view"), (UNKNOWN_ITEM, 250, "like"), (110, 10 ** 9, "like")],
    "overflow after skipping": [(111 + (i % 9) if i % 3 else UNKNOWN_ITEM, 100 * i, "view")
                                for i in range(12)],
    "out of order and huge gaps": [(112, 5000, "like"), (113, 4000, "view"), (114, 4000 + 2 ** 40, "like")],
}


def reference_inputs(events, row_of):
    kept = [(item, t, a) for item, t, a in events if item in row_of][-WINDOW:]
    rows = [row_of[item] for item, _, _ in kept]
    actions = [trainer.action_index(a, ACTIONS) for _, _, a in kept]
    gaps = trainer.window_gaps([t for _, t, _ in kept], BUCKETS)
    return rows, actions, gaps


def main() -> None:
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/next_interest")
    torch.manual_seed(SEED)
    model = trainer.NextInterestModel(TEXT_DIM, HIDDEN, 2, 2, WINDOW, len(ACTIONS), BUCKETS,
                                      ITEM_SPACE, ITEM_MLP, dropout=0.0, scale=20.0,
                                      id_items=len(ID_ITEMS)).eval()
    # The default init (std 0.02) makes the transformer close to the identity; larger weights
    # make attention, the mask and every embedding matter.
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "LayerNorm" in name:
                parameter.copy_(1.0 + 0.2 * torch.randn_like(parameter) if name.endswith("weight")
                                else 0.2 * torch.randn_like(parameter))
            elif name != "prior_weight":
                parameter.copy_(0.3 * torch.randn_like(parameter))
        model.prior_weight.fill_(0.125)
        model.id_embeddings.weight[0].zero_()  # the "no id" row
    # Stored as float16, as the trained model is: the reference runs on the rounded weights.
    trainer.round_weights(model, "float16")

    generator = torch.Generator().manual_seed(SEED + 1)
    text = torch.nn.functional.normalize(torch.randn(len(ITEM_IDS), TEXT_DIM, generator=generator), dim=-1)
    row_of = {item: r for r, item in enumerate(ITEM_IDS)}
    id_rows = np.zeros(len(ITEM_IDS), dtype=np.int64)
    for id_row, item in enumerate(ID_ITEMS, start=1):
        id_rows[row_of[item]] = id_row
    id_rows_t = torch.as_tensor(id_rows)

    out.mkdir(parents=True, exist_ok=True)
    trainer.export(model, out / "model", actions=ACTIONS, buckets=BUCKETS,
                   window=WINDOW, text_dim=TEXT_DIM, item_space=ITEM_SPACE, prediction_weight=0.75,
                   dtype="float16", item_ids=np.asarray(ITEM_IDS, dtype=np.int64), id_rows=id_rows,
                   id_min_count=1)

    predictions, described = [], []
    with torch.no_grad():
        for name, events in WINDOWS.items():
            rows, actions, gaps = reference_inputs(events, row_of)
            states = model.states(text[torch.tensor([rows])], torch.tensor([actions]), torch.tensor([gaps]),
                                  id_rows_t[torch.tensor([rows])])
            padded = torch.zeros(TEXT_DIM)
            padded[:ITEM_SPACE] = states[0, -1]
            predictions.append(padded)
            described.append({"name": name, "used_events": len(rows),
                              "events": [{"item": i, "timestamp": t, "action": a} for i, t, a in events]})
        vectors = torch.zeros(len(ITEM_IDS), TEXT_DIM)
        vectors[:, :ITEM_SPACE] = model.item_vectors(text, id_rows_t)

        # The causal mask must matter: changing the first event changes the prediction, and a
        # prediction depends on the window's order.
        first = WINDOWS["full window"]
        rows, actions, gaps = reference_inputs(first, row_of)
        swapped = model.states(text[torch.tensor([rows[::-1]])], torch.tensor([actions]),
                               torch.tensor([gaps]), id_rows_t[torch.tensor([rows[::-1]])])[0, -1]
        assert not torch.allclose(swapped, predictions[2][:ITEM_SPACE], atol=1e-3)
        # The id embeddings must matter: without them the same window predicts otherwise.
        text_only = model.states(text[torch.tensor([rows])], torch.tensor([actions]), torch.tensor([gaps]))[0, -1]
        assert not torch.allclose(text_only, predictions[2][:ITEM_SPACE], atol=1e-3)

    np.save(out / "item_ids.npy", np.asarray(ITEM_IDS, dtype=np.int64))
    np.save(out / "item_embeddings.npy", text.numpy().astype(np.float32))
    np.save(out / "predictions.npy", torch.stack(predictions).numpy().astype(np.float32))
    np.save(out / "item_vectors.npy", vectors.numpy().astype(np.float32))
    (out / "windows.json").write_text(json.dumps(
        {"item_ids": ITEM_IDS, "unknown_item": UNKNOWN_ITEM, "prediction_weight": 0.75, "prior_weight": 0.125,
         "id_items": ID_ITEMS,
         "windows": described}, indent=1) + "\n")
    print(f"wrote {len(described)} windows to {out}")


if __name__ == "__main__":
    main()
