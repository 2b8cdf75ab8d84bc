"""A third-party plugin written only against evalkit's public API (issue 12):

- a dataset whose file is fetched from its "official" location (a ``file://`` URL to
  ``upstream/pairs.tsv`` next to this module, standing in for a web server) and sha256-verified
  before it is read;
- a method that reuses the MiniLM token embeddings another method (``minilm-wmd``) requests:
  it declares the encoder output it needs and the run computes each text's embeddings once;
- a suite, ``public-probe``, that compares it with TF-IDF cosine and WMD.

tests/test_public_api_plugin.py registers it, checks its imports and runs it through
``evalkit compare``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import evalkit
from evalkit import DataError, DataFile, Dataset, Method, check_pairs
from evalkit.datafiles import check_rows, locate, parse_float, read_fields, verify_sha256
from evalkit.encoding import TOKENS, EncoderOutputRequest
from evalkit.sbert import SentenceTransformerEncoder

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

UPSTREAM = Path(__file__).resolve().parent / "upstream" / "pairs.tsv"


class ProbePairs(Dataset):
    """Eight English sentence pairs scored 0-5, fetched from their upstream file and verified."""

    name = "public-probe"
    task_type = "sts"
    splits = ("test",)
    eval_splits = ("test",)
    target = "score"
    target_scale = "0-5"
    #: The official digest of ``upstream/pairs.tsv`` (``sha256sum``).
    SHA256: ClassVar[str] = "846ad3b44b17d7d23fc5488e9b673b7f562986f4bf3bd4cc3011ad8e1e5754bc"

    def files(self, split: str | None = None) -> list[DataFile]:
        return [DataFile("public-probe/pairs.tsv", sha256=self.SHA256, url=UPSTREAM.as_uri(), rows=8)]

    def load(self, split: str, data_dir: Path) -> pd.DataFrame:
        """Columns sentence1, sentence2 (str) and score (float64, 0-5).

        Raises:
            DataError: the file cannot be found or fetched, its sha256 is not the official one, or
                a line is malformed (file and line).
        """
        import pandas as pd

        self.check_split(split)
        (located,) = locate(self.name, self.files(split), data_dir).values()
        verify_sha256(located.path, located.spec.sha256, dataset=self.name)
        head, rows = read_fields(located.path, n_fields={3}, header=True)
        if head != ["sentence1", "sentence2", "score"]:
            raise DataError(f"{located.path}:1: unexpected header {head}")
        check_rows(located.path, len(rows), located.spec.rows)
        return pd.DataFrame({
            "sentence1": [f[0] for _, f in rows],
            "sentence2": [f[1] for _, f in rows],
            "score": [parse_float(f[2], path=located.path, line=n, column=3, name="score") for n, f in rows],
        }).astype({"score": "float64"})


class MeanTokenCosine(Method):
    """Cosine of the mean contextual token embeddings of the two sentences, in -1..1.

    The token embeddings are the ``tokens`` output of all-MiniLM-L6-v2 (float32 ``(n_tokens, 384)``
    per text, special tokens dropped), the output ``minilm-wmd`` requests too: in one run each
    text is encoded once for both methods.
    """

    name = "probe-mean-tokens"

    def __init__(self, model: str = "all-MiniLM-L6-v2") -> None:
        self.model = model

    def encoder_outputs(self) -> list[EncoderOutputRequest]:
        return [EncoderOutputRequest(SentenceTransformerEncoder(self.model), TOKENS)]

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        """float64 ``(n,)`` cosine of the mean token vectors of each pair.

        Raises:
            DataError: malformed pairs, or a text with no tokens (row named).
        """
        import numpy as np

        check_pairs(pairs, what=f"{self.name}: pairs")
        (request,) = self.encoder_outputs()
        means = []
        for column in ("sentence1", "sentence2"):
            tokens = self.encoder_output(request, list(pairs[column]))
            for row, t in enumerate(tokens):
                if len(t) == 0:
                    raise DataError(f"{self.name}: row {row}, {column} has no tokens")
            means.append(np.stack([t.astype(np.float64).mean(axis=0) for t in tokens]))
        a, b = means
        return np.einsum("ij,ij->i", a, b) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@evalkit.hookimpl
def register_datasets(register: evalkit.Register) -> None:
    register(ProbePairs)


@evalkit.hookimpl
def register_methods(register: evalkit.Register) -> None:
    register(MeanTokenCosine)


@evalkit.hookimpl
def register_suites(register: evalkit.SuiteRegister) -> None:
    register({"datasets": ["public-probe"], "methods": ["tfidf-cosine", "minilm-wmd", "probe-mean-tokens"],
              "metrics": ["spearman"], "aggregate": ["mean"]},
             "public-probe", description="The probe pairs: TF-IDF cosine, WMD and mean-token cosine")
