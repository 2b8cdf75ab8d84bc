"""``evalkit compare``: run methods on datasets, score them, print a comparison table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from evalkit.cli.common import FORMAT_HELP, check_output, format_for, friedman_options, write_output
from evalkit.interfaces import TUNE_ON


class _SuitesInHelp(click.Command):
    """A command whose help lists the suites the plugins register, read whenever the help is."""

    _help_template: str | None = None

    @property
    def help(self) -> str | None:
        from evalkit.suite_registry import suites_help

        if self._help_template is None:
            return None
        # The docstring is indented by 4 spaces (click dedents it): indent the generated lines alike.
        return self._help_template.replace("SUITES", suites_help().replace("\n", "\n    "))

    @help.setter
    def help(self, value: str | None) -> None:
        self._help_template = value


@click.command("compare", cls=_SuitesInHelp)
@click.option("--suite", "suite_name", default=None,
              help="A suite registered by a plugin (listed above; 'evalkit list suites') or a TOML suite "
                   "file (datasets, methods with params, metrics); paths in it resolve against its folder "
                   "first. [default: the suite a plugin registers as the default]")
@click.option("--datasets", help="Comma-separated datasets, each NAME[@LABEL][:KEY=VALUE,...] "
              "(e.g. 'stsb,pairs@mine:path=my.tsv'); replaces the suite's.")
@click.option("--methods", help="Comma-separated methods, each NAME[@LABEL][:KEY=VALUE,...] (e.g. "
              "'sbert-cosine:model=PATH,batch_size=64,tfidf-cosine'; values are TOML: 64, 0.5, true, "
              "\"text\", [1,2]); replaces the suite's. See 'evalkit list methods --params'.")
@click.option("--metrics", help="Comma-separated metrics, each NAME[@LABEL][:KEY=VALUE,...]; "
              "replaces the suite's.")
@click.option("--aggregate", help="Comma-separated aggregators across datasets, with parameters "
              "as NAME:KEY=VALUE (e.g. mean,geometric,power:p=2) [default: mean; aliases "
              "arithmetic/am, gm, hm]; see 'evalkit list aggregators'.")
@click.option("--nonpositive", help="Shorthand for the aggregators' parameter nonpositive, given to "
              "every aggregator that takes it (geometric:nonpositive=skip): cells <= 0 under a "
              "geometric/harmonic/power mean: error (default), skip (that method gets no value and no rank) "
              "or shift=C (add C to every cell first).")
@click.option("--missing", help="Shorthand for the aggregators' parameter missing, given to every "
              "aggregator that takes it (mean:missing=skip): missing cells under the means and median: "
              "exclude (default: the method gets no value) or skip (use the cells it has).")
@click.option("--bootstrap", "n_bootstrap", type=click.IntRange(min=0), default=0,
              show_default=True, help="Resamples of a paired bootstrap over examples (intervals "
              "per cell, aggregate and rank); 0 = off.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap.")
@click.option("--confidence", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.95, show_default=True, help="Level of the bootstrap intervals.")
@friedman_options(alpha_help="Significance level of the cross-dataset tests and the cell marks.",
                  posthoc_help="Post-hoc test(s) after Friedman's, comma-separated: wilcoxon-holm, nemenyi, holm, "
                  "bonferroni-dunn (the last two against --control), or none.")
@click.option("--marks/--no-marks", default=True, show_default=True,
              help="Mark each dataset's best cell and the cells not significantly worse than it.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder with the benchmark files [default: $EVALKIT_DATA_DIR, then the user cache].")
@click.option("--format", "fmt", default=None, help=FORMAT_HELP)
@click.option("--output", type=click.Path(dir_okay=False), help="Write the output to FILE instead of stdout.")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where runs are saved [default: $EVALKIT_RUNS_DIR or the user data dir].")
@click.option("--no-save", is_flag=True, help="Do not save the run (results, predictions, provenance).")
@click.option("--progress/--no-progress", default=None,
              help="Progress bars of cells and encoding (--progress), or nothing (--no-progress) "
                   "[default: bars on a terminal, else one line per finished cell on stderr].")
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
@click.option("--limit", type=click.IntRange(min=1),
              help="Evaluate only the first N examples of each split (a quick look; not comparable to full runs).")
def compare(**options: Any) -> None:
    """Compare methods across datasets and print one table per metric.

    Rows are methods, columns datasets, then the aggregate across datasets (arithmetic mean by
    default) and its rank, with the aggregation rule printed under the table. Correlations are
    shown x 100 in tables and on the 0-1 scale in JSON. --bootstrap N adds percentile intervals
    from a paired bootstrap over each dataset's examples (stored per-example predictions).

    Under each table: Friedman's test over the datasets, the post-hoc groups (--posthoc, default
    pairwise Wilcoxon signed-rank with Holm's correction) and a one-line summary; in each dataset
    column the best cell is bold (or starred) and the cells not significantly worse than it
    (paired test over the dataset's examples, Holm-corrected, --alpha) carry a dagger. All
    p-values are two-sided.

    Each (method, dataset, split) cell is stored when it finishes: an interrupted run resumes with
    only the missing cells, and a repeated run reuses them (--force recomputes).

    SUITES
    """
    import sys

    from evalkit.api import compare as run_compare
    from evalkit.plugins import get_host

    output = options.pop("output")
    fmt = format_for(options.pop("fmt"), output)
    get_host().reporters.create(fmt)  # an unknown format fails before any cell runs
    check_output(output)
    mode = progress_mode(options.pop("progress"), sys.stderr)
    suite, save, n_bootstrap = options.pop("suite_name"), not options.pop("no_save"), options.pop("n_bootstrap")
    on_cell = (lambda line: click.echo(f"evalkit: {line}", err=True)) if mode == "lines" else None
    run = run_compare(suite, **options, save=save, bootstrap=n_bootstrap, progress=mode == "bars", on_cell=on_cell)
    write_output(run.render(fmt), output)
    prov = run.provenance_dict()
    cells = prov["cells"]
    click.echo(
        f"evalkit: {len(run.results)} scores in {prov['seconds']:.1f}s; cells: {cells['computed']} "
        f"computed, {cells['reused']} reused from earlier runs; texts encoded: {prov['texts_encoded']}"
        + (f"; run saved to {run.path}" if run.path else ""),
        err=True,
    )


def progress_mode(flag: bool | None, stream: Any) -> str:
    """``bars`` (tqdm: cells and encoding), ``lines`` (one line per finished cell) or ``off``.

    ``--progress`` gives bars, ``--no-progress`` nothing; by default bars when ``stream``
    (stderr) is a terminal and lines otherwise (CI logs, redirected output).
    """
    if flag is not None:
        return "bars" if flag else "off"
    isatty = getattr(stream, "isatty", None)
    return "bars" if callable(isatty) and isatty() else "lines"

