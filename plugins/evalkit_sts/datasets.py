"""Loaders for STS-B, SICK-R (SemEval-2014) and STS12-16, reading the official file layouts.

The files contain unbalanced double quotes inside fields, so they are split on tabs with no quote
handling (see :func:`evalkit.datafiles.read_fields`); row counts are checked against the official
numbers after loading.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from evalkit import DataError, DataFile, Dataset
from evalkit.datafiles import check_rows, locate, parse_float, read_fields
from evalkit_sts.sources import SHA256, SICK_URL, STS_YEARS, STSB_URL

if TYPE_CHECKING:
    import pandas as pd


def _frame(rows: dict[str, list]) -> pd.DataFrame:
    import pandas as pd

    df = pd.DataFrame(rows)
    df["score"] = df["score"].astype("float64")
    return df


class STSB(Dataset):
    """STS Benchmark (Cer et al. 2017, SemEval-2017 Task 1): English pairs scored 0-5."""

    name = "stsb"
    task_type = "sts"
    splits = ("train", "dev", "test")
    eval_splits = ("test",)
    dev_split = "dev"
    target = "score"
    target_scale = "0-5"
    homepage = "http://ixa2.si.ehu.eus/stswiki/index.php/STSbenchmark"
    ROWS: ClassVar[dict[str, int]] = {"train": 5749, "dev": 1500, "test": 1379}

    def files(self, split: str | None = None) -> list[DataFile]:
        out = []
        for s in self.splits if split is None else (split,):
            path = f"stsbenchmark/sts-{s}.csv"
            out.append(DataFile(path, SHA256[path], STSB_URL, path, self.ROWS[s]))
        return out

    def load(self, split: str, data_dir: Path) -> pd.DataFrame:
        self.check_split(split)
        (located,) = locate(self.name, self.files(split), data_dir).values()
        # genre, filename, year, id, score, sentence1, sentence2 [, source1, source2]
        _, rows = read_fields(located.path, n_fields={7, 9})
        data: dict[str, list] = {"sentence1": [], "sentence2": [], "score": [], "genre": []}
        for lineno, f in rows:
            data["sentence1"].append(f[5])
            data["sentence2"].append(f[6])
            data["score"].append(parse_float(f[4], path=located.path, line=lineno, column=5, name="score"))
            data["genre"].append("main-forums" if f[0] == "main-forum" else f[0])
        check_rows(located.path, len(rows), self.ROWS[split])
        return _frame(data)


class SICKR(Dataset):
    """SICK relatedness (Marelli et al. 2014, SemEval-2014 Task 1): English pairs scored 1-5."""

    name = "sickr"
    task_type = "sts"
    splits = ("train", "trial", "test", "all")
    eval_splits = ("all",)
    dev_split = "trial"
    target = "score"
    target_scale = "1-5"
    homepage = "https://alt.qcri.org/semeval2014/task1/"
    FILES: ClassVar[dict[str, tuple[str, str, int]]] = {
        # split: (file, archive, rows)
        "train": ("SICK_train.txt", "sick_train.zip", 4500),
        "trial": ("SICK_trial.txt", "sick_trial.zip", 500),
        "test": ("SICK_test_annotated.txt", "sick_test_annotated.zip", 4927),
    }

    def files(self, split: str | None = None) -> list[DataFile]:
        parts = ("train", "trial", "test") if split in (None, "all") else (split,)
        out = []
        for s in parts:
            fname, archive, rows = self.FILES[s]
            path = f"sick/semeval2014/{fname}"
            out.append(DataFile(path, SHA256[path], f"{SICK_URL}/{archive}", fname, rows))
        return out

    def load(self, split: str, data_dir: Path) -> pd.DataFrame:
        import pandas as pd

        self.check_split(split)
        located = locate(self.name, self.files(split), data_dir)
        frames = []
        for spec in self.files(split):
            lf = located[spec.path]
            # pair_ID, sentence_A, sentence_B, relatedness_score, entailment_judgment
            head, rows = read_fields(lf.path, n_fields={5}, header=True)
            if head is None or head[:4] != ["pair_ID", "sentence_A", "sentence_B", "relatedness_score"]:
                raise DataError(
                    f"{lf.path}:1: expected the header 'pair_ID sentence_A sentence_B "
                    f"relatedness_score entailment_judgment', found {head}"
                )
            check_rows(lf.path, len(rows), spec.rows)
            frames.append(_frame({
                "sentence1": [f[1] for _, f in rows],
                "sentence2": [f[2] for _, f in rows],
                "score": [parse_float(f[3], path=lf.path, line=n, column=4, name="relatedness_score")
                          for n, f in rows],
                "pair_id": [f[0] for _, f in rows],
            }))
        return pd.concat(frames, ignore_index=True)


class _STSYear(Dataset):
    """Base of the STS12-16 test sets: sub-corpora pooled into one test split."""

    task_type = "sts"
    splits = ("test",)
    eval_splits = ("test",)
    target = "score"
    target_scale = "0-5"
    homepage = "http://ixa2.si.ehu.eus/stswiki"
    YEAR: ClassVar[str] = ""
    PREFIX: ClassVar[str] = "STS"
    INPUT_FIELDS: ClassVar[set[int]] = {2}
    #: sub-corpus -> (input lines, scored pairs)
    SUBSETS: ClassVar[dict[str, tuple[int, int]]] = {}

    def _paths(self, subset: str) -> tuple[str, str]:
        folder = f"sts12-16/{self.YEAR}-en-test"
        return (f"{folder}/{self.PREFIX}.input.{subset}.txt", f"{folder}/{self.PREFIX}.gs.{subset}.txt")

    def files(self, split: str | None = None) -> list[DataFile]:
        url, inner = STS_YEARS[self.YEAR]
        out = []
        for subset, (lines, _) in self.SUBSETS.items():
            for path in self._paths(subset):
                out.append(DataFile(path, SHA256[path], url, f"{inner}/{Path(path).name}", lines))
        return out

    def load(self, split: str, data_dir: Path) -> pd.DataFrame:
        self.check_split(split)
        located = locate(self.name, self.files(split), data_dir)
        data: dict[str, list] = {"sentence1": [], "sentence2": [], "score": [], "subset": []}
        for subset, (n_lines, n_scored) in self.SUBSETS.items():
            inp_path, gs_path = (located[p].path for p in self._paths(subset))
            _, pairs = read_fields(inp_path, n_fields=self.INPUT_FIELDS)
            check_rows(inp_path, len(pairs), n_lines)
            try:
                gold = gs_path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                raise DataError(f"cannot read {gs_path}: {exc}") from None
            if len(gold) != len(pairs):
                raise DataError(
                    f"{gs_path}: {len(gold)} gold lines for {len(pairs)} input pairs in {inp_path.name}; "
                    "line i of the gold file must score line i of the input file"
                )
            scored = 0
            for (lineno, f), g in zip(pairs, gold, strict=True):
                if not g.strip():
                    continue  # not officially scored
                data["score"].append(parse_float(g.strip(), path=gs_path, line=lineno, column=1, name="score"))
                data["sentence1"].append(f[0])
                data["sentence2"].append(f[1])
                data["subset"].append(subset)
                scored += 1
            if scored != n_scored:
                raise DataError(f"{gs_path}: {scored} scored pairs, the official file has {n_scored}")
        return _frame(data)


class STS12(_STSYear):
    """SemEval-2012 Task 6 STS test set (Agirre et al. 2012): 3108 pairs in 5 sub-corpora."""

    name = "sts12"
    YEAR = "STS12"
    SUBSETS: ClassVar[dict[str, tuple[int, int]]] = {
        "MSRpar": (750, 750), "MSRvid": (750, 750), "SMTeuroparl": (459, 459),
        "surprise.OnWN": (750, 750), "surprise.SMTnews": (399, 399),
    }


class STS13(_STSYear):
    """*SEM 2013 STS test set (Agirre et al. 2013): 1500 pairs (the LDC-licensed SMT subset is absent)."""

    name = "sts13"
    YEAR = "STS13"
    SUBSETS: ClassVar[dict[str, tuple[int, int]]] = {
        "FNWN": (189, 189), "headlines": (750, 750), "OnWN": (561, 561),
    }


class STS14(_STSYear):
    """SemEval-2014 Task 10 STS test set (Agirre et al. 2014): 3750 pairs in 6 sub-corpora."""

    name = "sts14"
    YEAR = "STS14"
    SUBSETS: ClassVar[dict[str, tuple[int, int]]] = {
        "deft-forum": (450, 450), "deft-news": (300, 300), "headlines": (750, 750),
        "images": (750, 750), "OnWN": (750, 750), "tweet-news": (750, 750),
    }


class STS15(_STSYear):
    """SemEval-2015 Task 2 STS test set (Agirre et al. 2015): 3000 scored pairs in 5 sub-corpora."""

    name = "sts15"
    YEAR = "STS15"
    SUBSETS: ClassVar[dict[str, tuple[int, int]]] = {
        "answers-forums": (2000, 375), "answers-students": (1500, 750), "belief": (2000, 375),
        "headlines": (1500, 750), "images": (1500, 750),
    }


class STS16(_STSYear):
    """SemEval-2016 Task 1 STS test set (Agirre et al. 2016): 1186 scored pairs in 5 sub-corpora."""

    name = "sts16"
    YEAR = "STS16"
    PREFIX = "STS2016"
    INPUT_FIELDS: ClassVar[set[int]] = {2, 3, 4}
    SUBSETS: ClassVar[dict[str, tuple[int, int]]] = {
        "answer-answer": (1572, 254), "headlines": (1498, 249), "plagiarism": (1271, 230),
        "postediting": (3287, 244), "question-question": (1555, 209),
    }
