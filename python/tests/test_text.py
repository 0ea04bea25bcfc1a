"""ModelFolder, Tokenizer and SequenceEncoder against HF, sentence-transformers, PyTorch fixtures."""

import gc
import json
import os
import shutil

import numpy as np
import pytest

import nowrec

# The texts tools/make_pooling_fixtures.py embeds: lines 0-7 and 550-573 of minilm_texts.jsonl.
POOLING_LINES = list(range(8)) + list(range(550, 574))
POOLING_MODES = {
    "cls": ("pooling_mode_cls_token", nowrec.PoolingMode.Cls),
    "max": ("pooling_mode_max_tokens", nowrec.PoolingMode.Max),
    "mean": ("pooling_mode_mean_tokens", nowrec.PoolingMode.Mean),
    "mean_sqrt_len_tokens": ("pooling_mode_mean_sqrt_len_tokens", nowrec.PoolingMode.MeanSqrtLen),
    "lasttoken": ("pooling_mode_lasttoken", nowrec.PoolingMode.LastToken),
}


@pytest.fixture(scope="module")
def wordpiece_cases(fixtures_dir):
    """tokenizer/minilm_wordpiece.jsonl: (text, ids, offsets) per line.

    The lines given as text_b64 hold invalid UTF-8, which a Python str cannot carry, so the
    binding (which takes str) cannot be handed them; they are left out.
    """
    cases = []
    with open(fixtures_dir / "tokenizer" / "minilm_wordpiece.jsonl", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if "text" in record:
                cases.append((record["text"], record["ids"], record["offsets"]))
    assert len(cases) > 2000
    return cases


@pytest.fixture(scope="module")
def encoded_fixture_texts(encoder, minilm_texts):
    return encoder.encode(minilm_texts)


@pytest.fixture(scope="module")
def tiny_bert(fixtures_dir):
    """The tiny random BERT of fixtures/sequence and PyTorch's hidden states for its inputs."""
    folder = fixtures_dir / "sequence"
    meta = json.loads((folder / "sequences.json").read_text())
    inputs = np.load(folder / "inputs.npy")
    bounds = np.cumsum([0] + meta["lengths"])
    return {
        "model": folder / "tiny_bert",
        "lengths": meta["lengths"],
        "sequences": [inputs[a:b] for a, b in zip(bounds[:-1], bounds[1:])],
        "ids": [np.array(ids, np.int32) for ids in meta["ids"]],
        nowrec.AttentionMask.Bidirectional: np.load(folder / "bidirectional_tokens.npy"),
        nowrec.AttentionMask.Causal: np.load(folder / "causal_tokens.npy"),
        "ids_tokens": np.load(folder / "ids_tokens.npy"),
    }


def _mean_rows(states, offsets):
    return np.stack([states[a:b].astype(np.float64).mean(axis=0)
                     for a, b in zip(offsets[:-1], offsets[1:])])


def _normalised(rows):
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


# ModelFolder and Tokenizer


def test_model_folder_properties(model_dir):
    folder = nowrec.ModelFolder.load(model_dir)
    assert folder.path == model_dir
    assert folder.max_sequence_length == 256
    assert folder.has_tokenizer and folder.has_weights


def test_tokenizer_properties(encoder, model_dir):
    for tokenizer in (encoder.tokenizer, nowrec.Tokenizer.load(model_dir)):
        assert tokenizer.kind == nowrec.TokenizerKind.WordPiece
        assert tokenizer.vocab_size == 30522
        assert tokenizer.max_length == 256
        assert tokenizer.pad_id == 0
        assert tokenizer.id_to_token(101) == "[CLS]"
        assert tokenizer.id_to_token(102) == "[SEP]"


def test_tokenizer_ids_and_offsets_equal_hugging_face(encoder, wordpiece_cases):
    encodings = encoder.tokenizer.encode_batch([text for text, _, _ in wordpiece_cases])
    assert len(encodings) == len(wordpiece_cases)
    for encoding, (text, ids, offsets) in zip(encodings, wordpiece_cases):
        assert encoding.ids.dtype == np.int32
        assert encoding.ids.tolist() == ids, text
        assert encoding.offsets.dtype == np.uint32
        assert encoding.offsets.shape == (len(ids), 2)
        assert encoding.offsets.tolist() == offsets, text
        assert encoding.type_ids.tolist() == [0] * len(ids)
        assert encoding.attention_mask.dtype == np.uint8
        assert encoding.attention_mask.tolist() == [1] * len(ids)


def test_tokenizer_token_counts_equal_hugging_face(encoder, wordpiece_cases):
    encodings = encoder.tokenizer.encode_batch([text for text, _, _ in wordpiece_cases])
    assert [len(e) for e in encodings] == [len(ids) for _, ids, _ in wordpiece_cases]


def test_encode_equals_encode_batch(encoder, wordpiece_cases):
    tokenizer = encoder.tokenizer
    texts = [text for text, _, _ in wordpiece_cases[::25]]
    for text, batched in zip(texts, tokenizer.encode_batch(texts)):
        single = tokenizer.encode(text)
        assert single.ids.tolist() == batched.ids.tolist()
        assert single.offsets.tolist() == batched.offsets.tolist()


def test_truncation_and_special_tokens(encoder):
    tokenizer = encoder.tokenizer
    long_text = "word " * 1000
    assert len(tokenizer.encode_batch([long_text])[0]) == 256
    assert len(tokenizer.encode_batch([long_text], max_length=16)[0]) == 16
    assert len(tokenizer.encode_batch([long_text], truncate=False)[0]) == 1002
    assert len(tokenizer.encode_batch(["hello world"], add_special_tokens=False)[0]) == 2
    assert len(tokenizer.encode_batch([""])[0]) == 2


def test_token_to_id_and_id_to_token_round_trip(encoder):
    tokenizer = encoder.tokenizer
    for token_id in [0, 100, 101, 102, 103, 1996, 7592, 2088, 30521]:
        assert tokenizer.token_to_id(tokenizer.id_to_token(token_id)) == token_id
    assert tokenizer.token_to_id("hello") == 7592
    assert tokenizer.token_to_id("no-such-token-in-the-vocabulary") is None


def test_a_tokenizer_outlives_its_encoder(model_dir):
    tokenizer = nowrec.SequenceEncoder.load(model_dir, threads=1).tokenizer
    gc.collect()
    assert tokenizer.vocab_size == 30522
    assert len(tokenizer.encode_batch(["hello world"])[0]) == 4


@pytest.mark.parametrize("token_id", [-1, 30522, 2**31 - 1])
def test_id_to_token_outside_the_vocabulary_raises(encoder, token_id):
    with pytest.raises(nowrec.Error) as caught:
        encoder.tokenizer.id_to_token(token_id)
    # The C++ header documents NotFound (the binding's docstring says InvalidArgument).
    assert caught.value.code == nowrec.ErrorCode.NotFound
    assert str(token_id) in str(caught.value)


# SequenceEncoder on all-MiniLM-L6-v2


def test_encoder_info(encoder):
    info = encoder.info
    assert encoder.dim == info.dim == 384
    assert (info.model_type, info.layers, info.heads, info.max_length) == ("bert", 6, 12, 256)
    assert info.pooling == nowrec.PoolingMode.Mean and info.normalize
    assert info.device == nowrec.Device.CPU
    assert info.dtype == nowrec.Dtype.F32
    assert isinstance(info.cpu_matmul, str) and info.cpu_matmul


def test_encode_equals_sentence_transformers(encoded_fixture_texts, minilm_embeddings):
    got = encoded_fixture_texts
    assert got.dtype == np.float32 and got.flags.c_contiguous
    assert got.shape == minilm_embeddings.shape == (574, 384)
    assert np.abs(got - minilm_embeddings).max() <= 1e-5
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_encode_of_nothing_and_one_text(encoder):
    assert encoder.encode([]).shape == (0, 384)
    one = encoder.encode(["Toy Story (1995)"])
    assert one.shape == (1, 384) and np.isclose(np.linalg.norm(one), 1.0, atol=1e-5)


def test_encode_refuses_a_bare_string(encoder):
    with pytest.raises(TypeError):
        encoder.encode("Toy Story (1995)")


def test_encode_ids_of_the_reference_ids_equals_encode(encoder, wordpiece_cases):
    cases = wordpiece_cases[:60]
    from_ids = encoder.encode_ids([np.array(ids, np.int32) for _, ids, _ in cases])
    from_texts = encoder.encode([text for text, _, _ in cases])
    assert from_ids.shape == (60, 384)
    assert np.abs(from_ids - from_texts).max() <= 1e-5


def test_encode_ids_of_the_tokenizers_ids_equals_encode(encoder, minilm_texts,
                                                        encoded_fixture_texts):
    encodings = encoder.tokenizer.encode_batch(minilm_texts[:60])
    from_ids = encoder.encode_ids([encoding.ids for encoding in encodings])
    assert np.abs(from_ids - encoded_fixture_texts[:60]).max() <= 1e-5


def test_encode_tokens_offsets_and_mean_pooling(encoder, minilm_texts, encoded_fixture_texts):
    texts = minilm_texts[:20]
    states, offsets = encoder.encode_tokens(texts)
    assert states.dtype == np.float32 and offsets.dtype == np.int64
    assert offsets.shape == (len(texts) + 1,)
    assert offsets[0] == 0 and offsets[-1] == states.shape[0]
    assert states.shape[1] == 384
    counts = [len(e) for e in encoder.tokenizer.encode_batch(texts)]
    assert np.diff(offsets).tolist() == counts
    pooled = _normalised(_mean_rows(states, offsets))
    assert np.abs(pooled - encoded_fixture_texts[:20]).max() <= 1e-5


def test_every_pooling_mode_equals_sentence_transformers(tmp_path, model_dir, fixtures_dir,
                                                         minilm_texts):
    texts = [minilm_texts[i] for i in POOLING_LINES]
    for name, (field, mode) in POOLING_MODES.items():
        folder = tmp_path / name
        _model_with_pooling(model_dir, folder, field)
        encoder = nowrec.SequenceEncoder.load(folder, threads=1)
        assert encoder.info.pooling == mode and not encoder.info.normalize
        reference = np.load(fixtures_dir / "encoder" / f"minilm_pooling_{name}.npy")
        got = encoder.encode(texts)
        scale = max(1.0, float(np.abs(reference).max()))
        assert np.abs(got - reference).max() <= 1e-4 * scale, name
        if mode == nowrec.PoolingMode.Mean:
            # Unnormalised mean pooling is the plain mean of each text's token states.
            states, offsets = encoder.encode_tokens(texts)
            assert np.abs(_mean_rows(states, offsets) - reference).max() <= 1e-4 * scale


def _model_with_pooling(source, folder, pooling_field):
    """The MiniLM folder with one pooling mode and no Normalize module; big files linked."""
    folder.mkdir()
    for entry in source.iterdir():
        if entry.is_file() and entry.name != "modules.json":
            try:
                os.symlink(entry, folder / entry.name)
            except OSError:
                shutil.copy(entry, folder / entry.name)
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.models.Pooling"},
    ]))
    (folder / "1_Pooling").mkdir()
    pooling = {"word_embedding_dimension": 384}
    pooling.update({field: field == pooling_field for field, _ in POOLING_MODES.values()})
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))


