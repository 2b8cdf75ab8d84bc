"""The aggregators plugin: means against scipy, rank rules against brute force, stated policies."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from evalkit_aggregators import (
    ArithmeticMean,
    Borda,
    Copeland,
    GeometricMean,
    HarmonicMean,
    MeanRank,
    Median,
    PowerMean,
    WinRate,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from evalkit import ConfigError, DataError
from evalkit.aggregation import aggregate, create_aggregators, rank
from evalkit.plugins import Host

RANK_RULES = [MeanRank, WinRate, Borda, Copeland]


def frame(arr: np.ndarray) -> pd.DataFrame:
    n, k = arr.shape
    return pd.DataFrame(arr, index=[f"s{i}" for i in range(n)], columns=[f"t{j}" for j in range(k)])


positive_tables = st.tuples(st.integers(1, 6), st.integers(1, 8)).flatmap(
    lambda shape: arrays(np.float64, shape, elements=st.floats(1e-3, 1e3))
)
small_int_tables = st.tuples(st.integers(2, 6), st.integers(1, 5)).flatmap(
    lambda shape: arrays(np.float64, shape, elements=st.integers(0, 4).map(float))
)


# -- value-based rules ---------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(positive_tables)
def test_am_ge_gm_ge_hm_on_positive_data(arr: np.ndarray) -> None:
    t = frame(arr)
    am = ArithmeticMean().aggregate(t).to_numpy()
    gm = GeometricMean().aggregate(t).to_numpy()
    hm = HarmonicMean().aggregate(t).to_numpy()
    assert np.all(am >= gm * (1 - 1e-12))
    assert np.all(gm >= hm * (1 - 1e-12))
    # independent references: scipy.stats
    np.testing.assert_allclose(gm, stats.gmean(arr, axis=1), rtol=1e-12)
    np.testing.assert_allclose(hm, stats.hmean(arr, axis=1), rtol=1e-12)
    np.testing.assert_allclose(am, arr.mean(axis=1), rtol=1e-12)


@settings(max_examples=100, deadline=None)
@given(st.floats(1e-3, 1e3), st.integers(1, 10), st.floats(-4, 4))
def test_all_means_equal_the_value_on_a_constant_row(c: float, k: int, p: float) -> None:
    t = pd.DataFrame([[c] * k], index=["s"], columns=[f"t{j}" for j in range(k)])
    for agg in (ArithmeticMean(), GeometricMean(), HarmonicMean(), Median(), PowerMean(p=p)):
        assert agg.aggregate(t).iloc[0] == pytest.approx(c, rel=1e-12)


@settings(max_examples=100, deadline=None)
@given(positive_tables, st.floats(-5, 5), st.floats(-5, 5))
def test_power_mean_matches_scipy_and_grows_with_p(arr: np.ndarray, p: float, q: float) -> None:
    t = frame(arr)
    mp = PowerMean(p=p).aggregate(t).to_numpy()
    if abs(p) >= 0.01:  # below that scipy's direct formula loses precision (see the next test)
        np.testing.assert_allclose(mp, stats.pmean(arr, p, axis=1), rtol=1e-9)
    mq = PowerMean(p=q).aggregate(t).to_numpy()
    lo, hi = (mp, mq) if p <= q else (mq, mp)
    assert np.all(lo <= hi * (1 + 1e-9))


@pytest.mark.parametrize("p", [1e-300, -1e-38, 1e-12, -1e-6])
def test_power_mean_tends_to_the_geometric_mean_as_p_goes_to_zero(p: float) -> None:
    arr = np.array([[2.0, 8.0, 50.0], [1e-3, 1.0, 1e3]])
    got = PowerMean(p=p).aggregate(frame(arr)).to_numpy()
    # log M_p = mean(log x) + (p / 2) var(log x) + O(p^2): the cumulant expansion of
    # log E[exp(p L)] / p, with the geometric mean as the p -> 0 limit.
    logs = np.log(arr)
    expected = np.exp(logs.mean(axis=1) + p / 2 * logs.var(axis=1))
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    np.testing.assert_allclose(got, stats.gmean(arr, axis=1), rtol=1e-4)


def test_power_mean_of_a_row_with_zeros() -> None:
    t = pd.DataFrame({"a": [0.0, 0.0], "b": [0.0, 3.0]}, index=["zeros", "one"])
    got = PowerMean(p=0.5).aggregate(t)
    assert got["zeros"] == 0.0
    assert got["one"] == pytest.approx(((0 + 3**0.5) / 2) ** 2)


def test_median_matches_numpy() -> None:
    arr = np.array([[1.0, 5.0, 3.0, 10.0], [2.0, -1.0, 0.0, 7.0]])
    np.testing.assert_array_equal(Median().aggregate(frame(arr)).to_numpy(), np.median(arr, axis=1))


# -- non-positive cells --------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [GeometricMean, HarmonicMean])
def test_nonpositive_cell_is_an_error_naming_system_and_task(cls: type) -> None:
    t = pd.DataFrame(
        {"CoLA": [50.0, 0.0, 30.0], "SST-2": [90.0, 80.0, -1.5]}, index=["BERT", "CBOW", "Weird"]
    )
    with pytest.raises(DataError) as exc:
        cls().aggregate(t)
    msg = str(exc.value)
    assert "CBOW (CoLA = 0)" in msg and "Weird (SST-2 = -1.5)" in msg
    assert "BERT" not in msg
    assert "--nonpositive skip" in msg and "shift=C" in msg


def test_power_mean_domain_depends_on_p() -> None:
    t = pd.DataFrame({"a": [0.0, 4.0], "b": [2.0, 4.0]}, index=["x", "y"])
    assert PowerMean(p=2).aggregate(t)["x"] == pytest.approx(math.sqrt(2.0))  # zero allowed, p > 0
    with pytest.raises(DataError, match="x \\(a = 0\\)"):
        PowerMean(p=-0.5).aggregate(t)
    neg = pd.DataFrame({"a": [-1.0], "b": [3.0]}, index=["x"])
    with pytest.raises(DataError, match=r"needs every cell >= 0"):
        PowerMean(p=2).aggregate(neg)
    assert PowerMean(p=1).aggregate(neg)["x"] == pytest.approx(1.0)  # p = 1 is the arithmetic mean


def test_nonpositive_skip_gives_no_value_and_leaves_others_alone() -> None:
    t = pd.DataFrame({"a": [2.0, 0.0, 8.0], "b": [8.0, 5.0, 2.0]}, index=["x", "y", "z"])
    gm = GeometricMean(nonpositive="skip")
    values = gm.aggregate(t)
    assert math.isnan(values["y"])
    assert values["x"] == pytest.approx(4.0) and values["z"] == pytest.approx(4.0)
    assert gm.unscored(t) == {"y": "cell not > 0: a = 0"}
    assert "no value and no rank" in gm.rule
    ranks = rank(values)
    assert math.isnan(ranks["y"]) and ranks["x"] == ranks["z"] == 1


def test_nonpositive_shift_adds_c_first() -> None:
    arr = np.array([[0.0, 3.0, 8.0], [-0.5, 1.0, 2.0]])
    t = frame(arr)
    got = HarmonicMean(nonpositive="shift=1").aggregate(t).to_numpy()
    np.testing.assert_allclose(got, stats.hmean(arr + 1, axis=1), rtol=1e-12)
    assert "cell + 1" in HarmonicMean(nonpositive="shift=1").rule
    with pytest.raises(DataError, match=r"after the shift of 0\.25"):
        GeometricMean(nonpositive="shift=0.25").aggregate(t)  # -0.5 + 0.25 is still <= 0


@pytest.mark.parametrize("bad", ["clamp", "shift", "shift=x", "shift=inf", ""])
def test_invalid_nonpositive_policy_is_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="error, skip or shift=C"):
        GeometricMean(nonpositive=bad)


def test_power_mean_needs_a_finite_order() -> None:
    with pytest.raises(ConfigError, match="power:p=2"):
        PowerMean()
    with pytest.raises(ConfigError):
        PowerMean(p=float("nan"))


# -- missing cells -------------------------------------------------------------------------------
def test_missing_cells_exclude_by_default_and_skip_on_request() -> None:
    t = pd.DataFrame({"a": [1.0, 4.0, np.nan], "b": [3.0, np.nan, np.nan]}, index=["x", "y", "z"])
    for cls in (ArithmeticMean, GeometricMean, HarmonicMean, Median):
        ex = cls().aggregate(t)
        assert ex.notna().tolist() == [True, False, False]
        sk = cls(missing="skip").aggregate(t)
        assert sk["y"] == pytest.approx(4.0) and math.isnan(sk["z"])
    assert ArithmeticMean(missing="skip").aggregate(t)["x"] == pytest.approx(2.0)
    assert ArithmeticMean().unscored(t) == {"y": "missing b", "z": "missing a, b"}
    assert "skipped" in ArithmeticMean(missing="skip").rule
    with pytest.raises(ConfigError):
        ArithmeticMean(missing="impute")


def test_infinite_cell_is_an_error() -> None:
    with pytest.raises(DataError, match="infinite"):
        ArithmeticMean().aggregate(pd.DataFrame({"a": [np.inf]}, index=["x"]))


# -- rank rules: hand-computed ties --------------------------------------------------------------
TIES = pd.DataFrame({"t1": [3.0, 3.0, 1.0], "t2": [1.0, 2.0, 2.0]}, index=["A", "B", "C"])


def test_tie_handling_on_a_hand_computed_table() -> None:
    # t1: A and B tie above C; t2: B and C tie above A.
    assert WinRate().aggregate(TIES).tolist() == [0.375, 0.75, 0.375]  # (0.75+0)/2, (.75+.75)/2
    assert Borda().aggregate(TIES).tolist() == [1.0, 2.0, 1.0]  # strictly-worse counts
    assert Copeland().aggregate(TIES).tolist() == [0.5, 2.0, 0.5]  # B beats A and C; A-C draw
    assert MeanRank().aggregate(TIES).tolist() == [2.25, 1.5, 2.25]  # average ranks 1.5 / 3
    for cls in RANK_RULES:
        out = aggregate(TIES, [(cls.name, cls())])
        assert out[f"{cls.name}_rank"].tolist() == [2, 1, 2], cls.name  # ties share the best rank


def test_lower_is_better_cells_reverse_the_rank_rules() -> None:
    flipped = -TIES
    for cls in RANK_RULES:
        assert (
            cls().aggregate(flipped, higher_is_better=False).tolist()
            == cls().aggregate(TIES).tolist()
        )


def test_win_rate_skips_missing_cells_like_helm() -> None:
    t = pd.DataFrame({"t1": [3.0, 2.0, np.nan], "t2": [1.0, np.nan, np.nan]}, index=["A", "B", "C"])
    wr = WinRate().aggregate(t)
    # t1: A beats B (1.0), B loses (0.0); t2 has one cell, ignored; C has nothing comparable.
    assert wr["A"] == 1.0 and wr["B"] == 0.0 and math.isnan(wr["C"])
    assert "C" in WinRate().unscored(t)


def test_rank_rules_leave_incomplete_rows_out() -> None:
    t = pd.DataFrame({"t1": [3.0, 2.0, 9.0], "t2": [1.0, 2.0, np.nan]}, index=["A", "B", "C"])
    for cls in (MeanRank, Borda, Copeland):
        out = cls().aggregate(t)
        assert math.isnan(out["C"])
        assert out.drop("C").tolist() == cls().aggregate(t.drop("C")).tolist()


# -- rank rules against brute force --------------------------------------------------------------
def brute_force(arr: np.ndarray) -> dict[str, list[float]]:
    n, k = arr.shape
    out: dict[str, list[float]] = {"win_rate": [], "borda": [], "copeland": [], "avg_rank": []}
    for i in range(n):
        rates, borda, ranks = [], 0.0, []
        for j in range(k):
            others = [arr[m, j] for m in range(n) if m != i]
            rates.append(
                sum(1.0 if arr[i, j] > o else 0.5 if arr[i, j] == o else 0.0 for o in others)
                / len(others)
            )
            borda += sum(1 for o in others if o < arr[i, j])
            better = sum(1 for o in others if o > arr[i, j])
            equal = sum(1 for o in others if o == arr[i, j])
            ranks.append(1 + better + equal / 2)  # average rank of the tie group
        copeland = 0.0
        for m in range(n):
            if m == i:
                continue
            wins = sum(1 for j in range(k) if arr[i, j] > arr[m, j])
            losses = sum(1 for j in range(k) if arr[i, j] < arr[m, j])
            copeland += 1.0 if wins > losses else 0.5 if wins == losses else 0.0
        out["win_rate"].append(sum(rates) / k)
        out["borda"].append(borda)
        out["copeland"].append(copeland)
        out["avg_rank"].append(sum(ranks) / k)
    return out


@settings(max_examples=150, deadline=None)
@given(small_int_tables)
def test_rank_rules_match_brute_force(arr: np.ndarray) -> None:
    t = frame(arr)
    expected = brute_force(arr)
    for cls in RANK_RULES:
        got = cls().aggregate(t).tolist()
        assert got == pytest.approx(expected[cls.name], abs=1e-12), cls.name
        # ranks: 1 + number of rows strictly better, computed directly
        vals = expected[cls.name]
        better = (lambda a, b: a < b) if cls is MeanRank else (lambda a, b: a > b)
        want = [1 + sum(1 for w in vals if better(w, v) and abs(w - v) > 1e-9) for v in vals]
        assert aggregate(t, [(cls.name, cls())])[f"{cls.name}_rank"].tolist() == want


def test_borda_equals_vote_n_rank_formula_with_pandas_max_ranks() -> None:
    arr = np.array([[3, 1, 2], [3, 2, 2], [1, 2, 0], [0, 0, 2]], dtype=float)
    t = frame(arr)
    max_ranks = t.rank(method="max", ascending=False)  # Vote'n'Rank: n_models - max_ranks
    np.testing.assert_array_equal(Borda().aggregate(t).to_numpy(), (len(t) - max_ranks).sum(axis=1))


monotone = st.sampled_from(
    [
        lambda x: 7 * x - 5,
        lambda x: x**3,
        lambda x: np.exp(x / 4),
        lambda x: 100 + 0.5 * x,
    ]
)


@settings(max_examples=150, deadline=None)
@given(small_int_tables, st.data(), monotone)
def test_rank_rules_invariant_under_monotone_rescaling_of_a_column(
    arr: np.ndarray, data: st.DataObject, f: object
) -> None:
    j = data.draw(st.integers(0, arr.shape[1] - 1))
    scaled = arr.copy()
    scaled[:, j] = f(arr[:, j])  # type: ignore[operator]
    for cls in RANK_RULES:
        assert cls().aggregate(frame(scaled)).tolist() == pytest.approx(
            cls().aggregate(frame(arr)).tolist()
        )


# -- through the registry ------------------------------------------------------------------------
def test_registry_specs_and_policies() -> None:
    host = Host(autoload=False)
    aggs = dict(
        create_aggregators(host, ["mean", "geometric", "power:p=2", "borda"], nonpositive="skip")
    )
    assert aggs["geometric"].get_params() == {"nonpositive": "skip", "missing": "exclude"}
    assert aggs["power:p=2"].get_params() == {"p": 2, "nonpositive": "skip", "missing": "exclude"}
    assert aggs["mean"].get_params() == {"missing": "exclude"}
    for label, agg in aggs.items():
        assert agg.rule, label
    with pytest.raises(ConfigError, match="applies to none"):
        create_aggregators(host, ["mean", "borda"], nonpositive="skip")


@pytest.mark.parametrize("p", [2.2e-313, -2.2e-313, 1e-300, 5e-324])
def test_power_mean_of_subnormal_order_is_exact_on_constant_rows(p: float) -> None:
    """Found by hypothesis: p * log(x) loses precision for subnormal p; constant rows must stay exact."""
    table = pd.DataFrame({"a": [4.0, 0.5], "b": [4.0, 0.5]}, index=["x", "y"])
    assert PowerMean(p=p).aggregate(table).tolist() == [4.0, 0.5]
    # and such an order is the geometric mean to float precision on any positive row
    uneven = pd.DataFrame({"a": [1.0], "b": [100.0]}, index=["z"])
    assert PowerMean(p=p).aggregate(uneven).iloc[0] == pytest.approx(10.0, rel=1e-9)
