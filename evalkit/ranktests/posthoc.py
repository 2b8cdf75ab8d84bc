"""Post-hoc tests after Friedman's: Nemenyi, Holm and Bonferroni-Dunn against a control
(Demšar 2006, Sec. 3.2.2), and pairwise Wilcoxon signed-rank tests with Holm's correction
(Benavoli, Corani & Mangili 2016).

All p-values are two-sided. ``names`` are the systems (rows of the table), ``mean`` their mean
ranks (1 = best), ``n`` the number of datasets.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


def rank_order(names: Sequence[str], mean: np.ndarray) -> list[int]:
    """Indices of ``names`` from the best (lowest) mean rank to the worst; ties keep table order."""
    import numpy as np

    return [int(i) for i in np.argsort(mean, kind="stable")]


def groups(names: Sequence[str], mean: np.ndarray, same: Callable[[int, int], bool]) -> list[list[str]]:
    """Maximal runs of systems, consecutive in mean-rank order, with no significant pair inside.

    These are the bars of Demšar's (2006, Sec. 3.2.4) critical-difference diagram: each run is a
    set of at least two systems of which no two are significantly different (``same(i, j)``), and
    no run lies inside another. For the Nemenyi test (a fixed critical difference on the rank
    axis) they are exactly the maximal cliques of the "not significantly different" relation;
    for pairwise tests (Wilcoxon-Holm) they are its maximal cliques of adjacent systems, the ones
    a diagram can draw. Systems in no run are distinguishable from all their neighbours.
    """
    order = rank_order(names, mean)
    out: list[list[str]] = []
    last_end = 0
    for start in range(len(order)):
        end = start
        while end + 1 < len(order) and all(same(order[i], order[end + 1]) for i in range(start, end + 1)):
            end += 1
        if end > start and end > last_end:
            out.append([names[order[i]] for i in range(start, end + 1)])
            last_end = end
    return out


def _better_worse(names: Sequence[str], mean: np.ndarray, i: int, j: int) -> list[str]:
    return [names[i], names[j]] if mean[i] <= mean[j] else [names[j], names[i]]


def nemenyi(names: Sequence[str], mean: np.ndarray, n: int, alpha: float) -> dict[str, Any]:
    """Nemenyi's all-pairs test: two systems differ when their mean ranks differ by at least CD.

    ``q_alpha`` is the studentized range quantile at ``1 - alpha`` for ``k`` groups and infinite
    degrees of freedom, divided by sqrt(2) (Demšar 2006, Table 5a: 2.569 for k = 4 at 0.05);
    ``cd = q_alpha * sqrt(k (k + 1) / (6 N))``. Each pair's ``p_value`` is the studentized range
    tail of ``sqrt(2) |R_i - R_j| / SE``, as ``scikit_posthocs.posthoc_nemenyi_friedman``.
    """
    import numpy as np
    from scipy.stats import studentized_range

    k = len(names)
    se = math.sqrt(k * (k + 1) / (6.0 * n))
    q_alpha = float(studentized_range.ppf(1 - alpha, k, np.inf)) / math.sqrt(2)
    cd = q_alpha * se
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    diffs = np.array([abs(mean[i] - mean[j]) for i, j in pairs])
    p = studentized_range.sf(diffs / se * math.sqrt(2), k, np.inf) if pairs else np.array([])
    tol = 1e-9
    comparisons = []
    significant = []
    for (i, j), d, pv in zip(pairs, diffs, p, strict=True):
        better, worse = _better_worse(names, mean, i, j)
        reject = bool(d >= cd - tol)
        comparisons.append({"system_a": better, "system_b": worse, "rank_difference": float(d),
                            "p_value": float(min(1.0, pv)), "reject": reject})
        if reject:
            significant.append([better, worse])
    sig = {frozenset(pair) for pair in map(tuple, significant)}
    return {
        "alpha": alpha, "q_alpha": q_alpha, "cd": cd, "standard_error": se,
        "significant_pairs": significant,
        "groups": groups(names, mean, lambda a, b: frozenset((names[a], names[b])) not in sig),
        "comparisons": comparisons,
    }


def control_tests(
    names: Sequence[str], mean: np.ndarray, n: int, alpha: float, control: str, which: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Each system against ``control`` on the z of mean ranks (Demšar 2006, Sec. 3.2.2).

    ``z = (R_control - R_i) / SE`` with ``SE = sqrt(k (k + 1) / (6 N))`` (positive: system ``i``
    ranks better than the control), two-sided normal ``p_value``. ``holm``: Holm's step-down
    over the ``k - 1`` comparisons (``p_adjusted``; ``reject`` when ``p_adjusted <= alpha``).
    ``bonferroni_dunn``: ``cd = z_{1 - alpha / (2 (k - 1))} * SE`` (Demšar's Table 5b: 2.394
    for k = 4 at 0.05); ``reject`` when ``|R_i - R_control| >= cd``, ``p_adjusted = min(1, (k-1) p)``.
    """
    import numpy as np
    from scipy.stats import norm

    from evalkit.multitest import adjust_p_values

    k = len(names)
    c = list(names).index(control)
    se = math.sqrt(k * (k + 1) / (6.0 * n))
    others = [i for i in rank_order(names, mean) if i != c]
    z = np.array([(mean[c] - mean[i]) / se for i in others])
    p = 2.0 * norm.sf(np.abs(z))
    out: dict[str, dict[str, Any]] = {}
    if "holm" in which:
        adj = adjust_p_values(p, "holm")
        out["holm"] = {"alpha": alpha, "control": control, "standard_error": se, "comparisons": [
            {"system": names[i], "mean_rank": float(mean[i]), "z": float(zi), "p_value": float(pi),
             "p_adjusted": float(ai), "reject": bool(ai <= alpha)}
            for i, zi, pi, ai in zip(others, z, p, adj, strict=True)]}
    if "bonferroni-dunn" in which:
        q = float(norm.ppf(1 - alpha / (2 * (k - 1))))
        cd = q * se
        out["bonferroni_dunn"] = {"alpha": alpha, "control": control, "q_alpha": q, "cd": cd,
                                  "standard_error": se, "comparisons": [
            {"system": names[i], "mean_rank": float(mean[i]), "z": float(zi), "p_value": float(pi),
             "p_adjusted": float(min(1.0, (k - 1) * pi)), "reject": bool(abs(mean[i] - mean[c]) >= cd - 1e-9)}
            for i, zi, pi in zip(others, z, p, strict=True)]}
    return out


