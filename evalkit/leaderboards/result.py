""":class:`LeaderboardResult`, what :func:`evalkit.leaderboard` returns, and the steps building it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from evalkit.interfaces import Report
    from evalkit.plugins import Host

    from .board import Board
    from .ranking import Reranking


@dataclass
class LeaderboardResult:
    """A leaderboard re-ranked under several rules, with its cross-dataset tests.

    Attributes:
        board: the board spec read (:class:`evalkit.leaderboards.board.Board`).
        reranking: inputs, each rule's values and ranks, the bootstrap over tasks
            (:class:`evalkit.leaderboards.ranking.Reranking`).
        tests: Friedman's test over the tasks and the post-hoc test
            (:func:`evalkit.ranktests.cross_dataset_tests`), or the reason there are none (str).
    """

    board: Board
    reranking: Reranking
    tests: dict[str, Any] | str

    def __repr__(self) -> str:
        r = self.reranking
        return (f"LeaderboardResult(board={self.board.name!r}, snapshot={r.data.snapshot.name!r}, "
                f"systems={len(r.table)}, tasks={len(r.tasks)}, rules={[label for label, _ in r.rules]})")

    @property
    def table(self) -> pd.DataFrame:
        """The re-ranked table: a row per system (index ``system``), sorted by the first rule.

        Columns: ``human`` (bool), then per rule its value ``<label>`` (float64, on the board's
        scale: 0-100 for GLUE/SuperGLUE; rank-based rules on their own), ``<label> rank``
        (1-based, ties share the best rank, NaN where the rule gives no value) and, except for the
        reference ``mean``, ``<label> change`` (places gained against the mean's rank, float64).
        """
        import pandas as pd

        result = self.reranking
        order = result.order()
        frame = pd.DataFrame(index=pd.Index(order, name="system"))
        frame["human"] = result.data.human.reindex(order).to_numpy(dtype=bool)
        for label, _ in result.rules:
            frame[label] = result.scores[label].reindex(order).astype(float)
            frame[f"{label} rank"] = result.scores[f"{label}_rank"].reindex(order).astype(float)
            if label != "mean":
                frame[f"{label} change"] = result.rank_change(label).reindex(order).astype(float)
        return frame

    @property
    def note(self) -> str | None:
        """How a plain CSV board was read (which column holds the systems), or ``None``."""
        return self.board.inferred or None

    def report(self, *, top: int | None = None) -> Report:
        """The :class:`~evalkit.interfaces.Report` the reporters render (``top``: first N rows, humans kept)."""
        from .report import leaderboard_report

        return leaderboard_report(self.reranking, top=top, tests=self.tests)

    def render(self, fmt: str = "table", *, top: int | None = None, host: Host | None = None) -> str:
        """The table rendered by reporter ``fmt``, or for ``html`` the page with the rank figure.

        Raises:
            UnknownNameError: no reporter ``fmt``. PluginError: the reporter failed.
        """
        from evalkit.plugins import get_host
        from evalkit.run import render_report

        report = self.report(top=top)
        if fmt == "html":
            from .html import leaderboard_html

            return leaderboard_html(self.reranking, report)
        return render_report((host or get_host()).reporters.create(fmt), report)


def rerank_board(board: str, host: Host, *, snapshot: str | None, aggregate: list[str] | None,
                 tasks: list[str] | None, with_diagnostics: bool, nonpositive: str | None, missing: str | None,
                 bootstrap: int, seed: int, confidence: float, alpha: float, posthoc: str,
                 control: str | None) -> LeaderboardResult:
    """Read ``board``, re-rank it under ``aggregate`` (the mean always added) and test it.

    See :func:`evalkit.leaderboard` for the arguments and errors.
    """
    from evalkit.aggregation import create_aggregators
    from evalkit.errors import DataError
    from evalkit.ranktests import cross_dataset_tests, parse_posthoc

    from .board import load_board
    from .ranking import REFERENCE, rerank
    from .snapshot import read_snapshot

    parse_posthoc(posthoc)
    spec = load_board(board)
    chosen = spec.select_tasks(tasks, with_diagnostics=with_diagnostics)
    labels = aggregate or [REFERENCE]
    rules = create_aggregators(host, labels if REFERENCE in labels else [REFERENCE, *labels],
                               nonpositive=nonpositive, missing=missing)
    data = read_snapshot(spec, snapshot)
    result = rerank(data, chosen, rules, primary=labels[0], n_bootstrap=bootstrap, seed=seed,
                    confidence=confidence)
    tests: dict[str, Any] | str
    try:
        tests = cross_dataset_tests(result.table, alpha=alpha, posthoc=posthoc, control=control)
    except DataError as exc:  # one task or one complete system: a note, not a failure
        tests = str(exc)
    return LeaderboardResult(spec, result, tests)


def board_lines() -> list[str]:
    """One line per built-in board: name, title, task count, snapshots (default marked), spec path."""
    from .board import builtin_boards, load_board

    lines = []
    for name, path in builtin_boards().items():
        spec = load_board(str(path))
        snaps = ", ".join(f"{s.name}{' (default)' if s.name == spec.default_snapshot else ''}"
                          for s in spec.snapshots.values())
        lines.append(f"{name}  {spec.title}: {len(spec.tasks)} tasks; snapshots {snaps}  [{Path(path)}]")
    return lines
