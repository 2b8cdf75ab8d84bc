"""``evalkit cache info`` and ``evalkit cache prune`` on a cache filled by real runs."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from evalkit.cells import CellStore
from evalkit.runner import run_suite
from evalkit.suite import ComponentSpec, Suite

PAIRS = "sentence1\tsentence2\tscore\n" + "".join(f"the cat {i}\tthe cat {'sat ' * i}\t{i}\n" for i in range(8))
OLD = time.time() - 40 * 86400


@pytest.fixture
def filled(tmp_path: Path) -> dict[str, Any]:
    """A cache with 3 TF-IDF cells (three parameter settings) and one embedding namespace."""
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(PAIRS)
    cache = tmp_path / "cache"
    methods = [ComponentSpec(f"tfidf{n}", "tfidf", {"min_df": 1, "ngram_range": [1, n]}) for n in (1, 2, 3)]

    def run() -> dict[str, Any]:
        suite = Suite("t", [ComponentSpec("toy", "pairs", {"path": str(pairs)})], methods,
                      [ComponentSpec("spearman", "spearman")])
        return run_suite(suite, cache_dir=cache).provenance

    prov = run()
    ns = cache / "embeddings" / "0123abcd"
    ns.mkdir(parents=True)
    (ns / "NAMESPACE.txt").write_text("sentence-embedding|toy\n")
    (ns / "x.npz").write_bytes(b"\0" * 100)
    return {"cache": cache, "run": run, "keys": list(prov["cells"]["keys"].values())}


def files(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern))


def test_info_counts_and_sizes_match_the_files(filled: dict[str, Any], evalkit_cli: Any) -> None:
    cache: Path = filled["cache"]
    out = json.loads(evalkit_cli("cache", "info", "--json", "--cache-dir", str(cache)).stdout)
    npz = files(cache / "cells", "*/*.npz")
    assert out["cells"]["entries"] == 3 == len(npz)
    assert out["cells"]["bytes"] == sum(os.path.getsize(p) for p in npz)
    assert out["embeddings"]["entries"] == 1
    assert out["embeddings"]["bytes"] == 100 + len("sentence-embedding|toy\n")
    memo = json.loads((cache / "fingerprints.json").read_text())
    assert out["fingerprints"]["entries"] == len(memo["files"]) > 0
    text = evalkit_cli("cache", "info", "--cache-dir", str(cache)).stdout
    assert "3 finished cells" in text and "1 embedding namespaces" in text


def test_prune_older_than_removes_only_what_was_not_used(filled: dict[str, Any], evalkit_cli: Any) -> None:
    cache: Path = filled["cache"]
    store = CellStore(cache / "cells")
    old_cell = store.path(filled["keys"][0])
    assert old_cell is not None
    os.utime(old_cell, (OLD, OLD))
    os.utime(cache / "embeddings" / "0123abcd", (OLD, OLD))
    dry = evalkit_cli("cache", "prune", "--older-than", "30", "--dry-run", "--cache-dir", str(cache)).stdout
    assert "would remove 1 of 3 cells" in dry and "would remove 1 of 1 embedding namespaces" in dry
    assert old_cell.exists() and (cache / "embeddings" / "0123abcd").exists()
    out = evalkit_cli("cache", "prune", "--older-than", "30", "--cache-dir", str(cache)).stdout
    assert "removed 1 of 3 cells" in out
    assert not old_cell.exists() and not (cache / "embeddings" / "0123abcd").exists()
    assert len(files(cache / "cells", "*/*.npz")) == 2
    # The next run recomputes exactly the pruned cell.
    assert filled["run"]()["cells"]["computed"] == 1


def test_reuse_counts_as_use(filled: dict[str, Any], evalkit_cli: Any) -> None:
    cache: Path = filled["cache"]
    for p in files(cache / "cells", "*/*.npz"):
        os.utime(p, (OLD, OLD))
    assert filled["run"]()["cells"]["reused"] == 3  # reusing sets each cell's last use to now
    out = evalkit_cli("cache", "prune", "--older-than", "30", "--cache-dir", str(cache)).stdout
    assert "removed 0 of 3 cells" in out


def test_prune_all_and_option_errors(filled: dict[str, Any], evalkit_cli: Any) -> None:
    cache: Path = filled["cache"]
    (cache / "data").mkdir()
    (cache / "data" / "keep.csv").write_text("x")
    res = evalkit_cli("cache", "prune", "--cache-dir", str(cache), expect=2)
    assert "exactly one of --older-than DAYS and --all" in res.stderr
    evalkit_cli("cache", "prune", "--all", "--older-than", "1", "--cache-dir", str(cache), expect=2)
    out = evalkit_cli("cache", "prune", "--all", "--cache-dir", str(cache)).stdout
    assert "removed 3 of 3 cells" in out and "fingerprint memo" in out
    assert files(cache / "cells", "*/*.npz") == [] and not (cache / "fingerprints.json").exists()
    assert (cache / "data" / "keep.csv").read_text() == "x"  # downloaded data is never pruned
    info = json.loads(evalkit_cli("cache", "info", "--json", "--cache-dir", str(cache)).stdout)
    assert info["total_bytes"] == 0
