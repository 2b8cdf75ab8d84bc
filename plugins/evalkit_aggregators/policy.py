"""The stated policies of the aggregators: cells outside a rule's domain, and missing cells.

``nonpositive`` (the rules whose domain excludes some values: geometric, harmonic and power means):

- ``"error"`` (default): a cell outside the domain is a :class:`~evalkit.DataError` naming every
  system and task concerned, with their values;
- ``"skip"``: a system with such a cell gets no value and no rank under that rule;
- ``"shift=C"``: add the constant ``C`` to every cell first (the value reported is the mean of the
  shifted cells); a cell still outside the domain after the shift is an error.

``missing`` (the value-based rules: means and the median):

- ``"exclude"`` (default): a system missing any cell gets no value and no rank;
- ``"skip"``: the rule is applied to the cells a system has (a partial mean, as a leaderboard that
  leaves a column blank for some rows effectively does); a system with no cell gets no value.

A row with both a missing cell and a cell outside the domain: ``missing`` applies first. Under
``"exclude"`` the row gets no value for its missing cell (the reason given) and its other cells are
not checked against the domain, so ``nonpositive="error"`` raises nothing for it; under ``"skip"``
its present cells are checked and follow ``nonpositive`` (an error naming the cell, or no value
with the reason ``cell not > 0: ...``).

Nothing is ever clamped or imputed silently: every table states the policy it used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evalkit import ConfigError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

NONPOSITIVE_CHOICES = "error, skip or shift=C (C a number, e.g. shift=1)"
MISSING_CHOICES = ("exclude", "skip")


@dataclass(frozen=True)
class Nonpositive:
    """A parsed ``nonpositive`` policy: ``mode`` is error, skip or shift; ``shift`` is C."""

    mode: str
    shift: float = 0.0

    def describe(self) -> str:
        return f"shift={self.shift:g}" if self.mode == "shift" else self.mode


def parse_nonpositive(value: str, *, owner: str) -> Nonpositive:
    """``"error"``, ``"skip"`` or ``"shift=C"`` to a :class:`Nonpositive`.

    Raises:
        ConfigError: any other value, or a shift that is not a finite number.
    """
    text = str(value).strip().lower()
    if text in {"error", "skip"}:
        return Nonpositive(text)
    if text.startswith("shift"):
        _, sep, number = text.partition("=")
        try:
            shift = float(number) if sep else math.nan
        except ValueError:
            shift = math.nan
        if math.isfinite(shift):
            return Nonpositive("shift", shift)
    raise ConfigError(f"{owner}: nonpositive={value!r} is not one of {NONPOSITIVE_CHOICES}")


def parse_missing(value: str, *, owner: str) -> str:
    """``"exclude"`` or ``"skip"``; raises :class:`ConfigError` otherwise."""
    text = str(value).strip().lower()
    if text not in MISSING_CHOICES:
        raise ConfigError(f"{owner}: missing={value!r} is not one of {', '.join(MISSING_CHOICES)}")
    return text


def numeric_table(table: pd.DataFrame, *, owner: str) -> np.ndarray:
    """The table as a float64 array (NaN for missing cells).

    Raises:
        DataError: not a DataFrame, no columns, a cell that is not a number, or an infinite cell
            (the message names row and column).
    """
    import numpy as np
    import pandas as pd

    from evalkit import DataError

    if not isinstance(table, pd.DataFrame):
        raise DataError(f"{owner}: the table must be a pandas DataFrame (rows: systems, columns: tasks), "
                        f"got {type(table).__name__}")
    if table.shape[1] == 0:
        raise DataError(f"{owner}: the table has no columns (tasks), so there is nothing to aggregate")
    try:
        arr = table.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{owner}: the table must hold numbers: {exc}") from None
    bad = np.argwhere(np.isinf(arr))
    if bad.size:
        cells = [f"{table.index[i]} / {table.columns[j]}" for i, j in bad[:10]]
        raise DataError(f"{owner}: infinite values in cells {cells}")
    return arr


def describe_cells(
    table: pd.DataFrame, arr: np.ndarray, mask: np.ndarray, *, limit: int = 25
) -> str:
    """``"Skip-Thought (CoLA = 0); RefBERT (AX = -10.3, CoLA = 0)"`` for the cells in ``mask``."""
    parts = []
    rows = [i for i in range(mask.shape[0]) if mask[i].any()]
    for i in rows[:limit]:
        cells = ", ".join(
            f"{table.columns[j]} = {arr[i, j]:g}" for j in range(mask.shape[1]) if mask[i, j]
        )
        parts.append(f"{table.index[i]} ({cells})")
    more = f"; and {len(rows) - limit} more" if len(rows) > limit else ""
    return "; ".join(parts) + more


def missing_reasons(table: pd.DataFrame, arr: np.ndarray, rows: np.ndarray) -> dict[str, str]:
    """``{row: "missing CoLA, QNLI"}`` for the rows selected by the boolean vector ``rows``."""
    import numpy as np

    out: dict[str, str] = {}
    for i in np.flatnonzero(rows).tolist():
        cols = [str(table.columns[j]) for j in np.flatnonzero(np.isnan(arr[i])).tolist()]
        out[str(table.index[i])] = "missing " + ", ".join(cols) if cols else "no cells"
    return out
