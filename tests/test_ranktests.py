"""Cross-dataset tests (evalkit.ranktests) against Demšar's (2006) worked example and peers.

Reference numbers: J. Demšar (2006), "Statistical Comparisons of Classifiers over Multiple Data
Sets", JMLR 7:1-30, Sec. 3.2.2 and Table 6 (AUC of four C4.5 variants on 14 UCI data sets, with
the ranks used by the Friedman test in parentheses), Table 5 (critical values). Peers:
scipy.stats (friedmanchisquare, wilcoxon), statsmodels' multipletests and scikit-posthocs
(test-only dev dependencies).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from evalkit.errors import ConfigError, DataError
from evalkit.multitest import adjust_p_values
from evalkit.ranktests import cross_dataset_tests, parse_posthoc, table_notes
from evalkit.ranktests.posthoc import groups

NAMES = ["C4.5", "C4.5+m", "C4.5+cf", "C4.5+m+cf"]
DATASETS = ["adult (sample)", "breast cancer", "breast cancer wisconsin", "cmc", "ionosphere", "iris",
            "liver disorders", "lung cancer", "lymphography", "mushroom", "primary tumor", "rheum",
            "voting", "wine"]
# Demšar (2006), Table 6: AUC as printed (3 decimals) ...
AUC = [
    [0.763, 0.768, 0.771, 0.798], [0.599, 0.591, 0.590, 0.569], [0.954, 0.971, 0.968, 0.967],
    [0.628, 0.661, 0.654, 0.657], [0.882, 0.888, 0.886, 0.898], [0.936, 0.931, 0.916, 0.931],
    [0.661, 0.668, 0.609, 0.685], [0.583, 0.583, 0.563, 0.625], [0.775, 0.838, 0.866, 0.875],
    [1.000, 1.000, 1.000, 1.000], [0.940, 0.962, 0.965, 0.962], [0.619, 0.666, 0.614, 0.669],
    [0.972, 0.981, 0.975, 0.975], [0.957, 0.978, 0.946, 0.970],
]
# ... and the ranks in parentheses, which the paper's Friedman test uses (1 = best).
PAPER_RANKS = [
    [4, 3, 2, 1], [1, 2, 3, 4], [4, 1, 2, 3], [4, 1, 3, 2], [4, 2, 3, 1], [1, 2.5, 4, 2.5],
    [3, 2, 4, 1], [2.5, 2.5, 4, 1], [4, 3, 2, 1], [2.5, 2.5, 2.5, 2.5], [4, 2.5, 1, 2.5],
    [3, 2, 4, 1], [4, 1, 2, 3], [3, 1, 4, 2],
]
PAPER_MEAN_RANKS = {"C4.5": 3.143, "C4.5+m": 2.000, "C4.5+cf": 2.893, "C4.5+m+cf": 1.964}


def _table(rows: list[list[float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, index=DATASETS, columns=NAMES).T


def _paper(**kwargs: object) -> dict:
    # The paper's ranks as the table, lower is better: ranking them gives them back unchanged.
    return cross_dataset_tests(_table(PAPER_RANKS), higher_is_better=False, **kwargs)  # type: ignore[arg-type]


def _peer(module: str) -> Any:
    """Import a test-only peer; skip locally without it (pip install -e '.[dev]'), fail under CI."""
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail(f"{module} (a dev dependency) is not installed")
        pytest.skip(f"{module} not installed")


# ------------------------------------------------------------------------------------------------
# Demšar (2006), Sec. 3.2.2
# ------------------------------------------------------------------------------------------------
def test_demsar_mean_ranks_and_friedman() -> None:
    t = _paper(posthoc="none")
    for name, rank in PAPER_MEAN_RANKS.items():
        assert t["mean_ranks"][name] == pytest.approx(rank, abs=5e-4)
    fr = t["friedman"]
    assert fr["chi2"] == pytest.approx(9.28, abs=5e-3)
    assert fr["iman_davenport_f"] == pytest.approx(3.69, abs=5e-3)
    assert (fr["df1"], fr["df2"]) == (3, 39)
    # "The critical value of F(3, 39) for alpha = 0.05 is 2.85, so we reject the null-hypothesis."
    assert fr["iman_davenport_f"] > 2.85 and fr["p_value"] < 0.05


def test_demsar_auc_values_rank_like_the_paper_once_the_printed_tie_is_broken() -> None:
    """The printed AUCs tie on 'voting' (0.975, 0.975) where the paper ranks C4.5+cf 2nd and
    C4.5+m+cf 3rd (the unrounded AUCs differ). Ranks come from the values given, ties sharing the
    average rank: as printed, both get 2.5; with C4.5+m+cf just below, the paper's ranks return."""
    printed = cross_dataset_tests(_table(AUC), posthoc="none")
    # By hand from the parentheses of Table 6 with voting's 2 and 3 replaced by 2.5 and 2.5:
    # C4.5+cf's rank sum 40.5 -> 41, C4.5+m+cf's 27.5 -> 27.
    assert printed["mean_ranks"]["C4.5+cf"] == pytest.approx(41 / 14)
    assert printed["mean_ranks"]["C4.5+m+cf"] == pytest.approx(27 / 14)
    hand = 12 * 14 / (4 * 5) * ((44 / 14) ** 2 + 2.0**2 + (41 / 14) ** 2 + (27 / 14) ** 2 - 4 * 25 / 4)
    assert printed["friedman"]["chi2"] == pytest.approx(hand)
    rows = [list(r) for r in AUC]
    rows[DATASETS.index("voting")][3] = 0.9749
    unrounded = cross_dataset_tests(_table(rows), posthoc="none")
    for name, rank in PAPER_MEAN_RANKS.items():
        assert unrounded["mean_ranks"][name] == pytest.approx(rank, abs=5e-4)
    assert unrounded["friedman"]["chi2"] == pytest.approx(9.28, abs=5e-3)
    assert unrounded["friedman"]["iman_davenport_f"] == pytest.approx(3.69, abs=5e-3)


