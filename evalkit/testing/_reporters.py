"""Conformance checks of reporters (:class:`evalkit.Reporter`), on the report of
:func:`evalkit.testing.samples.sample_report` (two tables, a missing cell, a payload)."""

from __future__ import annotations

import contextlib
import copy
import re
from typing import Any

from evalkit.interfaces import Report, Reporter
from evalkit.testing._base import (
    CheckSkipped,
    check,
    common_metadata,
    describe_exception,
    roundtrip,
)
from evalkit.testing.samples import sample_report


def _render(rep: Reporter, report: Report, where: str = "render(report)") -> str:
    out = rep.render(report)
    assert isinstance(out, str), f"{where} returned {type(out).__name__}, not a str"
    return out


@check("reporter")
def check_metadata(rep: Reporter) -> None:
    """``name``, docstring and an ``extension`` for ``--output`` files."""
    common_metadata(rep)
    ext = rep.extension
    assert isinstance(ext, str) and re.fullmatch(r"[a-z0-9]+", ext or ""), (
        f"{type(rep).__name__}.extension must be a file extension without dot, such as 'md', got {ext!r}"
    )


@check("reporter")
def check_render(rep: Reporter) -> None:
    """The sample report renders to text ending in a newline that shows every row and column label."""
    report = sample_report()
    out = _render(rep, report)
    assert out.strip() and out.endswith("\n"), "render() must return non-empty text ending with a newline"
    shown = out
    if rep.extension == "json":  # "café" may be written as "caf\u00e9"
        import json

        with contextlib.suppress(ValueError):
            shown = json.dumps(json.loads(out), ensure_ascii=False)
    labels = {str(x) for t in report.tables for x in (*t.frame.index, "stsb", "sickr")}
    missing = sorted(label for label in labels if label not in shown)
    assert not missing, f"the output does not show {missing}"
    assert not re.search(r"\bnan\b", out, re.IGNORECASE), "a missing cell is rendered as 'nan'; show it empty"


@check("reporter")
def check_deterministic(rep: Reporter) -> None:
    """The same report renders to the same text, also from a fresh instance."""
    a = _render(rep, sample_report())
    b = _render(type(rep)(**rep.get_params()), sample_report())
    assert a == b, "two renderings of the same report differ"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


@check("reporter")
def check_machine_readable(rep: Reporter) -> None:
    """A ``json`` reporter writes valid JSON without NaN; a ``csv`` one parses as CSV."""
    import csv
    import io
    import json

    out = _render(rep, sample_report())
    if rep.extension == "json":
        try:
            json.loads(out, parse_constant=_reject_constant)
        except ValueError as exc:
            raise AssertionError(f"the output is not strict JSON: {exc}") from None
    elif rep.extension == "csv":
        rows = list(csv.reader(io.StringIO(out)))
        assert rows, "the CSV output is empty"
    else:
        raise CheckSkipped(f"no parser for extension {rep.extension!r}")


@check("reporter")
def check_no_input_mutation(rep: Reporter) -> None:
    """``render`` leaves the report's tables and payload unchanged."""
    report = sample_report()
    before = copy.deepcopy(report)
    _render(rep, report)
    same = all(a.frame.equals(b.frame) and a.notes == b.notes and a.title == b.title
               for a, b in zip(report.tables, before.tables, strict=True))
    assert same and report.payload == before.payload, "render() modified the report it was given"


@check("reporter")
def check_empty_report(rep: Reporter) -> None:
    """A report with no tables and no payload renders (or raises an evalkit error), never crashes."""
    from evalkit.errors import EvalkitError

    try:
        _render(rep, Report())
    except EvalkitError:
        pass
    except Exception as exc:
        raise AssertionError(f"render(Report()) crashed: {describe_exception(exc)}") from exc


@check("reporter")
def check_pickle(rep: Reporter) -> None:
    """The reporter pickles, and the copy renders the same text."""
    clone: Any = roundtrip(rep)
    assert _render(clone, sample_report()) == _render(rep, sample_report()), "the unpickled copy renders differently"
