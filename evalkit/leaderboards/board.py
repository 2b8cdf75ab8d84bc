"""Board specs (TOML) and leaderboard snapshots (CSV): loading, checking, the systems x tasks table.

A board spec says which columns of a snapshot CSV make up each task (a task reported with two
numbers, such as MRPC F1 / accuracy, is the mean of its columns), which tasks are diagnostics
(left out unless asked for), which column holds the system name, the published overall score and
the human-baseline flag, and where each snapshot comes from. The built-in specs live in the
repository's ``leaderboards/`` folder (``glue.toml``, ``superglue.toml``); any other spec or a plain
CSV file can be given by path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit import ConfigError, DataError
from evalkit.suite import read_toml

#: Columns of a plain CSV board that are never tasks (compared ignoring case and punctuation).
META_COLUMNS = {"row_id", "rank", "team", "system", "score", "is_human", "cross_check", "id", "position",
                "place", "average", "avg", "mean", "overall", "total", "model", "name", "url", "date"}
#: Cells read as missing unless a spec declares other markers (``missing = [...]``).
DEFAULT_MISSING = ("", "-")
_SPEC_KEYS = {
    "name",
    "title",
    "homepage",
    "citation",
    "scale",
    "published_decimals",
    "default_snapshot",
    "columns",
    "snapshots",
    "tasks",
    "diagnostics",
    "file",
    "missing",
}
_COLUMN_KEYS = {"system", "team", "score", "human", "id"}


def boards_dir() -> Path | None:
    """Folder of the built-in board specs: in the wheel, else the repository's ``leaderboards/``."""
    here = Path(__file__).resolve().parent
    for cand in (here / "boards", here.parent.parent / "leaderboards"):
        if cand.is_dir() and any(cand.glob("*.toml")):
            return cand
    return None


def builtin_boards() -> dict[str, Path]:
    """``{board name: spec path}`` of the built-in boards."""
    folder = boards_dir()
    return {p.stem: p for p in sorted(folder.glob("*.toml"))} if folder else {}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass(frozen=True)
class Task:
    """A task column of the board: the mean of ``columns`` (one or two snapshot columns)."""

    name: str
    columns: tuple[str, ...]
    metric: str = ""
    diagnostic: bool = False


@dataclass(frozen=True)
class Snapshot:
    """One snapshot: a CSV file with its date, source and (optionally) sha256."""

    name: str
    file: Path
    date: str = ""
    source: str = ""
    sha256: str | None = None


@dataclass
class Board:
    """A parsed board spec."""

    name: str
    title: str
    tasks: list[Task]
    snapshots: dict[str, Snapshot]
    default_snapshot: str
    diagnostics: list[Task] = field(default_factory=list)
    columns: dict[str, str | None] = field(default_factory=dict)
    homepage: str = ""
    citation: str = ""
    scale: str = ""
    published_decimals: int | None = None
    spec: str = ""
    #: Cell values that mean "no result" (counted in the table's notes); any other non-number is an error.
    missing: tuple[str, ...] = DEFAULT_MISSING
    #: For a plain CSV without a spec: which columns were taken as tasks and which were not.
    inferred: str = ""

    def snapshot(self, name: str | None = None) -> Snapshot:
        """The named snapshot (default: the board's default); raises :class:`ConfigError`."""
        key = name or self.default_snapshot
        if key not in self.snapshots:
            raise ConfigError(
                f"board {self.name!r} has no snapshot {key!r}; its snapshots are "
                f"{', '.join(self.snapshots)}"
            )
        return self.snapshots[key]

    def select_tasks(
        self, names: list[str] | None = None, *, with_diagnostics: bool = False
    ) -> list[Task]:
        """The tasks to aggregate: ``names`` (matched ignoring case and punctuation, diagnostics
        allowed) or the board's tasks, plus the diagnostics if ``with_diagnostics``.

        Raises:
            ConfigError: an unknown or repeated task name.
        """
        every = self.tasks + self.diagnostics
        if names is None:
            chosen = list(self.tasks)
        else:
            by_norm = {_norm(t.name): t for t in every}
            chosen = []
            for n in names:
                task = by_norm.get(_norm(n))
                if task is None:
                    raise ConfigError(
                        f"board {self.name!r} has no task {n!r}; its tasks are "
                        f"{', '.join(t.name for t in self.tasks)}; diagnostics "
                        f"{', '.join(t.name for t in self.diagnostics) or '(none)'}"
                    )
                if task in chosen:
                    raise ConfigError(f"task {task.name!r} is listed twice in --tasks")
                chosen.append(task)
        if with_diagnostics:
            chosen += [t for t in self.diagnostics if t not in chosen]
        if not chosen:
            raise ConfigError(f"board {self.name!r}: no tasks selected")
        return chosen


