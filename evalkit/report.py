"""Build the :class:`~evalkit.interfaces.Report` of a comparison (tables + JSON payload)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit.aggregation import aggregate, pivot
from evalkit.interfaces import Report, Table
from evalkit.results import records

if TYPE_CHECKING:
    from evalkit.interfaces import Aggregator, Metric
    from evalkit.results import RunResult


def _clean_table(frame: Any) -> dict[str, dict[str, float | None]]:
    import math

    out: dict[str, dict[str, float | None]] = {}
    for idx, row in frame.iterrows():
        out[str(idx)] = {str(k): (None if isinstance(v, float) and math.isnan(v) else float(v))
                         for k, v in row.items()}
    return out


def tuning_notes(results: Any) -> tuple[bool, list[str]]:
    """Whether any record is an oracle, and one note per dataset saying where tuned metrics fitted.

    ``results`` are one metric's rows; rows without ``tuned_on`` (plain metrics) give no note.
    """
    import pandas as pd

    if "tuned_on" not in results.columns:
        return False, []
    sub = results[results["tuned_on"].notna()]
    if sub.empty:
        return False, []
    oracle = "oracle" in sub.columns and bool(sub["oracle"].eq(True).any())
    where: dict[str, list[str]] = {}
    for _, row in sub.iterrows():
        mode = row["tuned_on"]
        if mode == "dev":
            n = row.get("n_tune")
            text = f"the {row.get('tuned_split')} split" + (f" ({int(n)} pairs)" if pd.notna(n) else "")
        elif mode == "cv":
            k = row.get("cv_folds")
            folds = f"{int(k)}-fold " if pd.notna(k) else ""
            text = f"{folds}cross-fitting on the evaluated rows"
        else:
            text = "the evaluated rows themselves (ORACLE, optimistic)"
        texts = where.setdefault(str(row["dataset"]), [])
        if text not in texts:
            texts.append(text)
    note = "tuned on: " + "; ".join(f"{d}: {', '.join(t)}" for d, t in where.items())
    return oracle, [note]


def comparison_report(
    run: RunResult,
    metrics: dict[str, Metric],
    aggregators: list[tuple[str, Aggregator]],
    *,
    extra_payload: dict[str, Any] | None = None,
) -> Report:
    """One table per metric (rows: methods, columns: datasets, then each aggregate and its rank).

    Metrics with ``percent = True`` (correlations, F1, accuracy) are shown x 100 in the tables; the
    JSON payload keeps the metric's own scale (0-1) in ``results`` and ``tables``. Tables of tuned
    metrics say where they were tuned (a note per dataset), and a table holding an oracle value
    (tuned on the evaluated rows) says ``ORACLE`` in its title.
    """
    tables: list[Table] = []
    payload_tables: dict[str, Any] = {}
    for label, metric in metrics.items():
        table = pivot(run.results, label)
        if table.empty:
            continue
        agg = aggregate(table, aggregators, higher_is_better=metric.higher_is_better)
        full = table.join(agg[[c for c in agg.columns if not c.endswith("_rank")]])
        scale = 100.0 if getattr(metric, "percent", False) else 1.0
        shown = full * scale
        for col in agg.columns:
            if col.endswith("_rank"):
                shown[col.replace("_rank", " rank")] = agg[col]
        n_by_dataset = run.results[run.results["metric"] == label].groupby("dataset")["n"].first()
        splits = sorted(set(run.results.loc[run.results["metric"] == label, "split"]))
        direction = "higher is better" if metric.higher_is_better else "lower is better"
        title = f"{getattr(metric, 'title', '') or label}" + (" x 100" if scale != 1 else "") + (
            f", split: {', '.join(splits)} ({direction})"
        )
        oracle, tuned = tuning_notes(run.results[run.results["metric"] == label])
        if oracle:
            title += " [ORACLE: tuned on the evaluated rows]"
        notes = [f"{lab}: {agg_obj.rule}" for lab, agg_obj in aggregators if agg_obj.rule]
        notes.extend(tuned)
        notes.append("pairs per dataset: " + ", ".join(
            f"{d} {int(n_by_dataset[d])}" for d in dict.fromkeys(run.results["dataset"]) if d in n_by_dataset))
        missing = int(table.isna().sum().sum())
        if missing:
            notes.append(f"{missing} cells are missing (shown empty)")
        tables.append(Table(shown, title, notes))
        payload_tables[label] = {"values": _clean_table(table), "aggregates": _clean_table(agg)}
    payload: dict[str, Any] = {
        "results": records(run.results),
        "tables": payload_tables,
        "provenance": run.provenance,
    }
    if run.run_dir is not None:
        payload["run_dir"] = str(run.run_dir)
    payload.update(extra_payload or {})
    return Report(tables, payload)
