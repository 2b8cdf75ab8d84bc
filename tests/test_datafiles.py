"""Fetching and sha256-verifying data files through the public ``evalkit.datafiles`` (issue 12).

Downloads use ``file://`` URLs (``urllib`` opens them like any other), so nothing leaves the
machine. The reference for every digest is :mod:`hashlib` on the bytes the test wrote.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from evalkit import DataError, DataFile
from evalkit.datafiles import fetch, locate, user_cache_dir

PAIRS = b"sentence1\tsentence2\tscore\nA man plays.\tA man is playing.\t4.5\n"
DIGEST = hashlib.sha256(PAIRS).hexdigest()


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("EVALKIT_OFFLINE", raising=False)
    return tmp_path / "cache"


def _zip(path: Path, member: str, payload: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(member, payload)
    return path


def _tar_gz(path: Path, member: str, payload: bytes) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        info = tarfile.TarInfo(member)
        info.size = len(payload)
        tf.addfile(info, io.BytesIO(payload))
    return path


def test_a_missing_file_is_downloaded_verified_and_kept_in_the_cache(tmp_path: Path, cache: Path) -> None:
    source = tmp_path / "upstream" / "test.tsv"
    source.parent.mkdir()
    source.write_bytes(PAIRS)
    spec = DataFile("pairs/test.tsv", sha256=DIGEST, url=source.as_uri())
    (found,) = locate("pairs", [spec], tmp_path / "data").values()
    assert found.path == cache / "data" / "pairs" / "test.tsv" == user_cache_dir() / "data" / "pairs" / "test.tsv"
    assert found.path.read_bytes() == PAIRS and found.sha256 == DIGEST and found.verified is True
    source.unlink()  # the next run finds the cached copy and downloads nothing
    (again,) = locate("pairs", [spec], tmp_path / "data").values()
    assert again.path == found.path and again.verified is True


@pytest.mark.parametrize("archive", ["pairs.zip", "pairs.tar.gz"])
def test_an_archive_member_is_extracted_and_verified(tmp_path: Path, cache: Path, archive: str) -> None:
    pack = _zip if archive.endswith(".zip") else _tar_gz
    url = pack(tmp_path / archive, "release/test.tsv", PAIRS).as_uri()
    spec = DataFile("pairs/test.tsv", sha256=DIGEST, url=url, member="release/test.tsv")
    (found,) = locate("pairs", [spec], tmp_path / "data").values()
    assert hashlib.sha256(found.path.read_bytes()).hexdigest() == DIGEST and found.verified is True
    assert (cache / "downloads" / archive).is_file()  # the archive is downloaded once


def test_a_download_with_another_digest_is_refused_and_not_stored(tmp_path: Path, cache: Path) -> None:
    source = tmp_path / "test.tsv"
    source.write_bytes(PAIRS + b"extra\trow\t1.0\n")
    spec = DataFile("pairs/test.tsv", sha256=DIGEST, url=source.as_uri())
    with pytest.raises(DataError, match=rf"sha256 is {hashlib.sha256(source.read_bytes()).hexdigest()}, "
                                        rf"expected {DIGEST}"):
        fetch(spec, cache / "data")
    assert not (cache / "data" / "pairs" / "test.tsv").exists()
    with pytest.raises(DataError, match=r"(?s)needs files that are not in the data directory.*Download failed: "
                                        r"downloaded pairs/test\.tsv"):
        locate("pairs", [spec], tmp_path / "data")


def test_offline_lists_each_file_with_its_official_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALKIT_OFFLINE", "1")
    source = tmp_path / "pairs.zip"
    _zip(source, "release/test.tsv", PAIRS)
    spec = DataFile("pairs/test.tsv", sha256=DIGEST, url=source.as_uri(), member="release/test.tsv")
    with pytest.raises(DataError) as info:
        locate("pairs", [spec], tmp_path / "data")
    message = str(info.value)
    assert f"{tmp_path / 'data' / 'pairs' / 'test.tsv'}  (official source: {source.as_uri()}, member " \
           "release/test.tsv)" in message
    assert "Download failed" not in message and "--data-dir" in message


def test_a_missing_member_or_url_is_a_data_error(tmp_path: Path, cache: Path) -> None:
    url = _zip(tmp_path / "pairs.zip", "release/test.tsv", PAIRS).as_uri()
    with pytest.raises(DataError, match=r"could not download pairs/dev\.tsv from .*pairs\.zip"):
        fetch(DataFile("pairs/dev.tsv", url=url, member="release/dev.tsv"), cache / "data")
    with pytest.raises(DataError, match=r"no download location is known for pairs/test\.tsv"):
        fetch(DataFile("pairs/test.tsv"), cache / "data")


def test_a_local_file_with_another_digest_is_used_but_flagged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "data" / "pairs").mkdir(parents=True)
    (tmp_path / "data" / "pairs" / "test.tsv").write_bytes(PAIRS + b"\n")
    (found,) = locate("pairs", [DataFile("pairs/test.tsv", sha256=DIGEST)], tmp_path / "data").values()
    assert found.verified is False and found.sha256 == hashlib.sha256(PAIRS + b"\n").hexdigest()
    assert "differs from the official" in caplog.text
