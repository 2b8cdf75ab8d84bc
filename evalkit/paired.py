"""Paired comparison of two results sources cell by cell (``evalkit diff``), and the helpers
``evalkit check`` shares: metric direction, metric objects, paired per-example arrays.

A *cell* is one (method, dataset, split, metric). Two sources are paired on the cells they share;
for the confidence interval and p-value both must hold per-example predictions of the cell over
the same examples (same rows, same gold references), see :mod:`evalkit.stats`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from evalkit.errors import ConfigError, DataError
from evalkit.history import KEY, Source, cell_predictions, outer_join
from evalkit.results import prediction_values
from evalkit.stats import PairedTest, cell_seed, paired_test

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from evalkit.interfaces import Metric
    from evalkit.plugins import Host


def _prov_metric(source: Source, label: str) -> dict[str, Any] | None:
    info = (source.run.provenance.get("metrics") or {}).get(label)
    return info if isinstance(info, dict) else None


def metric_direction(label: str, sources: list[Source], host: Host) -> bool:
    """``higher_is_better`` of metric ``label``: from the sources' provenance, else the registry.

    Raises:
        DataError: the sources' provenance records opposite directions.
        ConfigError: no source records it and no installed plugin registers ``label``.
    """
    seen: dict[bool, str] = {}
    for s in sources:
        info = _prov_metric(s, label)
        if info is not None and isinstance(info.get("higher_is_better"), bool):
            seen.setdefault(info["higher_is_better"], s.label)
    if len(seen) == 2:
        raise DataError(
            f"metric {label!r} is higher-is-better in {seen[True]} but lower-is-better in "
            f"{seen[False]}; the two runs used different metrics under one name"
        )
    if seen:
        return next(iter(seen))
    for s in sources:
        info = _prov_metric(s, label)
        name = str(info.get("metric", label)) if info else label
        if name in host.metrics:
            factory = host.metrics.get(name).factory
            hib = getattr(factory, "higher_is_better", None)
            if isinstance(hib, bool):
                return hib
            return bool(host.metrics.create(name).higher_is_better)
    raise ConfigError(
        f"cannot tell whether a higher or lower {label!r} is better: "
        f"{' and '.join(s.label for s in sources)} do not record it in their provenance and no "
        "installed plugin registers a metric of that name ('evalkit list metrics')"
    )


def metric_object(label: str, sources: list[Source], host: Host) -> Metric:
    """The metric ``label`` as the sources' provenance describes it (registry name and params)."""
    for s in sources:
        info = _prov_metric(s, label)
        if info is not None and "metric" in info:
            return host.metrics.create(str(info["metric"]), **dict(info.get("params") or {}))
    return host.metrics.create(label)


