"""Finding, fetching, verifying and parsing dataset files.

Data directory, in order: an explicit ``data_dir`` (``--data-dir``), ``$EVALKIT_DATA_DIR``, then the
per-user cache directory (``<user cache>/evalkit/data``, see :func:`user_cache_dir`). A file missing
from the data directory is downloaded from its official location on first use when the dataset
declares one, checked against its sha256 and stored in the per-user cache.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from evalkit.errors import DataError
from evalkit.fsutil import apply_umask
from evalkit.interfaces import DataFile

log = logging.getLogger("evalkit.data")


def user_cache_dir() -> Path:
    """``$EVALKIT_CACHE_DIR`` or the platform's per-user cache folder for evalkit."""
    env = os.environ.get("EVALKIT_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("evalkit"))


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: ``data_dir``, else ``$EVALKIT_DATA_DIR``, else the user cache's ``data``."""
    if data_dir:
        return Path(data_dir).expanduser()
    env = os.environ.get("EVALKIT_DATA_DIR")
    if env:
        return Path(env).expanduser()
    return user_cache_dir() / "data"


_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file (memoised per path, size and mtime)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _SHA_CACHE:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        _SHA_CACHE[key] = h.hexdigest()
    return _SHA_CACHE[key]


def _download_to(url: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as resp:
            shutil.copyfileobj(resp, out)
        apply_umask(tmp)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _extract_member(archive: Path, member: str) -> bytes:
    name = archive.name.lower()
    if name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            return zf.read(member)
    with tarfile.open(archive) as tf:
        fh = tf.extractfile(member)
        if fh is None:
            raise KeyError(member)
        return fh.read()


def fetch(file: DataFile, root: Path) -> Path:
    """Download ``file`` from its official ``url`` into ``root / file.path``, verifying sha256.

    Archives are downloaded once into ``<user cache>/downloads`` and the member extracted.

    Raises:
        DataError: no URL is known, the download failed, or the sha256 does not match.
    """
    if not file.url:
        raise DataError(f"no download location is known for {file.path}")
    dest = root / file.path
    try:
        if file.member:
            archive = user_cache_dir() / "downloads" / Path(file.url).name
            if not archive.exists():
                log.info("downloading %s", file.url)
                _download_to(file.url, archive)
            payload = _extract_member(archive, file.member)
        else:
            log.info("downloading %s", file.url)
            with urllib.request.urlopen(file.url, timeout=60) as resp:
                payload = resp.read()
    except (OSError, KeyError, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise DataError(f"could not download {file.path} from {file.url}: {exc}") from None
    digest = hashlib.sha256(payload).hexdigest()
    if file.sha256 and digest != file.sha256:
        raise DataError(
            f"downloaded {file.path} from {file.url} but its sha256 is {digest}, expected "
            f"{file.sha256}; the upstream file changed or the download is corrupt."
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part-")
    with os.fdopen(fd, "wb") as out:
        out.write(payload)
    apply_umask(tmp)
    os.replace(tmp, dest)
    return dest


@dataclass(frozen=True)
class LocatedFile:
    """A data file found on disk, with its actual sha256 and whether it matches the official one."""

    spec: DataFile
    path: Path
    sha256: str

    @property
    def verified(self) -> bool | None:
        return None if self.spec.sha256 is None else self.sha256 == self.spec.sha256


def locate(
    dataset: str, files: Iterable[DataFile], data_dir: Path, *, download: bool | None = None
) -> dict[str, LocatedFile]:
    """Find every file of ``files`` under ``data_dir`` (or the download cache), fetching if needed.

    ``download``: allow downloads (default: unless ``$EVALKIT_OFFLINE`` is set). A found file whose
    sha256 differs from the official one is used with a warning (its actual digest goes into the
    run's provenance).

    Raises:
        DataError: files are missing and cannot be downloaded; the message lists each expected path
            and where to get it.
    """
    if download is None:
        download = not os.environ.get("EVALKIT_OFFLINE")
    files = list(files)
    found: dict[str, LocatedFile] = {}
    missing: list[DataFile] = []
    fallback = user_cache_dir() / "data"
    for f in files:
        for root in (data_dir, fallback):
            p = root / f.path
            if p.is_file():
                found[f.path] = LocatedFile(f, p, sha256_file(p))
                break
        else:
            missing.append(f)
    errors: list[str] = []
    for f in missing:
        if download and f.url:
            try:
                p = fetch(f, fallback)
                found[f.path] = LocatedFile(f, p, sha256_file(p))
                continue
            except DataError as exc:
                errors.append(str(exc))
        errors.append("")
    still = [f for f in files if f.path not in found]
    if still:
        lines = []
        for f in still:
            source = ""
            if f.url:
                member = f", member {f.member}" if f.member else ""
                source = f"  (official source: {f.url}{member})"
            lines.append(f"  {data_dir / f.path}{source}")
        why = "; ".join(e for e in errors if e)
        raise DataError(
            f"dataset {dataset!r} needs files that are not in the data directory {data_dir}:\n"
            + "\n".join(lines)
            + (f"\nDownload failed: {why}" if why else "")
            + "\nPut the files there, or point evalkit at a folder that has them with --data-dir "
            "or EVALKIT_DATA_DIR."
        )
    for lf in found.values():
        if lf.verified is False:
            log.warning(
                "%s: sha256 %s differs from the official %s; results may not be comparable",
                lf.path, lf.sha256, lf.spec.sha256,
            )
    return found


def read_fields(
    path: Path,
    *,
    n_fields: Collection[int],
    encoding: str = "utf-8",
    header: bool = False,
    strip: bool = True,
) -> tuple[list[str] | None, list[tuple[int, list[str]]]]:
    """Read a tab-separated file without any quote handling (``csv.QUOTE_NONE`` semantics).

    The official STS, SICK and MRPC files contain unbalanced ``"`` inside fields, so every line is
    split on tabs only. Both LF and CRLF line ends are accepted; fields are stripped of surrounding
    whitespace after splitting when ``strip``.

    Returns:
        ``(header fields or None, [(1-based line number, fields), ...])``; blank lines are skipped.

    Raises:
        DataError: a line has a number of fields not in ``n_fields`` (names file and line), or the
            file cannot be decoded with ``encoding`` (names file, line and byte column).
    """
    try:
        raw = path.read_bytes()
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        bad_line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DataError(
            f"{path}:{bad_line}:{col}: not valid {encoding} at byte offset {exc.start} (line {bad_line}, byte "
            f"{col} of the line): {exc.reason}; is this the official file?"
        ) from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    head: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for lineno, raw_line in enumerate(io.StringIO(text, newline=None), start=1):
        line = raw_line.rstrip("\n")
        if not line.strip():
            continue
        fields = line.split("\t")
        if strip:
            fields = [f.strip() for f in fields]
        if header and head is None:
            head = fields
            continue
        if len(fields) not in n_fields:
            allowed = " or ".join(str(n) for n in sorted(n_fields))
            raise DataError(
                f"{path}:{lineno}: expected {allowed} tab-separated fields, found {len(fields)}. "
                "The file may be damaged or not the official release."
            )
        rows.append((lineno, fields))
    return head, rows


def read_jsonl(path: Path) -> list[dict[str, object]]:
    """Records of a JSON Lines file (``.gz`` allowed), each with its 1-based line number in ``_line``.

    Blank lines are skipped (and counted). See :func:`evalkit.tabular.read_jsonl_records`.

    Raises:
        DataError: unreadable or empty file, invalid UTF-8 (byte offset, line, column), invalid
            JSON (file:line:column), a line that is not an object, a key repeated in an object.
    """
    from evalkit.tabular import read_jsonl_records

    return read_jsonl_records(path)


def parse_float(value: str, *, path: Path, line: int, column: int, name: str) -> float:
    """``float(value)``; raises :class:`DataError` naming file, line and column when invalid."""
    try:
        out = float(value)
    except ValueError:
        raise DataError(
            f"{path}:{line}: column {column} ({name}) should be a number, found {value!r}"
        ) from None
    if out != out or out in (float("inf"), float("-inf")):
        raise DataError(f"{path}:{line}: column {column} ({name}) is not finite: {value!r}")
    return out


def check_rows(path: Path | str, n: int, expected: int | None) -> None:
    """Raise :class:`DataError` when a loaded file has ``n`` rows instead of ``expected``."""
    if expected is not None and n != expected:
        raise DataError(
            f"{path}: loaded {n} rows but the official file has {expected}. The file is "
            "truncated, merged or not the official release."
        )
