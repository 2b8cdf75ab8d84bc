"""The steps of :mod:`evalkit.api` around the executor: suite preparation, option checks,
running, the bootstrap, sources of ``check``. Not a public module; use :mod:`evalkit.api`."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import ConfigError
from evalkit.run import Run, spec_list

if TYPE_CHECKING:
    from evalkit.history import Source
    from evalkit.plugins import Host
    from evalkit.results import RunResult
    from evalkit.suite import Suite

Specs = str | Sequence[str] | None


def check_probability(name: str, value: float) -> float:
    """``value`` as a float strictly between 0 and 1, else :class:`ConfigError` naming ``name``."""
    if not isinstance(value, (int, float)) or not 0 < float(value) < 1:
        raise ConfigError(f"{name} must be a number strictly between 0 and 1, got {value!r}")
    return float(value)


def names_of(value: Specs) -> list[str] | None:
    """Plain names from ``"a, b"`` or ``["a", "b"]``; ``None`` when none."""
    items = [value] if isinstance(value, str) else list(value or ())
    names = [n.strip() for item in items for n in str(item).split(",") if n.strip()]
    return names or None


def check_statistics(posthoc: str, bootstrap: int, confidence: float, alpha: float) -> tuple[float, float]:
    """Check the statistics options of ``compare`` before any cell runs; return ``(confidence, alpha)``."""
    from evalkit.ranktests import parse_posthoc

    parse_posthoc(posthoc)
    check_count("bootstrap", bootstrap, 0)
    return check_probability("confidence", confidence), check_probability("alpha", alpha)


def check_count(name: str, value: int, minimum: int) -> int:
    """``value`` if it is an integer >= ``minimum``, else :class:`ConfigError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def prepare_suite(suite: str | Path | Suite | None, host: Host, *, datasets: Specs = None, methods: Specs = None,
                  metrics: Specs = None, aggregate: Specs = None) -> Suite:
    """The suite to run: ``suite`` (a registered name, ``None`` for the default suite, a TOML file
    or a :class:`~evalkit.suite.Suite`, copied, never changed) with ``datasets``/``methods``/``metrics``
    replacing its own and every component name and parameter checked.

    A suite whose components were replaced is recorded as ``ad-hoc`` (never under its own name).

    Raises:
        ConfigError: unknown suite, unreadable file, malformed specs, bad parameters.
        UnknownNameError: a component no plugin registers.
    """
    from evalkit.suite import Suite, check_suite_params, load_suite, override_specs

    name = None if suite is None else str(suite)
    chosen = copy.deepcopy(suite) if isinstance(suite, Suite) else load_suite(name, host=host)
    given = {"datasets": spec_list(datasets), "methods": spec_list(methods), "metrics": spec_list(metrics)}
    for kind, specs in given.items():
        setattr(chosen, kind, override_specs(getattr(chosen, kind), ",".join(specs) if specs else None))
    replaced = [f"--{kind}" for kind, specs in given.items() if specs]
    if replaced:
        chosen.source = f"{chosen.source or chosen.name} with {', '.join(replaced)} from the command line"
        chosen.name = "ad-hoc"
    aggregators = spec_list(aggregate)
    if aggregators:
        chosen.aggregate = aggregators
    check_suite_params(host, chosen)
    return chosen


def runs_folder(runs_dir: str | Path | None) -> Path:
    """The runs folder, checked writable now rather than after computing everything."""
    from evalkit.fsutil import check_writable
    from evalkit.history import default_runs_dir

    folder = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    check_writable(folder, what="runs folder", is_file=False)
    return folder


def execute(suite: Suite, host: Host, options: dict[str, Any]) -> RunResult:
    """:func:`evalkit.runner.run_suite` with ``options``; ``limit`` only when given (older runners lack it)."""
    import inspect

    from evalkit.runner import run_suite

    if options["limit"] is None:
        options = {k: v for k, v in options.items() if k != "limit"}
    else:
        check_count("limit", options["limit"], 1)
        if "limit" not in inspect.signature(run_suite).parameters:
            raise ConfigError("limit is not supported by this version of the runner")
    data_dir = options.pop("data_dir")
    return run_suite(suite, host=host, data_dir=Path(data_dir) if data_dir is not None else None, **options)


def add_bootstrap(run: Run, *, n_resamples: int, seed: int, confidence: float) -> None:
    """Paired bootstrap over examples: interval columns merged into ``run.results``, recorded in provenance."""
    from evalkit.bootstrap import bootstrap_examples
    from evalkit.run import set_provenance

    boot = bootstrap_examples(run.result, run.metrics, run.aggregators, n_resamples=n_resamples, seed=seed,
                              confidence=confidence)
    run.result.results = run.result.results.merge(boot.cells.drop(columns="n_ok"), how="left",
                                                  on=["method", "dataset", "split", "metric"])
    set_provenance(run.result, "bootstrap", {"n_resamples": n_resamples, "seed": seed, "confidence": confidence})
    run.bootstrap = boot


def score_metrics(host: Host, metrics: Specs, params: Any, task_type: str) -> dict[str, Any]:
    """The metric objects of :func:`score`: named, or every metric of ``task_type``, with ``params``."""
    from evalkit.rescore import parse_params

    names = spec_list(metrics) or [e.name for e in host.metrics
                                   if task_type in getattr(e.factory, "task_types", ())]
    if isinstance(params, Mapping):
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise ConfigError(f"params name metric(s) {unknown} not scored; metrics: {', '.join(names)}")
        overrides = {n: dict(p) for n, p in params.items()}
    else:
        overrides = parse_params(tuple(params or ()), names)
    return {n: host.metrics.create(n, **overrides.get(n, {})) for n in names}


def as_source(ref: str | Path | Run | Source, runs_dir: str | Path | None) -> Source:
    """A results source from a run folder, results JSON, run id, ``latest``, a :class:`Run` or a Source."""
    from evalkit.history import Source, default_runs_dir, load_source

    if isinstance(ref, Source):
        return ref
    if isinstance(ref, Run):
        return Source(ref.result, ref.path or Path(f"<unsaved run {ref.run_id}>"), "run")
    return load_source(ref, runs_dir=Path(runs_dir) if runs_dir is not None else default_runs_dir())
