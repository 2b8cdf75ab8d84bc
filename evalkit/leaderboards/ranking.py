"""Re-rank a leaderboard under several aggregation rules; build the report (table + JSON payload).

The arithmetic mean (``mean``) is always computed: it is the reference for the rank change
("+3": three places higher than under the arithmetic mean) and for the check against the board's
published score.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from evalkit import ConfigError, Report, Table
from evalkit.aggregation import aggregate, aggregate_direction

from .board import Task
from .snapshot import BoardData

if TYPE_CHECKING:
    import pandas as pd

    from evalkit import Aggregator

REFERENCE = "mean"


def round_half_up(value: float, decimals: int) -> Decimal:
    """``value`` rounded half up (87.05 -> 87.1), after removing floating-point noise (1e-9)."""
    return Decimal(repr(round(value, 9))).quantize(
        Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP
    )


@dataclass
class Reranking:
    """A leaderboard re-ranked: the inputs, each rule's values and ranks, and the checks.

    Attributes:
        data: the snapshot read.
        tasks: the task columns aggregated.
        table: systems x tasks (0-100 on the GLUE boards), NaN for a missing task.
        rules: ``(label, aggregator)``, the reference ``mean`` first.
        scores: per rule a value column ``<label>`` and a rank column ``<label>_rank``.
        bootstrap: :func:`evalkit.bootstrap.bootstrap_tasks` output, or ``None``.
        primary: the rule the rows are sorted by (the first one asked for).
    """

    data: BoardData
    tasks: list[Task]
    table: pd.DataFrame
    rules: list[tuple[str, Aggregator]]
    scores: pd.DataFrame
    primary: str
    bootstrap: pd.DataFrame | None = None

    @property
    def humans(self) -> list[str]:
        return [str(i) for i in self.data.human.index[self.data.human.to_numpy()]]

    def rank_change(self, label: str) -> pd.Series:
        """Places gained (+) or lost (-) under ``label`` against the arithmetic mean's rank."""
        return self.scores[f"{REFERENCE}_rank"] - self.scores[f"{label}_rank"]

    def order(self) -> list[str]:
        """Systems sorted by the primary rule's rank, then the mean's rank, then board order."""
        frame = self.scores.assign(_pos=range(len(self.scores)))
        keys = [f"{self.primary}_rank", f"{REFERENCE}_rank", "_pos"]
        return [str(i) for i in frame.sort_values(keys, na_position="last").index]

    def published_check(self) -> dict[str, Any] | None:
        """How often the arithmetic mean, rounded half up, equals the board's published score.

        Only for the board's own task set and a board with published scores and their decimals.
        """
        board = self.data.board
        if board.published_decimals is None or [t.name for t in self.tasks] != [
            t.name for t in board.tasks
        ]:
            return None
        mean = self.scores[REFERENCE]
        pub = self.data.published
        both = mean.notna() & pub.notna()
        if not both.any():
            return None
        differ = []
        for name in mean.index[both]:
            ours = round_half_up(float(mean[name]), board.published_decimals)
            if ours != round_half_up(float(pub[name]), board.published_decimals):
                differ.append(
                    {"system": str(name), "mean": float(mean[name]), "published": float(pub[name])}
                )
        return {
            "rows": int(both.sum()),
            "reproduced": int(both.sum()) - len(differ),
            "differ": differ,
            "rounding": f"half up to {board.published_decimals} decimal(s)",
        }


def rerank(
    data: BoardData,
    tasks: list[Task],
    rules: list[tuple[str, Aggregator]],
    *,
    primary: str | None = None,
    n_bootstrap: int = 0,
    seed: int = 0,
    confidence: float = 0.95,
) -> Reranking:
    """Aggregate the systems x ``tasks`` table of ``data`` under every rule.

    ``rules`` must contain the arithmetic mean labelled ``mean`` (the reference); rows are sorted
    by ``primary`` (default: the first rule). With
    ``n_bootstrap`` > 0, also a bootstrap over tasks (rank intervals and the probability of
    beating the human baseline; needs exactly one human row to compute the latter).

    Raises:
        ConfigError: no ``mean`` rule, or a bootstrap asked for with fewer than 2 tasks.
        DataError: a cell violates a rule's policy (e.g. a zero under the geometric mean).
    """
    from evalkit.bootstrap import bootstrap_tasks

    labels = [label for label, _ in rules]
    if REFERENCE not in labels:
        raise ConfigError("the re-ranking needs the arithmetic mean ('mean') as its reference")
    table = data.task_table(tasks)
    scores = aggregate(table, rules, higher_is_better=True)
    if primary is not None and primary not in labels:
        raise ConfigError(f"cannot sort by {primary!r}: it is not one of the rules {labels}")
    result = Reranking(data, tasks, table, rules, scores, primary or labels[0])
    if n_bootstrap:
        if len(tasks) < 2:
            raise ConfigError("a bootstrap over tasks needs at least 2 tasks")
        humans = result.humans
        result.bootstrap = bootstrap_tasks(
            table,
            rules,
            reference=humans[0] if len(humans) == 1 else None,
            n_resamples=n_bootstrap,
            seed=seed,
            confidence=confidence,
        )
    return result


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
    import math

    import pandas as pd

    data, board = result.data, result.data.board
    order = result.order()
    if top is not None:
        keep = set(order[:top]) | set(result.humans)
        order = [s for s in order if s in keep]
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
    snap = data.snapshot
    title = (
        f"{board.title} leaderboard, snapshot {snap.name}"
        + (f" ({snap.date})" if snap.date else "")
        + f": {len(result.table)} systems "
        + f"({int(result.table.notna().all(axis=1).sum())} with every task), "
        + f"{len(result.tasks)} tasks"
        + (f", scale {board.scale}" if board.scale else "")
    )
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
    if boot is not None:
        pct = f"{boot.attrs['confidence'] * 100:g}%"
        notes.append(
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
    check = result.published_check()
    if check is not None:
        line = (
            f"published score check: the arithmetic mean, rounded {check['rounding']}, "
            "equals the published "
            f"score for {check['reproduced']} of {check['rows']} rows with every task and a score"
        )
        if check["differ"]:
            line += "; differs for " + "; ".join(
                f"{d['system']} (mean {d['mean']:.3f}, "
                f"published {d['published']:.{board.published_decimals}f})"
                for d in check["differ"]
            )
        notes.append(line)
    notes.append(
        f"source: {snap.source or snap.file.name}"
        + (f"; {board.citation}" if board.citation else "")
    )
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
    table = Table(frame, title, notes, column_digits=digits)
    return Report([table], payload)


def _num(v: Any) -> Any:
    import math

    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) else v


def _payload(result: Reranking) -> dict[str, Any]:
    data, board, snap = result.data, result.data.board, result.data.snapshot
    boot = result.bootstrap
    rows = []
    for system in result.order():
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
        rows.append(
            {
                "system": system,
                "human": bool(data.human[system]),
                "team": data.team[system],
                "published_score": _num(data.published[system]),
                "scores": scores,
            }
        )
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
