"""Forest plot data: paired differences of every method against a baseline, per dataset.

Each row is ``metric(method) - metric(baseline)`` on one dataset with a percentile bootstrap
interval and a shifted-null p-value over the dataset's examples, both methods scored on the same
resamples: the report's shared resamples (:mod:`evalkit.htmlreport.resample`, drawn as
``evalkit compare --bootstrap`` draws them), so the forest plot, the rank distribution and the
run's stored intervals come from one bootstrap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit.errors import ConfigError

if TYPE_CHECKING:
    from evalkit.htmlreport.resample import Resamples
    from evalkit.interfaces import Metric


def choose_baseline(table: dict[str, Any], baseline: str | None) -> str:
    """``baseline`` if it is one of the table's methods, else the method best under the first rule.

    Raises:
        ConfigError: ``baseline`` is not a method of the run.
    """
    methods = table["methods"]
    if baseline is not None:
        if baseline not in methods:
            raise ConfigError(f"--baseline {baseline!r} is not a method of the run; its methods are "
                              f"{', '.join(methods)}")
        return baseline
    ranks: dict[str, float | None] = next(iter(table["ranks"].values()), {})
    ranked = [m for m in methods if ranks.get(m) is not None]
    return min(ranked, key=lambda m: ranks[m] or 0.0) if ranked else methods[0]


def forest(
    reps: dict[str, dict[str, Any]], label: str, metric: Metric, table: dict[str, Any], baseline: str,
    rs: Resamples,
) -> dict[str, Any] | None:
    """Per (method != baseline, dataset): ``delta``, ``ci_low``, ``ci_high``, ``p_value``, ``n``.

    ``reps`` is :func:`evalkit.htmlreport.resample.replicates` of the metric. ``delta`` is on the
    metric's own scale; a positive delta means the method scores higher than the baseline; the
    interval is ``None`` (and ``n_failed`` says why) when the difference is undefined on more than
    half the resamples. Cells without stored predictions for both methods are listed under
    ``missing``. Returns ``None`` when no row can be computed.
    """
    import numpy as np

    from evalkit.htmlreport.resample import percentile, shifted_p_value

    rows: list[dict[str, Any]] = []
    missing: list[str] = []
    for method in table["methods"]:
        if method == baseline:
            continue
        for col, cell in reps.items():
            vals, full = cell["values"], cell["full"]
            if method not in vals or baseline not in vals:
                if method in vals or baseline in vals:
                    missing.append(f"{method} on {cell['dataset']}/{cell['split']}: no stored predictions of "
                                   f"{baseline if method in vals else method}")
                continue
            dist = vals[method] - vals[baseline]
            delta = full[method] - full[baseline]
            ci = percentile(dist, rs.confidence)
            rows.append({"method": method, "dataset": cell["dataset"], "split": cell["split"], "column": col,
                         "delta": delta, "ci_low": ci[0] if ci else None, "ci_high": ci[1] if ci else None,
                         "p_value": shifted_p_value(dist, delta) if ci else None,
                         "n": int(rs.draws[(cell["dataset"], cell["split"])].shape[1]),
                         "n_failed": int((~np.isfinite(dist)).sum())})
    if not rows:
        return None
    return {"metric": label, "baseline": baseline, "test": rs.describe(), "seed": rs.seed,
            "n_resamples": rs.n_resamples, "confidence": rs.confidence, "origin": rs.origin,
            "higher_is_better": bool(metric.higher_is_better), "rows": rows, "missing": missing}
