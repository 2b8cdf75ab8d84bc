"""``pairs``: a user's own sentence pairs from a CSV, TSV or JSONL file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit import ConfigError, DataError, DataFile, Dataset, read_delimited, read_jsonl_frame

if TYPE_CHECKING:
    import pandas as pd

FORMATS = ("csv", "tsv", "jsonl")
#: Split names a split column may hold unless ``splits`` declares others.
DEFAULT_SPLITS = ("train", "dev", "validation", "test")
ON_EMPTY = ("error", "drop")


class PairsFile(Dataset):
    """Your own sentence pairs from a CSV, TSV or JSONL file, with a column mapping.

    Parameters:
        path: the file (a relative path is looked up in the working directory first, then in
            the data directory).
        format: ``csv``, ``tsv`` or ``jsonl``; default from the extension (``.txt`` = tsv).
        sentence1, sentence2: column names of the two texts.
        target: the file's column of the gold value (default ``score`` for similarity, ``label``
            for 0/1 labels); the loaded frame calls it ``score`` or ``label`` whatever its name.
        task_type: ``sts`` (float score) or ``pair_classification`` (0/1 label).
        split_column: column holding the split name (rows are then selected by split); without it
            every row is in split ``test``.
        splits: the split names the split column may hold (default ``train``, ``dev``,
            ``validation``, ``test``). Values are matched exactly: a value that is not one of them
            (``Test``, ``test ``) is an error listing each such value and its lines, never a
            silently dropped row.
        quoting: for csv/tsv, whether ``"`` quotes fields (``minimal``, pandas' default for CSV)
            or is an ordinary character (``none``, the default for TSV as in the STS files).
        dev_split: the value of ``split_column`` whose rows tune what is tunable (the threshold of
            auto-threshold F1/accuracy under ``--tune-on dev``), e.g. ``dev``; needs
            ``split_column``. Without it tuned metrics cross-fit on the evaluated rows.
        on_empty: pairs with an empty or whitespace-only text: ``error`` (default; names the
            lines) or ``drop`` (left out; the tables' notes say how many and which lines).

    Lines in messages are physical lines of the file (quoted newlines and blank lines counted).

    Raises (on load):
        DataError: missing, empty (0 bytes) or header-only file; invalid UTF-8 (byte offset, line,
            column); duplicated or missing column; a record with the wrong number of fields; a split
            value matching no split; empty texts; a non-numeric or non-finite target, a label
            outside {0, 1} (each naming file and lines).
    """

    name = "pairs"
    task_type = "sts"
    splits = ("test",)
    eval_splits = ("test",)

    def __init__(
        self,
        *,
        path: str = "",
        format: str | None = None,
        sentence1: str = "sentence1",
        sentence2: str = "sentence2",
        target: str | None = None,
        task_type: str = "sts",
        split_column: str | None = None,
        splits: list[str] | tuple[str, ...] | None = None,
        quoting: str | None = None,
        dev_split: str | None = None,
        on_empty: str = "error",
    ) -> None:
        self.path = path
        self.format = format
        self.sentence1 = sentence1
        self.sentence2 = sentence2
        #: The file's gold column; the loaded frame always calls it ``score`` or ``label``.
        self.target_column = target or ("label" if task_type == "pair_classification" else "score")
        self.target = "label" if task_type == "pair_classification" else "score"  # type: ignore[misc]
        self.task_type = task_type  # type: ignore[misc]
        self.split_column = split_column
        self.quoting = quoting
        self.dev_split = dev_split  # type: ignore[misc]
        self.on_empty = on_empty
        self.splits = tuple(splits) if splits is not None else (DEFAULT_SPLITS if split_column else ("test",))  # type: ignore[misc,assignment]
        if dev_split is not None and dev_split not in self.splits:
            self.splits = (*self.splits, dev_split)  # type: ignore[misc,assignment]
        if on_empty not in ON_EMPTY:
            raise ConfigError(f"dataset 'pairs': on_empty must be 'error' or 'drop', not {on_empty!r}")
        if not self.splits or not all(isinstance(x, str) and x for x in self.splits):
            raise ConfigError(f"dataset 'pairs': splits must be a non-empty list of names, not {splits!r}")
        if not path:
            raise ConfigError("dataset 'pairs' needs params.path (the CSV, TSV or JSONL file)")
        if task_type not in ("sts", "pair_classification"):
            raise ConfigError(f"dataset 'pairs': task_type must be 'sts' or 'pair_classification', not {task_type!r}")
        fmt = format or {".csv": "csv", ".tsv": "tsv", ".txt": "tsv", ".jsonl": "jsonl", ".json": "jsonl"}.get(
            Path(path).suffix.lower())
        if fmt not in FORMATS:
            raise ConfigError(f"dataset 'pairs': cannot tell the format of {path!r}; pass format = csv, tsv or jsonl")
        self._fmt = fmt
        if dev_split is not None and not split_column:
            raise ConfigError(
                f"dataset 'pairs': dev_split={dev_split!r} needs split_column (the column naming each row's split)"
            )

    def get_params(self) -> dict[str, Any]:
        """The constructor's parameters; ``target`` is the file's gold column as given."""
        params = super().get_params()
        params["target"] = self.target_column
        params["splits"] = list(self.splits)
        return params

    def files(self, split: str | None = None) -> list[DataFile]:
        p = Path(self.path).expanduser()
        return [DataFile(str(p.resolve()) if p.is_file() else self.path)]

    def describe_split(self, split: str) -> str:
        """``the rows of pairs.tsv whose split is 'dev'`` (or ``the <split> split`` without a column)."""
        if not self.split_column:
            return super().describe_split(split)
        return f"the rows of {Path(self.path).name} whose {self.split_column} is {split!r}"

    def check_split(self, split: str) -> None:
        if self.split_column is None and split != "test":
            raise ConfigError(
                f"dataset {self.display_name!r} has no split column, so its only split is 'test'"
                f" (asked for {split!r}); set params.split_column"
            )
        if split not in self.splits:
            raise ConfigError(f"dataset {self.display_name!r} has no split {split!r}; its splits are "
                              f"{', '.join(self.splits)} (declare others with params.splits)")

    def _resolve(self, data_dir: Path) -> Path:
        p = Path(self.path).expanduser()
        for cand in ([p] if p.is_absolute() else [p, data_dir / p]):
            if cand.is_file():
                return cand
        raise DataError(
            f"dataset {self.display_name!r}: file {self.path!r} not found "
            f"(looked in {data_dir} and the working directory)"
        )

    def _read(self, path: Path) -> pd.DataFrame:
        if self._fmt == "jsonl":
            return read_jsonl_frame(path)
        quoting = self.quoting or ("minimal" if self._fmt == "csv" else "none")
        if quoting not in ("minimal", "none"):
            raise ConfigError(f"dataset 'pairs': quoting must be 'minimal' or 'none', not {quoting!r}")
        return read_delimited(path, sep="," if self._fmt == "csv" else "\t", quoting=quoting)

    def _select_split(self, df: pd.DataFrame, split: str, path: Path) -> pd.DataFrame:
        """The rows of ``split``; any value of the split column that is no declared split is an error."""
        col = str(self.split_column)
        values = df[col].astype(str)
        unknown = values[~values.isin(self.splits)]
        if not unknown.empty:
            listed = []
            for value, lines in df.loc[unknown.index].groupby(values[unknown.index], sort=False)["_line"]:
                near = [s for s in self.splits if s.lower() == str(value).strip().lower()]
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                listed.append(f"{value!r}{hint} at line(s) {lines.tolist()[:10]}")
            raise DataError(
                f"{path}: column {col!r} has values that match no split exactly: {'; '.join(listed)}. "
                f"Splits: {', '.join(self.splits)}. Fix the values, or declare the splits with params.splits."
            )
        out = df[values == split]
        if out.empty:
            raise DataError(f"{path}: no rows with {col} == {split!r}; the column holds "
                            f"{sorted(set(values))}")
        return out

    def load(self, split: str, data_dir: Path) -> pd.DataFrame:
        import numpy as np
        import pandas as pd

        self.check_split(split)
        path = self._resolve(data_dir)
        df = self._read(path)
        needed = [self.sentence1, self.sentence2, self.target_column]
        needed += [self.split_column] if self.split_column else []
        missing = [c for c in needed if c not in df.columns]
        if missing:
            present = [c for c in df.columns if c != "_line"]
            raise DataError(f"{path}: missing column(s) {missing}; the file has {present}. "
                            "Map yours with params sentence1/sentence2/target.")
        if self.split_column:
            df = self._select_split(df, split, path)
        notes = []
        empty = (df[self.sentence1].astype(str).str.strip().eq("")
                 | df[self.sentence2].astype(str).str.strip().eq(""))
        if empty.any():
            lines = df.loc[empty, "_line"].tolist()
            shown = f"{lines[:10]}" + (f" and {len(lines) - 10} more" if len(lines) > 10 else "")
            if self.on_empty == "error":
                raise DataError(f"{path}: {len(lines)} pair(s) with an empty or whitespace-only text at line(s) "
                                f"{shown}; fix them, or drop them with params.on_empty = \"drop\"")
            df = df[~empty]
            notes.append(f"{self.display_name}/{split}: {len(lines)} pair(s) with an empty text dropped "
                         f"(on_empty=drop), line(s) {shown}")
            if df.empty:
                raise DataError(f"{path}: every pair of split {split!r} has an empty text")
        values = pd.to_numeric(df[self.target_column].astype(str).str.strip(), errors="coerce")
        bad = df.loc[values.isna() | ~np.isfinite(values.astype(float)), "_line"].tolist()
        if bad:
            first = df.loc[df["_line"] == bad[0], self.target_column].iloc[0]
            raise DataError(f"{path}: column {self.target_column!r} is not a finite number at line(s) {bad[:10]} "
                            f"(line {bad[0]} has {first!r})")
        out = pd.DataFrame({
            "sentence1": df[self.sentence1].astype(str).str.strip().to_numpy(),
            "sentence2": df[self.sentence2].astype(str).str.strip().to_numpy(),
        })
        if self.task_type == "pair_classification":
            not01 = df.loc[~values.isin([0, 1]), "_line"].tolist()
            if not01:
                raise DataError(f"{path}: column {self.target_column!r} must be 0 or 1, not at line(s) {not01[:10]}")
            out["label"] = values.astype("int64").to_numpy()
        else:
            out["score"] = values.astype("float64").to_numpy()
        out["line"] = df["_line"].to_numpy()
        out.attrs["evalkit_notes"] = notes
        return out