def test_encode_vectors_masks(encoder, rng):
    sequences = [(0.05 * rng.standard_normal((length, 384))).astype(np.float32)
                 for length in (1, 2, 7)]
    causal = encoder.encode_vectors(sequences, mask=nowrec.AttentionMask.Causal)
    bidirectional = encoder.encode_vectors(sequences, mask=nowrec.AttentionMask.Bidirectional)
    assert causal.shape == bidirectional.shape == (3, 384)
    assert causal.dtype == np.float32
    assert np.allclose(np.linalg.norm(causal, axis=1), 1.0, atol=1e-5)
    # One vector attends only to itself either way; longer sequences differ.
    assert np.abs(causal[0] - bidirectional[0]).max() <= 1e-5
    assert np.abs(causal[1] - bidirectional[1]).max() > 1e-3
    assert np.abs(causal[2] - bidirectional[2]).max() > 1e-3
    assert np.array_equal(encoder.encode_vectors(sequences), bidirectional)


def test_bf16_encoder_is_close_to_f32(model_dir, encoder):
    bf16 = nowrec.SequenceEncoder.load(model_dir, threads=1, dtype=nowrec.Dtype.BF16)
    assert bf16.info.dtype == nowrec.Dtype.BF16
    texts = ["Toy Story (1995)", "a documentary about jazz in New Orleans"]
    assert np.abs(bf16.encode(texts) - encoder.encode(texts)).max() <= 1e-2


