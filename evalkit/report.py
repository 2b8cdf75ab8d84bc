"""Build the :class:`~evalkit.interfaces.Report` of a comparison (tables + JSON payload)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit.aggregation import aggregate, pivot
from evalkit.guard import plugin_call
from evalkit.interfaces import Report, Table
from evalkit.results import records

if TYPE_CHECKING:
    import pandas as pd

    from evalkit.bootstrap import ExampleBootstrap
    from evalkit.interfaces import Aggregator, Metric
    from evalkit.results import RunResult


def _clean_table(frame: Any) -> dict[str, dict[str, float | None]]:
    import math

    out: dict[str, dict[str, float | None]] = {}
    for idx, row in frame.iterrows():
        out[str(idx)] = {str(k): (None if isinstance(v, float) and math.isnan(v) else float(v))
                         for k, v in row.items()}
    return out


def _interval(low: Any, high: Any, fmt: str) -> str:
    import math

    low, high = float(low), float(high)
    if math.isnan(low) or math.isnan(high):
        return ""
    return f"[{low:{fmt}}, {high:{fmt}}]"


def _bootstrap_table(
    boot: ExampleBootstrap,
    label: str,
    title: str,
    table: pd.DataFrame,
    aggregators: list[tuple[str, Aggregator]],
    scale: float,
) -> Table:
    """Intervals of one metric's cells, aggregates and ranks, as strings (``[lo, hi]``)."""
    import pandas as pd

    cells = boot.cells[boot.cells["metric"] == label]
    multi = bool(len(cells)) and cells.groupby("dataset")["split"].nunique().max() > 1
    frame = pd.DataFrame("", index=table.index, columns=list(table.columns), dtype=object)
    for rec in cells.to_dict(orient="records"):
        col = f"{rec['dataset']}/{rec['split']}" if multi else rec["dataset"]
        frame.loc[rec["method"], col] = _interval(rec["ci_low"] * scale, rec["ci_high"] * scale,
                                                  ".2f")
    aggs = boot.aggregates
    for agg_label, agg in aggregators:
        sub = aggs[(aggs["metric"] == label) & (aggs["aggregator"] == agg_label)]
        sub = sub.set_index("method").reindex(table.index)
        factor = scale if agg.higher_is_better is None else 1.0
        lows, highs = sub["value_low"].to_numpy() * factor, sub["value_high"].to_numpy() * factor
        frame[agg_label] = [_interval(lo, hi, ".2f") for lo, hi in zip(lows, highs, strict=True)]
        frame[f"{agg_label} rank"] = [
            _interval(lo, hi, ".0f")
            for lo, hi in zip(sub["rank_low"].to_numpy(), sub["rank_high"].to_numpy(), strict=True)
        ]
    pct = f"{boot.confidence * 100:g}%"
    notes = [f"{pct} percentile intervals from a paired bootstrap over examples: "
             f"{boot.n_resamples} resamples (seed {boot.seed}) of each dataset's pairs, the same "
             "rows for every method"]
    notes += [f"{where}: undefined in {n} resamples (left out)"
              for where, n in boot.failures.items() if where.startswith(f"{label} on ")]
    return Table(frame, f"{title}: {pct} bootstrap intervals", notes)


def threshold_table(results: pd.DataFrame, label: str, name: str, scale: float) -> Table | None:
    """The decision threshold, precision and recall behind a thresholded metric's cells, or ``None``.

    Built from the records' ``threshold``, ``precision`` and ``recall`` extras (auto-threshold
    F1/accuracy); one row per method and three columns per dataset, precision and recall on the
    metric's display scale (x 100 for percentages).
    """
    import pandas as pd

    sub = results[results["metric"] == label]
    if "threshold" not in sub.columns or sub["threshold"].isna().all():
        return None
    parts = {}
    for extra in ("threshold", "precision", "recall"):
        if extra in sub.columns:
            vals = pd.to_numeric(sub[extra], errors="coerce").astype(float)
            parts[extra] = pivot(sub.assign(value=vals), label) * (1.0 if extra == "threshold" else scale)
    frame = pd.DataFrame(index=parts["threshold"].index)
    digits: dict[str, int] = {}
    for col in parts["threshold"].columns:
        for extra, table in parts.items():
            frame[f"{col} {extra}"] = table[col]
            digits[f"{col} {extra}"] = 4 if extra == "threshold" else 2
    x100 = " x 100" if scale != 1 else ""
    notes = [
        "threshold: a pair is predicted positive iff its score >= threshold (<= for distances); under "
        "cross-fitting, the median of the folds' thresholds (each fold's rows used their own)",
        f"precision, recall{x100}: of the positive class, on the evaluated rows at that threshold",
    ]
    return Table(frame, f"{name}: threshold, precision and recall", notes, column_digits=digits)


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
            rows = row.get("tuned_rows")
            text = (rows if isinstance(rows, str) and rows else f"the {row.get('tuned_split')} split") + (
                f" ({int(n)} pairs)" if pd.notna(n) else "")
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


