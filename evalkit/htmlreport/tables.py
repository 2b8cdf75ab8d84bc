"""The main tables of a report: per metric, methods x datasets with intervals, best cells, ranks.

Everything here is data (JSON-ready dicts on the metric's own scale, as ``results.csv`` stores it);
:mod:`evalkit.htmlreport.page` formats it (x 100 for metrics with ``percent = True``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from evalkit.aggregation import aggregate, pivot

if TYPE_CHECKING:
    import pandas as pd

    from evalkit.interfaces import Aggregator, Metric
    from evalkit.results import RunResult

#: The rules of the rank-stability figure (the aggregator plugins), with their parameters.
STABILITY_RULES = ("mean", "geometric", "harmonic", "borda", "copeland")


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def frame_dict(frame: pd.DataFrame) -> dict[str, dict[str, float | None]]:
    """``{row: {column: value}}`` with NaN as ``None``."""
    return {str(i): {str(c): _num(v) for c, v in row.items()} for i, row in frame.iterrows()}


def best_cells(table: pd.DataFrame, higher_is_better: bool) -> dict[str, list[str]]:
    """Per column, the methods with the best value (all of them when tied; none if all missing)."""
    out: dict[str, list[str]] = {}
    for col in table.columns:
        values = table[col].dropna()
        if values.empty:
            out[str(col)] = []
            continue
        best = values.max() if higher_is_better else values.min()
        out[str(col)] = [str(m) for m in values.index[values == best]]
    return out


def _intervals(run: RunResult, label: str, table: pd.DataFrame) -> dict[str, dict[str, list[float]]] | None:
    """Per method and column the bootstrap interval stored with the run (``ci_low``/``ci_high``)."""
    res = run.results
    if "ci_low" not in res.columns or "ci_high" not in res.columns:
        return None
    sub = res[(res["metric"] == label) & res["ci_low"].notna() & res["ci_high"].notna()]
    if sub.empty:
        return None
    multi = res[res["metric"] == label].groupby("dataset")["split"].nunique().max() > 1
    out: dict[str, dict[str, list[float]]] = {}
    for rec in sub.to_dict(orient="records"):
        col = f"{rec['dataset']}/{rec['split']}" if multi else str(rec["dataset"])
        if col in table.columns:
            out.setdefault(str(rec["method"]), {})[col] = [float(rec["ci_low"]), float(rec["ci_high"])]
    return out


def metric_table(
    run: RunResult, label: str, metric: Metric, aggregators: list[tuple[str, Aggregator]]
) -> dict[str, Any] | None:
    """One metric's table as data: ``values``, ``intervals``, ``best``, ``aggregates``, ``ranks``.

    ``values`` are methods x datasets on the metric's own scale (:func:`evalkit.aggregation.pivot`),
    ``aggregates``/``ranks`` come from :func:`evalkit.aggregation.aggregate` (ranks 1-based, ties
    sharing the best rank). Returns ``None`` when the run has no value of the metric.
    """
    table = pivot(run.results, label)
    if table.empty:
        return None
    hib = bool(metric.higher_is_better)
    agg = aggregate(table, aggregators, higher_is_better=hib)
    splits = sorted(set(run.results.loc[run.results["metric"] == label, "split"]))
    return {
        "label": label,
        "title": getattr(metric, "title", "") or label,
        "higher_is_better": hib,
        "percent": bool(getattr(metric, "percent", False)),
        "splits": splits,
        "methods": [str(m) for m in table.index],
        "datasets": [str(c) for c in table.columns],
        "values": frame_dict(table),
        "intervals": _intervals(run, label, table),
        "best": best_cells(table, hib),
        "aggregates": {lab: {str(m): _num(v) for m, v in agg[lab].items()} for lab, _ in aggregators},
        "ranks": {lab: {str(m): _num(v) for m, v in agg[f"{lab}_rank"].items()} for lab, _ in aggregators},
        "rules": {lab: a.rule for lab, a in aggregators if a.rule},
        # Value-preserving rules (means, median) read like the cells, so they share the x 100.
        "value_like": {lab: a.higher_is_better is None for lab, a in aggregators},
        "n": {str(d): int(n) for d, n in
              run.results[run.results["metric"] == label].groupby("dataset")["n"].first().items()
              if _num(n) is not None},
    }


def rank_stability(
    run: RunResult, label: str, metric: Metric, rules: list[tuple[str, Aggregator]]
) -> dict[str, Any] | None:
    """Each method's rank under every rule in ``rules`` (the aggregator plugins) side by side.

    A rule that cannot score the table (a non-positive cell under the geometric or harmonic mean,
    whose default policy is an error) is reported under ``skipped`` with the reason instead.
    """
    from evalkit.errors import EvalkitError

    table = pivot(run.results, label)
    if table.empty or len(table.index) < 2:
        return None
    ranks: dict[str, dict[str, float | None]] = {}
    values: dict[str, dict[str, float | None]] = {}
    skipped: dict[str, str] = {}
    for lab, agg in rules:
        try:
            out = aggregate(table, [(lab, agg)], higher_is_better=bool(metric.higher_is_better))
        except EvalkitError as exc:
            skipped[lab] = str(exc)
            continue
        ranks[lab] = {str(m): _num(v) for m, v in out[f"{lab}_rank"].items()}
        values[lab] = {str(m): _num(v) for m, v in out[lab].items()}
    if not ranks:
        return None
    return {"metric": label, "methods": [str(m) for m in table.index], "rules": list(ranks),
            "ranks": ranks, "values": values, "skipped": skipped,
            "rule_text": {lab: agg.rule for lab, agg in rules if lab in ranks}}


def stability_rules(host: Any) -> list[tuple[str, Aggregator]]:
    """The installed aggregators among :data:`STABILITY_RULES`, created with their defaults."""
    return [(name, host.aggregators.create(name)) for name in STABILITY_RULES if name in host.aggregators]
