"""Pair-classification datasets: MRPC and the Chinese ATEC, BQ, LCQMC and PAWS-X sets.

All are tab-separated files read without quote handling (:func:`evalkit.datafiles.read_fields`; the
fields hold unbalanced ``"``), loaded as ``sentence1``, ``sentence2`` and an int64 ``label`` in
{0, 1} (1 = paraphrase / same meaning), with the row counts checked against the published sizes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from evalkit import ConfigError, DataError, DataFile, Dataset
from evalkit.datafiles import check_rows, locate, read_fields

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

#: sha256 of the files as found in the data folder (see the data README for their sources).
SHA256 = {
    "mrpc/msr_paraphrase_train.txt": "abc5c33f34aaad36d5ed3ee057e6d284dcec042aa40b271fde042af3dd476f86",
    "mrpc/msr_paraphrase_test.txt": "cae7a353acddbc85899caece3a83f21659223c14f3cbcb9871ed0be74378fd56",
    "chinese_cosent/ATEC/ATEC.valid.data": "994b6452cad5c0c1efca215f45f99b0cd26515de12936cc5aa23810b0b55f703",
    "chinese_cosent/ATEC/ATEC.test.data": "24c56edf6289a7f337af75553c360ece41a1e17e500cdb563f020ad25ece8319",
    "chinese_cosent/BQ/BQ.valid.data": "fe7ccff114f4d9ad75f8468a65437eb52d22e5fb8ca1d56a25340ba4c367442b",
    "chinese_cosent/BQ/BQ.test.data": "9592b13afdfdc034d3d1b883d58807ea21989624d94e321bb802efb08d98c6d1",
    "chinese_cosent/LCQMC/LCQMC.valid.data": "d3cd41ed89b8f6196a76ebff2aa03d5ecf42edcd12942aa865d34f7e570af7c2",
    "chinese_cosent/LCQMC/LCQMC.test.data": "8969f9c16050f40df9da6f591443a47bc14c17a504a354ee4cc4ab5b9aa303d9",
    "chinese_cosent/PAWSX/PAWSX.valid.data": "3a9da4b372d981e607eaf9b4ad4a1db0c0a7040f54535870198bda7f13e07dd2",
    "chinese_cosent/PAWSX/PAWSX.test.data": "1e8aa66616c4f50499292aabd4a8c01685056f06ff2e97a977d836968cc50c11",
}
#: The CoSENT "senteval_cn" packaging (shawroad/CoSENT_Pytorch at a fixed commit).
COSENT_RAW = "https://raw.githubusercontent.com/shawroad/CoSENT_Pytorch/ddb08479cc8d9a472b131cfd4160ddd86f905c22/data"


def _label(value: str, path: Path, line: int, column: int) -> int:
    if value not in ("0", "1"):
        raise DataError(f"{path}:{line}: column {column} (label) must be 0 or 1, found {value!r}")
    return int(value)


def stratified_carve(labels: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Row positions of a seeded, label-stratified sample of ``size`` rows (sorted, int64).

    Recipe: each label c in (0, 1) gets ``floor(size * n_c / n)`` rows, and the remaining rows go
    to the labels with the largest fractional parts (ties to label 1); then, for c = 0 then 1, one
    ``numpy.random.default_rng(seed)`` draws ``rng.permutation(rows of label c)`` and keeps the
    first ones.
    """
    import numpy as np

    n = labels.size
    counts = [int((labels == c).sum()) for c in (0, 1)]
    exact = [size * counts[c] / n for c in (0, 1)]
    take = [int(e) for e in exact]
    for c in sorted((0, 1), key=lambda c: (exact[c] - take[c], c), reverse=True)[: size - sum(take)]:
        take[c] += 1
    rng = np.random.default_rng(seed)
    chosen = [rng.permutation(np.flatnonzero(labels == c))[: take[c]] for c in (0, 1)]
    return np.sort(np.concatenate(chosen)).astype(np.int64)


