"""Within-dataset significance marks: the best cell of each dataset column, and the cells not
significantly worse than it (paired tests over the dataset's examples, Holm-corrected).

For each (metric, dataset) column of a comparison table the best value is found (several cells
on an exact tie) and every other method is tested against the best method on the same examples
(the run's stored per-example predictions), two-sided, H0: equal metric values:

- **Pearson's r and Spearman's rho** (metric names ``pearson``, ``spearman``): Williams' (1959)
  t-test for two dependent correlations sharing a variable (the gold scores), Steiger (1980,
  Psychological Bulletin 87(2), Eq. 7), ``n - 3`` degrees of freedom, as the WMT metrics tasks use
  it (Graham & Baldwin 2014). For Spearman's rho it is applied to the ranks (rho is Pearson's r of
  the ranks), the usual approximation.
- **Metrics with per-example scores** (``Metric.per_example``): the paired bootstrap of
  :mod:`evalkit.stats` (same resampled rows for both methods, shifted-null p-value
  ``(1 + #{|delta* - delta| >= |delta|}) / (1 + B)``), vectorised: the ``B x n`` resample
  counts times the per-example differences in one matrix product.
- **Other corpus-level metrics**: :func:`evalkit.stats.paired_bootstrap` with the metric recomputed
  on each resample. Metrics tuned on labelled rows (:class:`~evalkit.interfaces.TunedMetric`) get
  no test (only the best cell is marked; the legend says so).

The p-values of one column (one per non-best method) are Holm-corrected
(:func:`evalkit.multitest.adjust_p_values`); a cell is *indistinct* when its adjusted p-value
exceeds ``alpha`` (the best cells are indistinct by definition).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from evalkit.interfaces import Metric
    from evalkit.results import RunResult

CORRELATIONS = ("pearson", "spearman")


@dataclass
class Marks:
    """What :func:`significance_marks` returns: boolean frames (methods x dataset columns, NaN
    where a cell has no value or no test), the legend, and per-column details for JSON."""

    best: pd.DataFrame
    indistinct: pd.DataFrame
    legend: str
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def williams_test(r12: float, r13: float, r23: float, n: int) -> tuple[float, float]:
    """Williams' t (df ``n - 3``) and two-sided p of H0 ``rho12 = rho13``; 1 is the shared variable.

    ``t = (r12 - r13) sqrt((n - 1)(1 + r23) / (2 (n - 1)/(n - 3) |R| + rbar^2 (1 - r23)^3))`` with
    ``|R| = 1 - r12^2 - r13^2 - r23^2 + 2 r12 r13 r23`` and ``rbar = (r12 + r13) / 2`` (Steiger 1980,
    Eq. 7). Needs ``n > 3``; identical systems (``r23 = 1``) give ``t = 0``, ``p = 1``.
    """
    from scipy.stats import t as t_dist

    if r12 == r13:
        return 0.0, 1.0
    det = max(0.0, 1 - r12**2 - r13**2 - r23**2 + 2 * r12 * r13 * r23)
    rbar = (r12 + r13) / 2
    denom = 2 * (n - 1) / (n - 3) * det + rbar**2 * (1 - r23) ** 3
    if denom <= 0:
        return (math.inf if r12 > r13 else -math.inf), 0.0
    t = (r12 - r13) * math.sqrt((n - 1) * (1 + r23) / denom)
    return t, float(2 * t_dist.sf(abs(t), n - 3))


def _resample_counts(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """``(B, n)`` float64 counts of each row in ``B`` resamples of ``n`` rows with replacement."""
    import numpy as np

    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_resamples, n))
    flat = (idx + np.arange(n_resamples)[:, None] * n).ravel()
    return np.bincount(flat, minlength=n_resamples * n).reshape(n_resamples, n).astype(np.float64)


def bootstrap_p_values(diffs: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
    """Paired-bootstrap two-sided p-values of the mean of each column of ``diffs`` (``n x m``).

    Same resamples for every column; shifted-null p-value as :func:`evalkit.stats.paired_bootstrap`
    with ``per_example`` (and the same random draws for a given seed).
    """
    import numpy as np

    from evalkit.stats import _p_value

    n = diffs.shape[0]
    dist = _resample_counts(n, n_resamples, seed) @ diffs / n  # (B, m)
    delta = diffs.mean(axis=0)
    return np.array([_p_value(dist[:, j] - delta[j], float(delta[j]), "two-sided") for j in range(diffs.shape[1])])


def _correlation_p(kind: str, best: np.ndarray, others: np.ndarray, ref: np.ndarray) -> np.ndarray:
    import numpy as np
    from scipy.stats import rankdata

    cols = np.column_stack([ref, best, others])
    if kind == "spearman":
        cols = rankdata(cols, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.corrcoef(cols, rowvar=False)
    n = ref.shape[0]
    return np.array([williams_test(r[0, 1], r[0, j], r[1, j], n)[1] for j in range(2, cols.shape[1])])


def column_p_values(metric: Metric, best: np.ndarray, others: np.ndarray, ref: np.ndarray, *,
                    n_resamples: int, seed: int) -> tuple[np.ndarray, str]:
    """Two-sided p-values of each column of ``others`` (``n x m``) against ``best`` (``n``), and the
    test's name; see the module doc. Raises ``ValueError`` for a tuned metric (no test)."""
    import numpy as np

    from evalkit.interfaces import MetricResult, TunedMetric
    from evalkit.stats import paired_bootstrap

    name = getattr(metric, "name", "")
    if name in CORRELATIONS and ref.shape[0] > 3:
        return _correlation_p(name, best, others, ref), "Williams' t for dependent correlations"
    if isinstance(metric, TunedMetric):
        raise ValueError("tuned metric")
    s_best = metric.per_example(predictions=best, references=ref)
    if s_best is not None:
        diffs = np.column_stack([np.asarray(s_best, dtype=np.float64)
                                 - np.asarray(metric.per_example(predictions=others[:, j], references=ref),
                                              dtype=np.float64) for j in range(others.shape[1])])
        return bootstrap_p_values(diffs, n_resamples, seed), f"paired bootstrap ({n_resamples} resamples)"

    def fn(p: np.ndarray, r: np.ndarray) -> float:
        out = metric.compute(predictions=p, references=r)
        return float(out.value if isinstance(out, MetricResult) else out)

    ps = [paired_bootstrap(fn, others[:, j], best, ref, n_resamples=n_resamples, seed=seed).p_value
          for j in range(others.shape[1])]
    return np.array(ps), f"paired bootstrap ({n_resamples} resamples)"


