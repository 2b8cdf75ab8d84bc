"""evalkit.fingerprint: file/folder digests (checked against hashlib), the memo, hub revisions,
code fingerprints of local and installed packages, library versions."""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata as md
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from evalkit import fingerprint
from evalkit.fingerprint import (
    FingerprintMemo,
    code_fingerprint,
    component_inputs,
    hub_revision,
    library_versions,
    looks_like_path,
    path_fingerprint,
)


def test_file_digest_is_sha256_of_its_bytes(tmp_path: Path) -> None:
    f = tmp_path / "w.bin"
    data = os.urandom(3 << 20)  # several read blocks
    f.write_bytes(data)
    assert path_fingerprint(f, FingerprintMemo(None)) == "file:" + hashlib.sha256(data).hexdigest()


def test_folder_digest_covers_names_and_contents(tmp_path: Path) -> None:
    d = tmp_path / "model"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_text("alpha")
    (d / "sub" / "b.txt").write_text("beta")
    (d / "__pycache__").mkdir()
    (d / "__pycache__" / "x.pyc").write_bytes(b"\0")
    memo = FingerprintMemo(None)
    expected = hashlib.sha256(
        f"a.txt\0{hashlib.sha256(b'alpha').hexdigest()}\nsub/b.txt\0{hashlib.sha256(b'beta').hexdigest()}\n".encode()
    ).hexdigest()
    assert path_fingerprint(d, memo) == "dir:" + expected
    (d / "__pycache__" / "x.pyc").write_bytes(b"\1\2")  # skipped folder: no change
    assert path_fingerprint(d, memo) == "dir:" + expected
    (d / "sub" / "b.txt").write_text("beta!")
    changed = path_fingerprint(d, memo)
    (d / "sub" / "b.txt").rename(d / "sub" / "c.txt")
    renamed = path_fingerprint(d, memo)
    assert len({"dir:" + expected, changed, renamed}) == 3
    with pytest.raises(FileNotFoundError):
        path_fingerprint(tmp_path / "missing", memo)


def test_memo_avoids_rereading_unchanged_files_and_persists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "big.bin"
    f.write_bytes(b"x" * 1000)
    memo_path = tmp_path / "cache" / "fingerprints.json"
    memo = FingerprintMemo(memo_path)
    first = path_fingerprint(f, memo)
    memo.save()
    assert memo_path.is_file()
    # A fresh memo read from disk answers without opening the file.
    reads: list[str] = []
    real_open = open

    def spy(path: object, *a: object, **k: object) -> object:
        reads.append(str(path))
        return real_open(path, *a, **k)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", spy)
    again = FingerprintMemo(memo_path)
    assert path_fingerprint(f, again) == first
    assert str(f) not in reads
    # A new mtime (or size) is a miss: the file is read and the new content seen.
    monkeypatch.undo()
    f.write_bytes(b"y" * 1000)
    os.utime(f, ns=(5_000_000_000, 5_000_000_000))
    assert path_fingerprint(f, again) == "file:" + hashlib.sha256(b"y" * 1000).hexdigest()


def test_looks_like_path_only_for_strings_written_as_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bert-base-uncased").mkdir()
    assert not looks_like_path("bert-base-uncased")  # a model name, even if a folder has that name
    assert looks_like_path("./bert-base-uncased")
    assert looks_like_path(str(tmp_path / "bert-base-uncased"))
    assert not looks_like_path("./missing") and not looks_like_path("https://x/y") and not looks_like_path("")


def test_hub_revision_reads_the_hub_cache_refs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = tmp_path / "hub"
    sha = "0123456789abcdef0123456789abcdef01234567"
    repo = hub / "models--sentence-transformers--all-mpnet-base-v2"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(sha)
    (repo / "snapshots" / sha).mkdir(parents=True)
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    want = f"sentence-transformers/all-mpnet-base-v2@{sha}"
    assert hub_revision("all-mpnet-base-v2") == want
    assert hub_revision("sentence-transformers/all-mpnet-base-v2") == want
    assert hub_revision("sentence-transformers/all-mpnet-base-v2", sha) == want
    assert hub_revision("not-downloaded") is None
    (repo / "refs" / "main").write_text("f" * 40)  # the hub moved main: a new identity
    assert hub_revision("all-mpnet-base-v2") == f"sentence-transformers/all-mpnet-base-v2@{'f' * 40}"


@pytest.fixture
def local_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    site = tmp_path / "site"
    (site / "fpplug").mkdir(parents=True)
    (site / "fpplug" / "__init__.py").write_text(
        "import json\nimport numpy\nfrom evalkit.validation import check_pairs\n"
        "def f():\n    import fphelper\n", encoding="utf-8")
    (site / "fphelper.py").write_text("X = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    yield site
    for name in ("fpplug", "fphelper"):
        sys.modules.pop(name, None)


def test_code_fingerprint_hashes_local_code_and_versions_installed_code(local_packages: Path) -> None:
    memo = FingerprintMemo(None)
    fp = code_fingerprint(["fpplug"], memo)
    init = local_packages / "fpplug" / "__init__.py"
    assert fp["fpplug"] == "sha256:" + hashlib.sha256(
        f"__init__.py\0{hashlib.sha256(init.read_bytes()).hexdigest()}\n".encode()).hexdigest()
    assert fp["fphelper"].startswith("sha256:")  # imported inside a function: still followed
    assert fp["numpy"] == f"numpy=={md.version('numpy')}"
    assert "json" not in fp  # the standard library is not recorded
    import evalkit.validation

    source = Path(evalkit.validation.__file__).read_bytes()
    assert fp["evalkit.validation"] == "sha256:" + hashlib.sha256(source).hexdigest()
    (local_packages / "fphelper.py").write_text("X = 22\n", encoding="utf-8")
    changed = code_fingerprint(["fpplug"], memo)
    assert changed["fphelper"] != fp["fphelper"] and changed["fpplug"] == fp["fpplug"]


def test_library_versions_match_installed_metadata() -> None:
    assert library_versions(["numpy", "scikit-learn", "no-such-dist-xyz"]) == {
        "no-such-dist-xyz": None, "numpy": md.version("numpy"), "scikit-learn": md.version("scikit-learn")}


def test_component_inputs_of_a_method_with_a_path_and_a_hub_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import evalkit

    class Toy(evalkit.Method):
        name = "toy"
        requires = ("numpy", "scikit-learn")

        def __init__(self, *, vectors: str = "", model: str = "", device: str | None = None) -> None:
            self.vectors, self.model, self.device = vectors, model, device

        def predict(self, pairs):  # type: ignore[no-untyped-def]
            raise NotImplementedError

    vec = tmp_path / "vectors.txt"
    vec.write_text("a 1 2\n")
    hub = tmp_path / "hub" / "models--org--m" / "refs"
    hub.mkdir(parents=True)
    (hub / "main").write_text("a" * 40)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(fingerprint, "auto_device", lambda: "auto:test")
    got = component_inputs(Toy(vectors=str(vec), model="org/m"), FingerprintMemo(None))
    assert got["paths"] == {"params.vectors": "file:" + hashlib.sha256(b"a 1 2\n").hexdigest()}
    assert got["hub"] == {"params.model": "org/m@" + "a" * 40}
    assert got["libraries"] == {"numpy": md.version("numpy"), "scikit-learn": md.version("scikit-learn")}
    assert got["device"] == "auto:test"
    assert "evalkit.interfaces" in got["code"]
    assert component_inputs(Toy(device="cpu"), FingerprintMemo(None)).get("device") is None