def test_demsar_nemenyi_critical_differences_and_groups() -> None:
    at05 = _paper(posthoc="nemenyi")["nemenyi"]
    assert at05["q_alpha"] == pytest.approx(2.569, abs=5e-4)  # Table 5(a), k = 4
    assert at05["cd"] == pytest.approx(1.25, abs=5e-3)
    # "even the difference between the best and the worst ... is already smaller than that"
    assert at05["significant_pairs"] == []
    assert at05["groups"] == [["C4.5+m+cf", "C4.5+m", "C4.5+cf", "C4.5"]]
    at10 = _paper(posthoc="nemenyi", alpha=0.10)["nemenyi"]
    assert at10["q_alpha"] == pytest.approx(2.291, abs=5e-4)
    assert at10["cd"] == pytest.approx(1.12, abs=5e-3)
    # "pure C4.5 is significantly worse than C4.5+m and C4.5+m+cf"; C4.5+cf undecided (Figure 1a).
    assert sorted(map(tuple, at10["significant_pairs"])) == [("C4.5+m", "C4.5"), ("C4.5+m+cf", "C4.5")]
    assert at10["groups"] == [["C4.5+m+cf", "C4.5+m", "C4.5+cf"], ["C4.5+cf", "C4.5"]]


def test_demsar_bonferroni_dunn_against_c45() -> None:
    bd = _paper(posthoc="bonferroni-dunn", control="C4.5")["bonferroni_dunn"]
    assert bd["q_alpha"] == pytest.approx(2.394, abs=5e-4)  # Table 5(b), k = 4
    # The paper prints CD = 2.394 * 0.488 = 1.16 (1.168, truncated).
    assert bd["cd"] == pytest.approx(1.16, abs=0.01)
    assert bd["cd"] == pytest.approx(2.394 * np.sqrt(4 * 5 / (6 * 14)), abs=1e-3)
    decided = {c["system"]: c["reject"] for c in bd["comparisons"]}
    # "C4.5+m+cf performs significantly better than C4.5 (1.179 > 1.16) and C4.5+cf does not
    # (0.250 < 1.16), while C4.5+m is just below the critical difference (1.143)".
    assert decided == {"C4.5+m+cf": True, "C4.5+cf": False, "C4.5+m": False}
    assert bd["control"] == "C4.5" and bd["control_from"] == "given"


