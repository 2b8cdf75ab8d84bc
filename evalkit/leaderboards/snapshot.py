"""Reading a snapshot CSV of a board: checked cells, unique labels, the systems x tasks table."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from evalkit import DataError, read_delimited

from .board import Board, Snapshot, Task

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class BoardData:
    """A snapshot read for a board.

    Attributes:
        cells: systems x snapshot columns (float64, NaN for empty cells); the index holds unique
            system labels (a repeated name gets `` #<id>``).
        human: whether each system is a human baseline (bool Series, same index).
        published: the board's published overall score, or NaN (float Series, same index).
        team: the submitting team, or "" (str Series, same index).
        sha256: hex digest of the snapshot file.
        notes: lines for the table's notes.
    """

    board: Board
    snapshot: Snapshot
    cells: pd.DataFrame
    human: pd.Series
    published: pd.Series
    team: pd.Series
    sha256: str
    #: Lines for the table's notes (missing cells counted, columns inferred for a board without spec).
    notes: list[str] = field(default_factory=list)

    def task_table(self, tasks: list[Task]) -> pd.DataFrame:
        """Systems x tasks (float64): each task the mean of its columns; NaN if any is empty."""
        import pandas as pd

        out = pd.DataFrame(index=self.cells.index)
        for t in tasks:
            out[t.name] = self.cells[list(t.columns)].mean(axis=1, skipna=False)
        out.index.name = "system"
        return out


def _verified_digest(board: Board, snap: Snapshot) -> str:
    """The sha256 of the snapshot's file, checked against the one the spec records.

    Raises:
        DataError: the file cannot be read, or its sha256 differs from the recorded one.
    """
    try:
        data = snap.file.read_bytes()
    except OSError as exc:
        raise DataError(
            f"board {board.name!r}, snapshot {snap.name!r}: cannot read {snap.file}: {exc}"
        ) from None
    digest = hashlib.sha256(data).hexdigest()
    if snap.sha256 and digest != snap.sha256:
        raise DataError(
            f"{snap.file}: sha256 {digest} differs from {snap.sha256} recorded in {board.spec}; "
            "the snapshot was modified"
        )
    return digest


def _system_index(raw: pd.DataFrame, cols: dict[str, str | None], snap: Snapshot) -> pd.Index:
    """System names as the row index; a repeated name gets its id (``name #id``).

    Raises:
        DataError: names are not unique even with their ids.
    """
    import numpy as np
    import pandas as pd

    names = raw[str(cols["system"])].str.strip()
    ids = raw[cols["id"]] if cols["id"] else pd.Series(np.arange(1, len(raw) + 1).astype(str))
    dup = names.duplicated(keep=False)
    labels = [f"{n} #{i}" if d else n for n, i, d in zip(names, ids, dup, strict=True)]
    if len(set(labels)) != len(labels):
        raise DataError(f"{snap.file}: system names are not unique even with their ids")
    return pd.Index(labels, name="system")


def read_snapshot(board: Board, snapshot: str | None = None) -> BoardData:
    """Read and check a snapshot of ``board``.

    Raises:
        DataError: the file is missing, unreadable, differs from its recorded sha256, lacks a
            column the spec names, or has a non-numeric cell (the message names file, line and
            column).
        ConfigError: unknown snapshot.
    """
    import numpy as np
    import pandas as pd

    snap = board.snapshot(snapshot)
    digest = _verified_digest(board, snap)
    table = read_delimited(snap.file)
    lines = table["_line"].to_numpy()
    raw = table.drop(columns=["_line"]).astype(str)
    cols = board.columns
    needed = {c for t in board.tasks + board.diagnostics for c in t.columns}
    needed |= {v for v in cols.values() if v}
    absent = sorted(needed - set(raw.columns))
    if absent:
        raise DataError(
            f"{snap.file}: columns {absent} named by {board.spec} are missing "
            f"(header: {', '.join(raw.columns)})"
        )
    value_cols = sorted(
        {c for t in board.tasks + board.diagnostics for c in t.columns}
        | ({cols["score"]} if cols["score"] else set())
    )
    values, notes = parse_cells(raw, value_cols, lines, board, snap)
    index = _system_index(raw, cols, snap)
    human = (
        raw[cols["human"]].str.strip().isin(["1", "true", "True", "yes"])
        if cols["human"]
        else pd.Series(False, index=raw.index)
    )
    published = values[cols["score"]] if cols["score"] else pd.Series(np.nan, index=raw.index)
    team = raw[cols["team"]].fillna("") if cols["team"] else pd.Series("", index=raw.index)
    task_cells = values.drop(columns=[cols["score"]] if cols["score"] else [])
    return BoardData(
        board,
        snap,
        task_cells.set_axis(index),
        human.set_axis(index).astype(bool),
        published.set_axis(index).astype(float),
        team.set_axis(index).astype(str),
        digest,
        notes,
    )


def parse_cells(raw: pd.DataFrame, value_cols: list[str], lines: Any, board: Board,
                snap: Snapshot) -> tuple[pd.DataFrame, list[str]]:
    """The value columns as float64, a declared missing marker as NaN; notes counting the missing cells.

    Raises:
        DataError: a cell that is neither a number nor a declared missing marker (names the file's
            line, the system and the column).
    """
    import numpy as np
    import pandas as pd

    markers = set(board.missing)
    system_col = str(board.columns["system"])
    values = pd.DataFrame(index=raw.index)
    missing: dict[str, list[str]] = {}
    for c in value_cols:
        text = raw[c].str.strip()
        blank = text.isin(markers)
        num = pd.Series(pd.to_numeric(text.mask(blank), errors="coerce"), index=raw.index)
        bad = (num.isna() & ~blank) | np.isinf(num.fillna(0.0))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            shown = ", ".join(repr(m) for m in sorted(markers)) or "none"
            raise DataError(
                f"{snap.file}:{lines[i]}: row {i + 1} (system {raw[system_col].iloc[i].strip()!r}), column {c!r} "
                f"has {raw[c].iloc[i]!r}, not a number; {int(bad.sum())} such cell(s) in this column. Declared "
                f"missing markers: {shown} (set missing = [...] in the board spec)"
            )
        if blank.any():
            missing[c] = raw.loc[blank, system_col].str.strip().tolist()
        values[c] = num.astype(float)
    notes = []
    if missing:
        n = sum(len(v) for v in missing.values())
        shown = " or ".join(repr(m) for m in sorted(markers))
        notes.append(f"{n} missing cell(s) (marked {shown}): " + "; ".join(
            f"{c}: {', '.join(v[:5])}{' and more' if len(v) > 5 else ''}" for c, v in missing.items()))
    return values, notes
