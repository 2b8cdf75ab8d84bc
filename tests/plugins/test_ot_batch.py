"""The batched API: same values as pair-by-pair solves, empty-text policies, and the entropic
solvers (POT and the batched torch path on CPU tensors) with their reported gap."""

from __future__ import annotations

import numpy as np
import pytest
from evalkit_ot.batch import ot_distances
from evalkit_ot.solver import distance, prepare

from evalkit.errors import ConfigError, DataError

ot = pytest.importorskip("ot")


def docs(kind: str, n: int = 60, seed: int = 0, dim: int = 12):
    rng = np.random.default_rng(seed)
    return [prepare(rng.normal(size=(rng.integers(1, 15), dim)), kind=kind) for _ in range(n)]


@pytest.mark.parametrize("kind", ["wmd", "wrd"])
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_batch_equals_single_pairs_bit_for_bit(kind: str, n_jobs: int) -> None:
    xs, ys = docs(kind, seed=1), docs(kind, seed=2)
    ys[5] = xs[5]  # an identical pair
    res = ot_distances(xs, ys, n_jobs=n_jobs)
    assert res.solver == "exact" and res.backend == "pot-emd" and res.gap is None
    expected = np.array([distance(x, y) for x, y in zip(xs, ys, strict=True)])
    assert np.array_equal(res.values, expected)
    assert res.values[5] == 0.0
    assert np.all(res.values >= 0) and (kind == "wmd" or np.all(res.values <= 2))


def test_empty_texts() -> None:
    xs, ys = docs("wmd", 5), docs("wmd", 5, seed=3)
    xs[1] = None
    ys[3] = None
    with pytest.raises(DataError, match=r"pairs \[1, 3\] have an empty text.*on_empty='nan'"):
        ot_distances(xs, ys)
    res = ot_distances(xs, ys, on_empty="nan")
    assert np.isnan(res.values[[1, 3]]).all() and np.isfinite(res.values[[0, 2, 4]]).all()
    with pytest.raises(ConfigError, match="on_empty"):
        ot_distances(xs, ys, on_empty="skip")
    with pytest.raises(DataError, match="5 first texts but 4"):
        ot_distances(xs, ys[:4])


@pytest.mark.parametrize("kind", ["wmd", "wrd"])
def test_sinkhorn_reports_its_gap(kind: str) -> None:
    xs, ys = docs(kind, 40, seed=4), docs(kind, 40, seed=5)
    exact = ot_distances(xs, ys).values
    res = ot_distances(xs, ys, solver="sinkhorn", reg=0.01, backend="pot", gap_sample=15)
    assert res.backend == "pot-sinkhorn-log" and res.gap is not None
    assert res.gap.n_checked == 15 and res.n_exact == 15
    gap = res.values - exact
    assert np.all(gap > -1e-12)  # the cost of a feasible (rounded) plan is above the optimum
    assert 0 < np.abs(gap).max() < 0.05 * exact.max()
    # The reported gap is the measured gap on the sampled pairs.
    assert res.gap.max_abs_gap <= np.abs(gap).max() + 1e-15
    with pytest.raises(ConfigError, match="gap_sample"):
        ot_distances(xs, ys, solver="sinkhorn", gap_sample=0)


def test_rounded_plan_is_feasible() -> None:
    from evalkit_ot.batch import round_plan

    rng = np.random.default_rng(9)
    a, b = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(7))
    plan = round_plan(rng.random((5, 7)) * 0.05, a, b)
    assert np.all(plan >= 0)
    np.testing.assert_allclose(plan.sum(axis=1), a, atol=1e-15)
    np.testing.assert_allclose(plan.sum(axis=0), b, atol=1e-15)


@pytest.mark.parametrize("kind", ["wmd", "wrd"])
def test_torch_batched_sinkhorn_matches_pot_on_cpu(kind: str) -> None:
    """The torch path (used where torch sees a GPU) run on CPU tensors: same plan cost as POT's
    sinkhorn_log for the same regularisation, pair by pair."""
    pytest.importorskip("torch")
    from evalkit_ot.solver import cost_matrix
    from evalkit_ot.torch_sinkhorn import sinkhorn_batch

    xs, ys = docs(kind, 12, seed=6), docs(kind, 12, seed=7)
    got = sinkhorn_batch(xs, ys, reg=0.05, n_iter=2000, tol=1e-10, device="cpu", batch=5)
    for k, (x, y) in enumerate(zip(xs, ys, strict=True)):
        c = cost_matrix(x, y)
        plan = ot.bregman.sinkhorn_log(x.mass, y.mass, c, 0.05 * c.max(), numItermax=5000,
                                       stopThr=1e-12)
        assert got[k] == pytest.approx(float((plan * c).sum()), abs=1e-7), k
    res = ot_distances(xs, ys, solver="sinkhorn", backend="torch", device="cpu", reg=0.02)
    assert res.backend == "torch-sinkhorn-log:cpu" and res.gap is not None
    assert res.gap.n_checked == 12 and res.gap.mean_gap >= 0 and res.gap.mean_rel_gap < 0.03
