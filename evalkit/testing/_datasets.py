"""Conformance checks of datasets (:class:`evalkit.Dataset`).

Datasets are checked on their metadata and file declarations everywhere; the loading checks run
where the files are available (in the data directory, ``$EVALKIT_DATA_DIR``, or at an absolute
path the dataset names) and are skipped, with the reason, where they are not.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from evalkit.interfaces import DataFile, Dataset
from evalkit.testing._base import (
    CheckSkipped,
    check,
    common_metadata,
    describe_exception,
    expect_evalkit_error,
    offline_empty_data,
    roundtrip,
    values_equal,
)

if TYPE_CHECKING:
    import pandas as pd

_SHA = re.compile(r"^[0-9a-f]{64}$")


def _available_split(ds: Dataset) -> tuple[str, Path]:
    """The first evaluation split whose files all exist, with the data directory; else skip."""
    from evalkit.data import resolve_data_dir, user_cache_dir

    roots = [resolve_data_dir(None), user_cache_dir() / "data"]
    split = ds.eval_splits[0]
    missing = [f.path for f in ds.files(split)
               if not any((Path(f.path) if Path(f.path).is_absolute() else root / f.path).is_file()
                          for root in roots)]
    if missing:
        raise CheckSkipped(
            f"data files of split {split!r} are not available under {roots[0]} (missing e.g. "
            f"{missing[0]}); set EVALKIT_DATA_DIR to run the loading checks"
        )
    return split, roots[0]


def _load(ds: Dataset, split: str, root: Path) -> pd.DataFrame:
    import pandas as pd

    try:
        frame = ds.load(split, root)
    except Exception as exc:
        raise AssertionError(f"load({split!r}) failed although its files exist: {describe_exception(exc)}") from exc
    assert isinstance(frame, pd.DataFrame), f"load() returned {type(frame).__name__}, not a DataFrame"
    return frame


@check("dataset")
def check_metadata(ds: Dataset) -> None:
    """``name``, docstring, ``task_type``, ``splits``, ``eval_splits``, ``dev_split`` and ``target``."""
    common_metadata(ds)
    cls = type(ds).__name__
    assert isinstance(ds.task_type, str) and ds.task_type, f"{cls}.task_type must be a non-empty string"
    splits = ds.splits
    assert isinstance(splits, tuple) and splits and all(isinstance(s, str) and s for s in splits), (
        f"{cls}.splits must be a non-empty tuple of split names"
    )
    assert len(set(splits)) == len(splits), f"{cls}.splits has duplicates: {splits}"
    assert isinstance(ds.eval_splits, tuple) and ds.eval_splits, f"{cls}.eval_splits must be a non-empty tuple"
    extra = [s for s in ds.eval_splits if s not in splits]
    assert not extra, f"{cls}.eval_splits names {extra}, which are not in splits {splits}"
    assert ds.dev_split is None or ds.dev_split in splits, f"{cls}.dev_split {ds.dev_split!r} is not a split"
    assert isinstance(ds.target, str) and ds.target, f"{cls}.target must name the gold column"
    if ds.task_type == "sts":
        assert ds.target == "score", f"an 'sts' dataset's gold column is 'score', not {ds.target!r}"
    if ds.task_type == "pair_classification":
        assert ds.target == "label", f"a 'pair_classification' dataset's gold column is 'label', not {ds.target!r}"
    if ds.task_type == "classification":
        assert ds.target == "label", f"a 'classification' dataset's gold column is 'label', not {ds.target!r}"
        names = ds.class_names
        assert isinstance(names, tuple) and len(names) >= 2 and all(isinstance(c, str) and c for c in names), (
            f"{cls}.class_names must be a tuple of at least 2 class names, got {names!r}")
        assert len(set(names)) == len(names), f"{cls}.class_names has duplicates: {names}"
        assert ds.train_split in ds.splits, (
            f"{cls}.train_split ({ds.train_split!r}) must be one of its splits {ds.splits}: classification "
            "methods are trained on it")
        assert ds.train_split not in ds.eval_splits, f"{cls}: the train_split must not be evaluated"
    for attr in ("target_scale", "homepage", "citation"):
        assert isinstance(getattr(ds, attr), str), f"{cls}.{attr} must be a string"


@check("dataset")
def check_files(ds: Dataset) -> None:
    """``files()`` declares each file: relative path (or absolute), sha256, URL and row count."""
    everything = ds.files(None)
    assert isinstance(everything, list), f"files() returned {type(everything).__name__}, not a list"
    all_paths = {f.path for f in everything}
    for split in (*ds.splits, None):
        files = ds.files(split)
        assert isinstance(files, list) and files, f"files({split!r}) must be a non-empty list of DataFile"
        for f in files:
            assert isinstance(f, DataFile), f"files({split!r}) holds {f!r}, not an evalkit.DataFile"
            assert isinstance(f.path, str) and f.path, f"a DataFile of split {split!r} has no path"
            if not Path(f.path).is_absolute():
                assert ".." not in PurePosixPath(f.path).parts and "\\" not in f.path, (
                    f"{f.path!r}: paths are relative to the data directory, with '/' and no '..'"
                )
            assert f.sha256 is None or bool(_SHA.match(f.sha256)), (
                f"{f.path}: sha256 must be 64 lowercase hex digits, got {f.sha256!r}"
            )
            assert f.url is None or f.url.split("://")[0] in ("http", "https", "ftp", "file"), (
                f"{f.path}: url must be http(s), ftp or file, got {f.url!r}"
            )
            assert f.rows is None or (isinstance(f.rows, int) and f.rows > 0), (
                f"{f.path}: rows must be a positive int or None, got {f.rows!r}"
            )
            if split is not None:
                assert f.path in all_paths, f"files({split!r}) has {f.path}, which files(None) lacks"


@check("dataset")
def check_unknown_split(ds: Dataset) -> None:
    """An unknown split raises an evalkit error (ConfigError) naming the splits."""
    from evalkit.errors import ConfigError

    try:
        ds.check_split("no-such-split")
    except ConfigError:
        pass
    else:
        raise AssertionError("check_split('no-such-split') did not raise ConfigError")
    with offline_empty_data() as empty, expect_evalkit_error("load('no-such-split', data_dir)"):
        ds.load("no-such-split", Path(empty))


@check("dataset")
def check_missing_files(ds: Dataset) -> None:
    """Files absent from the data directory raise an evalkit error naming them (no download)."""
    split = ds.eval_splits[0]
    relative = [f.path for f in ds.files(split) if not Path(f.path).is_absolute()]
    if not relative:
        raise CheckSkipped("the dataset reads files at absolute paths only")
    from evalkit.errors import EvalkitError

    with offline_empty_data() as empty:
        try:
            ds.load(split, Path(empty))
        except EvalkitError as exc:
            message = str(exc)
        except Exception as exc:
            raise AssertionError(
                f"load() without its files raised {describe_exception(exc)}; raise evalkit.DataError "
                "naming the missing files and where to get them"
            ) from exc
        else:
            raise AssertionError("load() succeeded with an empty data directory and downloads off")
    assert any(p in message or PurePosixPath(p).name in message for p in relative), (
        f"the error does not name a missing file (expected one of {relative[:3]}): {message}"
    )


@check("dataset")
def check_load(ds: Dataset) -> None:
    """Where the files exist: a non-empty frame of string sentences and a valid gold column."""
    import numpy as np

    split, root = _available_split(ds)
    frame = _load(ds, split, root)
    assert len(frame) > 0, f"load({split!r}) returned no rows"
    for col in ("sentence1", "sentence2", ds.target):
        assert col in frame.columns, f"load({split!r}) has no column {col!r}; columns: {list(frame.columns)}"
    for col in ("sentence1", "sentence2"):
        bad = [i for i, v in enumerate(frame[col]) if not isinstance(v, str)]
        assert not bad, f"column {col} has non-string values at rows {bad[:10]}"
    gold = frame[ds.target]
    if ds.task_type == "pair_classification":
        assert gold.dtype.kind in "iu", f"labels must be integers, got dtype {gold.dtype}"
        assert set(np.unique(gold)) <= {0, 1}, f"labels must be 0 or 1, got {sorted(set(np.unique(gold)))[:5]}"
    elif ds.task_type == "classification":
        assert gold.dtype.kind in "iu", f"labels must be integer class indices, got dtype {gold.dtype}"
        bad = sorted(set(np.unique(gold)) - set(range(len(ds.class_names))))
        assert not bad, f"labels must be class indices 0..{len(ds.class_names) - 1}, got {bad[:5]}"
    else:
        assert gold.dtype == np.float64, f"column {ds.target!r} must be float64, got {gold.dtype}"
        assert np.isfinite(gold.to_numpy()).all(), f"column {ds.target!r} has non-finite values"


@check("dataset")
def check_deterministic(ds: Dataset) -> None:
    """Where the files exist: loading twice gives equal frames."""
    split, root = _available_split(ds)
    a, b = _load(ds, split, root), _load(ds, split, root)
    assert a.equals(b), f"two loads of split {split!r} differ"


@check("dataset")
def check_pickle(ds: Dataset) -> None:
    """The dataset pickles with its parameters and file declarations."""
    clone = roundtrip(ds)
    assert values_equal(clone.get_params(), ds.get_params()), "the unpickled dataset has other params"
    assert clone.files(None) == ds.files(None), "the unpickled dataset declares other files"
