"""The result model: one tidy DataFrame, per-example predictions beside it, and provenance.

``results`` has one row per (method, dataset, split, metric) with columns ``method``, ``dataset``,
``split``, ``metric``, ``value`` (the metric's own scale: correlations -1..1, F1 0-1) and ``n``
(pairs scored), plus optional columns for metric extras (``threshold``, ...) and, for tuned metrics,
where their parameters were fitted (``tuned_on``, ``tuned_split``, ``n_tune``, ``oracle``; see
:mod:`evalkit.tuning`). ``predictions`` has one row per (method, dataset, split, example) with the
method's score ``prediction``, the gold ``reference`` and a ``role``: ``eval`` for evaluated rows,
``tune`` for validation rows scored only to fit tuned metrics (no ``role`` column means every row
is evaluated). A run can therefore be re-scored without re-running its methods.

Classification cells (task type ``classification``, :mod:`evalkit.classification`) store each
example's K class probabilities in the float columns ``proba_0 .. proba_{K-1}`` (class ``k`` is the
dataset's ``class_names[k]``, recorded in the run's provenance under ``datasets.<name>.classes``),
with the predicted class index (the argmax) in ``prediction`` and the gold class index in
``reference``; rows of other task types leave the ``proba_*`` columns empty.
:func:`prediction_values` reads either layout back.

A saved run is a folder holding ``results.csv``, ``predictions.csv.gz`` and ``run.json``
(provenance and the records); it is written to a temporary folder and renamed into place, so a
folder that exists is complete.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import DataError
from evalkit.provenance import Provenance

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

RESULT_COLUMNS = ["method", "dataset", "split", "metric", "value", "n"]
PREDICTION_COLUMNS = ["method", "dataset", "split", "row", "prediction", "reference", "role"]
SCHEMA_VERSION = 1
#: Prefix of the per-class probability columns of classification predictions.
PROBA_PREFIX = "proba_"


def prediction_frame(pred: Any, **columns: Any) -> pd.DataFrame:
    """The stored-predictions rows of one cell: ``columns`` (method, dataset, ...) plus ``pred``.

    ``pred`` of shape ``(n,)`` fills ``prediction``; shape ``(n, K)`` (class probabilities) fills
    ``proba_0 .. proba_{K-1}`` and puts the argmax in ``prediction``.
    """
    import numpy as np
    import pandas as pd

    arr = np.asarray(pred, dtype=np.float64)
    if arr.ndim == 2:
        probs = {f"{PROBA_PREFIX}{k}": arr[:, k] for k in range(arr.shape[1])}
        return pd.DataFrame({**columns, "prediction": arr.argmax(axis=1).astype(np.float64), **probs})
    return pd.DataFrame({**columns, "prediction": arr})


def prediction_values(group: pd.DataFrame) -> np.ndarray:
    """One cell's stored predictions as an array: ``(n, K)`` probabilities or ``(n,)`` scores.

    The ``proba_*`` columns are used when they are filled for every row of ``group`` (one cell's
    rows, in row order); otherwise the ``prediction`` column.

    Raises:
        DataError: some but not all rows have probabilities, or a probability column is partly empty.
    """
    import numpy as np

    cols = sorted((c for c in group.columns if str(c).startswith(PROBA_PREFIX)
                   and str(c)[len(PROBA_PREFIX):].isdigit()), key=lambda c: int(str(c)[len(PROBA_PREFIX):]))
    if cols:
        block = group[cols].to_numpy(dtype=np.float64)
        filled = ~np.isnan(block)
        k = int(filled.any(axis=0).sum())  # classes of this cell: the leading filled columns
        if k:
            if not filled[:, :k].all() or filled[:, k:].any():
                raise DataError(f"stored class probabilities are incomplete for {len(group)} rows "
                                f"(columns {cols[:k]}); was predictions.csv.gz edited?")
            return block[:, :k]
    return group["prediction"].to_numpy(dtype=np.float64)


def results_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The tidy results frame from per-cell records (``method``, ..., ``n`` plus extras).

    Extras present on only some rows (a ``threshold`` of tuned metrics) are missing elsewhere; an
    extra whose values are all integers keeps an integer dtype (pandas' nullable ``Int64``), so
    ``n_tune = 408`` is not written as ``408.0``.
    """
    import pandas as pd

    if not rows:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    frame = pd.DataFrame(rows)
    for col in frame.columns:
        present = [r[col] for r in rows if r.get(col) is not None]
        if col not in RESULT_COLUMNS and present and all(
            isinstance(v, int) and not isinstance(v, bool) for v in present
        ):
            frame[col] = frame[col].astype("Int64")
    return frame