def test_demsar_holm_against_c45() -> None:
    holm = _paper(posthoc="holm", control="C4.5")["holm"]
    rows = [(c["system"], c["z"], c["p_value"], c["reject"]) for c in holm["comparisons"]]
    # The paper's table: i, classifier, z = (R_0 - R_i)/SE, p, alpha/i; SE = 0.488.
    expected = [("C4.5+m+cf", 2.416, 0.016, True), ("C4.5+m", 2.342, 0.019, True),
                ("C4.5+cf", 0.512, 0.607, False)]
    for (name, z, p, reject), (e_name, e_z, e_p, e_reject) in zip(rows, expected, strict=True):
        assert name == e_name
        assert z == pytest.approx(e_z, abs=3e-3)  # the paper divides rounded ranks by SE = 0.488
        assert p == pytest.approx(e_p, abs=2.5e-3)
        assert reject is e_reject
    # Holm's thresholds alpha/(k - i): 0.017, 0.025, 0.050, as adjusted p-values.
    assert holm["comparisons"][0]["p_adjusted"] == pytest.approx(3 * holm["comparisons"][0]["p_value"])


def test_demsar_summary_and_notes() -> None:
    t = _paper(posthoc=["nemenyi"], alpha=0.10)
    assert t["summary"] == (
        "at alpha=0.1 over 14 datasets (two-sided; Friedman p=0.020; Nemenyi): C4.5+m+cf, C4.5+m and "
        "C4.5+cf are not distinguishable from one another; C4.5+cf and C4.5 are not distinguishable; "
        "C4.5+m+cf and C4.5+m both beat C4.5")
    notes = table_notes(t)
    assert notes[0].startswith("Friedman test (4 systems, 14 datasets): chi2_F=9.28")
    assert "F_F(3, 39)=3.69" in notes[0]
    assert any("CD=1.12" in n and "{C4.5+cf, C4.5}" in n for n in notes)


# ------------------------------------------------------------------------------------------------
# Peers on random tables with ties
# ------------------------------------------------------------------------------------------------
def _random_tables(n_tables: int = 12) -> Iterator[pd.DataFrame]:
    rng = np.random.default_rng(7)
    for i in range(n_tables):
        k, n = int(rng.integers(3, 7)), int(rng.integers(6, 16))
        values = rng.integers(0, 5, size=(k, n)).astype(float) / 4 + np.linspace(0, 0.6, k)[:, None] * (i % 3)
        yield pd.DataFrame(values, index=[f"s{j}" for j in range(k)], columns=[f"d{j}" for j in range(n)])


def test_friedman_agrees_with_scipy_on_tables_with_ties() -> None:
    from scipy.stats import friedmanchisquare

    for table in _random_tables():
        out = cross_dataset_tests(table, posthoc="none")["friedman"]
        ref = friedmanchisquare(*table.to_numpy())
        assert out["chi2_tie_corrected"] == pytest.approx(ref.statistic, rel=1e-9)
        assert out["chi2_p_value"] == pytest.approx(ref.pvalue, rel=1e-9)


def test_wilcoxon_holm_agrees_with_scipy_and_statsmodels() -> None:
    from scipy.stats import wilcoxon

    multipletests = _peer("statsmodels.stats.multitest").multipletests
    for table in _random_tables():
        res = cross_dataset_tests(table, posthoc="wilcoxon-holm")["wilcoxon_holm"]
        raw, adjusted = [], []
        for c in res["comparisons"]:
            a, b = table.loc[c["system_a"]].to_numpy(), table.loc[c["system_b"]].to_numpy()
            d = np.abs(a - b)
            exact = d.size <= 50 and np.all(d > 0) and len(set(d)) == d.size
            ref = 1.0 if np.array_equal(a, b) else wilcoxon(a, b, zero_method="zsplit",
                                                            method="exact" if exact else "approx").pvalue
            assert c["p_value"] == pytest.approx(ref, rel=1e-9)
            raw.append(c["p_value"])
            adjusted.append(c["p_adjusted"])
        assert adjusted == pytest.approx(list(multipletests(raw, method="holm")[1]), rel=1e-9)


