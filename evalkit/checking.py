"""``evalkit check``: gate a run against a committed baseline (a CI regression check).

For every cell (method, dataset, split, metric) the current value is compared with the
baseline's in the direction of the metric's ``higher_is_better`` (from the runs' provenance, else
the metric registry). ``worse_by`` is how much worse the current value is (``baseline - current``
for higher-is-better metrics, ``current - baseline`` otherwise); improvements never fail.

A cell **fails** when

- ``worse_by`` exceeds the allowed drop (its tolerance, below) by more than ``FLOAT_SLACK`` and,
  when ``significance`` is set, a two-sided paired test over the stored per-example predictions
  (:mod:`evalkit.stats`), its p-value adjusted across all the cells so tested (``correction``:
  Holm by default, :mod:`evalkit.multitest`), gives ``p_adjusted <= significance`` (status
  ``regression``; otherwise ``not significant``). p-values are two-sided in ``check``, ``diff``
  and the ``compare`` tables alike;
- it exists on one side only (``missing in current`` / ``missing in baseline``), unless
  ``allow_missing``.

Tolerances (:class:`Tolerances`) are on the metric's own scale (correlations -1..1, not x 100):
``0.005`` allows an absolute drop of 0.005; ``1%`` allows a drop of 1 % of ``|baseline|``; a
``metric=`` prefix (``spearman=0.01``, ``pearson=2%``) sets one metric's tolerance, overriding the
global one. The default is 0: any drop beyond floating-point noise fails.

Peers: pytest-regressions fails on any change (improvements too), ``dvc metrics diff`` never
fails, lm-evaluation-harness compares paired runs with an unpaired test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from evalkit.errors import ConfigError, DataError
from evalkit.history import KEY, Source, outer_join
from evalkit.paired import PairedSettings, cell_test, metric_direction, metric_object, paired_arrays

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from evalkit.plugins import Host


#: Differences this small (relative to max(1, |baseline|)) are floating-point noise, not changes.
FLOAT_SLACK = 1e-12

FAILING = ("regression", "missing in current", "missing in baseline")


@dataclass(frozen=True)
class Tolerance:
    """An allowed drop: absolute (``value`` on the metric's scale) or relative (share of |baseline|)."""

    value: float = 0.0
    relative: bool = False

    def allowed(self, baseline: float) -> float:
        """The allowed drop for a cell whose baseline value is ``baseline``."""
        return self.value * abs(baseline) if self.relative else self.value

    def __str__(self) -> str:
        return f"{self.value * 100:g}%" if self.relative else f"{self.value:g}"


@dataclass
class Tolerances:
    """A global tolerance and per-metric overrides."""

    default: Tolerance = field(default_factory=Tolerance)
    per_metric: dict[str, Tolerance] = field(default_factory=dict)

    def for_metric(self, metric: str) -> Tolerance:
        return self.per_metric.get(metric, self.default)

    @staticmethod
    def _parse_one(text: str, where: str) -> Tolerance:
        raw = text.strip()
        relative = raw.endswith("%")
        try:
            value = float(raw[:-1] if relative else raw)
        except ValueError:
            raise ConfigError(
                f"--tolerance {where!r}: {raw!r} is not a number; use e.g. 0.005 (absolute), "
                "1% (relative to the baseline) or spearman=0.01 (one metric)"
            ) from None
        if not math.isfinite(value) or value < 0:
            raise ConfigError(f"--tolerance {where!r}: must be a finite number >= 0")
        return Tolerance(value / 100 if relative else value, relative)

    @classmethod
    def parse(cls, specs: list[str] | tuple[str, ...]) -> Tolerances:
        """Parse ``--tolerance`` values: ``0.005``, ``1%``, ``spearman=0.01``, ``pearson=2%``.

        Raises:
            ConfigError: a value that is not a number >= 0, or a metric given twice.
        """
        out = cls()
        for spec in specs:
            if "=" in spec:
                metric, _, val = spec.partition("=")
                metric = metric.strip()
                if not metric:
                    raise ConfigError(f"--tolerance {spec!r}: the metric name before '=' is empty")
                if metric in out.per_metric:
                    raise ConfigError(f"--tolerance: metric {metric!r} is given twice")
                out.per_metric[metric] = cls._parse_one(val, spec)
            else:
                out.default = cls._parse_one(spec, spec)
        return out

    def describe(self) -> str:
        parts = [f"{self.default} {'of |baseline|' if self.default.relative else 'absolute'}"]
        parts += [f"{m}: {t}" for m, t in self.per_metric.items()]
        return "; ".join(parts)


@dataclass
class CheckResult:
    """What ``evalkit check`` found.

    Attributes:
        cells: one row per cell of either side: method, dataset, split, metric,
            higher_is_better, baseline, current, change (current - baseline), worse_by, allowed
            (the allowed drop), tolerance (as given), p_value (NaN when not tested), status
            (``improved``, ``unchanged``, ``within tolerance``, ``not significant``,
            ``regression``, ``missing in current``, ``missing in baseline``), failed (bool),
            message (one sentence).
        current, baseline: the sources compared.
        settings: the options used (for reports and provenance).
    """

    cells: pd.DataFrame
    current: Source
    baseline: Source
    settings: dict[str, Any]

    @property
    def passed(self) -> bool:
        return not bool(self.cells["failed"].any())

    def counts(self) -> dict[str, int]:
        """Number of cells per status, plus ``cells`` and ``failed``."""
        out = {str(k): int(v) for k, v in self.cells["status"].value_counts().items()}
        out["cells"] = len(self.cells)
        out["failed"] = int(self.cells["failed"].sum())
        return out

    def summary(self) -> str:
        c = self.counts()
        verdict = "PASS" if self.passed else "FAIL"
        parts = [f"{c.get('regression', 0)} regression{'s' if c.get('regression', 0) != 1 else ''}"]
        miss = c.get("missing in current", 0) + c.get("missing in baseline", 0)
        parts.append(f"{miss} missing" + (" (allowed)" if miss and self.settings["allow_missing"] else ""))
        for s in ("not significant", "within tolerance", "improved", "unchanged"):
            if c.get(s):
                parts.append(f"{c[s]} {s}")
        return f"evalkit check: {verdict}: {', '.join(parts)}; {c['cells']} cells"


def _fmt(v: float) -> str:
    return f"{v:.4f}"


def check_runs(
    current: Source,
    baseline: Source,
    *,
    tolerances: Tolerances | None = None,
    allow_missing: bool = False,
    significance: float | None = None,
    settings: PairedSettings | None = None,
    host: Host | None = None,
    correction: str = "holm",
) -> CheckResult:
    """Compare ``current`` with ``baseline`` cell by cell (see the module docs for the rules).

    Args:
        significance: if set (e.g. 0.05), a drop beyond tolerance fails only if a two-sided paired
            test (``settings.test``), corrected across the tested cells, gives
            ``p_adjusted <= significance``; needs predictions on both sides.
        settings: paired test settings (resamples, seed).
        correction: ``holm`` (default), ``bh`` (Benjamini-Hochberg) or ``none``: the multiple
            comparison correction across the cells tested (:func:`evalkit.multitest.adjust_p_values`).

    Raises:
        ConfigError: invalid ``significance``, a per-metric tolerance for a metric neither side
            has, ``significance`` with a side lacking per-example predictions, unknown direction.
        DataError: the two sides scored different examples in a cell that is tested.
    """
    import numpy as np
    import pandas as pd

    from evalkit.plugins import get_host

    host = host or get_host()
    tolerances = tolerances or Tolerances()
    settings = settings or PairedSettings()
    _check_settings(current, baseline, tolerances, significance, correction)
    merged = outer_join(baseline.run.results, current.run.results, ("_base", "_cur"))
    ctx = _Context(current, baseline, tolerances, allow_missing, significance, settings, host)
    rows = [_cell_row(r, ctx) for _, r in merged.iterrows()]
    if significance is not None:
        _decide(rows, significance, correction)
    cols = [*KEY, "higher_is_better", "baseline", "current", "change", "worse_by", "allowed",
            "tolerance", "p_value", "p_adjusted", "status", "failed", "message"]
    cells = pd.DataFrame(rows, columns=cols)
    cells["failed"] = cells["failed"].astype(bool)
    info = {
        "current": current.label, "baseline": baseline.label, "tolerance": tolerances.describe(),
        "allow_missing": allow_missing, "significance": significance,
        "test": settings.describe(interval=False) if significance is not None else None,
        "alternative": "two-sided", "correction": correction if significance is not None else None,
        "n_tested": int(np.isfinite(cells["p_value"].to_numpy(dtype=float)).sum()),
    }
    return CheckResult(cells, current, baseline, info)


def _check_settings(current: Source, baseline: Source, tolerances: Tolerances, significance: float | None,
                    correction: str) -> None:
    """Fail on settings that cannot apply to these two sources (see :func:`check_runs`)."""
    if significance is not None and not 0 < significance < 1:
        raise ConfigError(f"--significance must be between 0 and 1 (e.g. 0.05), got {significance}")
    if correction not in ("holm", "bh", "none"):
        raise ConfigError(f"--correction must be holm, bh or none, not {correction!r}")
    metrics = set(current.run.results["metric"]) | set(baseline.run.results["metric"])
    unknown = sorted(set(tolerances.per_metric) - metrics)
    if unknown:
        raise ConfigError(
            f"--tolerance names metric(s) {unknown} that neither run has; metrics: {sorted(metrics)}"
        )
    if significance is not None:
        for s in (current, baseline):
            if not s.has_predictions:
                raise ConfigError(
                    f"--significance needs per-example predictions, but {s.label} has none (a "
                    "results JSON keeps only the scores); use a saved run folder, e.g. a baseline "
                    "written by 'evalkit check --update-baseline DIR'"
                )


@dataclass
class _Context:
    """What every cell of one :func:`check_runs` call is judged with."""

    current: Source
    baseline: Source
    tolerances: Tolerances
    allow_missing: bool
    significance: float | None
    settings: PairedSettings
    host: Host


def _cell_row(r: Any, ctx: _Context) -> dict[str, Any]:
    """One row of :attr:`CheckResult.cells` from a row of the outer join (p-values not yet adjusted)."""
    key = {k: r[k] for k in KEY}
    cell = f"{r['method']} on {r['dataset']}/{r['split']} {r['metric']}"
    tol = ctx.tolerances.for_metric(r["metric"])
    row: dict[str, Any] = {**key, "higher_is_better": None, "baseline": math.nan, "current": math.nan,
                           "change": math.nan, "worse_by": math.nan, "allowed": math.nan,
                           "tolerance": str(tol), "p_value": math.nan, "p_adjusted": math.nan}
    if r["_merge"] != "both":
        side = "current" if r["_merge"] == "left_only" else "baseline"
        present = "baseline" if side == "current" else "current"
        row[present] = float(r["value_base"] if present == "baseline" else r["value_cur"])
        row.update(status=f"missing in {side}", failed=not ctx.allow_missing,
                   message=f"{cell}: present in the {present} but missing in the {side}"
                   + (" (allowed)" if ctx.allow_missing else ""))
        return row
    hib = metric_direction(r["metric"], [ctx.current, ctx.baseline], ctx.host)
    b, c = float(r["value_base"]), float(r["value_cur"])
    worse_by = (b - c) if hib else (c - b)
    allowed = tol.allowed(b)
    row.update(higher_is_better=hib, baseline=b, current=c, change=c - b, worse_by=worse_by, allowed=allowed)
    status, msg = _verdict(cell, b, c, worse_by, allowed, tol, "dropped" if hib else "rose")
    if status == "regression" and ctx.significance is not None:
        row["p_value"] = _cell_p_value(r, key, cell, b, c, ctx)
    row.update(status=status, failed=status == "regression", message=msg)
    return row


def _verdict(cell: str, b: float, c: float, worse_by: float, allowed: float, tol: Tolerance,
             word: str) -> tuple[str, str]:
    """Status and message of a cell on both sides, before any significance test."""
    slack = FLOAT_SLACK * max(1.0, abs(b))
    if worse_by < -slack:
        return "improved", f"{cell} improved from {_fmt(b)} to {_fmt(c)}"
    if worse_by <= slack:
        return "unchanged", f"{cell} is unchanged at {_fmt(c)}"
    if worse_by <= allowed + slack:
        return "within tolerance", (f"{cell} {word} by {_fmt(worse_by)} ({_fmt(b)} -> {_fmt(c)}), "
                                    f"within tolerance {tol}")
    return "regression", (f"{cell} {word} by {_fmt(worse_by)} ({_fmt(b)} -> {_fmt(c)}), beyond tolerance {tol}"
                          + (f" (allowed {_fmt(allowed)})" if tol.relative else ""))


def _cell_p_value(r: Any, key: dict[str, Any], cell: str, b: float, c: float, ctx: _Context) -> float:
    """Two-sided paired test of one regressed cell over the stored predictions of both sides.

    Raises:
        DataError: the stored scores do not match the scores recomputed from the predictions.
    """
    current, baseline = ctx.current, ctx.baseline
    metric = metric_object(r["metric"], [current, baseline], ctx.host)
    pb, pc, refs = paired_arrays(baseline, current, r["method"], r["method"], r["dataset"], r["split"])
    test = cell_test(metric, r["metric"], pb, pc, refs, ctx.settings, tuple(str(v) for v in key.values()),
                     alternative="two-sided")
    if abs(test.delta - (c - b)) > 1e-9 * max(1.0, abs(b)):
        raise DataError(
            f"{cell}: the stored scores ({_fmt(b)} in {baseline.label}, {_fmt(c)} in "
            f"{current.label}) do not match the scores recomputed from the stored "
            f"predictions (change {test.delta:+.6f}); was a run edited, or scored with "
            "another version of the metric? Re-score it with 'evalkit rescore'"
        )
    return float(test.p_value)


def _decide(rows: list[dict[str, Any]], alpha: float, correction: str) -> None:
    """Adjust the tested cells' p-values together and settle each one's status and message."""
    from evalkit.multitest import adjust_p_values

    tested = [row for row in rows if not math.isnan(row["p_value"])]
    adjusted: Any = adjust_p_values([row["p_value"] for row in tested], correction) if tested else []
    how = "" if correction == "none" else f", {'Holm' if correction == 'holm' else 'BH'}-adjusted p = "
    for row, p_adj in zip(tested, adjusted, strict=True):
        row["p_adjusted"] = float(p_adj)
        detail = f"two-sided p = {row['p_value']:.4f}" + (f"{how}{p_adj:.4f}" if how else "")
        if p_adj <= alpha:
            row["message"] += f"; significant ({detail} <= {alpha:g})"
        else:
            row.update(status="not significant", failed=False)
            row["message"] += f"; not significant ({detail} > {alpha:g})"


def write_baseline(source: Source, path: Path, *, check: CheckResult | None = None) -> Path:
    """Write ``source`` as the new baseline at ``path`` atomically and return ``path``.

    ``*.json`` gets a results JSON (scores and provenance, no predictions); any other path a run
    folder (results, per-example predictions, provenance), which ``--significance`` needs. The
    provenance gains a ``baseline`` record (time, source, git commit, the check's verdict).
    A folder replaces an existing one by two renames (the old one is deleted afterwards).

    Raises:
        ConfigError: the parent folder does not exist, or ``path`` is a file where a folder is
            expected (or the reverse).
    """
    import datetime as _dt
    import json
    import os
    import shutil
    import tempfile
    from pathlib import Path

    from evalkit import __version__
    from evalkit.results import RunResult, git_commit, records

    path = Path(path)
    if not path.parent.is_dir():
        raise ConfigError(f"cannot write baseline {path}: folder {path.parent} does not exist")
    record = {
        "written": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        "source": source.label,
        "git_commit": git_commit(),
        "evalkit_version": __version__,
    }
    if check is not None:
        record["replaced_verdict"] = "pass" if check.passed else "fail"
        record["replaced"] = check.baseline.label
    prov = source.run.provenance.with_record("baseline", record)
    as_json = path.suffix.lower() == ".json"
    if path.exists() and path.is_dir() == as_json:
        raise ConfigError(
            f"cannot write baseline {path}: it exists as a {'folder' if path.is_dir() else 'file'}; "
            "a .json path is written as a results JSON, any other path as a run folder"
        )
    if as_json:
        doc = {"schema": 1, "kind": "evalkit-baseline", "provenance": prov.to_dict(),
               "results": records(source.run.results)}
        from evalkit.fsutil import atomic_write

        atomic_write(path, json.dumps(doc, indent=2, default=str, allow_nan=False) + "\n")
        return path
    staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.new-"))
    try:
        run = RunResult(source.run.results, source.run.predictions, prov)
        new = run.save(staging, path.name)
        if path.exists():
            os.replace(path, staging / "old")
        os.replace(new, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path