def _clean(value: Any) -> Any:
    """JSON-safe scalar: numpy scalars to Python, NaN and pandas' NA to None."""
    if value is None or type(value).__name__ == "NAType":
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        with contextlib.suppress(ValueError, AttributeError):
            value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def records(results: pd.DataFrame) -> list[dict[str, Any]]:
    """``results`` as JSON-ready records; empty optional fields are left out."""
    out = []
    for row in results.to_dict(orient="records"):
        rec = {}
        for k, v in row.items():
            v = _clean(v)
            if v is None and k not in RESULT_COLUMNS:
                continue
            rec[str(k)] = v
        out.append(rec)
    return out


def git_commit(cwd: Path | None = None) -> str | None:
    """The commit checked out in ``cwd`` (default: the working directory), or ``None``.

    Read from the repository's files by :func:`evalkit.provenance.git_commit`: git is never run,
    so no hook or configured command of the repository can execute.
    """
    from evalkit.provenance import git_commit as read_commit

    return read_commit(cwd)


def _empty_provenance() -> Provenance:
    return Provenance.from_dict({})


@dataclass
class RunResult:
    """Everything a run produced.

    ``provenance`` is a typed :class:`~evalkit.provenance.Provenance`; a plain dict given or
    assigned (a saved run's JSON) is read with :meth:`~evalkit.provenance.Provenance.from_dict`.
    """

    results: pd.DataFrame
    predictions: pd.DataFrame
    provenance: Provenance = field(default_factory=_empty_provenance)
    run_dir: Path | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "provenance" and not isinstance(value, Provenance):
            value = Provenance.from_dict(value)
        super().__setattr__(name, value)

    def records(self) -> list[dict[str, Any]]:
        return records(self.results)

    def save(self, runs_dir: Path, run_id: str) -> Path:
        """Write the run to ``runs_dir / run_id`` atomically and return that folder.

        Raises:
            DataError: the folder already exists.
        """
        runs_dir.mkdir(parents=True, exist_ok=True)
        final = runs_dir / run_id
        if final.exists():
            raise DataError(f"run folder {final} already exists")
        tmp = Path(tempfile.mkdtemp(dir=runs_dir, prefix=f".tmp-{run_id}-"))
        try:
            from evalkit.fsutil import apply_umask

            apply_umask(tmp, folder=True)  # mkdtemp makes it 0700; a run folder follows the umask
            self.results.to_csv(tmp / "results.csv", index=False)
            self.predictions.to_csv(tmp / "predictions.csv.gz", index=False)
            doc = {
                "schema": SCHEMA_VERSION,
                "run_id": run_id,
                "provenance": self.provenance.to_dict(),
                "results": self.records(),
            }
            (tmp / "run.json").write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _order_after_siblings(final)
        self.run_dir = final
        return final


def _order_after_siblings(folder: Path) -> None:
    """Make ``folder``'s modification time the newest of its runs folder, so that the order of
    the folders' mtimes is the order runs were saved (what ``latest`` means), even when two runs
    are saved within one tick of the filesystem clock or the clock went back."""
    newest = 0
    for sibling in folder.parent.iterdir():
        if sibling != folder and not sibling.name.startswith(".") and sibling.is_dir():
            with contextlib.suppress(OSError):
                newest = max(newest, sibling.stat().st_mtime_ns)
    with contextlib.suppress(OSError):
        st = folder.stat()
        if st.st_mtime_ns <= newest:
            os.utime(folder, ns=(st.st_atime_ns, newest + 1))


def load_run(path: Path) -> RunResult:
    """Read a run folder written by :meth:`RunResult.save`.

    Raises:
        DataError: the folder or one of its files is missing or malformed.
    """
    import pandas as pd

    path = Path(path)
    meta_path = path / "run.json"
    if not meta_path.is_file():
        raise DataError(f"{path} is not an evalkit run folder: {meta_path.name} is missing")
    try:
        doc = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{meta_path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    try:
        results = pd.read_csv(path / "results.csv")
        preds_path = path / "predictions.csv.gz"
        predictions = (
            pd.read_csv(preds_path) if preds_path.exists() else pd.DataFrame(columns=PREDICTION_COLUMNS)
        )
    except (OSError, pd.errors.ParserError) as exc:
        raise DataError(f"{path}: cannot read run tables: {exc}") from None
    if "role" not in predictions.columns:  # runs saved before tuned metrics kept validation rows
        predictions["role"] = "eval"
    missing = [c for c in RESULT_COLUMNS if c not in results.columns]
    if missing:
        raise DataError(f"{path / 'results.csv'}: missing columns {missing}")
    return RunResult(results, predictions, doc.get("provenance", {}), path)
