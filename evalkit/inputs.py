"""Checks of what flows between the runner and plugins: loaded splits and predicted scores.

- :func:`load_split`: a dataset's ``load`` called as plugin code, then the frame checked: a
  DataFrame with text columns ``sentence1``/``sentence2`` and the gold column, at least one row,
  and no empty or whitespace-only text (a :class:`~evalkit.errors.DataError` naming the rows, and
  the file lines where the frame has a ``line`` column). A dataset that drops such rows under a
  policy (``pairs``' ``on_empty="drop"``) says so in ``frame.attrs["evalkit_notes"]``, which the
  tables print.
- :func:`real_scores`: a method's predictions as one finite real float64 per pair, or the reason
  they are not (complex numbers, text, a 2-D array, a wrong length, NaN/inf at named rows).
- :func:`class_notes`: the notes for pair-classification gold with a single class.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import DataError, PluginError
from evalkit.guard import describe, origin, plugin_call

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from evalkit.interfaces import Dataset

#: Key of ``DataFrame.attrs`` holding notes a dataset wants printed under the tables.
NOTES_ATTR = "evalkit_notes"


def _rows_text(frame: pd.DataFrame, mask: Any) -> str:
    import numpy as np

    idx = np.flatnonzero(np.asarray(mask))
    if "line" in frame.columns:
        where = f"line(s) {frame['line'].to_numpy()[idx[:10]].tolist()}"
    else:
        where = f"row(s) {idx[:10].tolist()} (0-based)"
    return where + (f" and {idx.size - 10} more" if idx.size > 10 else "")


def empty_text_mask(frame: pd.DataFrame) -> Any:
    """Boolean array: rows whose ``sentence1`` or ``sentence2`` is empty or whitespace only."""
    import numpy as np

    mask = np.zeros(len(frame), dtype=bool)
    for col in ("sentence1", "sentence2"):
        mask |= frame[col].astype(str).str.strip().eq("").to_numpy()
    return mask


def check_frame(ds: Dataset, split: str, frame: Any) -> pd.DataFrame:
    """Raise unless ``frame`` is a usable split of ``ds`` (see the module docstring); returns it."""
    import pandas as pd

    ctx = origin(ds)
    if not isinstance(frame, pd.DataFrame):
        raise PluginError(f"{describe(ctx)}: load({split!r}) returned {type(frame).__name__}, not a DataFrame",
                          call="load", **ctx)
    need = ["sentence1", "sentence2", ds.target]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise PluginError(f"{describe(ctx)}: load({split!r}) returned a frame without column(s) {missing}; "
                          f"it has {list(frame.columns)}", call="load", **ctx)
    name = ds.display_name
    if frame.empty:
        raise DataError(f"dataset {name!r}, split {split!r}: no rows to evaluate")
    bad = empty_text_mask(frame)
    if bad.any():
        raise DataError(
            f"dataset {name!r}, split {split!r}: {int(bad.sum())} pair(s) with an empty or whitespace-only "
            f"text at {_rows_text(frame, bad)}; a similarity of an empty text means nothing. Fix the file, or "
            "drop them with the dataset's policy where it has one (pairs: params.on_empty = \"drop\")."
        )
    return frame


def load_split(ds: Dataset, split: str, data_dir: Path) -> pd.DataFrame:
    """``ds.load(split, data_dir)`` as plugin code, then :func:`check_frame`."""
    frame = plugin_call(ds, f"load({split!r})", ds.load, split, data_dir)
    return check_frame(ds, split, frame)


def real_scores(raw: Any, n: int) -> tuple[str | None, np.ndarray]:
    """``(problem or None, float64 scores)`` for a method's output ``raw`` on ``n`` pairs."""
    import numpy as np

    empty = np.zeros(0)
    try:
        arr = np.asarray(raw)
    except Exception as exc:  # ragged sequences and other objects numpy refuses
        return f"{type(raw).__name__} that is not an array ({exc})", empty
    if np.iscomplexobj(arr):
        return f"complex numbers (dtype {arr.dtype}); scores must be real", empty
    if arr.dtype.kind not in "biuf":
        return f"values of dtype {arr.dtype} ({type(raw).__name__}), not real numbers", empty
    if arr.ndim != 1:
        return f"an array of shape {arr.shape}; expected shape ({n},), one score per pair", empty
    if arr.shape[0] != n:
        return f"{arr.shape[0]} scores for {n} pairs", empty
    pred = arr.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(pred))
    if bad.size:
        more = f" (and {bad.size - 10} more)" if bad.size > 10 else ""
        return f"{bad.size} non-finite scores (NaN or inf) at rows {bad[:10].tolist()}{more}", empty
    return None, pred


def class_notes(references: Any, *, where: str, role: str = "evaluated") -> list[str]:
    """A note when 0/1 gold holds a single class (F1, accuracy and AP are then not informative)."""
    import numpy as np

    ref = np.asarray(references, dtype=np.float64)
    if ref.size == 0:
        return []
    values = np.unique(ref)
    if values.size != 1:
        return []
    label = "positive" if values[0] == 1 else "negative"
    return [f"{where}: all {ref.size} {role} labels are {int(values[0])} ({label}), one class only: "
            "threshold metrics and average precision are not informative on these rows"]


def split_notes(ds: Dataset, split: str, frame: pd.DataFrame, *, role: str = "evaluated") -> list[str]:
    """Notes for the tables about one loaded split: a dataset's own notes and a single gold class."""
    notes = [str(n) for n in frame.attrs.get(NOTES_ATTR, [])]
    if ds.task_type == "pair_classification" and ds.target in frame.columns:
        notes += class_notes(frame[ds.target].to_numpy(), where=f"{ds.display_name}/{split}", role=role)
    return notes
