"""``evalkit report``: one self-contained HTML page of a saved run (or several merged)."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli.common import friedman_options, split_names, write_output


@click.command("report")
@click.argument("runs", nargs=-1)
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the page to FILE [default: report-<run id>.html in the working directory].")
@click.option("--baseline", help="Method the forest plots compare against [default: the best under the first "
              "aggregator of the first metric].")
@click.option("--aggregate", help="Comma-separated aggregators of the tables [default: mean]; the rank-stability "
              "figure always shows mean, geometric, harmonic, borda and copeland.")
@click.option("--resamples", "n_resamples", type=click.IntRange(min=1),
              help="Resamples of the paired bootstrap behind the forest plots and the rank distributions "
              "[default: the run's --bootstrap, else 1000].")
@click.option("--seed", type=int, help="Seed of that bootstrap [default: the run's, else 0].")
@friedman_options(alpha_help="Significance level of the cross-dataset tests and the cell marks.",
                  posthoc_help="Post-hoc test(s) after Friedman's whose groups the CD diagram joins: wilcoxon-holm, "
                  "nemenyi, holm, bonferroni-dunn (Nemenyi's critical difference is always drawn).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to reload sentence texts [default: the run's data folder, then $EVALKIT_DATA_DIR].")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where run ids are looked up [default: $EVALKIT_RUNS_DIR or the user data dir].")
def report(runs: tuple[str, ...], output: str | None, baseline: str | None, aggregate: str | None,
           n_resamples: int | None, seed: int | None, alpha: float, posthoc: str, control: str | None,
           data_dir: Path | None, runs_dir: Path | None) -> None:
    """Write one self-contained HTML page comparing the methods of RUN (default: the latest run).

    RUN is a run folder or id ('latest', an id prefix); several runs are merged when they share
    datasets (same examples). The page holds the provenance, the tables with intervals, the best
    cells and the cells not significantly worse, a critical-difference diagram, a forest plot of
    paired differences against --baseline, the ranks under five aggregation rules and their
    bootstrap distribution, STS and pair-classification figures, and the pairs two methods
    disagree on most, with their sentences. Figures are inline SVG, nothing is loaded from the network, and
    every figure's data is embedded as JSON (script#evalkit-data).
    """
    from evalkit.aggregation import create_aggregators
    from evalkit.errors import ConfigError
    from evalkit.history import default_runs_dir, load_source
    from evalkit.htmlreport import ReportOptions, run_report_html
    from evalkit.plugins import get_host

    host = get_host()
    runs_dir = runs_dir or default_runs_dir()
    sources = [load_source(r, runs_dir=runs_dir) for r in (runs or ("latest",))]
    aggregators = create_aggregators(host, split_names(aggregate) or ["mean"])
    if output and Path(output).suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"--output {output}: evalkit report writes HTML; name the file *.html")
    from evalkit.ranktests import parse_posthoc

    parse_posthoc(posthoc)  # an unknown name fails before any work
    stats = {"alpha": alpha, "posthoc": posthoc, "control": control, "marks": True, "seed": seed or 0}
    options = ReportOptions(baseline=baseline, n_resamples=n_resamples, seed=seed, data_dir=data_dir, stats=stats)
    page = run_report_html(sources, host=host, aggregators=aggregators, options=options)
    write_output(page, output or f"report-{sources[0].path.name}.html")
