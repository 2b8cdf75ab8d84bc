"""Re-ranking public leaderboards under several aggregation rules (``evalkit leaderboard``).

Shavrina & Malykh (2021, "How not to Lie with a Benchmark: Rearranging NLP Leaderboards",
arXiv 2112.01342) argue for geometric or harmonic means over leaderboard tasks. This package reads
a board spec (:mod:`.board`; the built-in GLUE and SuperGLUE snapshots live in the repository's
``leaderboards/`` folder, ``evalkit/leaderboards/boards`` in the wheel), aggregates its systems x
tasks table with any registered aggregators (:mod:`.ranking`) and renders the result with any
registered reporter or as an HTML page (:mod:`.html`). The Python entry point is
:func:`evalkit.leaderboard`; the command is :mod:`evalkit.cli.leaderboard`.
"""

from __future__ import annotations

from evalkit.leaderboards.result import LeaderboardResult

__all__ = ["LeaderboardResult"]
