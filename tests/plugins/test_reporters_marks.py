"""Significance marks (Table.best / Table.indistinct / Table.legend) in every built-in reporter."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from evalkit import Report, Table
from evalkit.plugins import get_host


@pytest.fixture()
def table() -> Table:
    frame = pd.DataFrame({"a": [0.5, 0.4, 0.1], "b_x": [0.2, np.nan, 0.3], "mean": [1.0, 2.0, 3.0]},
                         index=["m1", "m<2>", "m3"])
    best = pd.DataFrame({"a": [True, False, False], "b_x": [False, False, True]}, index=frame.index)
    ind = pd.DataFrame({"a": [True, True, False], "b_x": [True, False, True]}, index=frame.index)
    return Table(frame, "T", ["a note"], best=best, indistinct=ind, legend="paired test, alpha=0.05")


def _render(fmt: str, table: Table) -> str:
    return get_host().reporters.create(fmt).render(Report([table], {}))


def test_terminal_and_markdown(table: Table) -> None:
    text = _render("table", table)
    assert "0.50*" in text and "0.40\u2020" in text and "0.30*" in text and "0.20\u2020" in text
    assert "0.10*" not in text and "0.10\u2020" not in text  # unmarked cell
    assert "marks: trailing *: best in its column; \u2020: not significantly worse than the best (paired test" in text
    md = _render("markdown", table)
    assert "**0.50**" in md and "0.40\u2020" in md and "**0.30**" in md
    assert "- marks: bold: best in its column" in md


def test_latex(table: Table) -> None:
    tex = _render("latex", table)
    assert r"\textbf{0.50}" in tex and r"\underline{0.40}" in tex and r"\underline{0.20}" in tex
    assert r"\textbf{0.10}" not in tex and "% marks: bold" in tex
    assert r"b\_x" in tex


def test_html_marks_and_escaping(table: Table) -> None:
    out = _render("html", table)
    cells: list[str] = []

    class P(HTMLParser):
        tag = ""

        def handle_starttag(self, tag: str, attrs: list) -> None:
            self.tag = tag

        def handle_data(self, data: str) -> None:
            if self.tag in ("b", "u"):
                cells.append(f"{self.tag}:{data}")
            self.tag = ""

    P().feed(out)
    assert sorted(cells) == ["b:0.30", "b:0.50", "u:0.20", "u:0.40"]
    assert "m&lt;2&gt;" in out and "<p>marks: bold" in out


def test_csv_boolean_fields(table: Table) -> None:
    rows = list(csv.DictReader(io.StringIO(_render("csv", table))))
    assert [r["a best"] for r in rows] == ["True", "False", "False"]
    assert [r["b_x indistinct"] for r in rows] == ["True", "False", "True"]
    assert "mean best" not in rows[0]


def test_no_marks_no_legend() -> None:
    plain = Table(pd.DataFrame({"a": [1.0]}, index=["m"]), "T", ["n"])
    for fmt in ("table", "markdown", "latex", "html", "csv"):
        assert "marks:" not in _render(fmt, plain)
        assert "best" not in _render(fmt, plain)