def _best_rows(col: pd.Series, higher_is_better: bool) -> list[str]:
    vals = col.dropna()
    if vals.empty:
        return []
    target = vals.max() if higher_is_better else vals.min()
    return [str(i) for i in vals.index[vals == target]]


def _column_arrays(run: RunResult, dataset: str, split: str) -> tuple[pd.DataFrame, np.ndarray] | None:
    """Per-example predictions (rows x methods) and references of one (dataset, split), or None."""
    preds = run.predictions
    if preds is None or preds.empty:
        return None
    g = preds[(preds["dataset"] == dataset) & (preds["split"] == split)]
    if "role" in g.columns:
        g = g[g["role"].fillna("eval") == "eval"]
    if g.empty:
        return None
    wide = g.pivot_table(index="row", columns="method", values="prediction", aggfunc="first")
    ref = g.groupby("row")["reference"].first().reindex(wide.index)
    return wide, ref.to_numpy(dtype=float)


def _test_column(metric: Metric, key: tuple[str, str], best: list[str], col: pd.Series, run: RunResult,
                 *, alpha: float, n_resamples: int, seed: int) -> dict[str, Any]:
    """The comparisons of one column: ``{"best": [...], "test": str, "comparisons": [...]}``."""
    from evalkit.multitest import adjust_p_values
    from evalkit.stats import cell_seed

    others = [str(m) for m in col.dropna().index if str(m) not in best]
    out: dict[str, Any] = {"best": best, "comparisons": [], "test": None}
    arrays = _column_arrays(run, *key)
    if not others or arrays is None:
        out["skipped"] = "no per-example predictions" if others else None
        return out
    wide, ref = arrays
    missing = [m for m in [best[0], *others] if m not in wide.columns]
    tested = [m for m in others if m in wide.columns]
    if best[0] in missing or not tested:
        out["skipped"] = f"no per-example predictions for {', '.join(missing)}"
        return out
    rows = wide[[best[0], *tested]].notna().all(axis=1).to_numpy()
    try:
        p, test = column_p_values(metric, wide[best[0]].to_numpy(dtype=float)[rows],
                                  wide[tested].to_numpy(dtype=float)[rows], ref[rows],
                                  n_resamples=n_resamples, seed=cell_seed(seed, metric.name, *key))
    except ValueError:
        out["skipped"] = "a metric tuned on labelled rows has no paired test here"
        return out
    adj = adjust_p_values(p, "holm")
    out["test"] = test
    out["comparisons"] = [{"method": m, "against": best[0], "p_value": float(pv), "p_adjusted": float(pa),
                           "indistinct": bool(pa > alpha)} for m, pv, pa in zip(tested, p, adj, strict=True)]
    return out


