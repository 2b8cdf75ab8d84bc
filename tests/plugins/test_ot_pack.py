"""The workers' side of the process path without processes: chunk cost matrices from packed
token arrays against the per-pair code and scipy, and the shared file's life cycle."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from evalkit_ot import arena
from evalkit_ot.pack import chunk_costs, pack_pairs, ragged
from evalkit_ot.procs import solve_chunk
from evalkit_ot.solver import Doc, cost_and_flag, distance, prepare

cdist = pytest.importorskip("scipy.spatial.distance").cdist


def test_ragged_is_the_concatenated_ranges() -> None:
    starts, lengths = np.array([5, 0, 9, 2]), np.array([3, 1, 0, 2])
    expected = [5, 6, 7, 0, 2, 3]
    assert ragged(starts, lengths).tolist() == expected
    assert ragged(np.array([], dtype=np.int64), np.array([], dtype=np.int64)).tolist() == []


def prep(vectors: np.ndarray, kind: str = "wmd") -> Doc:
    doc = prepare(vectors, kind=kind)
    assert doc is not None
    return doc


def packed(docs: list[Doc]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The docs' arrays concatenated, as the caller writes them, and each doc's first row."""
    size = np.array([d.size for d in docs])
    return (np.concatenate([d.points for d in docs]), np.concatenate([d.sqnorm for d in docs]),
            np.concatenate([d.mass for d in docs]), np.cumsum(size) - size)


@pytest.mark.parametrize("kind", ["wmd", "wrd"])
def test_chunk_costs_are_the_per_pair_costs(kind: str) -> None:
    """Bit for bit the per-pair cost_and_flag (the serial path), and scipy's cdist to 1e-12,
    including near-duplicate and identical vectors (the cancellation branch, exact zeros)."""
    rng = np.random.default_rng(6)
    raw = [rng.normal(size=(int(rng.integers(1, 9)), 20)) for _ in range(30)]
    raw[1] = raw[0] + 1e-9
    raw[3] = np.vstack([raw[2][:2], rng.normal(size=(3, 20))])  # two tokens shared with raw[2]
    docs = [prep(v, kind) for v in raw]
    pts, sq, _, first = packed(docs)
    pairs = [(0, 1), (2, 3), (4, 5), (3, 2), (7, 29), (10, 10)]
    rows = np.array([[first[i], docs[i].size, first[j], docs[j].size] for i, j in pairs])
    buf, starts, zeros = chunk_costs(pts, sq, kind, rows)
    for p, (i, j) in enumerate(pairs):
        got = buf[starts[p] : starts[p] + docs[i].size * docs[j].size].reshape(docs[i].size, docs[j].size)
        assert np.array_equal(got, cost_and_flag(docs[i], docs[j])[0])
        metric = "euclidean" if kind == "wmd" else "cosine"
        np.testing.assert_allclose(got, cdist(raw[i], raw[j], metric=metric), rtol=0, atol=1e-12)
    zp, zi, zj = (z.tolist() for z in zeros)
    if kind == "wmd":
        diag = list(range(docs[10].size))
        assert zp == [1, 1, 3, 3] + [5] * len(diag)
        assert zi == [0, 1, 0, 1, *diag] and zj == [0, 1, 0, 1, *diag]
    else:
        assert zp == zi == zj == []


def test_pack_pairs_drops_shared_mass_and_knows_all_shared_pairs() -> None:
    """A WMD pair whose texts are the same bag gets 0 without a solve; a pair sharing some
    tokens is reduced to the tokens with mass left (Kantorovich-Rubinstein), and b is scaled
    to a's total as ot.emd2 does."""
    rng = np.random.default_rng(1)
    v = rng.normal(size=(4, 6))
    docs = [prep(v), prep(v[::-1]), prep(np.vstack([v[:2], rng.normal(size=(1, 6))]))]
    pts, sq, mass, first = packed(docs)
    rows = np.array([[first[0], 4, first[1], 4], [first[0], 4, first[2], 3]])
    sums = np.array([[d.mass_sum for d in docs[:2]], [docs[0].mass_sum, docs[2].mass_sum]])
    (costs, shapes, a, b, top), known = pack_pairs(pts, sq, mass, "wmd", rows, sums)
    assert known == {0: 0.0}
    # Pair 1: 1/4 of each of v[0], v[1] stays put; v[2], v[3] (1/4 each) against the third
    # text's new token (1/3) and the remaining 1/12 + 1/12 of its first two tokens.
    assert shapes.tolist() == [[2, 3]]
    np.testing.assert_allclose(a, [0.25, 0.25], rtol=0, atol=1e-15)
    np.testing.assert_allclose(b, [1 / 12, 1 / 12, 1 / 3], rtol=0, atol=1e-15)  # sums equal: unscaled
    np.testing.assert_allclose(costs.reshape(2, 3), cdist(v[2:], docs[2].points), rtol=0, atol=1e-12)
    assert top.tolist() == [cdist(v, docs[2].points).max()]