class MRPC(Dataset):
    """Microsoft Research Paraphrase Corpus (Dolan & Brockett 2005): English news sentence pairs, 1 = paraphrase.

    Splits: ``test`` (1725 pairs, 1147 positive), ``dev`` and ``train``. The corpus ships train
    (4076 pairs) and test only; ``dev`` is carved from the train file by
    :func:`stratified_carve` with ``dev_size`` rows (default 408, GLUE's MRPC dev size) and
    ``seed`` (default 0), and ``train`` is the rest (3668 by default). GLUE's own dev ids are not
    distributed with the corpus, so this dev split is evalkit's, documented and reproducible, not
    GLUE's. Files: ``mrpc/msr_paraphrase_{train,test}.txt`` (UTF-8 with BOM, header ``Quality  #1 ID
    #2 ID  #1 String  #2 String``); get them from Microsoft's MSRParaphraseCorpus download.

    Parameters:
        dev_size: pairs carved from the train file into ``dev`` (stratified by label).
        seed: seed of the ``numpy.random.default_rng`` permutation that carves ``dev``.
    """

    name = "mrpc"
    task_type = "pair_classification"
    splits = ("train", "dev", "test")
    eval_splits = ("test",)
    dev_split = "dev"
    target = "label"
    target_scale = "0/1"
    homepage = "https://www.microsoft.com/en-us/download/details.aspx?id=52398"
    ROWS: ClassVar[dict[str, int]] = {"train": 4076, "test": 1725}
    HEADER: ClassVar[list[str]] = ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"]

    def __init__(self, *, dev_size: int = 408, seed: int = 0) -> None:
        self.dev_size = dev_size
        self.seed = seed
        if not isinstance(dev_size, int) or not 0 < dev_size < self.ROWS["train"]:
            raise ConfigError(f"mrpc: dev_size must be an integer in 1..{self.ROWS['train'] - 1}, got {dev_size!r}")

    def files(self, split: str | None = None) -> list[DataFile]:
        parts = {"train", "test"} if split is None else {"test" if split == "test" else "train"}
        paths = {s: f"mrpc/msr_paraphrase_{s}.txt" for s in ("train", "test") if s in parts}
        return [DataFile(path, SHA256[path], None, None, self.ROWS[s]) for s, path in paths.items()]

    def load(self, split: str, data_dir: Path) -> pd.DataFrame:
        import numpy as np
        import pandas as pd

        self.check_split(split)
        (spec,) = self.files(split)
        path = locate(self.name, [spec], data_dir)[spec.path].path
        head, rows = read_fields(path, n_fields={5}, header=True, encoding="utf-8-sig")
        if head != self.HEADER:
            raise DataError(f"{path}:1: expected the header {self.HEADER}, found {head}")
        check_rows(path, len(rows), spec.rows)
        df = pd.DataFrame({
            "sentence1": [f[3] for _, f in rows],
            "sentence2": [f[4] for _, f in rows],
            "label": np.array([_label(f[0], path, n, 1) for n, f in rows], dtype=np.int64),
            "id1": [f[1] for _, f in rows],
            "id2": [f[2] for _, f in rows],
            "line": [n for n, _ in rows],
        })
        if split == "test":
            return df
        dev = stratified_carve(df["label"].to_numpy(), self.dev_size, self.seed)
        keep = np.zeros(len(df), dtype=bool)
        keep[dev] = True
        return df[keep if split == "dev" else ~keep].reset_index(drop=True)


