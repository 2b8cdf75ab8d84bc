"""Built-in plugin: ``evalkit leaderboard``, re-ranking public leaderboards under several rules.

Shavrina & Malykh (2021, "How not to Lie with a Benchmark: Rearranging NLP Leaderboards",
arXiv 2112.01342) argue for geometric or harmonic means over leaderboard tasks. This plugin reads
a board spec (:mod:`.board`; the built-in GLUE and SuperGLUE snapshots live in ``leaderboards/``),
aggregates its systems x tasks table with any registered aggregators (:mod:`.ranking`) and
renders the result with any registered reporter. The command is added through the
``register_commands`` hook (:mod:`.cli`), exactly as a third-party plugin would add one.
"""

from __future__ import annotations

from typing import Any

from evalkit import hookimpl


@hookimpl
def register_commands(cli: Any) -> None:
    from .cli import leaderboard

    cli.add_command(leaderboard)
