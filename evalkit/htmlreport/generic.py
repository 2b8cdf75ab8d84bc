"""The HTML page of any :class:`evalkit.Report` (``--format html`` of ``diff``, ``runs``, ``check``...)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from evalkit.htmlreport.page import document, esc

if TYPE_CHECKING:
    from evalkit.interfaces import Report, Table


def _value(v: Any, digits: int) -> tuple[str, str, bool]:
    """``(shown, data-v, numeric)`` of one cell."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "", "", True
    if isinstance(v, bool):
        return ("yes" if v else ""), "", False
    if isinstance(v, (int, float)) or hasattr(v, "dtype"):
        try:
            f = float(v)
        except (TypeError, ValueError):
            return str(v), "", False
        return (f"{round(f)}" if digits == 0 else f"{f:.{digits}f}"), repr(f), True
    return str(v), "", False


def _mark(marks: Any, row: Any, col: Any) -> bool:
    if marks is None or row not in marks.index or col not in marks.columns:
        return False
    v = marks.at[row, col]
    return bool(v) if v == v else False  # NaN: no mark


def legend_html(table: Table) -> str:
    """The key of the significance marks (``Table.best``/``indistinct``/``legend``), if any."""
    best, same = getattr(table, "best", None), getattr(table, "indistinct", None)
    if best is None and same is None:
        return ""
    parts = (["bold: best in its column"] if best is not None else []) + (
        ["underlined: not significantly worse than the best"] if same is not None else [])
    legend = getattr(table, "legend", "")
    return f"<p>marks: {esc('; '.join(parts))}{esc(f' ({legend})') if legend else ''}</p>"


def table_html(table: Table, *, highlight: dict[str, set[str]] | None = None) -> str:
    """One :class:`~evalkit.Table` as a sortable HTML table with its title and notes.

    Numbers are right-aligned with the table's decimals; ``highlight`` maps a row label to the
    CSS classes of its ``<tr>`` (e.g. ``human``). Significance marks: the best cell of a column in
    ``<b>``, a cell not significantly worse than it in ``<u>``, and their key under the notes.
    """
    best, same = getattr(table, "best", None), getattr(table, "indistinct", None)
    frame = table.frame
    index_name = frame.index.name or ""
    head = f"<th>{esc(index_name)}</th>" + "".join(
        f'<th class="num">{esc(c)}</th>' for c in frame.columns)
    body = []
    for idx, row in frame.iterrows():
        cells = []
        for col, v in row.items():
            digits = table.column_digits.get(str(col), 0 if str(col).endswith("rank") else table.digits)
            shown, dv, numeric = _value(v, digits)
            cls = ' class="num"' if numeric else ""
            text = esc(shown)
            if text and _mark(best, idx, col):
                text = f"<b>{text}</b>"
            elif text and _mark(same, idx, col):
                text = f"<u>{text}</u>"
            cells.append(f'<td{cls} data-v="{esc(dv)}">{text}</td>')
        cls = " ".join(sorted((highlight or {}).get(str(idx), set())))
        body.append(f'<tr class="{esc(cls)}"><td>{esc(idx)}</td>{"".join(cells)}</tr>')
    notes = "".join(f"<li>{esc(n)}</li>" for n in table.notes)
    title = f"<h3>{esc(table.title)}</h3>" if table.title else ""
    return (f'{title}<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
            + (f'<ul class="notes">{notes}</ul>' if notes else "") + legend_html(table))


def tables_html(report: Report, *, title: str = "evalkit report", intro: str = "") -> str:
    """A whole page of the report's tables; the payload is embedded as JSON."""
    body = (f"<p>{esc(intro)}</p>" if intro else "") + "".join(table_html(t) for t in report.tables)
    return document(title, body, report.payload)
