"""Reading a snapshot CSV of a board: checked cells, unique labels, the systems x tasks table."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evalkit import DataError

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
    """

    board: Board
    snapshot: Snapshot
    cells: pd.DataFrame
    human: pd.Series
    published: pd.Series
    team: pd.Series
    sha256: str

    def task_table(self, tasks: list[Task]) -> pd.DataFrame:
        """Systems x tasks (float64): each task the mean of its columns; NaN if any is empty."""
        import pandas as pd

        out = pd.DataFrame(index=self.cells.index)
        for t in tasks:
            out[t.name] = self.cells[list(t.columns)].mean(axis=1, skipna=False)
        out.index.name = "system"
        return out


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
    try:
        raw = pd.read_csv(snap.file, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot parse {snap.file}: {exc}") from None
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
    values = pd.DataFrame(index=raw.index)
    for c in value_cols:
        text = raw[c].str.strip()
        blank = text.isin(["", "-"])
        num = pd.Series(pd.to_numeric(text.mask(blank), errors="coerce"), index=raw.index)
        bad = num.isna() & ~blank
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"{snap.file}:{i + 2}: column {c!r} has {raw[c].iloc[i]!r}, not a number"
            )
        values[c] = num.astype(float)
    names = raw[str(cols["system"])].str.strip()
    ids = raw[cols["id"]] if cols["id"] else pd.Series(np.arange(1, len(raw) + 1).astype(str))
    dup = names.duplicated(keep=False)
    labels = [f"{n} #{i}" if d else n for n, i, d in zip(names, ids, dup, strict=True)]
    if len(set(labels)) != len(labels):
        raise DataError(f"{snap.file}: system names are not unique even with their ids")
    index = pd.Index(labels, name="system")
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
    )
