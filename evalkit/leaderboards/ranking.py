"""Re-rank a leaderboard under several aggregation rules (the report is built by :mod:`.report`).

The arithmetic mean (``mean``) is always computed: it is the reference for the rank change
("+3": three places higher than under the arithmetic mean) and for the check against the board's
published score.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from evalkit import ConfigError
from evalkit.aggregation import aggregate

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