def _signed_rank_direction(d: np.ndarray) -> float:
    """``W+ - W-`` of the differences ``d`` (zeros left out): positive when the first system wins."""
    import numpy as np
    from scipy.stats import rankdata

    nz = d[d != 0]
    if nz.size == 0:
        return 0.0
    r = rankdata(np.abs(nz))
    return float(r[nz > 0].sum() - r[nz < 0].sum())


def wilcoxon_method(d: np.ndarray) -> str:
    """``exact`` for up to 50 differences without zeros or ties in ``|d|``, else ``approx``.

    The rule of older scipy's ``method="auto"`` (newer scipy runs a slow permutation test where
    there are ties or zeros); the normal approximation uses scipy's tie-corrected variance.
    """
    import numpy as np

    nz = np.abs(d[d != 0])
    return "exact" if d.size <= 50 and nz.size == d.size and np.unique(nz).size == nz.size else "approx"


def wilcoxon_holm(
    names: Sequence[str], values: np.ndarray, mean: np.ndarray, alpha: float, *, higher_is_better: bool
) -> dict[str, Any]:
    """Wilcoxon signed-rank test of every pair on the per-dataset values, Holm-corrected.

    ``scipy.stats.wilcoxon(x_a, x_b, zero_method="zsplit", method=...)`` (zero differences split
    between the two rank sums, as Demšar 2006, Sec. 3.1.3 describes; the exact null distribution
    for up to 50 datasets without ties or zero differences, the normal approximation otherwise:
    :func:`wilcoxon_method`), two-sided;
    Holm's correction over all ``k (k - 1) / 2`` pairs (Benavoli et al. 2016). ``system_a`` is the
    pair's winner by the signed-rank sums (by mean rank when they balance); ``statistic`` is
    scipy's ``min(W+, W-)``. A pair whose values are equal on every dataset gets ``p_value`` 1.
    """
    import warnings

    import numpy as np
    from scipy.stats import wilcoxon

    from evalkit.multitest import adjust_p_values

    k = len(names)
    order = rank_order(names, mean)
    pairs = [(order[a], order[b]) for a in range(k) for b in range(a + 1, k)]
    first = np.array([i for i, _ in pairs], dtype=int)
    second = np.array([j for _, j in pairs], dtype=int)
    diffs = values[first] - values[second] if pairs else np.empty((0, values.shape[1]))
    if not higher_is_better:
        diffs = -diffs
    stats = np.full(len(pairs), np.nan)
    raw = np.ones(len(pairs))
    methods = np.array([wilcoxon_method(d) if np.any(d != 0) else "" for d in diffs], dtype=object)
    for method in ("exact", "approx"):
        sel = np.flatnonzero(methods == method)
        if sel.size:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # scipy's notes on ties and the normal approximation
                res = wilcoxon(values[first[sel]], values[second[sel]], zero_method="zsplit",
                               method=method, axis=1)
            stats[sel] = res.statistic
            raw[sel] = res.pvalue
    winners = [(i, j) if _signed_rank_direction(d) >= 0 else (j, i) for (i, j), d in zip(pairs, diffs, strict=True)]
    adj = adjust_p_values(raw, "holm") if pairs else np.array([])
    comparisons = []
    significant = []
    for (w, lo), s, p, pa in zip(winners, stats, raw, adj, strict=True):
        reject = bool(pa <= alpha)
        comparisons.append({"system_a": names[w], "system_b": names[lo],
                            "statistic": None if math.isnan(s) else float(s), "p_value": float(p),
                            "p_adjusted": float(pa), "reject": reject})
        if reject:
            significant.append([names[w], names[lo]])
    sig = {frozenset(pair) for pair in map(tuple, significant)}
    return {
        "alpha": alpha, "test": "Wilcoxon signed-rank (zsplit), two-sided", "correction": "holm",
        "comparisons": comparisons, "significant_pairs": significant,
        "groups": groups(names, mean, lambda a, b: frozenset((names[a], names[b])) not in sig),
    }
