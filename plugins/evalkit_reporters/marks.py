"""Significance marks of a :class:`evalkit.Table` (``best``, ``indistinct``, ``legend``) per format."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from evalkit import Table

#: Marks of the plain-text formats: (best, not significantly worse than the best).
TEXT_MARKS = {"table": ("*", "\u2020"), "markdown": ("bold", "\u2020"), "latex": ("bold", "underline"),
              "html": ("bold", "underline")}
_KEYS = {"*": "trailing *", "bold": "bold", "\u2020": "\u2020", "underline": "underlined"}


def has_marks(table: Table) -> bool:
    return table.best is not None or table.indistinct is not None


def _cell(frame: Any, row: Any, col: Any) -> bool | None:
    """The mark at (row, col): ``None`` where ``frame`` has no such cell or holds NaN there."""
    if frame is None or row not in frame.index or col not in frame.columns:
        return None
    v: Any = frame.at[row, col]
    return None if v is None or v != v else bool(v)


def _flag(frame: Any, row: Any, col: Any) -> bool:
    return bool(_cell(frame, row, col))


def apply_marks(table: Table, shown: Any, best: Callable[[str], str], other: Callable[[str], str]) -> Any:
    """``shown`` (the formatted string frame) with ``best(s)`` / ``other(s)`` around marked cells.

    A best cell gets ``best``; a cell not significantly worse than the best (and not best itself)
    gets ``other``. Empty cells stay empty.
    """
    if not has_marks(table):
        return shown
    out = shown.copy()
    for col in out.columns:
        for row in out.index:
            text = out.at[row, col]
            if not text:
                continue
            if _flag(table.best, row, col):
                out.at[row, col] = best(text)
            elif _flag(table.indistinct, row, col):
                out.at[row, col] = other(text)
    return out


def legend_line(table: Table, fmt: str) -> str | None:
    """The key of the marks in format ``fmt`` followed by ``table.legend``; ``None`` without marks."""
    if not has_marks(table):
        return None
    best_mark, other_mark = TEXT_MARKS.get(fmt, ("best", "indistinct"))
    parts = []
    if table.best is not None:
        parts.append(f"{_KEYS.get(best_mark, best_mark)}: best in its column")
    if table.indistinct is not None:
        parts.append(f"{_KEYS.get(other_mark, other_mark)}: not significantly worse than the best")
    text = "marks: " + "; ".join(parts)
    return text + (f" ({table.legend})" if table.legend else "")


def bool_columns(table: Table) -> Any:
    """``table.frame`` with a boolean ``<column> best`` / ``<column> indistinct`` column after the
    values for each marked column (CSV); cells outside the mark frames are empty."""
    frame = table.frame.copy()
    for name, marks in (("best", table.best), ("indistinct", table.indistinct)):
        if marks is None:
            continue
        for col in marks.columns:
            if col in table.frame.columns:
                frame[f"{col} {name}"] = [_cell(marks, r, col) for r in frame.index]
    return frame