def test_posthocs_agree_with_scikit_posthocs() -> None:
    sp = _peer("scikit_posthocs")
    for table in _random_tables():
        t = cross_dataset_tests(table, posthoc=["nemenyi", "wilcoxon-holm"])
        nem = sp.posthoc_nemenyi_friedman(table.T.to_numpy())  # rows: blocks, columns: groups
        for c in t["nemenyi"]["comparisons"]:
            i, j = int(c["system_a"][1:]), int(c["system_b"][1:])
            assert c["p_value"] == pytest.approx(nem.iloc[i, j], rel=1e-6, abs=1e-9)
        arrays = [row for row in table.to_numpy()]
        if any(np.array_equal(a, b) for a, b in itertools.combinations(arrays, 2)):
            continue  # scipy.stats.wilcoxon has no p-value for identical samples
        if not all(len(set(np.abs(a - b))) < len(a) for a, b in itertools.combinations(arrays, 2)):
            continue  # one method for all pairs below: only tables where every pair has ties
        wil = sp.posthoc_wilcoxon(arrays, zero_method="zsplit", method="approx", p_adjust="holm")
        for c in t["wilcoxon_holm"]["comparisons"]:
            i, j = int(c["system_a"][1:]), int(c["system_b"][1:])
            assert c["p_adjusted"] == pytest.approx(wil.iloc[i, j], rel=1e-9)


def test_adjust_p_values_agrees_with_statsmodels() -> None:
    multipletests = _peer("statsmodels.stats.multitest").multipletests
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.uniform(0, 0.1, 8), rng.uniform(0, 1, 8), [0.02, 0.02]])
    for ours, theirs in (("holm", "holm"), ("bh", "fdr_bh"), ("bonferroni", "bonferroni")):
        assert adjust_p_values(p, ours) == pytest.approx(multipletests(p, method=theirs)[1], rel=1e-12)
    assert np.array_equal(adjust_p_values(p, "none"), p)
    with_nan = adjust_p_values([0.01, float("nan"), 0.04], "holm")
    assert with_nan[0] == pytest.approx(0.02) and np.isnan(with_nan[1]) and with_nan[2] == pytest.approx(0.04)
    with pytest.raises(ConfigError):
        adjust_p_values(p, "sidak")
    with pytest.raises(DataError):
        adjust_p_values([1.5], "holm")


# ------------------------------------------------------------------------------------------------
# Groups, direction, edge cases, input errors
# ------------------------------------------------------------------------------------------------
def test_groups_are_the_maximal_runs_of_mutually_indistinct_systems() -> None:
    rng = np.random.default_rng(11)
    for _ in range(200):
        k = int(rng.integers(2, 8))
        names = [f"s{i}" for i in range(k)]
        mean = rng.permutation(k).astype(float)
        sig = {frozenset(p) for p in itertools.combinations(range(k), 2) if rng.random() < 0.4}

        def same(a: int, b: int, sig: set = sig) -> bool:
            return frozenset((a, b)) not in sig

        order = list(np.argsort(mean, kind="stable"))
        runs = [order[i:j + 1] for i in range(k) for j in range(i + 1, k)
                if all(same(a, b) for a, b in itertools.combinations(order[i:j + 1], 2))]
        maximal = [r for r in runs if not any(set(r) < set(o) for o in runs)]
        assert groups(names, mean, same) == [[names[i] for i in r] for r in maximal]


def test_lower_is_better_reverses_the_ranks() -> None:
    table = pd.DataFrame({"d1": [0.1, 0.2, 0.3], "d2": [0.2, 0.1, 0.3]}, index=["a", "b", "c"])
    hi = cross_dataset_tests(table, posthoc="none")["mean_ranks"]
    lo = cross_dataset_tests(table, higher_is_better=False, posthoc="none")["mean_ranks"]
    assert hi == {"a": 2.5, "b": 2.5, "c": 1.0}
    assert lo == {"a": 1.5, "b": 1.5, "c": 3.0}


