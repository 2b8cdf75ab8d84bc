"""``evalkit compare``: run methods on datasets, score them, print a comparison table."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli.common import FORMAT_HELP, format_for, split_names, write_output
from evalkit.history import default_runs_dir
from evalkit.interfaces import TUNE_ON


@click.command("compare")
@click.option("--suite", "suite_name", default="sts", show_default=True,
              help="A built-in suite name or a TOML suite file (datasets, methods with params, metrics).")
@click.option("--datasets", help="Comma-separated dataset names (replaces the suite's).")
@click.option("--methods", help="Comma-separated method names (replaces the suite's).")
@click.option("--metrics", help="Comma-separated metric names (replaces the suite's).")
@click.option("--aggregate", help="Comma-separated aggregators across datasets, with parameters "
              "as NAME:KEY=VALUE (e.g. mean,geometric,power:p=2) [default: mean]; see "
              "'evalkit list aggregators'.")
@click.option("--nonpositive", help="Cells <= 0 under a geometric/harmonic/power mean: error "
              "(default), skip (that method gets no value and no rank) or shift=C (add C to every "
              "cell first).")
@click.option("--missing", type=click.Choice(["exclude", "skip"]),
              help="Missing cells under the means and median: exclude (default: the method gets no "
              "value) or skip (use the cells it has).")
@click.option("--bootstrap", "n_bootstrap", type=click.IntRange(min=0), default=0,
              show_default=True, help="Resamples of a paired bootstrap over examples (intervals "
              "per cell, aggregate and rank); 0 = off.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap.")
@click.option("--confidence", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.95, show_default=True, help="Level of the bootstrap intervals.")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05,
              show_default=True, help="Significance level of the cross-dataset tests and the cell marks.")
@click.option("--posthoc", default="wilcoxon-holm", show_default=True,
              help="Post-hoc test(s) after Friedman's, comma-separated: wilcoxon-holm, nemenyi, holm, "
              "bonferroni-dunn (the last two against --control), or none.")
@click.option("--control", help="The method holm and bonferroni-dunn compare against [default: best mean rank].")
@click.option("--marks/--no-marks", default=True, show_default=True,
              help="Mark each dataset's best cell and the cells not significantly worse than it.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder with the benchmark files [default: $EVALKIT_DATA_DIR, then the user cache].")
@click.option("--format", "fmt", default=None, help=FORMAT_HELP)
@click.option("--output", type=click.Path(dir_okay=False), help="Write the output to FILE instead of stdout.")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where runs are saved [default: $EVALKIT_RUNS_DIR or the user data dir].")
@click.option("--no-save", is_flag=True, help="Do not save the run (results, predictions, provenance).")
@click.option("--progress/--no-progress", default=None, help="Progress bars [default: on a terminal].")
@click.option("--jobs", "-j", type=int, default=1, show_default=True,
              help="Cells computed in parallel (processes, or Dask workers for a local cluster).")
@click.option("--backend", type=click.Choice(["sequential", "processes", "dask"]), default=None,
              help="Where cells run [default: sequential, or processes when --jobs > 1].")
@click.option("--scheduler", help="Dask scheduler address (with --backend dask); default: a local cluster.")
@click.option("--force", is_flag=True, help="Recompute every cell, even those finished by an earlier run.")
@click.option("--device", help="Torch device for encoders and solvers (cpu, cuda, cuda:1) [default: auto].")
@click.option("--tune-on", type=click.Choice(TUNE_ON), default="dev", show_default=True,
              help="Where tuned metrics (auto-threshold F1/accuracy) fit their threshold: the dataset's "
                   "validation split (cross-fitting where it has none), stratified k-fold cross-fitting "
                   "on the evaluated rows, or the evaluated rows themselves (labelled oracle).")
def compare(
    suite_name: str,
    datasets: str | None,
    methods: str | None,
    metrics: str | None,
    aggregate: str | None,
    nonpositive: str | None,
    missing: str | None,
    n_bootstrap: int,
    seed: int,
    confidence: float,
    alpha: float,
    posthoc: str,
    control: str | None,
    marks: bool,
    data_dir: Path | None,
    fmt: str | None,
    output: str | None,
    runs_dir: Path | None,
    no_save: bool,
    progress: bool | None,
    jobs: int,
    backend: str | None,
    scheduler: str | None,
    force: bool,
    device: str | None,
    tune_on: str,
) -> None:
    """Compare methods across datasets and print one table per metric.

    Rows are methods, columns datasets, then the aggregate across datasets (arithmetic mean by
    default) and its rank, with the aggregation rule printed under the table. Correlations are
    shown x 100 in tables and on the 0-1 scale in JSON. --bootstrap N adds percentile intervals
    from a paired bootstrap over each dataset's examples (stored per-example predictions).
    With no options it runs the default STS suite: minilm-cosine, minilm-whitening, minilm-wmd,
    minilm-wrd and tfidf-cosine on STS-B, SICK-R and STS12-16, scored by Spearman's rho and
    Pearson's r.

    Under each table: Friedman's test over the datasets, the post-hoc groups (--posthoc, default
    pairwise Wilcoxon signed-rank with Holm's correction) and a one-line summary; in each dataset
    column the best cell is bold (or starred) and the cells not significantly worse than it
    (paired test over the dataset's examples, Holm-corrected, --alpha) carry a dagger. All
    p-values are two-sided.

    Each (method, dataset, split) cell is stored when it finishes: an interrupted run resumes with
    only the missing cells, and a repeated run reuses them (--force recomputes).

    '--suite pairclass' compares minilm-cosine and tfidf-cosine on MRPC by dev-tuned auto-threshold
    F1 and accuracy and by average precision; '--suite pairclass-zh' runs tfidf-char on ATEC, BQ,
    LCQMC and PAWS-X.
    """
    import sys

    from evalkit.aggregation import create_aggregators
    from evalkit.plugins import get_host
    from evalkit.ranktests import parse_posthoc
    from evalkit.report import comparison_report
    from evalkit.runner import new_run_id, run_suite
    from evalkit.suite import ComponentSpec, load_suite

    host = get_host()
    fmt = format_for(fmt, output)
    reporter = host.reporters.create(fmt)
    parse_posthoc(posthoc)  # an unknown name fails before any cell runs
    suite = load_suite(suite_name)

    def override(current: list[ComponentSpec], names: list[str] | None) -> list[ComponentSpec]:
        if names is None:
            return current
        by_label = {s.label: s for s in current}
        return [by_label.get(n, ComponentSpec(n, n)) for n in names]

    suite.datasets = override(suite.datasets, split_names(datasets))
    suite.methods = override(suite.methods, split_names(methods))
    suite.metrics = override(suite.metrics, split_names(metrics))
    if aggregate:
        suite.aggregate = split_names(aggregate) or ["mean"]
    aggregators = create_aggregators(host, suite.aggregate, nonpositive=nonpositive,
                                     missing=missing)
    if progress is None:
        progress = sys.stderr.isatty()

    if backend is None:
        backend = "processes" if jobs > 1 else "sequential"
    run = run_suite(suite, host=host, data_dir=data_dir, progress=progress, backend=backend, jobs=jobs,
                    scheduler=scheduler, force=force, device=device, tune_on=tune_on)
    metric_objs = {s.label: host.metrics.create(s.component, **s.params) for s in suite.metrics}
    boot = None
    if n_bootstrap:
        from evalkit.bootstrap import bootstrap_examples

        boot = bootstrap_examples(run, metric_objs, aggregators, n_resamples=n_bootstrap, seed=seed,
                                  confidence=confidence)
        run.results = run.results.merge(boot.cells.drop(columns="n_ok"), how="left",
                                        on=["method", "dataset", "split", "metric"])
        run.provenance["bootstrap"] = {"n_resamples": n_bootstrap, "seed": seed,
                                       "confidence": confidence}
    if not no_save:
        run.save(runs_dir or default_runs_dir(), new_run_id())
    stats = {"alpha": alpha, "posthoc": posthoc, "control": control, "marks": marks, "seed": seed}
    if fmt == "html":  # the full report: figures from the run's per-example predictions
        from evalkit.history import Source
        from evalkit.htmlreport import ReportOptions, run_report_html

        source = Source(run, Path(run.run_dir or f"unsaved {suite.name} run"), "run")
        write_output(run_report_html([source], host=host, aggregators=aggregators,
                                     options=ReportOptions(stats=stats)), output)
    else:
        report = comparison_report(run, metric_objs, aggregators, extra_payload={"suite": suite.name},
                                   bootstrap=boot, stats=stats)
        write_output(reporter.render(report), output)

    cells = run.provenance["cells"]
    click.echo(
        f"evalkit: {len(run.results)} scores in {run.provenance['seconds']:.1f}s; cells: {cells['computed']} "
        f"computed, {cells['reused']} reused from earlier runs; texts encoded: {run.provenance['texts_encoded']}"
        + (f"; run saved to {run.run_dir}" if run.run_dir else ""),
        err=True,
    )