def paired_arrays(
    a: Source, b: Source, method_a: str, method_b: str, dataset: str, split: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(pred_a, pred_b, references)`` of one cell, aligned by example row.

    Raises:
        DataError: a side lacks the cell's predictions, or the two sides scored different
            examples (row ids or gold references differ).
    """
    import numpy as np

    pa = cell_predictions(a, method_a, dataset, split)
    pb = cell_predictions(b, method_b, dataset, split)
    where = f"{dataset}/{split}"
    if len(pa) != len(pb) or not np.array_equal(pa["row"].to_numpy(), pb["row"].to_numpy()):
        raise DataError(
            f"cannot pair {where}: {a.label} has {len(pa)} examples and {b.label} {len(pb)}, or "
            "their row ids differ; a paired test needs both runs on the same examples"
        )
    ra = pa["reference"].to_numpy(dtype=np.float64)
    rb = pb["reference"].to_numpy(dtype=np.float64)
    diff = np.flatnonzero(ra != rb)
    if diff.size:
        i = int(diff[0])
        raise DataError(
            f"cannot pair {where}: the gold references differ at row {i} ({ra[i]} in {a.label}, "
            f"{rb[i]} in {b.label}; {diff.size} rows differ); were the runs on different data?"
        )
    return prediction_values(pa), prediction_values(pb), pa["reference"].to_numpy()


@dataclass(frozen=True)
class PairedSettings:
    """How paired tests are run: ``test`` (bootstrap, permutation or mcnemar), resamples, seed, CI.

    ``mcnemar``: McNemar's exact test (:func:`evalkit.stats.mcnemar_exact`) for metrics whose
    per-example scores are 0/1 (accuracy); cells of other metrics get the paired bootstrap.
    """

    test: str = "bootstrap"
    n_resamples: int = 1000
    seed: int = 0
    confidence: float = 0.95
    ci_method: str = "percentile"

    def describe(self, *, interval: bool = True) -> str:
        if self.test == "mcnemar":
            ci = f", {self.ci_method} {self.confidence:.0%} CI" if interval else ""
            return (f"McNemar's exact test for 0/1 per-example metrics (accuracy), paired bootstrap "
                    f"({self.n_resamples} resamples{ci}, seed {self.seed}) for the others")
        if self.test == "permutation":
            return f"paired approximate randomisation test, {self.n_resamples} permutations, seed {self.seed}"
        ci = f", {self.ci_method} {self.confidence:.0%} CI" if interval else ""
        return f"paired bootstrap, {self.n_resamples} resamples{ci}, seed {self.seed}"


def cell_test(
    metric: Metric, label: str, pred_a: np.ndarray, pred_b: np.ndarray, refs: np.ndarray,
    settings: PairedSettings, key: tuple[str, ...], alternative: str = "two-sided",
) -> PairedTest:
    """Paired test of ``metric(pred_b) - metric(pred_a)`` with a seed derived from ``key``."""
    from evalkit.scoring import score_cell

    def fn(p: np.ndarray, r: np.ndarray) -> float:
        value, extras = score_cell(metric, label, p, r)
        if "undefined" in extras:  # keep the test's own handling of undefined resamples
            from evalkit.errors import UndefinedValueError

            raise UndefinedValueError(extras["undefined"])
        return value

    per_ex = None
    if metric.per_example(predictions=pred_a, references=refs) is not None:
        def per_ex(p: np.ndarray, r: np.ndarray) -> np.ndarray:
            import numpy as np

            return np.asarray(metric.per_example(predictions=p, references=r), dtype=np.float64)

    test = settings.test
    if test == "mcnemar" and (per_ex is None or not _zero_one(per_ex(pred_a, refs), per_ex(pred_b, refs))):
        test = "bootstrap"
    # A metric may offer ``compute_resampled(predictions, references, indices)``: its value on each
    # resample (row of indices), NaN where undefined; the correlations do, and the bootstrap then
    # scores the resamples in bulk instead of one call per resample.
    bulk = getattr(metric, "compute_resampled", None)
    use_bulk = callable(bulk) and per_ex is None and test == "bootstrap"
    kwargs: dict[str, Any] = {"resampled": bulk} if use_bulk else {}
    return paired_test(
        test, fn, pred_a, pred_b, refs, per_example=per_ex, n_resamples=settings.n_resamples,
        confidence=settings.confidence, ci_method=settings.ci_method, alternative=alternative,
        seed=cell_seed(settings.seed, *key), **kwargs,
    )


def _zero_one(*arrays: np.ndarray) -> bool:
    import numpy as np

    return all(bool(np.isin(a, (0.0, 1.0)).all()) for a in arrays)


def diff_runs(
    a: Source,
    b: Source,
    *,
    settings: PairedSettings | None = None,
    method_a: str | None = None,
    method_b: str | None = None,
    host: Host | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Paired comparison of ``b`` against ``a`` on every cell they share.

    Args:
        a, b: the two sources (``a`` is the reference, e.g. the baseline).
        settings: paired test settings (default :class:`PairedSettings`).
        method_a, method_b: compare method ``method_a`` of ``a`` with ``method_b`` of ``b`` (both
            shown under ``method_b``'s name); default: every method, matched by name.

    Returns:
        ``(cells, missing)``. ``cells`` has one row per shared cell: method, dataset, split,
        metric, higher_is_better, ``a``, ``b``, ``delta`` (b - a on the metric's own scale),
        ``ci_low``, ``ci_high`` (of delta), ``p_value`` (two-sided; NaN where a side has no
        predictions), ``n``, ``better`` (``a``, ``b`` or ``=``). ``missing`` lists the cells of
        only one side (column ``only_in``).

    Raises:
        DataError: the sides scored different examples in a cell; ConfigError: unknown metric
            direction, or ``method_a``/``method_b`` absent.
    """
    import pandas as pd

    from evalkit.plugins import get_host

    host = host or get_host()
    settings = settings or PairedSettings()
    merged = _merged(a, b, method_a, method_b)
    missing = _missing(merged, a, b)
    both = merged[merged["_merge"] == "both"]
    can_test = a.has_predictions and b.has_predictions
    rows = [_diff_row(r, a, b, host, settings, method_a if can_test else None, can_test) for _, r in both.iterrows()]
    cols = [*KEY, "higher_is_better", "a", "b", "delta", "ci_low", "ci_high", "p_value", "n", "better"]
    cells = pd.DataFrame(rows, columns=cols)
    cells["n"] = pd.Series([int(v) if pd.notna(v) else None for v in cells["n"]], index=cells.index, dtype=object)
    return cells, missing


def _merged(a: Source, b: Source, method_a: str | None, method_b: str | None) -> pd.DataFrame:
    """The outer join of both results on :data:`KEY` (method ``method_a`` of ``a`` shown as ``method_b``).

    Raises:
        ConfigError: only one of ``method_a``/``method_b``, or a method a side lacks.
    """
    ra, rb = a.run.results, b.run.results
    if (method_a is None) != (method_b is None):
        raise ConfigError("give both --method-a and --method-b, or neither")
    if method_a is not None and method_b is not None:
        for src, res, m in ((a, ra, method_a), (b, rb, method_b)):
            if m not in set(res["method"]):
                raise ConfigError(f"{src.label} has no method {m!r}; it has {sorted(set(res['method']))}")
        ra = ra[ra["method"] == method_a].assign(method=method_b)
        rb = rb[rb["method"] == method_b]
    return outer_join(ra, rb, ("_a", "_b"))


def _missing(merged: pd.DataFrame, a: Source, b: Source) -> pd.DataFrame:
    """The cells of only one side, with ``only_in`` naming it."""
    import numpy as np

    one = merged["_merge"] != "both"
    return merged[one][KEY].assign(
        only_in=np.where(merged.loc[one, "_merge"] == "left_only", a.label, b.label)
    ).reset_index(drop=True)


def _diff_row(r: Any, a: Source, b: Source, host: Host, settings: PairedSettings, method_a: str | None,
              can_test: bool) -> dict[str, Any]:
    """One shared cell's row of :func:`diff_runs` (the paired test when both sides hold predictions)."""
    import pandas as pd

    hib = metric_direction(r["metric"], [b, a], host)
    va, vb = float(r["value_a"]), float(r["value_b"])
    delta = vb - va
    row: dict[str, Any] = {k: r[k] for k in KEY}
    row.update(higher_is_better=hib, a=va, b=vb, delta=delta, ci_low=math.nan, ci_high=math.nan,
               p_value=math.nan, n=r["n_b"] if pd.notna(r["n_b"]) else r["n_a"])
    if can_test:
        metric = metric_object(r["metric"], [b, a], host)
        pa, pb, refs = paired_arrays(a, b, method_a or r["method"], r["method"], r["dataset"], r["split"])
        t = cell_test(metric, r["metric"], pa, pb, refs, settings, tuple(str(r[k]) for k in KEY))
        row.update(ci_low=t.ci_low, ci_high=t.ci_high, p_value=t.p_value, n=t.n)
    good = delta > 0 if hib else delta < 0
    row["better"] = "=" if delta == 0 else ("b" if good else "a")
    return row
