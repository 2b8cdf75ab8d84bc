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
def check(
    ctx: click.Context,
    results: str,
    baseline: str,
    tolerances: tuple[str, ...],
    allow_missing: bool,
    significance: float | None,
    correction: str,
    seed: int,
    n_resamples: int,
    test_name: str,
    fmt: str | None,
    output: str | None,
    junit_path: str | None,
    markdown_path: str | None,
    update_baseline: bool,
    runs_dir: Path | None,
) -> None:
    """Check RESULTS against a baseline; fail (exit 1) on regressions beyond tolerance.

    RESULTS and the baseline are run folders (saved by 'evalkit compare'), results JSON files
    ('evalkit compare --format json', or a baseline written by --update-baseline) or run ids
    ('latest', or a prefix of an id listed by 'evalkit runs'). Each (method, dataset, split,
    metric) cell is compared in the metric's direction: improvements never fail. Cells present on
    one side only fail unless --allow-missing.

    Exit codes: 0 pass, 1 regression or missing cell, 2 usage, configuration or data error, 3
    plugin error.
    """
    from evalkit.check import Tolerances, check_runs, write_baseline
    from evalkit.check_output import CHECK_FORMATS, render_check
    from evalkit.errors import ConfigError
    from evalkit.history import default_runs_dir, load_source
    from evalkit.paired import PairedSettings
    from evalkit.plugins import get_host

    host = get_host()
    fmt = format_for(fmt, output, extra=CHECK_FORMATS)
    if fmt not in CHECK_FORMATS and fmt not in host.reporters:  # fail on a typo before any work
        import difflib

        known = sorted([*CHECK_FORMATS, *host.reporters.names()])
        close = difflib.get_close_matches(fmt, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown --format {fmt!r}.{hint} Formats: {', '.join(known)}.")
    check_output(output, junit_path, markdown_path)
    runs_dir = runs_dir or default_runs_dir()
    tol = Tolerances.parse(tolerances)
    current = load_source(results, runs_dir=runs_dir)
    base_path = Path(baseline)
    if update_baseline and not base_path.exists():
        path = write_baseline(current, base_path)
        click.echo(f"evalkit check: no baseline at {path} yet; wrote it from {current.label}", err=True)
        return
    try:
        base = load_source(baseline, runs_dir=runs_dir)
    except ConfigError as exc:
        raise ConfigError(f"--baseline: {exc}; to create a baseline from RESULTS, add --update-baseline") from None
    settings = PairedSettings(test=test_name, n_resamples=n_resamples, seed=seed)
    result = check_runs(current, base, tolerances=tol, allow_missing=allow_missing,
                        significance=significance, settings=settings, host=host, correction=correction)
    write_output(render_check(result, fmt), output)
    if junit_path:
        write_output(render_check(result, "junit"), junit_path)
    if markdown_path:
        write_output(render_check(result, "markdown"), markdown_path)
    click.echo(result.summary(), err=True)
    if update_baseline:
        path = write_baseline(current, base.path, check=result)
        click.echo(f"evalkit check: wrote the new baseline {path} from {current.label}", err=True)
        return
    if not result.passed:
        ctx.exit(1)