def test_identical_order_on_every_dataset_reports_no_finite_f() -> None:
    from scipy.stats import chi2

    table = pd.DataFrame(np.tile([[3.0], [2.0], [1.0]], (1, 4)), index=["a", "b", "c"])
    fr = cross_dataset_tests(table, posthoc="none")["friedman"]
    assert fr["chi2"] == pytest.approx(8.0)  # 12*4/(3*4) * ((1 + 4 + 9) - 3*16/4)
    assert fr["iman_davenport_f"] is None and fr["p_value_from"] == "chi2"
    assert fr["p_value"] == pytest.approx(chi2.sf(8.0, 2))


def test_all_ties_give_p_one() -> None:
    table = pd.DataFrame(np.ones((3, 5)), index=["a", "b", "c"])
    t = cross_dataset_tests(table, posthoc="wilcoxon-holm")
    assert t["friedman"]["p_value"] == 1.0 and t["friedman"]["chi2_tie_corrected"] == 0.0
    assert all(c["p_value"] == 1.0 and not c["reject"] for c in t["wilcoxon_holm"]["comparisons"])


def test_missing_cells_drop_the_system_with_a_warning() -> None:
    table = pd.DataFrame({"d1": [1.0, 2.0, 3.0, np.nan], "d2": [1.0, np.nan, 2.0, np.nan],
                          "d3": [3.0, 1.0, 2.0, np.nan], "empty": [np.nan] * 4},
                         index=["a", "b", "c", "d"])
    t = cross_dataset_tests(table, posthoc="none")
    assert set(t["mean_ranks"]) == {"a", "c"} and t["datasets"] == ["d1", "d2", "d3"]
    assert any("empty" in w for w in t["warnings"])
    assert any("b (missing d2)" in w and "d (missing d1, d2, d3)" in w for w in t["warnings"])
    with pytest.raises(ConfigError, match="left out for a missing cell"):
        cross_dataset_tests(table, posthoc="holm", control="b")


def test_power_warnings() -> None:
    table = pd.DataFrame(np.arange(15.0).reshape(3, 5), index=["a", "b", "c"])
    t = cross_dataset_tests(table, posthoc=["wilcoxon-holm", "nemenyi"])
    text = " ".join(t["warnings"])
    assert "only 5 datasets" in text
    assert "smallest two-sided p-value is 0.0625" in text  # 2 / 2^5, exact Wilcoxon
    assert t["wilcoxon_holm"]["significant_pairs"] == []


@pytest.mark.parametrize("bad, error, match", [
    (pd.DataFrame({"d1": [1.0], "d2": [2.0]}, index=["a"]), DataError, "at least 2 systems"),
    (pd.DataFrame({"d1": [1.0, 2.0]}, index=["a", "b"]), DataError, "at least 2 datasets"),
    (pd.DataFrame({"d1": [1.0, np.inf], "d2": [1, 2]}, index=["a", "b"]), DataError, "b on d1"),
    (pd.DataFrame({"d1": [1.0, "x"], "d2": [1, 2]}, index=["a", "b"]), DataError, "must be numbers"),
    (pd.DataFrame({"d1": [1.0, 2], "d2": [1, 2]}, index=["a", "a"]), DataError, "more than one row"),
])
def test_bad_tables(bad: pd.DataFrame, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        cross_dataset_tests(bad)


def test_bad_options() -> None:
    table = pd.DataFrame({"d1": [1.0, 2.0], "d2": [1.0, 3.0]}, index=["a", "b"])
    with pytest.raises(ConfigError, match="unknown post-hoc"):
        cross_dataset_tests(table, posthoc="tukey")
    with pytest.raises(ConfigError, match="alpha"):
        cross_dataset_tests(table, alpha=1.5)
    with pytest.raises(ConfigError, match="not a system"):
        cross_dataset_tests(table, posthoc="holm", control="zz")
    assert parse_posthoc("Wilcoxon_Holm, nemenyi,none") == ["wilcoxon-holm", "nemenyi"]
    default = cross_dataset_tests(table, posthoc="bonferroni-dunn")["bonferroni_dunn"]
    assert default["control"] == "b" and default["control_from"] == "best mean rank"
