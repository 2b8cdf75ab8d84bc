"""Built-in plugin: reporters for ``--format`` (table, markdown, csv, json, latex, html).

Text formats render each :class:`evalkit.Table` with its caption and the notes (aggregation
rules, scale) under it; ``csv`` writes the tables' cells with full precision; ``json`` writes the
report's machine-readable payload (``results`` records on the metrics' own scale).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from evalkit import Register, Report, Reporter, Table, hookimpl, json_default

from .marks import apply_marks, bool_columns, legend_line


def _notes(table: Table, fmt: str) -> list[str]:
    """The table's notes, then the key of its significance marks (if any)."""
    legend = legend_line(table, fmt)
    return [*table.notes, *([legend] if legend else [])]


def _formatted(table: Table) -> Any:
    """The table's frame with numbers as strings (fixed decimals, ranks as integers, NaN blank).

    Decimals per column come from ``table.column_digits``, else 0 for a column whose name ends
    with "rank", else ``table.digits``.
    """
    frame = table.frame.copy()
    for col in frame.columns:
        digits = table.column_digits.get(col, 0 if str(col).endswith("rank") else table.digits)

        def fmt(v: Any, digits: int = digits) -> str:
            if v is None or (isinstance(v, float) and math.isnan(v)):
                return ""
            if isinstance(v, bool):
                return "yes" if v else ""
            if isinstance(v, (int, float)):
                return f"{round(v)}" if digits == 0 else f"{v:.{digits}f}"
            return str(v)

        frame[col] = frame[col].map(fmt)
    return frame


class TableReporter(Reporter):
    """Aligned plain-text tables for the terminal."""

    name = "table"
    extension = "txt"

    def render(self, report: Report) -> str:
        from tabulate import tabulate

        parts = []
        for t in report.tables:
            frame = apply_marks(t, _formatted(t), lambda s: s + "*", lambda s: s + "\u2020")
            body = tabulate(frame, headers=[frame.index.name or "", *map(str, frame.columns)],
                            tablefmt="simple", stralign="right", disable_numparse=True)
            parts.append("\n".join(([t.title] if t.title else []) + [body]
                                   + [f"  {n}" for n in _notes(t, "table")]))
        return "\n\n".join(parts) + "\n"


class MarkdownReporter(Reporter):
    """GitHub-flavoured markdown tables, ready for a paper draft or a PR comment."""

    name = "markdown"
    extension = "md"

    def render(self, report: Report) -> str:
        from tabulate import tabulate

        parts = []
        for t in report.tables:
            frame = apply_marks(t, _formatted(t), lambda s: f"**{s}**", lambda s: s + "\u2020")
            body = tabulate(frame, headers=[frame.index.name or "", *map(str, frame.columns)],
                            tablefmt="github", stralign="right", disable_numparse=True)
            head = [f"**{t.title}**", ""] if t.title else []
            lines = _notes(t, "markdown")
            notes = ["", *[f"- {n}" for n in lines]] if lines else []
            parts.append("\n".join([*head, body, *notes]))
        return "\n\n".join(parts) + "\n"


class CsvReporter(Reporter):
    """CSV (pandas ``to_csv``): one block per table, full precision; titles as ``#`` comments.

    A table with significance marks gets boolean ``<dataset> best`` and ``<dataset> indistinct``
    columns after its values (``True``/``False``; empty where the cell has no value).
    """

    name = "csv"
    extension = "csv"

    def render(self, report: Report) -> str:
        parts = []
        for t in report.tables:
            lines = [f"# {t.title}"] if t.title and len(report.tables) > 1 else []
            frame = bool_columns(t)
            parts.append("\n".join(lines) + ("\n" if lines else "") + frame.to_csv(float_format="%.10g"))
        return "\n".join(parts)


class JsonReporter(Reporter):
    """One JSON object: the report's payload (``results`` records, tables, provenance)."""

    name = "json"
    extension = "json"

    def render(self, report: Report) -> str:
        return json.dumps(report.payload, indent=2, default=json_default, allow_nan=False) + "\n"


#: LaTeX's ten special characters in text mode and what typesets each one literally (the LaTeX
#: Companion, 2nd ed., section 7.5; the same table as pandas' ``Styler.format(escape="latex")``).
LATEX_ESCAPES = {
    "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
    "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}",
}
_LATEX_SPECIAL = re.compile("[" + re.escape("".join(LATEX_ESCAPES)) + "]")


def latex_escape(text: str) -> str:
    """``text`` with each of ``& % $ # _ { } ~ ^ \\`` replaced in one pass (:data:`LATEX_ESCAPES`)."""
    return _LATEX_SPECIAL.sub(lambda m: LATEX_ESCAPES[m.group(0)], text)


class LatexReporter(Reporter):
    """LaTeX ``tabular`` (booktabs) per table, with the caption and notes as comments.

    Row and column labels and cells are escaped (:func:`latex_escape`), so a method called
    ``a&b`` stays one cell; comment lines carry the caption and notes (newlines removed).
    """

    name = "latex"
    extension = "tex"

    def render(self, report: Report) -> str:
        parts = []
        for t in report.tables:
            escaped = _formatted(t).map(lambda v: latex_escape(str(v)))
            frame = apply_marks(t, escaped, lambda s: rf"\textbf{{{s}}}", lambda s: rf"\underline{{{s}}}")
            frame.columns = [latex_escape(str(c)) for c in frame.columns]
            frame.index = [latex_escape(str(i)) for i in frame.index]
            body = frame.style.to_latex(hrules=True, column_format="l" + "r" * len(frame.columns))
            notes = [f"% {t.title}"] + [f"% {n}" for n in _notes(t, "latex")]
            notes = [" ".join(n.splitlines()) for n in notes]
            parts.append("\n".join(notes) + "\n" + body)
        return "\n".join(parts)


class HtmlReporter(Reporter):
    """A self-contained HTML page (UTF-8, inline CSS, sortable tables, the payload as JSON).

    ``evalkit compare``, ``evalkit report`` and ``evalkit leaderboard`` render their own richer
    pages with figures (:mod:`evalkit.htmlreport`); this reporter renders any other report's
    tables (``diff``, ``runs``, ``check``, ``score``).
    """

    name = "html"
    extension = "html"

    def render(self, report: Report) -> str:
        from evalkit.htmlpage import tables_html

        return tables_html(report)


@hookimpl
def register_reporters(register: Register) -> None:
    for cls in (TableReporter, MarkdownReporter, CsvReporter, JsonReporter, LatexReporter, HtmlReporter):
        register(cls)