class _CoSENTSet(Dataset):
    """A Chinese binary set in the CoSENT "senteval_cn" format: ``sentence1 TAB sentence2 TAB label``."""

    task_type = "pair_classification"
    splits = ("validation", "test")
    eval_splits = ("test",)
    dev_split = "validation"
    target = "label"
    target_scale = "0/1"
    FOLDER: ClassVar[str] = ""
    ROWS: ClassVar[dict[str, int]] = {}

    def files(self, split: str | None = None) -> list[DataFile]:
        out = []
        for s in self.splits if split is None else (split,):
            stem = "valid" if s == "validation" else s
            path = f"chinese_cosent/{self.FOLDER}/{self.FOLDER}.{stem}.data"
            out.append(DataFile(path, SHA256[path], f"{COSENT_RAW}/{self.FOLDER}/{self.FOLDER}.{stem}.data",
                                None, self.ROWS[s]))
        return out

    def _rows(self, split: str, data_dir: Path) -> tuple[Path, list[tuple[int, list[str]]]]:
        self.check_split(split)
        (spec,) = self.files(split)
        path = locate(self.name, [spec], data_dir)[spec.path].path
        _, rows = read_fields(path, n_fields={3})
        check_rows(path, len(rows), spec.rows)
        return path, rows

    def _frame(self, path: Path, rows: list[tuple[int, list[str]]]) -> pd.DataFrame:
        import numpy as np
        import pandas as pd

        return pd.DataFrame({
            "sentence1": [f[0] for _, f in rows],
            "sentence2": [f[1] for _, f in rows],
            "label": np.array([_label(f[2], path, n, 3) for n, f in rows], dtype=np.int64),
            "line": [n for n, _ in rows],
        })

    def load(self, split: str, data_dir: Path) -> pd.DataFrame:
        return self._frame(*self._rows(split, data_dir))


class ATEC(_CoSENTSet):
    """ATEC (Ant Financial question pairs, Chinese): validation 20000 / test 20000 pairs, 18% positive."""

    name = "atec"
    FOLDER = "ATEC"
    ROWS: ClassVar[dict[str, int]] = {"validation": 20000, "test": 20000}
    homepage = "https://github.com/IceFlameWorm/NLP_Datasets/tree/master/ATEC"


class BQ(_CoSENTSet):
    """BQ corpus (Chen et al. 2018, bank customer questions, Chinese): 10000 / 10000 pairs, balanced."""

    name = "bq"
    FOLDER = "BQ"
    ROWS: ClassVar[dict[str, int]] = {"validation": 10000, "test": 10000}
    homepage = "http://icrc.hitsz.edu.cn/info/1037/1162.htm"


class LCQMC(_CoSENTSet):
    """LCQMC (Liu et al. 2018, Chinese question matching): validation 8802 / test 12500 pairs, balanced."""

    name = "lcqmc"
    FOLDER = "LCQMC"
    ROWS: ClassVar[dict[str, int]] = {"validation": 8802, "test": 12500}
    homepage = "http://icrc.hitsz.edu.cn/Article/show/171.html"


class PAWSX(_CoSENTSet):
    """PAWS-X Chinese (Yang et al. 2019, adversarial paraphrases): 1984 / 1975 pairs, NS placeholders dropped.

    25 test and 16 validation lines of the CoSENT files have the literal sentence ``NS`` (a
    translation placeholder; all labelled 0). By default they are dropped, which gives the
    official PAWS-X zh sizes (validation 1984, test 1975); ``keep_placeholders=True`` keeps every
    line (2000 / 2000), as CoSENT-style evaluations do.
    """

    name = "pawsx"
    FOLDER = "PAWSX"
    ROWS: ClassVar[dict[str, int]] = {"validation": 2000, "test": 2000}
    KEPT: ClassVar[dict[str, int]] = {"validation": 1984, "test": 1975}
    homepage = "https://github.com/google-research-datasets/paws"

    def __init__(self, *, keep_placeholders: bool = False) -> None:
        self.keep_placeholders = keep_placeholders

    def load(self, split: str, data_dir: Path) -> pd.DataFrame:
        path, rows = self._rows(split, data_dir)
        if not self.keep_placeholders:
            rows = [(n, f) for n, f in rows if f[0] != "NS" and f[1] != "NS"]
            check_rows(f"{path} without 'NS' rows", len(rows), self.KEPT[split])
        return self._frame(path, rows)
