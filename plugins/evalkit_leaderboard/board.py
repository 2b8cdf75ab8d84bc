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

#: Columns of a plain CSV board that are never tasks.
META_COLUMNS = {"row_id", "rank", "team", "system", "score", "is_human", "cross_check"}
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
    tasks = _tasks(doc.get("tasks"), where, diagnostic=False)
    if not tasks:
        raise ConfigError(f"{where}: a board needs at least one [[tasks]] entry")
    default = str(doc.get("default_snapshot", next(iter(snaps))))
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
    )
    board.snapshot()  # the default must exist
    names = [t.name for t in board.tasks + board.diagnostics]
    if len({_norm(n) for n in names}) != len(names):
        raise ConfigError(
            f"{where}: task names must be unique (ignoring case and punctuation): {names}"
        )
    return board


def _csv_board(path: Path) -> Board:
    """A board for a plain CSV: every numeric column not in :data:`META_COLUMNS` is a task."""
    import pandas as pd

    try:
        frame = pd.read_csv(path, nrows=200)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    system = "system" if "system" in frame.columns else str(frame.columns[0])
    tasks = [
        Task(str(c), (str(c),))
        for c in frame.columns
        if c not in META_COLUMNS and c != system and pd.api.types.is_numeric_dtype(frame[c])
    ]
    if not tasks:
        raise DataError(
            f"{path}: no numeric task columns (besides {', '.join(sorted(META_COLUMNS))})"
        )
    cols = {
        "system": system,
        "team": "team" if "team" in frame.columns else None,
        "score": "score" if "score" in frame.columns else None,
        "human": "is_human" if "is_human" in frame.columns else None,
        "id": "row_id" if "row_id" in frame.columns else None,
    }
    return Board(
        path.stem,
        path.stem,
        tasks,
        {"file": Snapshot("file", path.resolve())},
        "file",
        columns=cols,
        spec=str(path),
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