def _tasks(items: Any, where: str, *, diagnostic: bool) -> list[Task]:
    key = "diagnostics" if diagnostic else "tasks"
    if items is None:
        return []
    if not isinstance(items, list):
        raise ConfigError(f"{where}: '{key}' must be an array of tables ([[{key}]])")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ConfigError(f"{where}: {key}[{i}] needs a 'name' string")
        cols = item.get("columns", [item["name"]])
        if isinstance(cols, str):
            cols = [cols]
        if not isinstance(cols, list) or not cols or not all(isinstance(c, str) for c in cols):
            raise ConfigError(
                f"{where}: {key}[{i}] ({item['name']}): 'columns' must be a non-empty list of names"
            )
        unknown = set(item) - {"name", "columns", "metric"}
        if unknown:
            raise ConfigError(
                f"{where}: {key}[{i}] has unknown keys {sorted(unknown)}; "
                "allowed: name, columns, metric"
            )
        out.append(Task(item["name"], tuple(cols), str(item.get("metric", "")), diagnostic))
    return out


def _columns(doc: dict[str, Any], where: str) -> dict[str, str | None]:
    """The ``[columns]`` table of a spec over the defaults (``system`` column named ``system``)."""
    columns: dict[str, str | None] = {
        "system": "system",
        "team": None,
        "score": None,
        "human": None,
        "id": None,
    }
    given = doc.get("columns", {})
    if not isinstance(given, dict) or set(given) - _COLUMN_KEYS:
        raise ConfigError(f"{where}: [columns] may set {', '.join(sorted(_COLUMN_KEYS))}")
    columns.update({k: str(v) for k, v in given.items()})
    return columns


def _snapshots(doc: dict[str, Any], base: Path, where: str) -> dict[str, Snapshot]:
    """The snapshots of a spec (``file = ...`` is the snapshot ``default``); files resolve from ``base``."""
    snaps: dict[str, Snapshot] = {}
    raw = doc.get("snapshots", {})
    if "file" in doc:
        raw = {"default": {"file": doc["file"]}, **raw}
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(
            f'{where}: give the data as file = "board.csv" or [snapshots.NAME] tables with a file'
        )
    for key, snap in raw.items():
        if not isinstance(snap, dict) or not isinstance(snap.get("file"), str):
            raise ConfigError(f"{where}: snapshot {key!r} needs a 'file' string")
        extra = set(snap) - {"file", "date", "source", "sha256"}
        if extra:
            raise ConfigError(f"{where}: snapshot {key!r} has unknown keys {sorted(extra)}")
        snaps[str(key)] = Snapshot(
            str(key),
            (base / snap["file"]).resolve(),
            str(snap.get("date", "")),
            str(snap.get("source", "")),
            snap.get("sha256"),
        )
    return snaps


def board_from_dict(doc: dict[str, Any], *, base: Path, name: str, where: str) -> Board:
    """Build a :class:`Board` from a parsed spec; relative snapshot files resolve from ``base``.

    Raises:
        ConfigError: unknown keys, missing tasks or snapshots, malformed entries.
    """
    unknown = set(doc) - _SPEC_KEYS
    if unknown:
        raise ConfigError(
            f"{where}: unknown keys {sorted(unknown)}; allowed: {', '.join(sorted(_SPEC_KEYS))}"
        )
    columns = _columns(doc, where)
    snaps = _snapshots(doc, base, where)
    tasks = _tasks(doc.get("tasks"), where, diagnostic=False)
    if not tasks:
        raise ConfigError(f"{where}: a board needs at least one [[tasks]] entry")
    default = str(doc.get("default_snapshot", next(iter(snaps))))
    markers = doc.get("missing", list(DEFAULT_MISSING))
    if not isinstance(markers, list) or not all(isinstance(m, str) for m in markers):
        raise ConfigError(f'{where}: missing must be a list of strings, e.g. missing = ["", "-", "n/a"]')
    decimals = doc.get("published_decimals")
    board = Board(
        name=str(doc.get("name", name)),
        title=str(doc.get("title", doc.get("name", name))),
        tasks=tasks,
        snapshots=snaps,
        default_snapshot=default,
        diagnostics=_tasks(doc.get("diagnostics"), where, diagnostic=True),
        columns=columns,
        homepage=str(doc.get("homepage", "")),
        citation=str(doc.get("citation", "")),
        scale=str(doc.get("scale", "")),
        published_decimals=int(decimals) if decimals is not None else None,
        spec=where,
        missing=tuple(m.strip() for m in markers),
    )
    board.snapshot()  # the default must exist
    names = [t.name for t in board.tasks + board.diagnostics]
    if len({_norm(n) for n in names}) != len(names):
        raise ConfigError(
            f"{where}: task names must be unique (ignoring case and punctuation): {names}"
        )
    return board


