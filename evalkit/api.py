"""The public Python API: ``evalkit.compare``, ``score``, ``check``, ``leaderboard``.

Each function does what the CLI command of the same name does, minus parsing and rendering, and
returns an object holding the numbers (:class:`evalkit.run.Run`, :class:`evalkit.checking.CheckResult`,
:class:`evalkit.leaderboards.LeaderboardResult`); the CLI commands parse their options, call these
functions and render the result. As lm-evaluation-harness's ``simple_evaluate`` and
``mteb.evaluate``: components are chosen by name, with the same ``NAME[@LABEL][:KEY=VALUE,...]``
specs as the CLI (one comma-separated string or a list of specs).

Every function raises :class:`~evalkit.errors.EvalkitError` subclasses for the caller's mistakes:
:class:`~evalkit.errors.ConfigError` (bad options, suites, files), :class:`~evalkit.errors.DataError`
(malformed data or runs), :class:`~evalkit.errors.UnknownNameError` (a component no plugin
registers) and :class:`~evalkit.errors.PluginError` (a plugin failed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.api_support import (
    Specs,
    add_bootstrap,
    as_source,
    check_count,
    check_probability,
    check_statistics,
    execute,
    names_of,
    prepare_suite,
    runs_folder,
    score_metrics,
)
from evalkit.errors import ConfigError
from evalkit.run import Run, make_aggregators, spec_list

if TYPE_CHECKING:
    from evalkit.checking import CheckResult
    from evalkit.history import Source
    from evalkit.leaderboards import LeaderboardResult
    from evalkit.plugins import Host
    from evalkit.suite import Suite


__all__ = ["Run", "check", "compare", "leaderboard", "load", "rescore", "score", "update_baseline"]


def compare(
    suite: str | Path | Suite | None = None, *, datasets: Specs = None, methods: Specs = None, metrics: Specs = None,
    aggregate: Specs = None, nonpositive: str | None = None, missing: str | None = None, bootstrap: int = 0,
    seed: int = 0, confidence: float = 0.95, alpha: float = 0.05, posthoc: str = "wilcoxon-holm",
    control: str | None = None, marks: bool = True, data_dir: str | Path | None = None,
    cache_dir: str | Path | None = "default", runs_dir: str | Path | None = None, save: bool = True,
    jobs: int = 1, backend: str | None = None, scheduler: str | None = None, device: str | None = None,
    tune_on: str = "dev", force: bool = False, limit: int | None = None, progress: bool = False,
    on_cell: Callable[[str], None] | None = None, host: Host | None = None,
) -> Run:
    """Run methods on datasets, score them and return the :class:`~evalkit.run.Run` (``evalkit compare``).

    Args:
        suite: a suite name a plugin registers (``sts``, ...; ``evalkit list suites``), a TOML suite
            file, or a :class:`~evalkit.suite.Suite`; ``None``: the suite a plugin registers as the default.
        datasets, methods, metrics: replace the suite's: ``"stsb,sickr"`` or ``["stsb", "sickr"]``,
            each ``NAME[@LABEL][:KEY=VALUE,...]`` (values are TOML).
        aggregate: aggregators across datasets (``"mean,geometric,power:p=2"``) [default: the suite's].
        nonpositive, missing: policies of the aggregators taking them (``skip``, ``shift=C``; ``exclude``).
        bootstrap: resamples of a paired bootstrap over examples (intervals of cells, aggregates and
            ranks in ``results`` columns ``ci_low``/``ci_high`` and in the report); 0 = off.
        seed, confidence: the bootstrap's seed and interval level (0-1).
        alpha, posthoc, control, marks: the tests and significance marks of :meth:`Run.report`.
        data_dir: benchmark files [default: ``$EVALKIT_DATA_DIR``, then the user cache].
        cache_dir: cache root [``"default"``: ``$EVALKIT_CACHE_DIR``/user cache; ``None``: none].
        runs_dir, save: where the run is saved [``$EVALKIT_RUNS_DIR`` or the user data dir]; whether to.
        jobs, backend, scheduler: parallel cells (``sequential``, ``processes`` if jobs > 1, ``dask``).
        device: torch device (``cpu``, ``cuda:1``) [default: auto].
        tune_on: where tuned metrics fit their threshold: ``dev``, ``cv`` or ``self`` (oracle).
        force: recompute cells stored by earlier runs.
        limit: evaluate only the first ``limit`` examples of each split (needs a runner that takes it).
        progress, on_cell: tqdm bars on stderr; a callback receiving one line per finished cell.

    Returns:
        the scored run; ``run.table()``: the first metric's methods x datasets table (0-1 scale).

    Raises:
        ConfigError, UnknownNameError: bad options, suite, components or parameters; an
            unwritable runs folder (checked before any cell runs).
        DataError: missing or malformed benchmark files.
        PluginError: a method, dataset, metric or aggregator failed.
    """
    from evalkit.plugins import get_host

    host = host or get_host()
    confidence, alpha = check_statistics(posthoc, bootstrap, confidence, alpha)  # before any cell runs
    chosen = prepare_suite(suite, host, datasets=datasets, methods=methods, metrics=metrics, aggregate=aggregate)
    aggregators = make_aggregators(host, chosen.aggregate, nonpositive=nonpositive, missing=missing)
    folder = runs_folder(runs_dir) if save else None
    options = {"data_dir": data_dir, "cache_dir": cache_dir, "progress": progress, "jobs": jobs,
               "backend": backend or ("processes" if jobs > 1 else "sequential"), "scheduler": scheduler,
               "force": force, "device": device, "tune_on": tune_on, "on_cell": on_cell, "limit": limit}
    result = execute(chosen, host, options)
    metric_objs = {s.label: host.metrics.create(s.component, **s.params) for s in chosen.metrics}
    stats = {"alpha": alpha, "posthoc": posthoc, "control": control, "marks": marks, "seed": seed}
    run = Run(result, metric_objs, aggregators, stats=stats, payload={"suite": chosen.name})
    if bootstrap:
        add_bootstrap(run, n_resamples=bootstrap, seed=seed, confidence=confidence)
    if folder is not None:
        run.save(folder)
    return run


def score(
    file: str | Path, *, metrics: Specs = None, task: str | None = None, predictions: str | None = None,
    references: str | None = None, tune_on: str = "dev", dev_split: str | None = None,
    params: Mapping[str, Mapping[str, Any]] | Sequence[str] | None = None, host: Host | None = None,
) -> Run:
    """Score a predictions file with metrics, running no method (``evalkit score FILE``).

    Args:
        file: CSV, TSV or JSONL (optionally ``.gz``); rows grouped by its ``method``, ``dataset``
            and ``split`` columns where present.
        metrics: metric names (``"spearman,pearson"`` or a list) [default: every metric of the task type].
        task: ``sts``, ``pair_classification``, ``generation`` [default: from the references].
        predictions, references: column names [default: ``score``/``prediction``, ``label``/``reference``].
        tune_on, dev_split: where tuned metrics fit their threshold (``dev``: the rows of split
            ``dev_split`` [default: dev, validation or valid]; ``cv``; ``self``).
        params: metric parameters, ``{"auto_threshold_f1": {"distance": True}}`` or
            ``["auto_threshold_f1.distance=true"]``.

    Returns:
        a :class:`~evalkit.run.Run` with no aggregators and no predictions; ``results`` as
        ``compare``'s (values on the metric's scale, ``threshold``/``tuned_on`` for tuned metrics).

    Raises:
        ConfigError: a missing file, unknown columns, bad parameters. DataError: malformed rows
        (the message names the line). UnknownNameError: an unknown metric.
    """
    import datetime as _dt

    from evalkit import __version__
    from evalkit.data import sha256_file
    from evalkit.plugins import get_host
    from evalkit.provenance import Provenance
    from evalkit.rescore import read_table, rescore, resolve_inputs

    host = host or get_host()
    path = Path(file)
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    frame = read_table(path)
    inputs = resolve_inputs(frame, path, predictions=predictions, references=references, task_type=task)
    metric_objs = score_metrics(host, metrics, params, inputs.task_type)
    result = rescore(frame, metric_objs, path=path, inputs=inputs, tune_on=tune_on, dev_split=dev_split)
    result.provenance = Provenance.from_dict({
        "evalkit_version": __version__, "plugins": host.plugin_versions(), "source": str(path),
        "sha256": sha256_file(path), "task_type": inputs.task_type,
        "columns": {"predictions": inputs.predictions, "references": inputs.references}, "tune_on": tune_on,
        "metrics": {n: {"metric": m.name, "params": m.get_params(), "higher_is_better": m.higher_is_better}
                    for n, m in metric_objs.items()},
        "scored_at": _dt.datetime.now(_dt.timezone.utc).isoformat(),
    })
    return Run(result, metric_objs, [], payload={"source": str(path)})


def check(
    results: str | Path | Run | Source, baseline: str | Path | Run | Source, *,
    tolerance: float | str | Sequence[str] = 0.0, allow_missing: bool = False, significance: float | None = None,
    correction: str = "holm", test: str = "bootstrap", n_resamples: int = 1000, seed: int = 0,
    runs_dir: str | Path | None = None, host: Host | None = None,
) -> CheckResult:
    """Gate ``results`` against ``baseline`` cell by cell (``evalkit check``), as pytest-regressions
    does, but in each metric's direction and with an optional paired significance test.

    Args:
        results, baseline: run folders, results JSON files, run ids (``latest``, an id prefix)
            or :class:`~evalkit.run.Run` objects.
        tolerance: allowed drop on the metric's own scale: ``0.005`` (absolute), ``"1%"`` (of
            |baseline|), ``"spearman=0.01"`` (one metric), or a list of those.
        allow_missing: cells present on one side only do not fail.
        significance: fail a drop beyond tolerance only if a two-sided paired test (``test``:
            ``bootstrap``, ``permutation``, ``mcnemar``; ``n_resamples``, ``seed``), corrected
            across the tested cells (``correction``: ``holm``, ``bh``, ``none``), gives
            ``p_adjusted <= significance``.

    Returns:
        :class:`~evalkit.checking.CheckResult`: ``passed``, ``cells`` (one row per cell with
        ``baseline``, ``current``, ``change``, ``worse_by``, ``status``, ``failed``, ...), ``summary()``.

    Raises:
        ConfigError: a missing source, bad tolerances or settings. DataError: malformed sources,
        stored scores that do not match their predictions.
    """
    from evalkit.checking import Tolerances, check_runs
    from evalkit.paired import PairedSettings

    tol = Tolerances.parse([str(tolerance)] if isinstance(tolerance, (int, float, str)) else list(tolerance))
    current = as_source(results, runs_dir)
    try:
        base = as_source(baseline, runs_dir)
    except ConfigError as exc:
        raise ConfigError(f"--baseline: {exc}; to create a baseline from RESULTS, add --update-baseline") from None
    settings = PairedSettings(test=test, n_resamples=check_count("n_resamples", n_resamples, 1), seed=seed)
    return check_runs(current, base, tolerances=tol, allow_missing=allow_missing, significance=significance,
                      settings=settings, host=host, correction=correction)


def update_baseline(results: str | Path | Run | Source, baseline: str | Path, *, check: CheckResult | None = None,
                    runs_dir: str | Path | None = None) -> Path:
    """Write ``results`` as the new baseline at ``baseline`` (``evalkit check --update-baseline``).

    A ``.json`` path gets a results JSON (scores and provenance), any other path a run folder with
    the per-example predictions (which ``significance`` needs). ``check`` (the verdict on the old
    baseline) is recorded in the new one's provenance.

    Raises:
        ConfigError: the parent folder does not exist, or a file is where a folder goes (or the reverse).
    """
    from evalkit.checking import write_baseline

    return write_baseline(as_source(results, runs_dir), Path(baseline), check=check)


def leaderboard(
    board: str | Path, *, snapshot: str | None = None, aggregate: Specs = "mean", tasks: Specs = None,
    with_diagnostics: bool = False, nonpositive: str | None = None, missing: str | None = None,
    bootstrap: int = 0, seed: int = 0, confidence: float = 0.95, alpha: float = 0.05,
    posthoc: str = "wilcoxon-holm", control: str | None = None, host: Host | None = None,
) -> LeaderboardResult:
    """Re-rank a public leaderboard under several aggregation rules (``evalkit leaderboard``).

    Args:
        board: a built-in board (``glue``, ``superglue``), a TOML board spec or a CSV file (a row
            per system, a numeric column per task).
        snapshot: which snapshot [default: the board's default].
        aggregate: rules, the first sorting the rows (``"mean,geometric,harmonic"``); the
            arithmetic mean is always added as the reference of the rank change.
        tasks, with_diagnostics: a task subset; add the diagnostic tasks.
        nonpositive, missing: policies of the rules taking them (as :func:`compare`).
        bootstrap, seed, confidence: a bootstrap over tasks: each rule's rank interval and the
            probability of beating the human baseline.
        alpha, posthoc, control: Friedman's test over the tasks and its post-hoc test.

    Returns:
        :class:`~evalkit.leaderboards.LeaderboardResult`: ``table`` (systems x rules: values on the
        board's scale, 0-100 for GLUE, ranks 1-based), ``reranking``, ``tests``, ``report()``.

    Raises:
        ConfigError: unknown board or snapshot, bad rules or tasks. DataError: malformed board
        files (named with line and column), a snapshot that misses its published scores.
    """
    from evalkit.leaderboards.result import rerank_board
    from evalkit.plugins import get_host

    confidence, alpha = check_probability("confidence", confidence), check_probability("alpha", alpha)
    return rerank_board(
        str(board), host or get_host(), snapshot=snapshot, aggregate=spec_list(aggregate),
        tasks=names_of(tasks), with_diagnostics=with_diagnostics, nonpositive=nonpositive, missing=missing,
        bootstrap=check_count("bootstrap", bootstrap, 0), seed=seed, confidence=confidence, alpha=alpha,
        posthoc=posthoc, control=control,
    )


def rescore(run: str | Path | Run, *, metrics: Specs = None, aggregate: Specs = "mean",
            runs_dir: str | Path | None = None, save: bool = True, host: Host | None = None) -> Run:
    """Score a saved run again with other metrics, running no method (``evalkit rescore``).

    The stored per-example predictions are scored exactly as a fresh run scores them.

    Args:
        run: a run folder, id, id prefix, ``latest`` or a :class:`~evalkit.run.Run`.
        metrics: ``NAME[@LABEL][:KEY=VALUE,...]`` specs [default: the run's own metrics].
        aggregate: aggregators of the tables [default: mean].
        runs_dir, save: where run ids are looked up and the new run saved; whether to save it.

    Raises:
        ConfigError: no such run, a results JSON (no predictions), bad specs, an unwritable runs folder.
        DataError: a malformed run folder. UnknownNameError: an unknown metric.
    """
    from evalkit.history import rescore as rescore_run
    from evalkit.params import parse_specs
    from evalkit.plugins import get_host
    from evalkit.run import metrics_from_provenance, provenance_dict
    from evalkit.suite import ComponentSpec

    host = host or get_host()
    folder = runs_folder(runs_dir) if save else None
    source = as_source(run, runs_dir)
    if source.kind != "run":
        raise ConfigError(f"{source.label} is a results JSON without per-example predictions; "
                          "rescore needs a run folder")
    parsed = parse_specs(",".join(spec_list(metrics) or []) or None)
    specs = [ComponentSpec(p.label, p.name, dict(p.params)) for p in parsed] if parsed else None
    new = rescore_run(source.run, specs, host=host)
    out = Run(new, metrics_from_provenance(provenance_dict(new.provenance), host), make_aggregators(host, aggregate),
              payload={"rescored_from": str(source.path)})
    if folder is not None:
        out.save(folder)
    return out


def load(ref: str | Path = "latest", *, runs_dir: str | Path | None = None, aggregate: Specs = None) -> Run:
    """A saved run (a run folder, id, id prefix or ``latest``): :meth:`evalkit.run.Run.load`."""
    return Run.load(ref, runs_dir=runs_dir, aggregate=spec_list(aggregate))

