"""``evalkit score FILE``: score a predictions file with metrics, without running any method."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli.common import FORMAT_HELP, check_output, format_for, render, split_names, write_output
from evalkit.interfaces import TUNE_ON


@click.command("score")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--metrics", help="Comma-separated metric names [default: every metric of the file's task type].")
@click.option("--task", "task_type",
              help="Task type (pair_classification, sts, generation) [default: from the reference column].")
@click.option("--predictions", "pred_col", help="Predictions column [default: score, else prediction].")
@click.option("--references", "ref_col", help="References column [default: label, else reference].")
@click.option("--tune-on", type=click.Choice(TUNE_ON), default="dev", show_default=True,
              help="Where tuned metrics (auto-threshold F1/accuracy) fit their threshold: the dev split's "
                   "rows, cross-fitting on the scored rows, or the scored rows themselves (oracle).")
@click.option("--dev-split", help="Split value of the fitting rows [default: dev, validation or valid].")
@click.option("--param", "params", multiple=True, metavar="METRIC.KEY=VALUE",
              help="Metric parameter, e.g. auto_threshold_f1.distance=true (repeatable).")
@click.option("--format", "fmt", default=None, help=FORMAT_HELP)
@click.option("--output", type=click.Path(dir_okay=False), help="Write the output to FILE instead of stdout.")
def score(
    file: Path,
    metrics: str | None,
    task_type: str | None,
    pred_col: str | None,
    ref_col: str | None,
    tune_on: str,
    dev_split: str | None,
    params: tuple[str, ...],
    fmt: str | None,
    output: str | None,
) -> None:
    """Score FILE (CSV, TSV or JSONL, optionally .gz) without running any method.

    Predictions come from the 'score' column (else 'prediction'), references from 'label' (else
    'reference'); rows are grouped by the 'method', 'dataset' and 'split' columns where present.
    References that are all 0/1 make a pair-classification file, other numbers an STS file, text a
    generation file. Prints one table per metric; '--format json' prints the same 'results'
    records as 'evalkit compare', with 'threshold' and 'tuned_on' for tuned metrics. With
    '--tune-on dev' (the default) the dev split's rows fit the threshold and the other splits are
    scored with it; with no dev split the threshold is cross-fitted ('cv').
    """
    import datetime as _dt

    from evalkit import __version__
    from evalkit.data import sha256_file
    from evalkit.plugins import get_host
    from evalkit.provenance import Provenance
    from evalkit.report import comparison_report
    from evalkit.rescore import parse_params, read_table, rescore, resolve_inputs

    host = get_host()
    reporter = host.reporters.create(format_for(fmt, output))
    check_output(output)
    frame = read_table(file)
    inputs = resolve_inputs(frame, file, predictions=pred_col, references=ref_col, task_type=task_type)
    names = split_names(metrics) or [e.name for e in host.metrics if inputs.task_type in
                                     getattr(e.factory, "task_types", ())]
    overrides = parse_params(params, names)
    metric_objs = {n: host.metrics.create(n, **overrides.get(n, {})) for n in names}
    run = rescore(frame, metric_objs, path=file, inputs=inputs, tune_on=tune_on, dev_split=dev_split)
    run.provenance = Provenance.from_dict({
        "evalkit_version": __version__,
        "plugins": host.plugin_versions(),
        "source": str(file),
        "sha256": sha256_file(file),
        "task_type": inputs.task_type,
        "columns": {"predictions": inputs.predictions, "references": inputs.references},
        "tune_on": tune_on,
        "metrics": {n: {"metric": m.name, "params": m.get_params(), "higher_is_better": m.higher_is_better}
                    for n, m in metric_objs.items()},
        "scored_at": _dt.datetime.now(_dt.timezone.utc).isoformat(),
    })
    report = comparison_report(run, metric_objs, [], extra_payload={"source": str(file)})
    write_output(render(reporter, report), output)
