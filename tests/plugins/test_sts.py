"""STS loaders against the real files: official row counts, quote traps, malformed input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evalkit.errors import DataError
from evalkit.plugins import Host


@pytest.fixture(scope="module")
def host() -> Host:
    return Host(autoload=False)


# Official sizes: STS-B readme (8628 = 5749 + 1500 + 1379), SemEval-2014 Task 1 (SICK 4500/500/4927),
# the STS12-16 task readmes (scored pairs), as listed in shared/data/README.md.
COUNTS = [
    ("stsb", "train", 5749), ("stsb", "dev", 1500), ("stsb", "test", 1379),
    ("sickr", "train", 4500), ("sickr", "trial", 500), ("sickr", "test", 4927), ("sickr", "all", 9927),
    ("sts12", "test", 3108), ("sts13", "test", 1500), ("sts14", "test", 3750),
    ("sts15", "test", 3000), ("sts16", "test", 1186),
]


@pytest.mark.parametrize(("name", "split", "rows"), COUNTS)
def test_row_counts_match_official_sizes(host: Host, data_dir: Path, name: str, split: str, rows: int) -> None:
    df = host.datasets.create(name).load(split, data_dir)
    assert len(df) == rows
    assert df["score"].dtype == "float64"
    assert df["score"].between(0, 5).all()
    assert (df["sentence1"].str.len() > 0).all() and (df["sentence2"].str.len() > 0).all()
    assert not df["sentence1"].str.startswith(" ").any()  # stripped after splitting on tabs


def test_stsb_keeps_quotes_and_lines_apart(host: Host, data_dir: Path) -> None:
    df = host.datasets.create("stsb").load("test", data_dir)
    # Line 1119 opens a quote it never closes; a CSV parser would swallow the rest of the file.
    raw = (data_dir / "stsbenchmark/sts-test.csv").read_text(encoding="utf-8").splitlines()
    fields = raw[1118].split("\t")
    assert df.loc[1118, "sentence1"] == fields[5].strip()
    assert df.loc[1118, "sentence1"].startswith('"The economy')
    assert df.loc[1378, "score"] == float(raw[-1].split("\t")[4])
    assert set(df["genre"]) == {"main-news", "main-captions", "main-forums"}


def test_sts_years_pool_subsets(host: Host, data_dir: Path) -> None:
    df = host.datasets.create("sts15").load("test", data_dir)
    counts = df["subset"].value_counts().to_dict()
    assert counts == {"answers-forums": 375, "answers-students": 750, "belief": 375, "headlines": 750, "images": 750}
    # The first scored answers-forums pair is the first non-blank gold line, aligned with its input line.
    gold = (data_dir / "sts12-16/STS15-en-test/STS.gs.answers-forums.txt").read_text().splitlines()
    inputs = (data_dir / "sts12-16/STS15-en-test/STS.input.answers-forums.txt").read_text().splitlines()
    first = next(i for i, g in enumerate(gold) if g.strip())
    row = df[df["subset"] == "answers-forums"].iloc[0]
    assert row["score"] == float(gold[first])
    assert row["sentence1"] == inputs[first].split("\t")[0].strip()


def test_sick_all_is_the_three_semeval_files(host: Host, data_dir: Path) -> None:
    sick = host.datasets.create("sickr")
    parts = [sick.load(s, data_dir) for s in ("train", "trial", "test")]
    every = sick.load("all", data_dir)
    assert list(every["pair_id"]) == [p for part in parts for p in part["pair_id"]]
    assert every["score"].between(1, 5).all()


def _copy_tree(src: Path, dst: Path, rel: str) -> Path:
    target = dst / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src / rel, target)
    return target


def test_malformed_line_names_file_and_line(host: Host, data_dir: Path, tmp_path: Path) -> None:
    f = _copy_tree(data_dir, tmp_path, "stsbenchmark/sts-test.csv")
    lines = f.read_text(encoding="utf-8").split("\n")
    lines[41] = lines[41] + "\tstray field"  # 7 -> 8 fields on line 42 (never valid)
    f.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(DataError, match=r"sts-test\.csv:42: expected 7 or 9 tab-separated fields, found 8"):
        host.datasets.create("stsb").load("test", tmp_path)


def test_bad_score_names_file_line_and_column(host: Host, data_dir: Path, tmp_path: Path) -> None:
    f = _copy_tree(data_dir, tmp_path, "stsbenchmark/sts-test.csv")
    lines = f.read_text(encoding="utf-8").split("\n")
    fields = lines[9].split("\t")
    fields[4] = "high"
    lines[9] = "\t".join(fields)
    f.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(DataError, match=r"sts-test\.csv:10: column 5 \(score\) should be a number, found 'high'"):
        host.datasets.create("stsb").load("test", tmp_path)


def test_truncated_file_fails_row_count(host: Host, data_dir: Path, tmp_path: Path) -> None:
    f = _copy_tree(data_dir, tmp_path, "sick/semeval2014/SICK_trial.txt")
    f.write_text("\n".join(f.read_text(encoding="utf-8").split("\n")[:-3]), encoding="utf-8")
    with pytest.raises(DataError, match="loaded 498 rows but the official file has 500"):
        host.datasets.create("sickr").load("trial", tmp_path)


def test_misaligned_gold_file(host: Host, data_dir: Path, tmp_path: Path) -> None:
    for rel in ("sts12-16/STS13-en-test/STS.input.FNWN.txt", "sts12-16/STS13-en-test/STS.gs.FNWN.txt",
                "sts12-16/STS13-en-test/STS.input.headlines.txt", "sts12-16/STS13-en-test/STS.gs.headlines.txt",
                "sts12-16/STS13-en-test/STS.input.OnWN.txt", "sts12-16/STS13-en-test/STS.gs.OnWN.txt"):
        _copy_tree(data_dir, tmp_path, rel)
    gs = tmp_path / "sts12-16/STS13-en-test/STS.gs.OnWN.txt"
    gs.write_text("\n".join(gs.read_text().splitlines()[:-1]) + "\n")
    with pytest.raises(DataError, match=r"STS\.gs\.OnWN\.txt: 560 gold lines for 561 input pairs"):
        host.datasets.create("sts13").load("test", tmp_path)


def test_unknown_split(host: Host, data_dir: Path) -> None:
    from evalkit.errors import ConfigError

    with pytest.raises(ConfigError, match="has no split 'validation'; its splits are train, dev, test"):
        host.datasets.create("stsb").load("validation", data_dir)


def test_files_declare_official_sources(host: Host) -> None:
    for name in ("stsb", "sickr", "sts12", "sts13", "sts14", "sts15", "sts16"):
        for f in host.datasets.create(name).files():
            assert f.sha256 and len(f.sha256) == 64
            assert f.url and f.url.startswith("http") and f.member
