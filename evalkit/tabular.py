"""Reading users' CSV, TSV and JSON Lines files with the exact place of every problem.

Every row keeps the *physical* line where its record starts (``_line``, 1-based): quoted fields
spanning several lines and blank lines are counted, so ``file:line`` points at what an editor
shows. Problems are :class:`~evalkit.errors.DataError` s naming the file and, where it applies, the
line and column:

- a 0-byte file, or a file with a header and no data rows;
- bytes that are not valid UTF-8: the byte offset in the file, and the line and column it falls on;
- duplicated column names (pandas would silently rename the second ``a`` to ``a.1``);
- a record with more or fewer fields than the header, or a quoted field never closed;
- in JSON Lines, invalid JSON (line and column), a line that is not an object, a repeated key.

A UTF-8 byte-order mark is ignored; ``.gz`` files are decompressed. Cells are strings, exactly as
in the file (no NA guessing: ``n/a`` stays ``"n/a"``); callers parse and check them.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

LINE = "_line"


def read_bytes(path: Path) -> bytes:
    """The file's bytes (``.gz`` decompressed). Raises :class:`DataError` if unreadable or 0 bytes."""
    import gzip

    path = Path(path)
    try:
        raw = path.read_bytes()
        if path.name.lower().endswith(".gz"):
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not raw:
        raise DataError(f"{path}: the file is empty (0 bytes)")
    return raw


def decode(raw: bytes, path: Path, encoding: str = "utf-8") -> str:
    """``raw`` decoded; an invalid byte is a :class:`DataError` naming its offset, line and column."""
    if encoding.lower().replace("-", "") == "utf8" and raw.startswith(b"\xef\xbb\xbf"):
        raw, shift = raw[3:], 3
    else:
        shift = 0
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        start = exc.start
        line = raw.count(b"\n", 0, start) + 1
        col = start - (raw.rfind(b"\n", 0, start) + 1) + 1
        bad = raw[start:exc.end].hex(" ")
        raise DataError(
            f"{path}:{line}:{col}: not valid {encoding}: byte 0x{bad} at byte offset {start + shift} "
            f"(line {line}, byte {col} of the line): {exc.reason}. Save the file as {encoding}."
        ) from None


def _header(names: list[str], path: Path, line: int) -> list[str]:
    names = [n.strip() for n in names]
    names = [n or f"Unnamed: {i}" for i, n in enumerate(names)]
    seen: dict[str, list[int]] = {}
    for i, n in enumerate(names, start=1):
        seen.setdefault(n, []).append(i)
    dup = {n: cols for n, cols in seen.items() if len(cols) > 1}
    if dup:
        listed = "; ".join(f"{n!r} in columns {cols}" for n, cols in dup.items())
        raise DataError(f"{path}:{line}: duplicated column name(s): {listed}; each column needs its own name")
    if LINE in names:
        raise DataError(f"{path}:{line}: column name {LINE!r} is reserved by evalkit")
    return names


def read_delimited(path: Path, *, sep: str = ",", quoting: str = "minimal",
                   encoding: str = "utf-8") -> pd.DataFrame:
    """A CSV/TSV file as a frame of strings plus ``_line`` (see the module docstring).

    Args:
        path: the file (``.gz`` allowed).
        sep: field separator (``","`` or ``"\\t"``).
        quoting: ``minimal`` (``"`` quotes fields, RFC 4180) or ``none`` (``"`` is an ordinary
            character, as in the official STS files).
        encoding: text encoding (default UTF-8, a BOM is ignored).

    Raises:
        DataError: see the module docstring.
    """
    import pandas as pd

    path = Path(path)
    text = decode(read_bytes(path), path, encoding)
    if quoting not in ("minimal", "none"):
        raise ValueError(f"quoting must be 'minimal' or 'none', not {quoting!r}")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True,
                        quoting=csv.QUOTE_MINIMAL if quoting == "minimal" else csv.QUOTE_NONE)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    prev = 0
    while True:
        start = prev + 1
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DataError(f"{path}:{start}: cannot parse this record ({exc}); a quoted field opened here "
                            "may never be closed") from None
        prev = reader.line_num
        if not rec or (len(rec) == 1 and not rec[0].strip()):
            continue
        if header is None:
            header = _header(rec, path, start)
            continue
        if len(rec) != len(header):
            raise DataError(f"{path}:{start}: expected {len(header)} fields (as in the header), found {len(rec)}")
        rows.append(rec)
        lines.append(start)
    if header is None:
        raise DataError(f"{path}: no header line, only blank lines")
    if not rows:
        raise DataError(f"{path}: a header ({', '.join(header)}) but no data rows")
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    frame[LINE] = lines
    return frame


def _no_duplicates(path: Path, line: int) -> Any:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise DataError(f"{path}:{line}: key {k!r} appears twice in one object")
            out[k] = v
        return out

    return hook


def read_jsonl_records(path: Path) -> list[dict[str, Any]]:
    """Records of a JSON Lines file, each with its line in ``_line``; blank lines skipped.

    Raises:
        DataError: see the module docstring; also a file with no record.
    """
    path = Path(path)
    text = decode(read_bytes(path), path)
    recs: list[dict[str, Any]] = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line, object_pairs_hook=_no_duplicates(path, lineno))
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
        if not isinstance(rec, dict):
            raise DataError(f"{path}:{lineno}: expected one JSON object per line, found {type(rec).__name__}")
        if LINE in rec:
            raise DataError(f"{path}:{lineno}: key {LINE!r} is reserved by evalkit")
        rec[LINE] = lineno
        recs.append(rec)
    if not recs:
        raise DataError(f"{path}: no JSON records, only blank lines")
    return recs


def read_jsonl_frame(path: Path) -> pd.DataFrame:
    """A JSON Lines file as a frame of strings (``null`` -> ``""``) plus ``_line``."""
    import pandas as pd

    recs = [{k: (v if k == LINE else "" if v is None else v if isinstance(v, str) else json.dumps(v)
                 if isinstance(v, (list, dict)) else str(v)) for k, v in rec.items()}
            for rec in read_jsonl_records(path)]
    return pd.DataFrame.from_records(recs).fillna("")
