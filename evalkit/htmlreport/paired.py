"""Forest plot data: paired differences of every method against a baseline, per dataset.

Each row is ``metric(method) - metric(baseline)`` on one dataset with a paired bootstrap interval
over the dataset's examples (both methods resampled with the same rows), computed by
:func:`evalkit.paired.cell_test` with the seed :func:`evalkit.stats.cell_seed` derives from the
cell, so the numbers equal ``evalkit diff RUN RUN --method-a BASELINE --method-b METHOD``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit.errors import ConfigError

if TYPE_CHECKING:
    from evalkit.history import Source
    from evalkit.interfaces import Metric
    from evalkit.paired import PairedSettings


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
    source: Source, label: str, metric: Metric, table: dict[str, Any], baseline: str,
    settings: PairedSettings,
) -> dict[str, Any] | None:
    """Per (method != baseline, dataset): ``delta``, ``ci_low``, ``ci_high``, ``p_value``, ``n``.

    ``delta`` is on the metric's own scale; a positive delta means the method scores higher than
    the baseline. Cells without stored predictions for both methods are left out (listed under
    ``missing``). Returns ``None`` when the run has no predictions or only one method.
    """
    from evalkit.errors import DataError
    from evalkit.paired import cell_test, paired_arrays

    if not source.has_predictions or len(table["methods"]) < 2:
        return None
    res = source.run.results
    res = res[res["metric"] == label]
    rows: list[dict[str, Any]] = []
    missing: list[str] = []
    for method in table["methods"]:
        if method == baseline:
            continue
        for (dataset, split), _ in res[res["method"] == method].groupby(["dataset", "split"], sort=False):
            if not ((res["method"] == baseline) & (res["dataset"] == dataset) & (res["split"] == split)).any():
                continue
            try:
                pa, pb, refs = paired_arrays(source, source, baseline, method, str(dataset), str(split))
            except DataError as exc:
                missing.append(f"{method} on {dataset}/{split}: {exc}")
                continue
            key = (str(method), str(dataset), str(split), label)
            t = cell_test(metric, label, pa, pb, refs, settings, key)
            rows.append({"method": str(method), "dataset": str(dataset), "split": str(split),
                         "delta": t.delta, "ci_low": t.ci_low, "ci_high": t.ci_high,
                         "p_value": t.p_value, "n": t.n, "n_failed": t.n_failed})
    if not rows:
        return None
    return {"metric": label, "baseline": baseline, "test": settings.describe(), "seed": settings.seed,
            "n_resamples": settings.n_resamples, "confidence": settings.confidence,
            "higher_is_better": bool(metric.higher_is_better), "rows": rows, "missing": missing}
