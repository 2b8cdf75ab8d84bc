"""Spearman's rho and Pearson's r against pandas (an independent implementation) and by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from evalkit_correlation import Pearson, Spearman
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.errors import DataError

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(finite, finite), min_size=3, max_size=40))
def test_matches_pandas(pairs: list[tuple[float, float]]) -> None:
    x = np.array([p[0] for p in pairs])
    y = np.array([p[1] for p in pairs])
    if np.ptp(x) == 0 or np.ptp(y) == 0 or np.std(x) < 1e-3 or np.std(y) < 1e-3:
        return
    sx, sy = pd.Series(x), pd.Series(y)
    assert Spearman().compute(predictions=x, references=y) == pytest.approx(sx.corr(sy, method="spearman"), abs=1e-9)
    assert Pearson().compute(predictions=x, references=y) == pytest.approx(sx.corr(sy, method="pearson"), abs=1e-9)


def test_hand_computed_values() -> None:
    # ranks of x: 1 2 3 4, ranks of y: 1 3 2 4 -> d^2 = 0 1 1 0 -> rho = 1 - 6*2/(4*15) = 0.8
    assert Spearman().compute(predictions=[1, 2, 3, 4], references=[10, 30, 20, 40]) == pytest.approx(0.8)
    assert Pearson().compute(predictions=[1, 2, 3], references=[2, 4, 6]) == pytest.approx(1.0)
    assert Pearson().compute(predictions=[1, 2, 3], references=[3, 2, 1]) == pytest.approx(-1.0)


@pytest.mark.parametrize("metric", [Spearman(), Pearson()])
def test_bad_input(metric) -> None:
    with pytest.raises(DataError, match="3 predictions but 2 references"):
        metric.compute(predictions=[1, 2, 3], references=[1, 2])
    with pytest.raises(DataError, match="non-finite values at rows \\[1\\]"):
        metric.compute(predictions=[1, np.nan, 3], references=[1, 2, 3])
    with pytest.raises(DataError, match="constant"):
        metric.compute(predictions=[1, 1, 1], references=[1, 2, 3])
    with pytest.raises(DataError, match="at least 2 pairs"):
        metric.compute(predictions=[], references=[])


@pytest.mark.parametrize("name", ["spearman", "pearson"])
def test_compute_resampled_equals_scipy_on_each_resample(name: str) -> None:
    """The bulk path of the paired bootstrap: one value per resample, as scipy computes it (ties
    in both sides, a resample with a constant side undefined)."""
    import numpy as np
    from scipy import stats

    from evalkit.plugins import Host

    metric = Host(autoload=False).metrics.create(name)
    rng = np.random.default_rng(5)
    n = 97
    y = rng.integers(0, 6, n).astype(float)  # gold with many ties
    x = np.round(y + rng.normal(0, 1.5, n), 1)  # predictions with ties
    idx = rng.integers(0, n, size=(40, n))
    idx[3] = 7  # every draw the same row: both sides constant
    out = metric.compute_resampled(x, y, idx)
    ref = getattr(stats, f"{name}r")
    for j in range(idx.shape[0]):
        if j == 3:
            assert np.isnan(out[j])
        else:
            assert out[j] == pytest.approx(ref(x[idx[j]], y[idx[j]]).statistic, abs=1e-12)
    # A second system (no ties of its own: the untied path) on the same resamples reuses the
    # reference side; still equal to scipy on every resample.
    x2 = y + rng.normal(0, 0.5, n)
    out2 = metric.compute_resampled(x2, y, idx)
    for j in range(idx.shape[0]):
        if j != 3:
            assert out2[j] == pytest.approx(ref(x2[idx[j]], y[idx[j]]).statistic, abs=1e-12)


def _scipy_on_each(name: str, x: np.ndarray, y: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """scipy's coefficient on every materialised resample, NaN where scipy warns of a constant side."""
    import warnings

    from scipy import stats

    out = np.full(idx.shape[0], np.nan)
    for j, rows in enumerate(idx):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if np.ptp(x[rows]) > 0 and np.ptp(y[rows]) > 0:
                out[j] = getattr(stats, f"{name}r")(x[rows], y[rows]).statistic
    return out