# SequenceEncoder on vector sequences: the tiny BERT against PyTorch


@pytest.mark.parametrize("mask", [nowrec.AttentionMask.Bidirectional, nowrec.AttentionMask.Causal])
def test_vector_sequences_equal_pytorch(tiny_bert, mask):
    encoder = nowrec.SequenceEncoder.load(tiny_bert["model"], threads=1)
    assert encoder.dim == 40 and not encoder.info.normalize
    states, offsets = encoder.encode_vectors_tokens(tiny_bert["sequences"], mask=mask)
    assert np.diff(offsets).tolist() == tiny_bert["lengths"]
    assert states.shape == tiny_bert[mask].shape
    assert np.abs(states - tiny_bert[mask]).max() <= 1e-4
    pooled = encoder.encode_vectors(tiny_bert["sequences"], mask=mask)
    assert np.abs(pooled - _mean_rows(tiny_bert[mask], offsets)).max() <= 1e-4


def test_id_sequences_equal_pytorch(tiny_bert):
    encoder = nowrec.SequenceEncoder.load(tiny_bert["model"], threads=1)
    offsets = np.cumsum([0] + [len(ids) for ids in tiny_bert["ids"]])
    expected = _mean_rows(tiny_bert["ids_tokens"], offsets)
    assert np.abs(encoder.encode_ids(tiny_bert["ids"]) - expected).max() <= 1e-4


