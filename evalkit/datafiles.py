"""Public helpers for plugins that read data files: locate, fetch, verify and parse them.

This module is part of evalkit's public plugin API (see the API reference): a dataset plugin, built
in or third-party, imports what it needs from here and from the top-level :mod:`evalkit` package,
never from evalkit's internal modules.

Where files live:

- :func:`resolve_data_dir`: the data directory (``--data-dir``, else ``$EVALKIT_DATA_DIR``, else
  ``<user cache>/evalkit/data``); :func:`user_cache_dir` is the per-user cache folder.
- :func:`locate`: find each :class:`DataFile` of a dataset, downloading a missing one from its
  official ``url`` (a file, or a ``member`` of a ``.zip``/``.tar.gz`` archive) into the user cache
  unless ``$EVALKIT_OFFLINE`` is set; returns :class:`LocatedFile` records with the actual sha256.
- :func:`fetch`: download one file and check its sha256.
- :func:`sha256_file` / :func:`verify_sha256`: the hex sha256 of a file; check it against the
  official digest.

Reading (every error is a :class:`evalkit.DataError` or :class:`evalkit.ConfigError` naming the
file and, where there is one, the line and column):

- :func:`read_fields` (tab-separated, no quote handling), :func:`parse_float`, :func:`check_rows`;
- :func:`read_delimited` and :func:`read_jsonl_frame` (a CSV/TSV or JSON Lines file as a pandas
  DataFrame), :func:`read_jsonl` (JSON Lines records);
- :func:`read_toml` (a TOML file as a ``dict``).
"""

from __future__ import annotations

from pathlib import Path

from evalkit.data import (
    LocatedFile,
    check_rows,
    fetch,
    locate,
    parse_float,
    read_fields,
    read_jsonl,
    resolve_data_dir,
    sha256_file,
    user_cache_dir,
)
from evalkit.errors import DataError
from evalkit.interfaces import DataFile
from evalkit.suite import read_toml
from evalkit.tabular import read_delimited, read_jsonl_frame

__all__ = [
    "DataFile",
    "LocatedFile",
    "check_rows",
    "fetch",
    "locate",
    "parse_float",
    "read_delimited",
    "read_fields",
    "read_jsonl",
    "read_jsonl_frame",
    "read_toml",
    "resolve_data_dir",
    "sha256_file",
    "user_cache_dir",
    "verify_sha256",
]


def verify_sha256(path: Path | str, expected: str | None, *, dataset: str | None = None) -> str:
    """Check that the file at ``path`` has the hex sha256 digest ``expected``; return its digest.

    ``expected`` of ``None`` (no official digest known) accepts any file. The comparison ignores
    the case of the hex digits. Use it where a file must match exactly; :func:`locate` only warns
    on a mismatch (the actual digest goes into the run's provenance).

    Args:
        path: the file to check.
        expected: the official sha256, 64 hex digits, or ``None``.
        dataset: a dataset name for the error message.

    Returns:
        The file's sha256, 64 lowercase hex digits.

    Raises:
        DataError: the file cannot be read, or its digest differs from ``expected`` (the message
            names the file, both digests and the dataset).
    """
    file = Path(path)
    try:
        actual = sha256_file(file)
    except OSError as exc:
        raise DataError(f"cannot read {file}: {exc}") from None
    if expected is not None and actual != expected.strip().lower():
        owner = f" of dataset {dataset!r}" if dataset else ""
        raise DataError(
            f"{file}: sha256 {actual} differs from the official {expected.strip().lower()}{owner}; the file "
            "is damaged, truncated or not the official release. Replace it with the official file."
        )
    return actual
