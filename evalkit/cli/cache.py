"""``evalkit cache info|prune``: what the cache holds, and dropping what was not used for a while.

The cache folder (``$EVALKIT_CACHE_DIR`` or the user cache) holds ``cells/`` (finished cells'
predictions, one ``.npz`` each, see :mod:`evalkit.cells`), ``embeddings/`` (encoder outputs, one
folder per namespace, see :mod:`evalkit.cache`) and ``fingerprints.json`` (digests memoised on size
and mtime, see :mod:`evalkit.fingerprint`). A cell's mtime is its last use (set when a run reuses
it), as is an embedding namespace folder's; ``prune --older-than DAYS`` removes those not used
since. Downloaded data files (``data/``) are never touched.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import click


@dataclass
class Part:
    """One part of the cache: how many entries, their total bytes and last-use range."""

    path: str
    entries: int = 0
    bytes: int = 0
    oldest_use: float | None = None
    newest_use: float | None = None
    items: list[tuple[Path, float, int]] = field(default_factory=list, repr=False)

    def add(self, path: Path, used: float, size: int) -> None:
        self.entries += 1
        self.bytes += size
        self.oldest_use = used if self.oldest_use is None else min(self.oldest_use, used)
        self.newest_use = used if self.newest_use is None else max(self.newest_use, used)
        self.items.append((path, used, size))

    def summary(self) -> dict[str, object]:
        d = asdict(self)
        d.pop("items")
        return d


def _tree_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def scan(root: Path) -> dict[str, Part]:
    """The three parts of the cache under ``root`` (entries: cells, namespaces, memoised files)."""
    cells, emb = Part(str(root / "cells")), Part(str(root / "embeddings"))
    memo = Part(str(root / "fingerprints.json"))
    if (root / "cells").is_dir():
        for f in (root / "cells").glob("*/*.npz"):
            st = f.stat()
            cells.add(f, st.st_mtime, st.st_size)
    if (root / "embeddings").is_dir():
        for ns in (root / "embeddings").iterdir():
            if ns.is_dir():
                emb.add(ns, ns.stat().st_mtime, _tree_bytes(ns))
    mp = root / "fingerprints.json"
    if mp.is_file():
        try:
            n = len(json.loads(mp.read_text(encoding="utf-8")).get("files", {}))
        except (OSError, ValueError, AttributeError):
            n = 0
        memo.entries, memo.bytes = n, mp.stat().st_size
        memo.oldest_use = memo.newest_use = mp.stat().st_mtime
    return {"cells": cells, "embeddings": emb, "fingerprints": memo}


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def _when(ts: float | None) -> str:
    return "-" if ts is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def _root(cache_dir: Path | None) -> Path:
    from evalkit.data import user_cache_dir

    return Path(cache_dir).expanduser() if cache_dir else user_cache_dir()


CACHE_DIR = click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
                         help="The cache folder [default: $EVALKIT_CACHE_DIR or the user cache].")


@click.group("cache")
def cache() -> None:
    """Inspect and prune the cache of finished cells, embeddings and file fingerprints."""


@cache.command("info")
@CACHE_DIR
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def info(cache_dir: Path | None, as_json: bool) -> None:
    """Sizes and entry counts of the cell store, the embedding cache and the fingerprint memo,
    with when each was last used."""
    root = _root(cache_dir)
    parts = scan(root)
    total = sum(p.bytes for p in parts.values())
    if as_json:
        doc = {"cache_dir": str(root), "total_bytes": total, **{k: p.summary() for k, p in parts.items()}}
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(f"cache folder: {root}")
    names = {"cells": "finished cells", "embeddings": "embedding namespaces", "fingerprints": "memoised file digests"}
    for key, part in parts.items():
        click.echo(f"  {key:<13}{part.entries:>8} {names[key]:<22}{human(part.bytes):>10}   "
                   f"last used {_when(part.oldest_use)} .. {_when(part.newest_use)}")
    click.echo(f"  {'total':<13}{'':>31}{human(total):>10}")


@cache.command("prune")
@CACHE_DIR
@click.option("--older-than", "days", type=click.FloatRange(min=0), help="Remove cells and embedding "
              "namespaces not used in the last DAYS days.")
@click.option("--all", "everything", is_flag=True, help="Remove every cell, embedding and memoised digest.")
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
def prune(cache_dir: Path | None, days: float | None, everything: bool, dry_run: bool) -> None:
    """Remove cached cells and embeddings not used for a while (--older-than DAYS) or all (--all).

    Removed cells are recomputed by the next run that needs them. Downloaded data is kept.
    """
    if (days is None) == (not everything):
        raise click.UsageError("give exactly one of --older-than DAYS and --all")
    root = _root(cache_dir)
    parts = scan(root)
    cutoff = float("inf") if everything else time.time() - float(days or 0) * 86400
    verb = "would remove" if dry_run else "removed"
    for key in ("cells", "embeddings"):
        doomed = [(p, size) for p, used, size in parts[key].items if used < cutoff]
        for p, _ in doomed:
            if dry_run:
                click.echo(f"{verb} {p}")
                continue
            try:
                if p.is_dir():
                    shutil.rmtree(p)
                else:
                    p.unlink(missing_ok=True)
                    if not any(p.parent.iterdir()):
                        p.parent.rmdir()
            except OSError as exc:
                click.echo(f"Warning: cannot remove {p}: {exc}", err=True)
        what = "cells" if key == "cells" else "embedding namespaces"
        click.echo(f"{verb} {len(doomed)} of {parts[key].entries} {what} ({human(sum(s for _, s in doomed))})")
    memo = root / "fingerprints.json"
    if everything and memo.is_file():
        if not dry_run:
            memo.unlink()
        click.echo(f"{verb} the fingerprint memo ({human(parts['fingerprints'].bytes)})")