def chunk_distances(docs: list[Doc], pairs: list[tuple[int, int]]) -> np.ndarray:
    """What a worker computes for ``pairs`` of ``docs`` packed as the caller packs them."""
    pts, sq, mass, first = packed(docs)
    rows = np.array([[first[i], docs[i].size, first[j], docs[j].size] for i, j in pairs])
    sums = np.array([[docs[i].mass_sum, docs[j].mass_sum] for i, j in pairs])
    problems, known = pack_pairs(pts, sq, mass, docs[0].kind, rows, sums)
    out = np.zeros(len(pairs))
    keep = np.ones(len(pairs), dtype=bool)
    keep[list(known)] = False
    out[keep] = solve_chunk(docs[0].kind, 1_000_000, *problems)
    return out


def test_a_pair_with_nothing_left_to_move_does_not_shift_the_next_pairs() -> None:
    """All of the first text's mass is shared, and the second text keeps a round-off sliver
    (a weight of 1e-20 next to 3): the pair is 0 and its sliver must not enter the packed
    arrays, or every later pair of the chunk reads the wrong masses."""
    rng = np.random.default_rng(3)
    u, v, w = rng.normal(size=(3, 5))
    docs = [prepare(np.stack([u, v]), [1.0, 2.0]), prepare(np.stack([v, u, w]), [2.0, 1.0, 1e-20]),
            prep(rng.normal(size=(4, 5))), prep(rng.normal(size=(3, 5)))]
    assert all(d is not None for d in docs)
    pairs = [(0, 1), (2, 3), (3, 0), (1, 2)]
    got = chunk_distances(docs, pairs)  # type: ignore[arg-type]
    expected = [distance(docs[i], docs[j]) for i, j in pairs]  # type: ignore[arg-type]
    assert got[0] == 0.0
    assert got.tolist() == expected


def test_chunk_reduction_is_the_per_pair_reduction_bit_for_bit() -> None:
    """Many WMD pairs over a small vocabulary (shared words, repeated counts), some texts with
    two words at the same vector (a token meeting two zero costs: the order of the updates
    matters), against the per-pair path (solver.distance) bit for bit and against ot.emd2 on
    scipy's cost matrix to 1e-12."""
    ot = pytest.importorskip("ot")
    rng = np.random.default_rng(11)
    vocab = rng.normal(size=(25, 8))
    vocab[7] = vocab[3]  # two words, one vector
    raw = []
    for _ in range(60):
        words = rng.choice(25, size=int(rng.integers(1, 10)), replace=False)
        raw.append((vocab[words], rng.integers(1, 4, size=words.size).astype(float)))
    docs = [prepare(v, c) for v, c in raw]
    pairs = [(int(i), int(j)) for i, j in rng.integers(0, 60, size=(300, 2)) if i != j]
    got = chunk_distances(docs, pairs)  # type: ignore[arg-type]
    assert got.tolist() == [distance(docs[i], docs[j]) for i, j in pairs]  # type: ignore[arg-type]
    ref = [ot.emd2(raw[i][1] / raw[i][1].sum(), raw[j][1] / raw[j][1].sum(), cdist(raw[i][0], raw[j][0]))
           for i, j in pairs]
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)


def test_arena_file_follows_joblib_temp_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBLIB_TEMP_FOLDER", str(tmp_path))
    own = arena.Arena()
    layout, out = own.allocate({"x": ((3, 2), "f8"), "i": ((4,), "i8")})
    out["x"][:] = [[1, 2], [3, 4], [5, 6]]
    out["i"][:] = [7, 8, 9, 10]
    path = layout[0]
    assert Path(path).parent == tmp_path and os.path.exists(path)
    seen = arena.views(layout)  # in the owner, its own mapping (a forked child maps the path: below)
    assert seen["x"].tolist() == [[1, 2], [3, 4], [5, 6]] and seen["i"].tolist() == [7, 8, 9, 10]
    seen["i"][0] = 70  # the processes write their values into a claimed plan (evalkit_ot.claim)
    assert out["i"].tolist() == [70, 8, 9, 10]
    again, _ = own.allocate({"x": ((3, 2), "f8")})
    assert again[0] == path and again[1] == layout[1] + 1  # rewritten in place, a new call number
    own.allocate({"x": ((100_000,), "f8")})
    assert own.path != path and not os.path.exists(path)  # grown: the old file is gone
    bigger = own.path
    own.release()
    assert own.path is None and not os.path.exists(str(bigger))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_does_not_remove_the_parents_file(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBLIB_TEMP_FOLDER", str(tmp_path))
    own = arena.Arena()
    layout, _ = own.allocate({"x": ((4,), "f8")})
    with warnings.catch_warnings():  # Python 3.12+ warns about forking a threaded process
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child forgets the file at exit without removing it
        own.release()
        os._exit(0 if own.path is None else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert os.path.exists(layout[0])
    own.release()
    assert not os.path.exists(layout[0])
