"""``evalkit leaderboard BOARD|FILE``: a thin click layer over :func:`evalkit.leaderboard`."""

from __future__ import annotations

from typing import Any

import click

from evalkit.cli.common import FORMAT_HELP, check_output, format_for, friedman_options, write_output


@click.command("leaderboard")
@click.argument("board", required=False)
@click.option(
    "--snapshot", help="Which snapshot of the board [default: the board's default, e.g. 2021]."
)
@click.option(
    "--aggregate",
    default="mean",
    show_default=True,
    help="Comma-separated rules, with parameters as NAME:KEY=VALUE, e.g. "
    "mean,geometric,harmonic,power:p=2,median,avg_rank,win_rate,borda,copeland. The arithmetic "
    "mean is always added as the reference for the rank change.",
)
@click.option(
    "--tasks",
    help="Comma-separated task subset (diagnostics allowed, e.g. CoLA,SST-2,AX) "
    "[default: the board's tasks, diagnostics left out].",
)
@click.option(
    "--with-diagnostics",
    is_flag=True,
    help="Add the board's diagnostic tasks (GLUE AX, SuperGLUE AX-b and AX-g) to the tasks.",
)
@click.option(
    "--nonpositive",
    help="Cells <= 0 under a geometric/harmonic/power mean: error (default), "
    "skip (that system gets no value and no rank) or shift=C (add C to every cell first).",
)
@click.option(
    "--missing",
    type=click.Choice(["exclude", "skip"]),
    help="Missing cells under the means and median: exclude (default: the system gets no "
    "value and no rank) or skip (average the cells it has).",
)
@click.option(
    "--bootstrap",
    "n_bootstrap",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Resamples of a bootstrap over tasks: each rule's rank interval and the probability "
    "of beating the human baseline; 0 = off.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap.")
@click.option(
    "--confidence",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
    help="Level of the rank intervals.",
)
@click.option(
    "--top", type=click.IntRange(min=1), help="Show only the first N rows (human baselines always)."
)
@friedman_options(
    alpha_help="Significance level of the cross-dataset tests (Friedman and the post-hoc).",
    posthoc_help="Post-hoc test(s), comma-separated: wilcoxon-holm, nemenyi, holm, bonferroni-dunn, or none.",
    subject="system",
)
@click.option("--format", "fmt", default=None, help=FORMAT_HELP)
@click.option(
    "--output", type=click.Path(dir_okay=False), help="Write the output to FILE instead of stdout."
)
@click.option(
    "--list", "list_boards", is_flag=True, help="List the built-in boards and their snapshots."
)
def leaderboard(**options: Any) -> None:
    """Re-rank a leaderboard (a built-in BOARD such as glue or superglue, a TOML board spec or a CSV
    FILE) under several aggregation rules.

    Prints a row per system with each rule's value and rank, the rank change against the
    arithmetic mean, and the human baseline marked; the rule used is printed under the table.
    Under it, Friedman's test over the tasks, the post-hoc test (--posthoc) and a one-line
    summary; --format json reports them as a top-level "tests" object. A FILE is any CSV table
    with a row per system (first column, or "system") and a numeric column per task.
    Example: evalkit leaderboard superglue --aggregate mean,geometric,harmonic
    """
    from evalkit.api import leaderboard as rerank_board
    from evalkit.leaderboards.result import board_lines
    from evalkit.plugins import get_host

    if options.pop("list_boards"):
        for line in board_lines():
            click.echo(line)
        return
    if not options["board"]:
        raise click.UsageError("give a BOARD (e.g. glue, superglue) or a board FILE; --list shows the boards")
    output, top, board, n_bootstrap = (options.pop(k) for k in ("output", "top", "board", "n_bootstrap"))
    fmt = format_for(options.pop("fmt"), output)
    get_host().reporters.create(fmt)  # an unknown format fails before any work
    check_output(output)
    result = rerank_board(board, **options, bootstrap=n_bootstrap)
    if result.note:
        click.echo(f"evalkit leaderboard: {result.note}", err=True)
    write_output(result.render(fmt, top=top), output)