def cell_notes(results: Any, table: Any) -> tuple[list[tuple[str, str]], list[str]]:
    """Undefined cells of one metric's ``results`` (as ``(method, column)`` of ``table``) and notes.

    Notes: one per undefined cell with its reason, and each distinct ``note`` of the records (data
    notes such as one class in the evaluated rows, or rows a dataset's policy dropped).
    """
    undefined: list[tuple[str, str]] = []
    notes: list[str] = []
    if results.empty:
        return undefined, notes
    multi = results.groupby("dataset")["split"].nunique().max() > 1
    for rec in results.to_dict(orient="records"):
        reason = rec.get("undefined")
        if isinstance(reason, str) and reason:
            col = f"{rec['dataset']}/{rec['split']}" if multi else rec["dataset"]
            if rec["method"] in table.index and col in table.columns:
                undefined.append((rec["method"], col))
            notes.append(f"undefined: {rec['method']} on {rec['dataset']}/{rec['split']}: {reason}")
        note = rec.get("note")
        if isinstance(note, str) and note:
            for part in note.split("; "):
                if part not in notes:
                    notes.append(part)
    return undefined, notes


def _statistics(
    run: RunResult, label: str, metric: Metric, table: pd.DataFrame, stats: dict[str, Any]
) -> tuple[dict[str, Any] | None, Any, list[str]]:
    """Cross-dataset tests and within-dataset marks of one metric's table, and the notes they add.

    ``stats``: keyword options ``alpha``, ``posthoc``, ``control``, ``marks`` (bool), ``seed``.
    Tables the tests cannot handle (one method, one dataset) get a note instead; a ``control``
    that is not a method is the user's error (:class:`~evalkit.errors.ConfigError`).
    """
    from evalkit.errors import DataError
    from evalkit.ranktests import cross_dataset_tests, table_notes

    alpha = float(stats.get("alpha", 0.05))
    notes: list[str] = []
    tests = None
    try:
        tests = cross_dataset_tests(table, higher_is_better=metric.higher_is_better, alpha=alpha,
                                    posthoc=stats.get("posthoc", "wilcoxon-holm"),
                                    control=stats.get("control"))
        notes.extend(table_notes(tests))
    except DataError as exc:
        notes.append(f"no cross-dataset tests: {exc}")
    marks = None
    if stats.get("marks", True) and table.shape[0] >= 2:
        from evalkit.marks import significance_marks

        marks = significance_marks(run, label, metric, table, alpha=alpha, seed=int(stats.get("seed", 0)))
        notes.extend(marks.notes)
    return tests, marks, notes


def _marks_payload(marks: Any) -> dict[str, Any]:
    def frame(f: Any) -> dict[str, dict[str, bool | None]]:
        return {str(i): {str(c): (None if v != v else bool(v)) for c, v in row.items()} for i, row in f.iterrows()}

    return {"best": frame(marks.best), "indistinct": frame(marks.indistinct), "legend": marks.legend,
            "alternative": "two-sided", "correction": "holm", "columns": marks.details}


