"""``evalkit diff``: paired comparison of two runs (difference, paired bootstrap CI, p-value)."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli.check import test_options
from evalkit.cli.common import FORMAT_HELP, check_output, format_for, render, write_output


@click.command("diff")
@click.argument("a")
@click.argument("b")
@click.option("--method-a", help="Compare this method of A ...")
@click.option("--method-b", help="... with this method of B (A and B may be the same run).")
@test_options
@click.option("--confidence", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.95,
              show_default=True, help="Level of the confidence interval of the difference.")
@click.option("--ci", "ci_method", type=click.Choice(["percentile", "bca"]), default="percentile",
              show_default=True, help="Bootstrap interval: percentile or BCa (as scipy.stats.bootstrap).")
@click.option("--format", "fmt", default=None, help=FORMAT_HELP)
@click.option("--output", type=click.Path(dir_okay=False), help="Write the output to FILE instead of stdout.")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where run ids are looked up [default: $EVALKIT_RUNS_DIR or the user data dir].")
def diff(
    a: str,
    b: str,
    method_a: str | None,
    method_b: str | None,
    seed: int,
    n_resamples: int,
    test_name: str,
    confidence: float,
    ci_method: str,
    fmt: str | None,
    output: str | None,
    runs_dir: Path | None,
) -> None:
    """Paired comparison of run B against run A, cell by cell.

    A and B are run folders, results JSON files or run ids ('latest', an id prefix). For every
    (method, dataset, split, metric) in both it shows A, B, delta = B - A, a paired bootstrap
    confidence interval of delta and a two-sided p-value, resampling the examples jointly for both
    runs and recomputing corpus-level metrics such as Spearman's rho. Intervals and p-values need
    per-example predictions on both sides (run folders).
    """
    from evalkit.check_output import diff_report
    from evalkit.history import default_runs_dir, load_source
    from evalkit.paired import PairedSettings, diff_runs
    from evalkit.plugins import get_host

    host = get_host()
    reporter = host.reporters.create(format_for(fmt, output))
    check_output(output)
    sa, sb = (load_source(ref, runs_dir=runs_dir or default_runs_dir()) for ref in (a, b))
    settings = PairedSettings(test=test_name, n_resamples=n_resamples, seed=seed, confidence=confidence,
                              ci_method=ci_method)
    cells, missing = diff_runs(sa, sb, settings=settings, method_a=method_a, method_b=method_b, host=host)
    report = diff_report(cells, missing, a=sa.label + (f" [{method_a}]" if method_a else ""),
                         b=sb.label + (f" [{method_b}]" if method_b else ""), settings=settings,
                         tested=sa.has_predictions and sb.has_predictions)
    write_output(render(reporter, report), output)
