"""The embedding cache: computes each distinct text once, persists atomically, survives damage."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evalkit.cache import EmbeddingCache


def fake_encoder(calls: list[list[str]]):
    def compute(texts: list[str]) -> list[np.ndarray]:
        calls.append(list(texts))
        return [np.full(4, len(t), dtype=np.float32) for t in texts]

    return compute


def test_distinct_texts_computed_once_and_reused_from_disk(tmp_path: Path) -> None:
    calls: list[list[str]] = []
    cache = EmbeddingCache(tmp_path)
    out = cache.get_many("m", ["a", "bb", "a", "ccc"], fake_encoder(calls))
    assert calls == [["a", "bb", "ccc"]]
    assert [v[0] for v in out] == [1, 2, 1, 3]
    cache.get_many("m", ["bb", "dddd"], fake_encoder(calls))
    assert calls[-1] == ["dddd"]
    # A fresh cache on the same folder reads everything from disk.
    again = EmbeddingCache(tmp_path)
    out = again.get_many("m", ["dddd", "a", "bb", "ccc"], fake_encoder(calls))
    assert len(calls) == 2 and again.total_computed() == 0
    assert again.stats["m"].disk_hits == 4
    assert [v[0] for v in out] == [4, 1, 2, 3]
    # Another namespace (another model) shares nothing.
    again.get_many("other", ["a"], fake_encoder(calls))
    assert calls[-1] == ["a"]


def test_variable_length_arrays_round_trip(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    rng = np.random.default_rng(0)
    arrays = {t: rng.normal(size=(len(t), 3)).astype(np.float32) for t in ["x", "yy", "zzz"]}
    cache.get_many("tok", list(arrays), lambda ts: [arrays[t] for t in ts])
    again = EmbeddingCache(tmp_path).get_many("tok", ["zzz", "x"], lambda ts: [])
    np.testing.assert_array_equal(again[0], arrays["zzz"])
    assert again[1].shape == (1, 3)


def test_damaged_shard_is_ignored_and_no_temp_files_left(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    cache.get_many("m", ["a"], fake_encoder([]))
    (shard,) = list(tmp_path.rglob("*.npz"))
    shard.write_bytes(b"not a zip")
    calls: list[list[str]] = []
    EmbeddingCache(tmp_path).get_many("m", ["a"], fake_encoder(calls))
    assert calls == [["a"]]
    assert not list(tmp_path.rglob(".part-*"))


def test_memory_only_cache_writes_nothing(tmp_path: Path) -> None:
    cache = EmbeddingCache(None)
    cache.get_many("m", ["a", "b"], fake_encoder([]))
    assert cache.total_computed() == 2 and not list(tmp_path.iterdir())