# Bad input


def test_an_empty_vector_sequence_is_refused(encoder):
    sequences = [np.ones((2, 384), np.float32), np.zeros((0, 384), np.float32)]
    with pytest.raises(nowrec.Error) as caught:
        encoder.encode_vectors(sequences)
    assert caught.value.code == nowrec.ErrorCode.InvalidArgument
    assert "sequence 1 is empty" in str(caught.value)


def test_bad_sequences_are_refused(encoder):
    with pytest.raises(nowrec.Error, match="sequence 0 is empty") as caught:
        encoder.encode_ids([np.zeros(0, np.int32)])
    assert caught.value.code == nowrec.ErrorCode.InvalidArgument
    with pytest.raises(nowrec.Error, match="outside the vocabulary") as caught:
        encoder.encode_ids([np.array([101, 40000, 102], np.int32)])
    assert caught.value.code == nowrec.ErrorCode.InvalidArgument
    with pytest.raises(nowrec.Error, match="at most 256") as caught:
        encoder.encode_vectors([np.full((257, 384), 0.01, np.float32)])
    assert caught.value.code == nowrec.ErrorCode.InvalidArgument


def test_bad_sequence_arrays_name_their_position(encoder):
    good = np.full((3, 384), 0.01, np.float32)
    with pytest.raises(TypeError, match=r"^sequences\[1\] must have dtype int32"):
        encoder.encode_ids([np.array([101, 102], np.int32), np.array([101, 102], np.int64)])
    with pytest.raises(TypeError, match=r"^sequences\[1\] must have dtype float32"):
        encoder.encode_vectors([good, good.astype(np.float64)])
    with pytest.raises(TypeError, match=r"^sequences\[0\] must be C-contiguous"):
        encoder.encode_vectors([np.repeat(good, 2, axis=1)[:, ::2]])
    with pytest.raises(ValueError, match=r"^sequences\[1\] has rows of 383 values, expected 384"):
        encoder.encode_vectors([good, np.ascontiguousarray(good[:, :383])])
    with pytest.raises(TypeError):
        encoder.encode_vectors(good)  # an array, not a list of arrays


def test_load_errors(tmp_path, model_dir):
    with pytest.raises(nowrec.Error) as caught:
        nowrec.SequenceEncoder.load(tmp_path / "absent")
    assert caught.value.code == nowrec.ErrorCode.NotFound
    with pytest.raises(nowrec.Error) as caught:
        nowrec.SequenceEncoder.load(model_dir, dtype=nowrec.Dtype.F16)
    assert caught.value.code == nowrec.ErrorCode.Unsupported
    try:
        nowrec.SequenceEncoder.load(model_dir, device=nowrec.Device.CUDA)
    except nowrec.Error as error:  # a build or machine without CUDA
        assert error.code == nowrec.ErrorCode.DeviceUnavailable
