"""``evalkit check``: gate results against a baseline; exit 0 pass, 1 regression, 2 usage/data
error, 3 plugin error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from evalkit.cli.common import check_output, format_for, write_output

CHECK_FORMAT_HELP = (
    "Output format: table, markdown (PR comment), json, junit (JUnit XML), github (GitHub Actions "
    "annotations), or any other reporter name."
)


def test_options(f: Any) -> Any:
    """Options shared by ``check`` and ``diff`` for the paired test."""
    f = click.option("--seed", type=int, default=0, show_default=True,
                     help="Seed of the resampling (results are reproducible).")(f)
    f = click.option("--n-resamples", type=click.IntRange(min=1), default=1000, show_default=True,
                     help="Bootstrap resamples or permutations per tested cell.")(f)
    f = click.option("--test", "test_name", type=click.Choice(["bootstrap", "permutation", "mcnemar"]),
                     default="bootstrap", show_default=True,
                     help="Paired bootstrap, approximate randomisation (swaps each example's two "
                          "predictions; only for scores on the same scale), or McNemar's exact test "
                          "for accuracy (bootstrap for the other metrics).")(f)
    return f


@click.command("check")
@click.argument("results")
@click.option("--baseline", required=True,
              help="Baseline: a run folder, a results JSON, or a run id ('latest').")
@click.option("--tolerance", "tolerances", multiple=True, metavar="[METRIC=]VALUE[%]",
              help="Allowed drop on the metric's own scale: 0.005 (absolute), 1% (of |baseline|), "
                   "spearman=0.01 (one metric). Repeatable. [default: 0]")
@click.option("--allow-missing", is_flag=True, help="Cells present on one side only do not fail.")
@click.option("--significance", type=float, metavar="ALPHA",
              help="Fail a drop beyond tolerance only if a two-sided paired test over the stored "
                   "per-example predictions, corrected across the tested cells (--correction), gives "
                   "p_adjusted <= ALPHA (e.g. 0.05).")
@click.option("--correction", type=click.Choice(["holm", "bh", "none"]), default="holm", show_default=True,
              help="Multiple-comparison correction across the cells --significance tests: Holm "
                   "(family-wise error), bh (Benjamini-Hochberg, false discovery rate) or none.")
@test_options
@click.option("--format", "fmt", default=None, help=CHECK_FORMAT_HELP)
@click.option("--output", type=click.Path(dir_okay=False), help="Write the output to FILE instead of stdout.")
@click.option("--junit-xml", "junit_path", type=click.Path(dir_okay=False),
              help="Also write JUnit XML (one test case per cell) to FILE.")
@click.option("--markdown", "markdown_path", type=click.Path(dir_okay=False),
              help="Also write the markdown report to FILE (e.g. $GITHUB_STEP_SUMMARY).")
@click.option("--update-baseline", is_flag=True,
              help="Accept RESULTS: write them as the new baseline (a .json path gets a results "
                   "JSON, any other path a run folder with predictions) and exit 0.")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where run ids are looked up [default: $EVALKIT_RUNS_DIR or the user data dir].")
@click.pass_context
def check(ctx: click.Context, **options: Any) -> None:
    """Check RESULTS against a baseline; fail (exit 1) on regressions beyond tolerance.

    RESULTS and the baseline are run folders (saved by 'evalkit compare'), results JSON files
    ('evalkit compare --format json', or a baseline written by --update-baseline) or run ids
    ('latest', or a prefix of an id listed by 'evalkit runs'). Each (method, dataset, split,
    metric) cell is compared in the metric's direction: improvements never fail. Cells present on
    one side only fail unless --allow-missing.

    Exit codes: 0 pass, 1 regression or missing cell, 2 usage, configuration or data error, 3
    plugin error.
    """
    from evalkit import api
    from evalkit.check_output import render_check
    from evalkit.history import default_runs_dir, load_source

    fmt = check_format(options["fmt"], options["output"])
    reports = [(fmt, options["output"]), ("junit", options["junit_path"]), ("markdown", options["markdown_path"])]
    check_output(*(path for _, path in reports))
    runs_dir, baseline = options["runs_dir"] or default_runs_dir(), options["baseline"]
    update = options["update_baseline"]
    current = load_source(options["results"], runs_dir=runs_dir)
    if update and not Path(baseline).exists():
        path = api.update_baseline(current, baseline)
        click.echo(f"evalkit check: no baseline at {path} yet; wrote it from {current.label}", err=True)
        return
    result = api.check(current, baseline, tolerance=options["tolerances"], allow_missing=options["allow_missing"],
                       significance=options["significance"], correction=options["correction"],
                       test=options["test_name"], n_resamples=options["n_resamples"], seed=options["seed"],
                       runs_dir=runs_dir)
    for i, (out_fmt, path) in enumerate(reports):  # the main output (stdout or --output), then the others
        if path or i == 0:
            write_output(render_check(result, out_fmt), path)
    click.echo(result.summary(), err=True)
    if update:
        path = api.update_baseline(current, result.baseline.path, check=result)
        click.echo(f"evalkit check: wrote the new baseline {path} from {current.label}", err=True)
    elif not result.passed:
        ctx.exit(1)


def check_format(fmt: str | None, output: str | None) -> str:
    """The output format of ``check``: a check format or a reporter (a typo fails before any work).

    Raises:
        ConfigError: an unknown format (with a did-you-mean), or one contradicting ``output``'s extension.
    """
    from evalkit.check_output import CHECK_FORMATS
    from evalkit.errors import ConfigError
    from evalkit.plugins import get_host

    fmt = format_for(fmt, output, extra=CHECK_FORMATS)
    host = get_host()
    if fmt not in CHECK_FORMATS and fmt not in host.reporters:
        import difflib

        known = sorted([*CHECK_FORMATS, *host.reporters.names()])
        close = difflib.get_close_matches(fmt, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown --format {fmt!r}.{hint} Formats: {', '.join(known)}.")
    return fmt
