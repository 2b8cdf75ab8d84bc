"""Multiple-comparison corrections of p-values: Holm, Benjamini-Hochberg, Bonferroni.

One family of ``m`` p-values in, adjusted p-values out (same order), as
``statsmodels.stats.multitest.multipletests(p, method=...)[1]`` computes them. A hypothesis is
rejected at level ``alpha`` when its adjusted p-value is ``<= alpha``.

- ``holm``: Holm (1979) step-down; controls the family-wise error rate (FWER) under any dependence.
  ``p_adj(i) = max_{j <= i} min(1, (m - j + 1) p_(j))`` over the sorted p-values.
- ``bh``: Benjamini & Hochberg (1995) step-up; controls the false discovery rate (FDR) for
  independent or positively dependent tests. ``p_adj(i) = min_{j >= i} min(1, m p_(j) / j)``.
- ``bonferroni``: ``min(1, m p)``; FWER.
- ``none``: the p-values unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit.errors import ConfigError, DataError

if TYPE_CHECKING:
    import numpy as np

CORRECTIONS = ("holm", "bh", "bonferroni", "none")

#: How each correction is named in outputs.
CORRECTION_TITLES = {
    "holm": "Holm (1979) step-down, family-wise error rate",
    "bh": "Benjamini-Hochberg (1995), false discovery rate",
    "bonferroni": "Bonferroni, family-wise error rate",
    "none": "no correction",
}


def adjust_p_values(p_values: Any, method: str = "holm") -> np.ndarray:
    """Adjusted p-values of one family of tests, in the input order.

    Args:
        p_values: raw p-values in [0, 1], array-like of shape ``(m,)``. NaN entries (tests that
            could not be run) are left out of the family and stay NaN.
        method: one of :data:`CORRECTIONS`.

    Returns:
        float64 array of shape ``(m,)``; each value in [0, 1] and not below its raw p-value.

    Raises:
        ConfigError: unknown ``method``.
        DataError: a p-value outside [0, 1].
    """
    import numpy as np

    if method not in CORRECTIONS:
        raise ConfigError(f"unknown correction {method!r}; use one of {', '.join(CORRECTIONS)}")
    p = np.asarray(p_values, dtype=np.float64).reshape(-1)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    q = p[ok]
    if np.any((q < 0) | (q > 1)):
        raise DataError(f"p-values must lie in [0, 1], got {q[(q < 0) | (q > 1)][:5].tolist()}")
    m = q.size
    if m == 0:
        return out
    if method == "none":
        adj = q.copy()
    elif method == "bonferroni":
        adj = np.minimum(1.0, m * q)
    else:
        order = np.argsort(q, kind="stable")
        sorted_p = q[order]
        if method == "holm":
            steps = np.maximum.accumulate((m - np.arange(m)) * sorted_p)
        else:  # bh
            steps = np.minimum.accumulate((m * sorted_p / np.arange(1, m + 1))[::-1])[::-1]
        adj = np.empty(m)
        adj[order] = np.minimum(1.0, steps)
    out[ok] = adj
    return out
