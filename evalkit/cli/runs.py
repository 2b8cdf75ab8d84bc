"""``evalkit runs`` (list saved runs) and ``evalkit rescore`` (score a stored run again)."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli.common import FORMAT_HELP, check_output, format_for, render, write_output
from evalkit.plugins import get_host

RUNS_DIR_HELP = "Folder of saved runs [default: $EVALKIT_RUNS_DIR or the user data dir]."


@click.command("runs")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), help=RUNS_DIR_HELP)
@click.option("--limit", type=click.IntRange(min=1), help="Show only the newest N runs.")
@click.option("--format", "fmt", default=None, help=FORMAT_HELP)
def runs(runs_dir: Path | None, limit: int | None, fmt: str | None) -> None:
    """List saved runs, newest first: id, time, suite, methods, datasets, metrics, git commit.

    Runs are saved by 'evalkit compare' and 'evalkit rescore' with results, per-example
    predictions and provenance. Use an id (or a unique prefix, or 'latest') wherever a command
    takes a run: 'evalkit check', 'evalkit diff', 'evalkit rescore'.
    """
    import pandas as pd

    from evalkit.history import default_runs_dir, run_infos
    from evalkit.interfaces import Report, Table

    reporter = get_host().reporters.create(format_for(fmt, None))
    runs_dir = runs_dir or default_runs_dir()
    infos = run_infos(runs_dir)[:limit]
    rows = [{
        "run": i.run_id, "created": i.created[:19].replace("T", " "), "suite": i.suite,
        "methods": ",".join(i.methods), "datasets": ",".join(i.datasets), "metrics": ",".join(i.metrics),
        "scores": i.scores, "commit": (i.git_commit or "")[:12],
        "note": i.error or (f"rescored from {i.rescored_from}" if i.rescored_from else ""),
    } for i in infos]
    frame = pd.DataFrame(rows, columns=["run", "created", "suite", "methods", "datasets", "metrics",
                                        "scores", "commit", "note"]).set_index("run")
    listed = [{**r, "path": str(i.path)} for r, i in zip(rows, infos, strict=True)]
    payload = {"runs_dir": str(runs_dir), "runs": listed}
    table = Table(frame, f"{len(infos)} saved runs in {runs_dir}", [], digits=0)
    write_output(render(reporter, Report([table], payload)), None)


@click.command("rescore")
@click.argument("run")
@click.option("--metrics", help="Comma-separated metrics, each NAME[@LABEL][:KEY=VALUE,...] "
              "[default: the run's own metrics].")
@click.option("--aggregate", default="mean", show_default=True,
              help="Comma-separated aggregators, with parameters as NAME:KEY=VALUE (e.g. mean,power:p=2).")
@click.option("--format", "fmt", default=None, help=FORMAT_HELP)
@click.option("--output", type=click.Path(dir_okay=False), help="Write the output to FILE instead of stdout.")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), help=RUNS_DIR_HELP)
@click.option("--no-save", is_flag=True, help="Do not save the re-scored run.")
def rescore(run: str, metrics: str | None, aggregate: str, fmt: str | None, output: str | None,
            runs_dir: Path | None, no_save: bool) -> None:
    """Score a stored RUN again with other metrics, without running its methods.

    RUN is a run folder or id ('latest', an id prefix). The stored per-example predictions are
    scored exactly as a fresh run scores them, so the values equal a fresh run's. The result is
    saved as a new run (provenance records the source run) unless --no-save.
    """
    from evalkit.api import rescore as rescore_run

    reporter = get_host().reporters.create(format_for(fmt, output))
    check_output(output)
    new = rescore_run(run, metrics=metrics, aggregate=aggregate, runs_dir=runs_dir, save=not no_save)
    write_output(render(reporter, new.report()), output)
    click.echo(f"evalkit: re-scored {new.payload['rescored_from']}: {len(new.results)} scores, no method run"
               + (f"; saved to {new.path}" if new.path else ""), err=True)
