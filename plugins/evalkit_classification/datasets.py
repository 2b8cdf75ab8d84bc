"""SICK-E: the entailment labels of SICK (Marelli et al. 2014, SemEval-2014 Task 1), 3 classes.

Read from the same SemEval-2014 files as ``sickr`` (``sick/semeval2014/SICK_{train,trial,
test_annotated}.txt``: one header row, 5 tab-separated fields ``pair_ID sentence_A sentence_B
relatedness_score entailment_judgment``; the test file has CRLF line ends), split on tabs with no
quote handling (:func:`evalkit.datafiles.read_fields`), row counts checked (4500 / 500 / 4927).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from evalkit import ConfigError, DataError, DataFile, Dataset
from evalkit.datafiles import check_rows, locate, parse_float, read_fields

if TYPE_CHECKING:
    import pandas as pd

#: SemEval-2014 Task 1 archives (as SentEval's get_transfer_data.bash) and the files' sha256, the
#: same as the ``sickr`` loader of the ``evalkit_sts`` plugin uses.
SICK_URL = "http://alt.qcri.org/semeval2014/task1/data/uploads"
SHA256 = {
    "sick/semeval2014/SICK_test_annotated.txt": "2b8aa806658d6fc23c6824c83776c2d4fee7556000817b5ec0f982861413b7d0",
    "sick/semeval2014/SICK_train.txt": "266cf8047149bd1d68138dd30439f3122bff30069740ac6705bb6197d9f1b48e",
    "sick/semeval2014/SICK_trial.txt": "5a88cfb62f8c6bd2a3cce0f2421ba2cb8c2be5ab4a800f6f01e2c64aafb7db56",
}
HEADER = ["pair_ID", "sentence_A", "sentence_B", "relatedness_score", "entailment_judgment"]


class SICKE(Dataset):
    """SICK entailment (SICK-E): English sentence pairs labelled ENTAILMENT / NEUTRAL / CONTRADICTION.

    Splits are SICK's own SemEval-2014 ones: ``train`` 4500, ``trial`` 500 (the validation split,
    used to tune C, tau, ...), ``test`` 4927 pairs; about 29% ENTAILMENT, 57% NEUTRAL and 14%
    CONTRADICTION in each. ``label`` is the int64 index into :attr:`class_names`; ``pair_id`` and
    ``relatedness`` (1-5) are kept. SentEval and MTEB-style probes report accuracy on ``test``.
    """

    name = "sick-e"

    def __init__(self, *, limit: int | None = None) -> None:
        """
        Args:
            limit: keep only the first ``limit`` pairs of each split (after the row count is
                checked): a slice for smoke tests, whose class shares differ slightly.
        """
        self.limit = limit
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            raise ConfigError(f"sick-e: limit must be a positive integer or None, got {limit!r}")

    task_type = "classification"
    splits = ("train", "trial", "test")
    eval_splits = ("test",)
    dev_split = "trial"
    train_split = "train"
    target = "label"
    target_scale = "3 classes"
    class_names = ("ENTAILMENT", "NEUTRAL", "CONTRADICTION")
    homepage = "https://alt.qcri.org/semeval2014/task1/"
    citation = ("Marelli et al. 2014, A SICK cure for the evaluation of compositional distributional "
                "semantic models, LREC")
    FILES: ClassVar[dict[str, tuple[str, str, int]]] = {
        "train": ("SICK_train.txt", "sick_train.zip", 4500),
        "trial": ("SICK_trial.txt", "sick_trial.zip", 500),
        "test": ("SICK_test_annotated.txt", "sick_test_annotated.zip", 4927),
    }

    def files(self, split: str | None = None) -> list[DataFile]:
        out = []
        for s in self.splits if split is None else (split,):
            fname, archive, rows = self.FILES[s]
            path = f"sick/semeval2014/{fname}"
            out.append(DataFile(path, SHA256[path], f"{SICK_URL}/{archive}", fname, rows))
        return out

    def load(self, split: str, data_dir: Path) -> pd.DataFrame:
        """Columns ``sentence1``, ``sentence2`` (str), ``label`` (int64 in 0..2), ``pair_id``, ``relatedness``.

        Raises:
            ConfigError: unknown split. DataError: missing file, wrong header, row count or an
                unknown label (the message names file and line).
        """
        import numpy as np
        import pandas as pd

        self.check_split(split)
        (spec,) = self.files(split)
        path = locate(self.name, [spec], data_dir)[spec.path].path
        head, rows = read_fields(path, n_fields={5}, header=True)
        if head != HEADER:
            raise DataError(f"{path}:1: expected the header {' '.join(HEADER)!r}, found {head}")
        check_rows(path, len(rows), spec.rows)
        rows = rows[: self.limit] if self.limit is not None else rows
        index = {c: i for i, c in enumerate(self.class_names)}
        labels = []
        for line, f in rows:
            if f[4] not in index:
                raise DataError(f"{path}:{line}: column 5 (entailment_judgment) must be one of "
                                f"{', '.join(self.class_names)}, found {f[4]!r}")
            labels.append(index[f[4]])
        return pd.DataFrame({
            "sentence1": [f[1] for _, f in rows],
            "sentence2": [f[2] for _, f in rows],
            "label": np.array(labels, dtype=np.int64),
            "pair_id": [f[0] for _, f in rows],
            "relatedness": [parse_float(f[3], path=path, line=n, column=4, name="relatedness_score")
                            for n, f in rows],
        })
