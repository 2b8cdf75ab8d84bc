"""The report of a re-ranked leaderboard: the table, its notes and the JSON payload."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit import Report, Table
from evalkit.aggregation import aggregate_direction

from .ranking import REFERENCE, Reranking

if TYPE_CHECKING:
    import pandas as pd


def _group_unscored(result: Reranking) -> list[str]:
    groups: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for label, agg in result.rules:
        unscored = agg.unscored(result.table)
        if unscored:
            groups.setdefault(tuple(unscored.items()), []).append(label)
    return [
        f"{', '.join(labels)}: no value and no rank for {len(items)} "
        f"row{'s' if len(items) > 1 else ''}: "
        + "; ".join(f"{k} ({v})" for k, v in items)
        for items, labels in groups.items()
    ]


def _fmt_change(v: float) -> str:
    return "" if v != v else f"{int(v):+d}" if v else "0"


def leaderboard_report(
    result: Reranking, *, top: int | None = None, tests: dict[str, Any] | str | None = None
) -> Report:
    """The re-ranked leaderboard as a :class:`~evalkit.Report`.

    Table: a row per system (sorted by the first rule asked for), columns ``human``,
    ``published`` (if the board has scores), then per rule its value, rank and (except for the
    mean) the rank change against the arithmetic mean; with a bootstrap, each rule's rank
    interval and the probability of beating the human baseline. ``top`` keeps the first N rows
    (human baselines always shown). The payload has ``rows`` (``system``, ``human``, ``scores``:
    ``{rule: {value, rank, ...}}``, ranks 1-based with ties sharing the best rank) and the
    board, snapshot, tasks and rules used. With ``tests`` (from
    :func:`evalkit.ranktests.cross_dataset_tests` on ``result.table``) the table's notes get
    Friedman's result, the post-hoc groups and the summary, and the payload a top-level ``tests``;
    a string ``tests`` is the reason there are none (a note, and ``tests_skipped`` in the payload).
    """
    order = result.order()
    if top is not None:
        keep = set(order[:top]) | set(result.humans)
        order = [s for s in order if s in keep]
    frame, digits = _frame(result, order)
    notes = _notes(result)
    if top is not None and len(order) < len(result.table):
        notes.append(
            f"showing {len(order)} of {len(result.table)} rows "
            f"(--top {top}; human baselines always shown)"
        )
    payload = _payload(result)
    if isinstance(tests, str):
        notes.append(f"no cross-dataset tests: {tests}")
        payload["tests_skipped"] = tests
    elif tests is not None:
        from evalkit.ranktests import table_notes

        notes += table_notes(tests)
        payload["tests"] = tests
    table = Table(frame, _title(result), notes, column_digits=digits)
    return Report([table], payload)


def _frame(result: Reranking, order: list[str]) -> tuple[pd.DataFrame, dict[str, int]]:
    """The table's rows ``order``: human, published, each rule's value, rank, change and intervals."""
    import math

    import pandas as pd

    data, board = result.data, result.data.board
    frame = pd.DataFrame(index=pd.Index(order, name="system"))
    frame["human"] = data.human.reindex(order).to_numpy()
    digits: dict[str, int] = {}
    if data.published.notna().any():
        frame["published"] = data.published.reindex(order)
        digits["published"] = (
            board.published_decimals if board.published_decimals is not None else 2
        )
    boot = result.bootstrap
    for label, _ in result.rules:
        frame[label] = result.scores[label].reindex(order)
        frame[f"{label} rank"] = result.scores[f"{label}_rank"].reindex(order)
        digits[label], digits[f"{label} rank"] = 2, 0
        if label != REFERENCE:
            frame[f"{label} Δ"] = [_fmt_change(v) for v in result.rank_change(label).reindex(order)]
        if boot is not None:
            sub = boot[boot["rule"] == label].set_index("system").reindex(order)
            frame[f"{label} rank CI"] = [
                "" if math.isnan(lo) else f"{int(lo)}-{int(hi)}"
                for lo, hi in zip(sub["rank_low"], sub["rank_high"], strict=True)
            ]
            if boot.attrs.get("reference"):
                frame[f"{label} P(>human)"] = sub["p_beat_reference"]
                digits[f"{label} P(>human)"] = 2
    return frame, digits


def _title(result: Reranking) -> str:
    board, snap = result.data.board, result.data.snapshot
    return (
        f"{board.title} leaderboard, snapshot {snap.name}"
        + (f" ({snap.date})" if snap.date else "")
        + f": {len(result.table)} systems "
        + f"({int(result.table.notna().all(axis=1).sum())} with every task), "
        + f"{len(result.tasks)} tasks"
        + (f", scale {board.scale}" if board.scale else "")
    )


def _notes(result: Reranking) -> list[str]:
    """The notes under the table: tasks, rules, unscored rows, bootstrap, the published check, source."""
    data, board, snap = result.data, result.data.board, result.data.snapshot
    notes = [
        "tasks: "
        + ", ".join(t.name + (f" ({t.metric})" if len(t.columns) > 1 else "") for t in result.tasks)
    ]
    left_out = [t.name for t in board.diagnostics if t not in result.tasks]
    if left_out:
        notes.append(
            "diagnostics left out (not part of the published score): " + ", ".join(left_out)
        )
    if board.inferred:
        notes.append(board.inferred)
    notes += data.notes
    notes += [f"{label}: {agg.rule}" for label, agg in result.rules]
    notes += _group_unscored(result)
    if len(result.rules) > 1:
        notes.append(
            "Δ: places gained (+) or lost (-) against the arithmetic mean's rank; "
            "ranks are 1-based, "
            "ties share the best rank"
        )
    if result.bootstrap is not None:
        notes.append(_bootstrap_note(result))
    check = result.published_check()
    if check is not None:
        notes.append(_published_note(check, board.published_decimals))
    notes.append(
        f"source: {snap.source or snap.file.name}"
        + (f"; {board.citation}" if board.citation else "")
    )
    return notes


def _bootstrap_note(result: Reranking) -> str:
    boot = result.bootstrap
    assert boot is not None
    pct = f"{boot.attrs['confidence'] * 100:g}%"
    return (
        f"bootstrap over tasks: {boot.attrs['n_resamples']} resamples "
        f"(seed {boot.attrs['seed']}) of the {len(result.tasks)} tasks with replacement; "
        f"rank CI = {pct} percentile interval of the rank"
        + (
            "; P(>human) = share of resamples in which the system's value beats the human "
            "baseline's (ties count half)"
            if boot.attrs.get("reference")
            else ""
        )
    )


def _published_note(check: dict[str, Any], decimals: int | None) -> str:
    line = (
        f"published score check: the arithmetic mean, rounded {check['rounding']}, "
        "equals the published "
        f"score for {check['reproduced']} of {check['rows']} rows with every task and a score"
    )
    if check["differ"]:
        line += "; differs for " + "; ".join(
            f"{d['system']} (mean {d['mean']:.3f}, "
            f"published {d['published']:.{decimals}f})"
            for d in check["differ"]
        )
    return line


def _num(v: Any) -> Any:
    import math

    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) else v


def _row_scores(result: Reranking, system: str) -> dict[str, Any]:
    """``{rule: {value, rank, rank_change, rank_interval, p_beat_human}}`` of one system."""
    boot = result.bootstrap
    scores: dict[str, Any] = {}
    for label, _ in result.rules:
        rk = _num(result.scores.at[system, f"{label}_rank"])
        entry: dict[str, Any] = {
            "value": _num(result.scores.at[system, label]),
            "rank": None if rk is None else int(rk),
        }
        if label != REFERENCE:
            change = _num(result.rank_change(label)[system])
            entry["rank_change"] = None if change is None else int(change)
        if boot is not None:
            b = boot[(boot["rule"] == label) & (boot["system"] == system)].iloc[0]
            lo, hi = _num(b["rank_low"]), _num(b["rank_high"])
            entry["rank_interval"] = None if lo is None or hi is None else [int(lo), int(hi)]
            entry["p_beat_human"] = _num(b["p_beat_reference"])
        scores[label] = entry
    return scores


def _payload(result: Reranking) -> dict[str, Any]:
    data, board, snap = result.data, result.data.board, result.data.snapshot
    boot = result.bootstrap
    rows = [
        {
            "system": system,
            "human": bool(data.human[system]),
            "team": data.team[system],
            "published_score": _num(data.published[system]),
            "scores": _row_scores(result, system),
        }
        for system in result.order()
    ]
    payload: dict[str, Any] = {
        "board": board.name,
        "title": board.title,
        "snapshot": {
            "name": snap.name,
            "date": snap.date,
            "source": snap.source,
            "file": snap.file.name,
            "sha256": data.sha256,
        },
        "scale": board.scale,
        "tasks": [
            {
                "name": t.name,
                "columns": list(t.columns),
                "metric": t.metric,
                "diagnostic": t.diagnostic,
            }
            for t in result.tasks
        ],
        "rules": {label: agg.rule for label, agg in result.rules},
        "rank_direction": {
            label: "higher is better" if aggregate_direction(agg, True) else "lower is better"
            for label, agg in result.rules
        },
        "reference_rule": REFERENCE,
        "rows": rows,
    }
    check = result.published_check()
    if check is not None:
        payload["published_check"] = check
    if boot is not None:
        payload["bootstrap"] = {
            "over": "tasks",
            **{k: boot.attrs[k] for k in ("n_resamples", "seed", "confidence")},
            "reference": boot.attrs.get("reference"),
        }
    return payload
