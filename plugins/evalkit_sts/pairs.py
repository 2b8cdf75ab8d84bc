"""``pairs``: a user's own sentence pairs from a CSV, TSV or JSONL file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit import ConfigError, DataError, DataFile, Dataset
from evalkit.data import read_jsonl

if TYPE_CHECKING:
    import pandas as pd

FORMATS = ("csv", "tsv", "jsonl")


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
        quoting: for csv/tsv, whether ``"`` quotes fields (``minimal``, pandas' default for CSV)
            or is an ordinary character (``none``, the default for TSV as in the STS files).
        dev_split: the value of ``split_column`` whose rows tune what is tunable (the threshold of
            auto-threshold F1/accuracy under ``--tune-on dev``), e.g. ``dev``; needs
            ``split_column``. Without it tuned metrics cross-fit on the evaluated rows.

    Raises (on load):
        DataError: missing file or column, unparsable line (names file and line), non-numeric or
            non-finite target, a label outside {0, 1}.
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
        quoting: str | None = None,
        dev_split: str | None = None,
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
        import csv

        import pandas as pd

        if self._fmt == "jsonl":
            recs = read_jsonl(path)
            return pd.DataFrame.from_records(recs)
        quoting = self.quoting or ("minimal" if self._fmt == "csv" else "none")
        q = {"minimal": csv.QUOTE_MINIMAL, "none": csv.QUOTE_NONE}.get(quoting)
        if q is None:
            raise ConfigError(f"dataset 'pairs': quoting must be 'minimal' or 'none', not {quoting!r}")
        try:
            df = pd.read_csv(  # type: ignore[call-overload]
                path, sep="," if self._fmt == "csv" else "\t", quoting=q, dtype=str,
                keep_default_na=False, encoding="utf-8",
            )
        except pd.errors.ParserError as exc:
            raise DataError(f"{path}: cannot parse as {self._fmt.upper()}: {exc}") from None
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: not valid UTF-8 at byte {exc.start}") from None
        df["_line"] = range(2, len(df) + 2)
        return df

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
            df = df[df[self.split_column].astype(str) == split]
            if df.empty:
                raise DataError(f"{path}: no rows with {self.split_column} == {split!r}")
        values = pd.to_numeric(df[self.target_column], errors="coerce")
        bad = df.loc[values.isna() | ~np.isfinite(values.astype(float)), "_line"].tolist()
        if bad:
            raise DataError(f"{path}: column {self.target_column!r} is not a finite number at line(s) {bad[:10]}")
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
        return out