def comparison_report(
    run: RunResult,
    metrics: dict[str, Metric],
    aggregators: list[tuple[str, Aggregator]],
    *,
    extra_payload: dict[str, Any] | None = None,
    bootstrap: ExampleBootstrap | None = None,
    stats: dict[str, Any] | None = None,
) -> Report:
    """One table per metric (rows: methods, columns: datasets, then each aggregate and its rank).

    Metrics with ``percent = True`` (correlations, F1, accuracy) are shown x 100 in the tables, and
    so are the value-based aggregates (means, median); rank-based aggregates (mean rank, win rate,
    Borda, Copeland) keep their own scale. The JSON payload keeps the metric's own scale (0-1) in
    ``results`` and ``tables``. With ``bootstrap`` (from
    :func:`evalkit.bootstrap.bootstrap_examples`) each metric gets a second table of intervals and
    the payload a ``bootstrap`` object. With ``stats`` (options ``alpha``, ``posthoc``,
    ``control``, ``marks``, ``seed``) each table gets the cross-dataset tests of
    :func:`evalkit.ranktests.cross_dataset_tests` in its notes (Friedman, the post-hoc groups, the
    summary line) and the significance marks of :func:`evalkit.marks.significance_marks`; the
    payload gets ``tests`` (metric label -> tests object) and each ``tables`` entry ``marks``.
    Tables of tuned
    metrics say where they were tuned (a note per dataset), and a table holding an oracle value
    (tuned on the evaluated rows) says ``ORACLE`` in its title. Post-processors (a method whose
    ``base`` parameter names another method of the run) get a table of McNemar's exact test against
    their base (:mod:`evalkit.versus_base`), in the payload as ``versus_base``.
    """
    tables: list[Table] = []
    payload_tables: dict[str, Any] = {}
    all_tests: dict[str, Any] = {}
    for label, metric in metrics.items():
        table = pivot(run.results, label)
        if table.empty:
            continue
        agg = aggregate(table, aggregators, higher_is_better=metric.higher_is_better)
        scale = 100.0 if getattr(metric, "percent", False) else 1.0
        shown = table * scale
        digits: dict[str, int] = {}
        for lab, agg_obj in aggregators:
            shown[lab] = agg[lab] * (scale if agg_obj.higher_is_better is None else 1.0)
        for lab, _ in aggregators:
            shown[f"{lab} rank"] = agg[f"{lab}_rank"]
            digits[lab] = 2
            digits[f"{lab} rank"] = 0
        n_by_dataset = run.results[run.results["metric"] == label].groupby("dataset")["n"].first()
        splits = sorted(set(run.results.loc[run.results["metric"] == label, "split"]))
        direction = "higher is better" if metric.higher_is_better else "lower is better"
        name = f"{getattr(metric, 'title', '') or label}"
        title = (name + (" x 100" if scale != 1 else "")
                 + f", split: {', '.join(splits)} ({direction})")
        oracle, tuned = tuning_notes(run.results[run.results["metric"] == label])
        if oracle:
            title += " [ORACLE: tuned on the evaluated rows]"
        notes = [f"{lab}: {agg_obj.rule}" for lab, agg_obj in aggregators if agg_obj.rule]
        notes.extend(tuned)
        for lab, agg_obj in aggregators:
            unscored = plugin_call(agg_obj, "unscored", agg_obj.unscored, table,
                                   higher_is_better=metric.higher_is_better)
            if unscored:
                notes.append(f"{lab}: no value for "
                             + "; ".join(f"{k} ({v})" for k, v in unscored.items()))
        notes.append("pairs per dataset: " + ", ".join(
            f"{d} {int(n_by_dataset[d])}" for d in dict.fromkeys(run.results["dataset"]) if d in n_by_dataset))
        undefined, data_notes = cell_notes(run.results[run.results["metric"] == label], table)
        notes.extend(data_notes)
        if undefined:
            shown = shown.astype(object)
            for method, col in undefined:
                shown.loc[method, col] = "undefined"
        missing = int(table.isna().sum().sum()) - len(undefined)
        if missing:
            notes.append(f"{missing} cells are missing (shown empty)")
        payload_tables[label] = {"values": _clean_table(table), "aggregates": _clean_table(agg)}
        out = Table(shown, title, notes, column_digits=digits)
        if stats is not None:
            tests, marks, extra = _statistics(run, label, metric, table, stats)
            out.notes.extend(extra)
            if tests is not None:
                all_tests[label] = tests
            if marks is not None:
                out.best, out.indistinct, out.legend = marks.best, marks.indistinct, marks.legend
                payload_tables[label]["marks"] = _marks_payload(marks)
        tables.append(out)
        details = threshold_table(run.results, label, name, scale)
        if details is not None:
            tables.append(details)
        if bootstrap is not None:
            tables.append(_bootstrap_table(bootstrap, label, name, table, aggregators, scale))
    from evalkit.versus_base import versus_base, versus_base_table

    vs_base = versus_base(run, metrics)
    vs_table = versus_base_table(vs_base)
    if vs_table is not None:
        tables.append(vs_table)
    payload: dict[str, Any] = {
        "results": records(run.results),
        "tables": payload_tables,
        "provenance": dict(run.provenance),
    }
    if stats is not None:
        payload["tests"] = all_tests
    if bootstrap is not None:
        payload["bootstrap"] = {
            "method": "paired bootstrap over examples, percentile intervals",
            "n_resamples": bootstrap.n_resamples,
            "seed": bootstrap.seed,
            "confidence": bootstrap.confidence,
            "aggregates": records(bootstrap.aggregates),
            "failures": bootstrap.failures,
        }
    if not vs_base.empty:
        payload["versus_base"] = records(vs_base)
    if run.run_dir is not None:
        payload["run_dir"] = str(run.run_dir)
    payload.update(extra_payload or {})
    return Report(tables, payload)