def _system_column(frame: Any, columns: list[str]) -> str:
    """``system``, else a ``model``/``name``/``submission`` column, else the first non-numeric column."""
    import pandas as pd

    for wanted in ("system", "model", "name", "submission", "team"):
        for c in columns:
            if _norm(c) == wanted:
                return c
    for c in columns:
        if pd.to_numeric(frame[c].astype(str).str.strip(), errors="coerce").isna().any():
            return c
    return columns[0]


def _csv_board(path: Path) -> Board:
    """A board for a plain CSV without a spec: its numeric columns are the tasks.

    A column is a task when every cell is a number or a missing marker (``""``, ``"-"``), and its
    name is not a system, team, score, rank or other bookkeeping column (:data:`META_COLUMNS`,
    ignoring case: ``Rank`` is not a task). A column that is mostly numbers with a few other cells
    is an error naming them (never silently dropped). :attr:`Board.inferred` says which columns
    were taken, and the command prints it before the table.
    """
    import pandas as pd

    from evalkit import read_delimited

    frame = read_delimited(path)
    columns = [str(c) for c in frame.columns if c != "_line"]
    system = _system_column(frame, columns)
    tasks: list[str] = []
    skipped: list[str] = []
    for c in columns:
        if c == system or _norm(c) in {_norm(m) for m in META_COLUMNS} or _norm(c).endswith("rank"):
            skipped.append(c)
            continue
        text = frame[c].astype(str).str.strip()
        present = ~text.isin(DEFAULT_MISSING)
        numeric = pd.to_numeric(text[present], errors="coerce").notna()
        if numeric.all() and present.any():
            tasks.append(c)
        elif numeric.sum() * 2 > present.sum():
            bad = text[present][~numeric]
            i = int(bad.index[0])
            raise DataError(
                f"{path}:{frame['_line'].iloc[i]}: row {i + 1} (system {frame[system].iloc[i].strip()!r}), column "
                f"{c!r} has {bad.iloc[0]!r}, not a number ({len(bad)} such cell(s)); the column is otherwise "
                "numeric. Fix the cell, leave it empty or '-' for a missing result, or give a board spec."
            )
        else:
            skipped.append(c)
    if not tasks:
        raise DataError(f"{path}: no numeric task columns (columns: {', '.join(columns)})")
    cols = {
        "system": system,
        "team": "team" if "team" in columns else None,
        "score": "score" if "score" in columns else None,
        "human": "is_human" if "is_human" in columns else None,
        "id": "row_id" if "row_id" in columns else None,
    }
    inferred = (f"{path.name} has no board spec: averaging its numeric columns {', '.join(tasks)}"
                + (f"; not tasks: {', '.join(skipped)}" if skipped else ""))
    return Board(
        path.stem,
        path.stem,
        [Task(c, (c,)) for c in tasks],
        {"file": Snapshot("file", path.resolve())},
        "file",
        columns=cols,
        spec=str(path),
        inferred=inferred,
    )


def load_board(name_or_path: str) -> Board:
    """A built-in board by name (``glue``), a TOML board spec, or a plain CSV file.

    Raises:
        ConfigError: unknown board, unreadable or invalid spec (TOML errors with line and column).
        DataError: an unreadable CSV.
    """
    boards = builtin_boards()
    if name_or_path.lower() in boards:
        path = boards[name_or_path.lower()]
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise ConfigError(
                f"board {name_or_path!r} is neither a built-in board "
                f"({', '.join(boards) or 'none found'}) nor an existing .toml or .csv file"
            )
        if path.suffix.lower() == ".csv":
            return _csv_board(path)
    doc = read_toml(path, what="board spec")
    return board_from_dict(doc, base=path.parent, name=path.stem, where=str(path))
