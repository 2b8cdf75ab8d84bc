"""Ranks per dataset and the Friedman / Iman-Davenport test (Demšar 2006, Sec. 3.2.2)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


def rank_matrix(values: np.ndarray, *, higher_is_better: bool) -> np.ndarray:
    """Rank of each system (row) within each dataset (column); 1 = best, ties share the average.

    ``values``: float64 array of shape ``(k systems, N datasets)``, all finite. Returns float64
    ranks of the same shape, as ``scipy.stats.rankdata(method="average")`` per column.
    """
    from scipy.stats import rankdata

    keyed = -values if higher_is_better else values
    return rankdata(keyed, method="average", axis=0)


def _tie_term(ranks: np.ndarray) -> float:
    """``sum over datasets and tie groups of (t^3 - t)``, ``t`` the size of a group of tied ranks."""
    import numpy as np

    total = 0.0
    for col in ranks.T:
        _, counts = np.unique(col, return_counts=True)
        total += float((counts.astype(np.float64) ** 3 - counts).sum())
    return total


def _iman_davenport(chi2: float, k: int, n: int) -> tuple[float | None, float]:
    """``F_F = (N - 1) chi2 / (N (k - 1) - chi2)`` and its F(k - 1, (k - 1)(N - 1)) upper tail.

    ``None`` (and the chi-square tail of ``chi2``) when every dataset ranks the systems the same
    way: then ``chi2 = N (k - 1)`` and F_F is infinite.
    """
    from scipy.stats import chi2 as chi2_dist
    from scipy.stats import f as f_dist

    denom = n * (k - 1) - chi2
    if denom <= 1e-9 * n * (k - 1):
        return None, float(chi2_dist.sf(chi2, k - 1))
    f_f = (n - 1) * chi2 / denom
    return float(f_f), float(f_dist.sf(f_f, k - 1, (k - 1) * (n - 1)))


def friedman_test(ranks: np.ndarray) -> dict[str, Any]:
    """Friedman's test of equal mean ranks, with Iman and Davenport's F form.

    ``ranks``: shape ``(k, N)`` from :func:`rank_matrix`. With mean ranks ``R_j``:

    - ``chi2``: Demšar's (2006) Eq. for chi2_F, ``12N / (k(k+1)) * (sum R_j^2 - k(k+1)^2 / 4)``,
      computed from the (average) ranks as they are, i.e. without a correction for ties;
    - ``chi2_tie_corrected``: chi2_F divided by ``1 - sum(t^3 - t) / (N k (k^2 - 1))`` over the
      groups of ``t`` tied systems of each dataset: the statistic
      ``scipy.stats.friedmanchisquare`` reports (equal to ``chi2`` without ties), and
      ``chi2_p_value``, its chi-square(k - 1) tail (scipy's p-value);
    - ``iman_davenport_f``: Demšar's F_F = ``(N - 1) chi2 / (N (k - 1) - chi2)`` on ``chi2``
      (Iman & Davenport 1980), F-distributed with ``df1 = k - 1`` and ``df2 = (k - 1)(N - 1)``;
      ``p_value`` is its upper tail: **the** Friedman p-value evalkit reports and decides on.
      Without the tie correction it is conservative when there are ties (``chi2`` is smaller).
    - ``iman_davenport_f_tie_corrected`` and ``p_value_tie_corrected``: the same on
      ``chi2_tie_corrected`` (Conover 1999's T2), for reference.

    When every dataset ranks the systems identically F_F is infinite: it is reported as ``None``
    and ``p_value`` is the chi-square tail instead (``p_value_from`` says ``"chi2"``, else ``"F"``).
    When every dataset ties all systems the tie-corrected statistics are 0 and the p-values 1.
    """
    k, n = ranks.shape
    mean = ranks.mean(axis=1)
    chi2 = 12.0 * n / (k * (k + 1)) * (float((mean**2).sum()) - k * (k + 1) ** 2 / 4.0)
    chi2 = max(chi2, 0.0)
    correction = 1.0 - _tie_term(ranks) / (n * k * (k * k - 1))
    chi2_tc = chi2 / correction if correction > 1e-12 else 0.0
    f_f, p = _iman_davenport(chi2, k, n)
    f_tc, p_tc = _iman_davenport(chi2_tc, k, n)
    from scipy.stats import chi2 as chi2_dist

    return {
        "chi2": chi2, "chi2_tie_corrected": chi2_tc, "chi2_p_value": float(chi2_dist.sf(chi2_tc, k - 1)),
        "iman_davenport_f": f_f, "df1": k - 1, "df2": (k - 1) * (n - 1), "p_value": p,
        "p_value_from": "F" if f_f is not None else "chi2",
        "iman_davenport_f_tie_corrected": f_tc, "p_value_tie_corrected": p_tc,
    }
