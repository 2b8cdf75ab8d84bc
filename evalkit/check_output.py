"""Renderings of ``evalkit check`` and ``evalkit diff`` results.

- :func:`check_report` / :func:`diff_report`: a :class:`~evalkit.interfaces.Report` that every
  reporter plugin renders (``table``, ``markdown`` for a PR comment, ``json``, ``csv``, ...).
- :func:`junit_xml`: JUnit XML, one ``testcase`` per checked cell (``failure`` for a failing
  cell, ``skipped`` for an allowed missing one), in the schema read by Jenkins, GitLab and the
  GitHub test-report actions (the layout pytest's ``--junitxml`` writes).
- :func:`github_annotations`: GitHub Actions workflow commands (``::error file=...::message``),
  escaped as the Actions toolkit does (``%``, CR, LF; plus ``:`` and ``,`` in properties).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit.interfaces import Report, Table

if TYPE_CHECKING:
    import pandas as pd

    from evalkit.checking import CheckResult
    from evalkit.paired import PairedSettings

CHECK_FORMATS = ("junit", "github")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    from evalkit.results import _clean

    return [{str(k): _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def check_report(result: CheckResult) -> Report:
    """Table (failing cells first) plus a JSON payload (``passed``, ``counts``, ``settings``, ``cells``)."""
    cells = result.cells
    order = cells.assign(_f=~cells["failed"]).sort_values("_f", kind="stable").drop(columns="_f")
    shown = order[["method", "dataset", "split", "metric", "baseline", "current", "change",
                   "allowed", "p_value", "p_adjusted", "status"]].rename(
        columns={"p_value": "p", "p_adjusted": "p adj"}).set_index("method")
    if not result.cells["p_value"].notna().any():
        shown = shown.drop(columns=["p", "p adj"])
    s = result.settings
    notes = [
        f"baseline: {s['baseline']}; current: {s['current']}",
        "change = current - baseline on the metric's own scale; allowed = largest drop that passes",
        f"tolerance: {s['tolerance']}; improvements never fail",
    ]
    if s["significance"] is not None:
        corr = {"holm": "Holm-corrected", "bh": "Benjamini-Hochberg-corrected", "none": "uncorrected"}
        notes.append(f"a drop beyond tolerance fails only if significant: two-sided {s['test']}, "
                     f"{corr.get(s.get('correction') or 'holm', '')} across the {s['n_tested']} tested "
                     f"cell(s), alpha {s['significance']:g} (p adj <= alpha)")
    if not s["allow_missing"]:
        notes.append("cells missing on either side fail (--allow-missing to allow)")
    table = Table(shown, result.summary(), notes, digits=4)
    payload = {"passed": result.passed, "summary": result.summary(), "counts": result.counts(),
               "settings": s, "cells": _records(cells)}
    return Report([table], payload)


def junit_xml(result: CheckResult) -> str:
    """JUnit XML with one ``testcase`` per cell, named ``method dataset/split metric``."""
    import datetime as _dt
    import xml.etree.ElementTree as ET

    cells = result.cells
    c = result.counts()
    skipped = int(((cells["status"].str.startswith("missing")) & ~cells["failed"]).sum())
    attrs = {"name": "evalkit check", "tests": str(len(cells)), "failures": str(c["failed"]),
             "errors": "0", "skipped": str(skipped), "time": "0"}
    root = ET.Element("testsuites", {k: v for k, v in attrs.items() if k != "skipped"})
    suite = ET.SubElement(root, "testsuite", {
        **attrs, "timestamp": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
    })
    props = ET.SubElement(suite, "properties")
    for k, v in result.settings.items():
        ET.SubElement(props, "property", {"name": str(k), "value": "" if v is None else str(v)})
    for row in cells.to_dict(orient="records"):
        case = ET.SubElement(suite, "testcase", {
            "classname": f"evalkit.check.{row['dataset']}.{row['split']}",
            "name": f"{row['method']} {row['dataset']}/{row['split']} {row['metric']}",
            "time": "0",
        })
        if row["failed"]:
            kind = "regression" if row["status"] == "regression" else "missing"
            fail = ET.SubElement(case, "failure", {"message": row["message"], "type": kind})
            fail.text = row["message"]
        elif row["status"].startswith("missing"):
            ET.SubElement(case, "skipped", {"message": row["message"]})
        else:
            out = ET.SubElement(case, "system-out")
            out.text = f"{row['status']}: {row['message']}"
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def github_annotations(result: CheckResult) -> str:
    """GitHub Actions workflow commands: ``::error`` per failing cell, ``::warning`` for drops
    that pass only as not significant and for allowed missing cells, then a summary ``::notice``.

    Annotations point at the baseline (``file=``), the file a reviewer would update: for a run
    folder its ``results.csv`` and the cell's line in it.
    """
    base = result.baseline
    file = base.path / "results.csv" if base.kind == "run" else base.path
    line_of = {}
    if base.kind == "run":
        keys = base.run.results[["method", "dataset", "split", "metric"]].itertuples(index=False, name=None)
        line_of = {k: i + 2 for i, k in enumerate(keys)}  # line 1 is the header
    lines = []
    for row in result.cells.to_dict(orient="records"):
        if row["failed"]:
            level = "error"
        elif row["status"] == "not significant" or row["status"].startswith("missing"):
            level = "warning"
        else:
            continue
        cell = f"{row['method']} {row['dataset']}/{row['split']} {row['metric']}"
        title = _escape_prop(f"evalkit {row['status']}: {cell}")
        line = line_of.get((row["method"], row["dataset"], row["split"], row["metric"]))
        where = f"file={_escape_prop(str(file))}" + (f",line={line}" if line else "")
        lines.append(f"::{level} {where},title={title}::{_escape_data(row['message'])}")
    lines.append(f"::notice title=evalkit check::{_escape_data(result.summary())}")
    return "\n".join(lines) + "\n"


def render_check(result: CheckResult, fmt: str) -> str:
    """``fmt`` is ``junit``, ``github`` or a reporter name (``table``, ``markdown``, ``json``, ...).

    Raises:
        UnknownNameError: no such reporter.
    """
    if fmt == "junit":
        return junit_xml(result)
    if fmt == "github":
        return github_annotations(result)
    from evalkit.plugins import get_host

    return get_host().reporters.create(fmt).render(check_report(result))


def diff_report(cells: pd.DataFrame, missing: pd.DataFrame, *, a: str, b: str,
                settings: PairedSettings, tested: bool) -> Report:
    """Table of a paired comparison (``a`` = reference, ``b`` = compared), with a JSON payload."""
    shown = cells[["method", "dataset", "split", "metric", "a", "b", "delta", "ci_low", "ci_high",
                   "p_value", "n", "better"]].rename(columns={"p_value": "p"}).set_index("method")
    shown["n"] = ["" if v is None else str(v) for v in shown["n"]]  # counts, not 4-decimal floats
    if not tested:
        shown = shown.drop(columns=["ci_low", "ci_high", "p"])
    notes = [f"a: {a}", f"b: {b}", "delta = b - a on the metric's own scale; better: the side that "
             "scores better in the metric's direction"]
    if tested:
        notes.append(f"ci_low/ci_high and p (two-sided): {settings.describe()}")
    else:
        notes.append("no confidence intervals or p-values: a side has no per-example predictions")
    for m in missing.to_dict(orient="records"):
        notes.append(f"only in {m['only_in']}: {m['method']} {m['dataset']}/{m['split']} {m['metric']}")
    table = Table(shown, f"paired comparison: b vs a ({len(cells)} cells)", notes, digits=4)
    payload = {"a": a, "b": b, "test": settings.describe() if tested else None,
               "alternative": "two-sided" if tested else None,
               "cells": _records(cells), "missing": _records(missing)}
    return Report([table], payload)