def significance_marks(run: RunResult, label: str, metric: Metric, table: pd.DataFrame, *,
                       alpha: float = 0.05, n_resamples: int = 1000, seed: int = 0) -> Marks:
    """Best and indistinct cells of one metric's methods x datasets ``table`` (see the module doc).

    Args:
        run: the run whose ``predictions`` hold the per-example scores of the table's cells.
        label: the metric's label in ``run.results``; ``metric`` its object (direction, name).
        table: :func:`evalkit.aggregation.pivot` of ``run.results`` for ``label`` (columns:
            dataset, or ``dataset/split`` when a dataset has several splits).
        alpha: level of the Holm-corrected tests; n_resamples, seed: of the paired bootstraps.

    Returns:
        :class:`Marks`; cells without a value or without a test are NaN in ``indistinct``.
    """
    import numpy as np
    import pandas as pd

    res = run.results[run.results["metric"] == label]
    multi = bool(len(res)) and res.groupby("dataset")["split"].nunique().max() > 1
    keys = {(f"{d}/{s}" if multi else str(d)): (str(d), str(s))
            for d, s in res[["dataset", "split"]].drop_duplicates().itertuples(index=False)}
    best = pd.DataFrame(False, index=table.index, columns=table.columns, dtype=object)
    indistinct = pd.DataFrame(np.nan, index=table.index, columns=table.columns, dtype=object)
    details: dict[str, Any] = {}
    notes: list[str] = []
    tests: set[str] = set()
    for col in table.columns:
        best_rows = _best_rows(table[col], metric.higher_is_better)
        has_value = table[col].notna().to_numpy()
        best[col] = [str(i) in best_rows if ok else np.nan for i, ok in zip(table.index, has_value, strict=True)]
        for m in best_rows:
            indistinct.at[m, col] = True
        if col not in keys:
            continue
        info = _test_column(metric, keys[col], best_rows, table[col], run, alpha=alpha,
                            n_resamples=n_resamples, seed=seed)
        for c in info["comparisons"]:
            indistinct.at[c["method"], col] = c["indistinct"]
        if info.get("skipped"):
            notes.append(f"marks on {col}: {info['skipped']} (only the best cell is marked)")
        if info["test"]:
            tests.add(info["test"])
        details[str(col)] = info
    legend = (f"{' / '.join(sorted(tests)) or 'no test'} over each dataset's examples against its best "
              f"method, two-sided, Holm-corrected across the methods, alpha={alpha:g}")
    return Marks(best, indistinct, legend, details, notes)
