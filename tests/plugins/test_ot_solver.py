"""WMD/WRD values against gensim's wmdistance, a direct per-pair ot.emd2, hand computations and
the properties every transport distance must have (hypothesis)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from evalkit_ot.batch import ot_distances
from evalkit_ot.bounds import capped_bound, centroid_bound, dual_bound, relaxed_bound, rwmd, wcd
from evalkit_ot.embeddings import StaticEmbedder, load_vectors, to_docs
from evalkit_ot.solver import SolverError, distance, emd_value, finish, prepare, wmd, wrd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from evalkit.errors import DataError

ot = pytest.importorskip("ot")


def gensim_vectors_path() -> Path:
    gensim_test = pytest.importorskip("gensim.test.utils")
    return Path(gensim_test.datapath("euclidean_vectors.bin"))


@pytest.fixture(scope="module")
def lee_pairs(data_dir: Path) -> tuple[list[str], list[str]]:
    docs = (data_dir / "lee" / "lee.cor").read_text(encoding="latin-1").splitlines()
    assert len(docs) == 50
    iu = np.triu_indices(50, 1)
    first, second = iu[0][:250], iu[1][:250]  # 250 document pairs
    return [docs[i] for i in first], [docs[j] for j in second]


@pytest.mark.data
@pytest.mark.parametrize("norm", [False, True])
def test_equals_gensim_wmdistance_on_lee(lee_pairs, norm: bool) -> None:
    """gensim 4.4: wmdistance(d1, d2, norm) drops OOV tokens, nBOW weights, cdist costs, ot.emd2;
    norm=True divides each vector by its norm. gensim normalises in the storage dtype, so it
    loads the (float32) file as float64 to compare at 1e-9 with evalkit's float64 arithmetic."""
    from gensim.models import KeyedVectors

    path = gensim_vectors_path()
    kv = KeyedVectors.load_word2vec_format(str(path), binary=True, datatype=np.float64)
    emb = StaticEmbedder(load_vectors(path))
    first, second = lee_pairs
    got = ot_distances(to_docs(first, emb, kind="wmd", normalize=norm),
                       to_docs(second, emb, kind="wmd", normalize=norm), n_jobs=2).values
    expected = np.array([kv.wmdistance(emb.tokenize(a), emb.tokenize(b), norm=norm)
                         for a, b in zip(first, second, strict=True)])
    assert len(got) == 250 and np.all(np.isfinite(expected)) and np.all(expected > 0)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    if not norm:  # without normalisation the float32 storage of gensim's default gives the same
        kv32 = KeyedVectors.load_word2vec_format(str(path), binary=True)
        e32 = [kv32.wmdistance(emb.tokenize(a), emb.tokenize(b), norm=False)
               for a, b in zip(first[:50], second[:50], strict=True)]
        np.testing.assert_allclose(got[:50], e32, rtol=0, atol=1e-9)


def _direct_emd2(x: np.ndarray, y: np.ndarray, wx: np.ndarray, wy: np.ndarray, kind: str) -> float:
    """The textbook computation, pair by pair, with POT's public API only."""
    if kind == "wmd":
        return float(ot.emd2(wx / wx.sum(), wy / wy.sum(),
                             ot.dist(x, y, metric="euclidean", backend="scipy")))
    mx = wx * np.linalg.norm(x, axis=1)
    my = wy * np.linalg.norm(y, axis=1)
    return float(ot.emd2(mx / mx.sum(), my / my.sum(), ot.dist(x, y, metric="cosine", backend="scipy")))


@pytest.mark.parametrize("kind", ["wmd", "wrd"])
def test_equals_direct_emd2(kind: str) -> None:
    """Contextual-like token clouds (384-d, 3-40 tokens, shared anisotropic offset)."""
    rng = np.random.default_rng(7)
    offset = rng.normal(size=384) * 3
    xs = [rng.normal(size=(rng.integers(3, 40), 384)) + offset for _ in range(150)]
    ys = [rng.normal(size=(rng.integers(3, 40), 384)) + offset for _ in range(150)]
    wx = [rng.integers(1, 4, size=len(x)).astype(float) for x in xs]
    wy = [rng.integers(1, 4, size=len(y)).astype(float) for y in ys]
    got = ot_distances([prepare(x, w, kind=kind) for x, w in zip(xs, wx, strict=True)],
                       [prepare(y, w, kind=kind) for y, w in zip(ys, wy, strict=True)], n_jobs=2)
    expected = [_direct_emd2(*args, kind) for args in zip(xs, ys, wx, wy, strict=True)]
    np.testing.assert_allclose(got.values, expected, rtol=0, atol=1e-12)
    single = wmd if kind == "wmd" else wrd
    assert single(xs[0], ys[0], wx[0], wy[0]) == pytest.approx(expected[0], abs=1e-12)


@pytest.mark.data
def test_equals_direct_emd2_on_lee_static_vectors(lee_pairs) -> None:
    sv = load_vectors(gensim_vectors_path())
    emb = StaticEmbedder(sv)
    first, second = lee_pairs
    for kind in ("wmd", "wrd"):
        got = ot_distances(to_docs(first[:120], emb, kind=kind),
                           to_docs(second[:120], emb, kind=kind), n_jobs=1).values
        for k, (a, b) in enumerate(zip(first[:120], second[:120], strict=True)):
            ba, bb = emb.bag(a), emb.bag(b)
            exp = _direct_emd2(ba.vectors.astype(float), bb.vectors.astype(float), ba.counts,
                               bb.counts, kind)
            assert got[k] == pytest.approx(exp, abs=1e-12), (kind, k)