@pytest.mark.parametrize("exact", [True, False], ids=["int64", "float64"])
@pytest.mark.parametrize("name", ["spearman", "pearson"])
def test_compute_resampled_in_many_blocks_equals_scipy(name: str, exact: bool, monkeypatch) -> None:
    """Blocks of a few resamples (the scratch arrays reused from block to block), ties at both ends
    of the sorted order and in the gold, resamples of another size than the data (m != N), a
    resample with only the predictions constant, one with only the gold constant; the float64
    path (beyond MAX_EXACT) gives the same values."""
    from evalkit_correlation import resampled

    monkeypatch.setattr(resampled, "BLOCK_ELEMENTS", 150)
    if not exact:
        monkeypatch.setattr(resampled, "MAX_EXACT", 10)
    rng = np.random.default_rng(11)
    n, m = 60, 45
    y = rng.integers(0, 5, n).astype(float)
    x = np.round(y + rng.normal(0, 1.2, n), 1)
    x[np.argsort(x)[:4]] = x.min()  # a tie at the first sorted positions
    x[np.argsort(x)[-3:]] = x.max()  # and one at the last
    idx = rng.integers(0, n, size=(23, m))
    low = np.flatnonzero(x == x.min())
    idx[4] = rng.choice(low, m)  # predictions constant, gold (probably) not
    idx[9] = rng.choice(np.flatnonzero(y == 2.0), m)  # gold constant
    metric = Spearman() if name == "spearman" else Pearson()
    expected = _scipy_on_each(name, x, y, idx)
    assert np.isnan(expected[[4, 9]]).all() and np.isfinite(np.delete(expected, [4, 9])).all()
    np.testing.assert_allclose(metric.compute_resampled(x, y, idx), expected, rtol=0, atol=1e-12)


def test_compute_resampled_systems_interleaved_block_by_block() -> None:
    """The report's order: every system on one block of resamples, then the next block (the
    reference side and the scratch arrays are reused in place); each result equals scipy."""
    rng = np.random.default_rng(3)
    n = 80
    y = rng.integers(0, 6, n).astype(float)
    systems = [np.round(y + rng.normal(0, s, n), 1) for s in (0.5, 1.0, 2.0)]
    idx = rng.integers(0, n, size=(30, n))
    for metric, name in ((Spearman(), "spearman"), (Pearson(), "pearson")):
        got = {k: [] for k in range(len(systems))}
        for start in range(0, 30, 10):
            block = idx[start:start + 10]
            for k, x in enumerate(systems):
                got[k].append(metric.compute_resampled(x, y, block))
        for k, x in enumerate(systems):
            np.testing.assert_allclose(np.concatenate(got[k]), _scipy_on_each(name, x, y, idx), rtol=0, atol=1e-12)


@pytest.mark.parametrize("metric", [Spearman(), Pearson()])
def test_compute_resampled_bad_input(metric) -> None:
    x, y = np.arange(5.0), np.array([1.0, 3, 2, 5, 4])
    with pytest.raises(DataError, match=r"outside 0\.\.4"):
        metric.compute_resampled(x, y, np.array([[0, 1, 5, 2, 3]]))
    with pytest.raises(DataError, match="2-D integer array"):
        metric.compute_resampled(x, y, np.array([0, 1, 2]))
    with pytest.raises(DataError, match="5 predictions but 4 references"):
        metric.compute_resampled(x, y[:4], np.zeros((2, 4), dtype=int))
    with pytest.raises(DataError, match="non-finite"):
        metric.compute_resampled(np.array([0, np.nan, 2, 3, 4]), y, np.zeros((2, 5), dtype=int))


@pytest.mark.parametrize("name", ["spearman", "pearson"])
def test_compute_resampled_never_serves_an_array_changed_in_place(name: str) -> None:
    """The kept preparations are reused only for equal values: predictions, references and
    indices changed in place between calls give scipy's values on the new data."""
    metric = Spearman() if name == "spearman" else Pearson()
    rng = np.random.default_rng(5)
    pred, ref = rng.normal(size=40), rng.normal(size=40)
    idx = rng.integers(0, 40, size=(30, 40))
    metric.compute_resampled(pred, ref, idx)
    pred[:] = rng.normal(size=40)
    ref[:] = rng.normal(size=40)
    idx[:] = rng.integers(0, 40, size=(30, 40))
    got = metric.compute_resampled(pred, ref, idx)
    from scipy import stats

    fn = stats.spearmanr if name == "spearman" else stats.pearsonr
    expected = [fn(pred[i], ref[i])[0] for i in idx]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_a_pickled_metric_leaves_its_kept_arrays_behind() -> None:
    """What compute_resampled keeps is a per-process speed-up: a pickled metric does not carry
    it, and the copy computes the same values (scipy's) from scratch."""
    import pickle

    from scipy import stats

    metric = Spearman()
    rng = np.random.default_rng(2)
    pred, ref = rng.normal(size=200), rng.normal(size=200)
    idx = rng.integers(0, 200, size=(50, 200))
    first = metric.compute_resampled(pred, ref, idx)
    data = pickle.dumps(metric)
    assert len(data) < 2_000  # no (50 x 200) arrays inside
    again = pickle.loads(data).compute_resampled(pred, ref, idx)
    np.testing.assert_allclose(again, [stats.spearmanr(pred[i], ref[i])[0] for i in idx], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(again, first)
