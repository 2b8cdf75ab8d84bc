"""``evalkit compare``: run methods on datasets, score them, print a comparison table."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli.common import FORMAT_HELP, split_names, write_output
from evalkit.history import default_runs_dir


@click.command("compare")
@click.option("--suite", "suite_name", default="sts", show_default=True,
              help="A built-in suite name or a TOML suite file (datasets, methods with params, metrics).")
@click.option("--datasets", help="Comma-separated dataset names (replaces the suite's).")
@click.option("--methods", help="Comma-separated method names (replaces the suite's).")
@click.option("--metrics", help="Comma-separated metric names (replaces the suite's).")
@click.option("--aggregate", help="Comma-separated aggregators across datasets [default: mean].")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder with the benchmark files [default: $EVALKIT_DATA_DIR, then the user cache].")
@click.option("--format", "fmt", default="table", show_default=True, help=FORMAT_HELP)
@click.option("--output", type=click.Path(dir_okay=False), help="Write the output to FILE instead of stdout.")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where runs are saved [default: $EVALKIT_RUNS_DIR or the user data dir].")
@click.option("--no-save", is_flag=True, help="Do not save the run (results, predictions, provenance).")
@click.option("--progress/--no-progress", default=None, help="Progress bars [default: on a terminal].")
def compare(
    suite_name: str,
    datasets: str | None,
    methods: str | None,
    metrics: str | None,
    aggregate: str | None,
    data_dir: Path | None,
    fmt: str,
    output: str | None,
    runs_dir: Path | None,
    no_save: bool,
    progress: bool | None,
) -> None:
    """Compare methods across datasets and print one table per metric.

    Rows are methods, columns datasets, then the aggregate across datasets (arithmetic mean by
    default) and its rank. Correlations are shown x 100 in tables and on the 0-1 scale in JSON.
    With no options it runs the default STS suite: minilm-cosine, minilm-whitening and
    tfidf-cosine on STS-B, SICK-R and STS12-16, scored by Spearman's rho and Pearson's r.
    """
    import sys

    from evalkit.plugins import get_host
    from evalkit.report import comparison_report
    from evalkit.runner import new_run_id, run_suite
    from evalkit.suite import ComponentSpec, load_suite

    host = get_host()
    reporter = host.reporters.create(fmt)
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
    aggregators = [(name, host.aggregators.create(name)) for name in suite.aggregate]
    if progress is None:
        progress = sys.stderr.isatty()

    run = run_suite(suite, host=host, data_dir=data_dir, progress=progress)
    if not no_save:
        run.save(runs_dir or default_runs_dir(), new_run_id())
    metric_objs = {s.label: host.metrics.create(s.component, **s.params) for s in suite.metrics}
    report = comparison_report(run, metric_objs, aggregators, extra_payload={"suite": suite.name})
    write_output(reporter.render(report), output)

    enc = run.provenance.get("encoding", {})
    reused = sum(v["from_disk"] + v["from_memory"] for v in enc.values())
    click.echo(
        f"evalkit: {len(run.results)} scores in {run.provenance['seconds']:.1f}s; texts encoded: "
        f"{run.provenance['texts_encoded']}, reused from cache: {reused}"
        + (f"; run saved to {run.run_dir}" if run.run_dir else ""),
        err=True,
    )