def test_hand_computed_values() -> None:
    # 1-D: {0, 1} (1/2 each) to {2}: move 1/2 by 2 and 1/2 by 1.
    assert wmd([[0.0], [1.0]], [[2.0]]) == pytest.approx(1.5)
    # A repeated token adds weight: {0, 0, 1} vs {2} = (2/3) 2 + (1/3) 1.
    assert wmd([[0.0], [0.0], [1.0]], [[2.0]]) == pytest.approx(5 / 3)
    assert wmd([[0.0], [1.0]], [[2.0]], [2, 1]) == pytest.approx(5 / 3)
    # WRD: orthogonal unit directions cost 1, opposite 2; mass follows the norms.
    assert wrd([[1.0, 0.0]], [[0.0, 3.0]]) == pytest.approx(1.0)
    assert wrd([[1.0, 0.0]], [[-5.0, 0.0]]) == pytest.approx(2.0)
    # x = {e1 (norm 1), 3 e2 (norm 3)}: mass 1/4, 3/4; y = {e1}: 1/4 * 0 + 3/4 * 1.
    assert wrd([[1.0, 0.0], [0.0, 3.0]], [[2.0, 0.0]]) == pytest.approx(0.75)
    # gensim's norm=True: both sets become unit vectors.
    assert wmd([[3.0, 0.0]], [[0.0, 0.5]], normalize=True) == pytest.approx(np.sqrt(2))


def test_wcd_can_exceed_rwmd() -> None:
    """The issue's chain WCD <= RWMD does not hold: x = {0: 1/2, 10: 1/2}, y = {0: 1/10, 10: 9/10}."""
    x = prepare([[0.0], [10.0]], [5, 5])
    y = prepare([[0.0], [10.0]], [1, 9])
    assert x is not None and y is not None
    assert rwmd(x, y) == 0.0
    assert wcd(x, y) == pytest.approx(4.0)
    assert distance(x, y) == pytest.approx(4.0)


def test_round_off_and_errors() -> None:
    c = np.ones((2, 2))
    assert finish(-1e-16, "wmd", c) == 0.0
    assert finish(2.0 + 1e-15, "wrd", c) == 2.0
    with pytest.raises(SolverError, match="negative"):
        finish(-0.5, "wmd", c)
    with pytest.raises(DataError, match="no token vector"):
        wmd(np.zeros((0, 3)), np.ones((2, 3)))
    with pytest.raises(DataError, match="no token vector"):
        wrd(np.zeros((2, 3)), np.ones((2, 3)))  # zero vectors have no direction and no mass
    with pytest.raises(DataError, match="non-negative"):
        wmd(np.ones((2, 3)), np.ones((2, 3)), [1, -1])
    rng = np.random.default_rng(0)
    a = np.full(60, 1 / 60)
    with pytest.raises(SolverError, match="iteration limit"):
        emd_value(a, a, rng.random((60, 60)), max_iter=3)


# -- properties -----------------------------------------------------------------------------
def clouds(dim: int = 4):
    size = st.integers(1, 7)
    return size.flatmap(lambda n: st.tuples(
        hnp.arrays(np.float64, (n, dim), elements=st.floats(-5, 5, allow_nan=False, width=32)),
        hnp.arrays(np.float64, (n,), elements=st.integers(1, 4).map(float))))


@settings(max_examples=150, deadline=None)
@given(clouds(), clouds(), st.randoms(use_true_random=False))
def test_properties(xa, ya, rnd) -> None:
    (x, wx), (y, wy) = xa, ya
    for kind in ("wmd", "wrd"):
        dx, dy = prepare(x, wx, kind=kind), prepare(y, wy, kind=kind)
        if dx is None or dy is None:  # all-zero vectors under WRD
            continue
        d = distance(dx, dy)
        assert d == pytest.approx(distance(dy, dx), abs=1e-10)  # symmetry
        assert distance(dx, prepare(x, wx, kind=kind)) == 0.0  # identical inputs
        perm = list(range(len(x)))
        rnd.shuffle(perm)
        assert distance(prepare(x[perm], wx[perm], kind=kind), dy) == pytest.approx(d, abs=1e-10)
        tol = 1e-9 * (1 + d)
        assert relaxed_bound(dx, dy) <= capped_bound(dx, dy) + tol
        assert capped_bound(dx, dy) <= d + tol
        assert centroid_bound(dx, dy) <= d + tol
        pots = np.random.default_rng(0).normal(size=(3, dx.size))
        assert dual_bound(dx, dy, pots) <= d + tol
        if kind == "wmd":
            assert wcd(dx, dy) <= d + tol and rwmd(dx, dy) <= d + tol
            assert d >= 0
        else:
            assert 0.0 <= d <= 2.0


def test_dual_bound_is_tight_at_the_optimum() -> None:
    """The optimal potentials of a pair give back its distance (strong duality)."""
    rng = np.random.default_rng(3)
    x, y = prepare(rng.normal(size=(6, 3))), prepare(rng.normal(size=(9, 3)))
    assert x is not None and y is not None
    from evalkit_ot.solver import cost_matrix

    duals: list[np.ndarray] = []
    d = emd_value(x.mass, y.mass, cost_matrix(x, y), duals=duals)
    u, v = duals
    assert u.shape == (6,) and v.shape == (9,)
    assert dual_bound(x, y, u[None, :]) == pytest.approx(d, abs=1e-12)
