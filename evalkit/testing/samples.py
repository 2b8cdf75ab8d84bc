"""Tiny synthetic inputs the conformance checks feed to components (public: reuse them in tests).

Everything here is deterministic (fixed sentences, seeded generators) and small enough that a
check runs in milliseconds for anything but a neural encoder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from evalkit.classification import LabelledData
    from evalkit.interfaces import Report

#: English sentence pairs of mixed similarity. Row :data:`IDENTICAL_ROW` pairs a sentence with
#: itself, so any similarity method must score it at least as high as every other row.
PAIRS: tuple[tuple[str, str], ...] = (
    ("A man is playing a guitar.", "A man plays the guitar."),
    ("A woman is slicing an onion.", "Someone is cutting an onion."),
    ("Two dogs are running in a field.", "Two dogs run through the grass."),
    ("A child is reading a book.", "A kid reads a book in the park."),
    ("The stock market fell sharply today.", "A cat is sleeping on the sofa."),
    ("A chef is cooking pasta in a kitchen.", "A chef is cooking pasta in a kitchen."),
    ("Rain is expected tomorrow morning.", "The weather will be wet tomorrow morning."),
    ("A plane is taking off.", "An airplane is departing from the runway."),
    ("He bought a new car last week.", "Scientists found a new species of frog."),
    ("A girl is riding a horse.", "A girl rides a brown horse on the beach."),
)
IDENTICAL_ROW = 5

#: The task types :func:`sample_predictions` has data for.
SAMPLE_TASK_TYPES = ("sts", "pair_classification", "classification", "generation")
#: Class names and labels of :func:`sample_labelled` (one per row of :data:`PAIRS`; all three occur).
SAMPLE_CLASSES = ("entailment", "neutral", "contradiction")
SAMPLE_LABELS = (0, 0, 0, 1, 2, 0, 0, 0, 2, 1)


def sample_pairs() -> pd.DataFrame:
    """:data:`PAIRS` as a DataFrame with string columns ``sentence1`` and ``sentence2`` (10 rows)."""
    import pandas as pd

    return pd.DataFrame(list(PAIRS), columns=["sentence1", "sentence2"])


def sample_predictions(task_type: str, *, seed: int = 0) -> tuple[Any, Any]:
    """``(predictions, references)`` as a metric of ``task_type`` receives them from the runner.

    - ``sts``: 24 float64 predictions (a noisy rescaling) and float64 gold scores in 0-5.
    - ``pair_classification``: 24 float64 scores and int64 labels, 12 of each class.
    - ``classification``: 24 rows of float64 probabilities over 3 classes (rows summing to 1,
      mostly but not always putting most mass on the gold class) and int64 labels, 8 of each class.
    - ``generation``: 10 generated texts and 10 reference texts (lists of ``str``).

    Raises:
        ValueError: no sample data for ``task_type`` (see :data:`SAMPLE_TASK_TYPES`).
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    if task_type == "sts":
        refs = rng.uniform(0.0, 5.0, 24).round(2)
        return refs / 5.0 + rng.normal(0.0, 0.25, refs.size), refs
    if task_type == "pair_classification":
        labels = np.array([0, 1] * 12, dtype=np.int64)
        rng.shuffle(labels)
        return 0.3 + 0.4 * labels + rng.normal(0.0, 0.25, labels.size), labels
    if task_type == "classification":
        labels = np.array([0, 1, 2] * 8, dtype=np.int64)
        rng.shuffle(labels)
        logits = 1.5 * np.eye(3)[labels] + rng.normal(0.0, 1.0, (labels.size, 3))
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True), labels
    if task_type == "generation":
        return [a for a, _ in PAIRS], [b for _, b in PAIRS]
    raise ValueError(f"no sample data for task type {task_type!r}; known: {SAMPLE_TASK_TYPES}")


def perfect_predictions(task_type: str, references: Any) -> Any:
    """Predictions that match ``references`` exactly (labels as 0.0/1.0 scores, texts copied, one-hot
    probabilities for ``classification``)."""
    import numpy as np

    if task_type == "generation":
        return list(references)
    if task_type == "classification":
        ref = np.asarray(references, dtype=np.int64)
        return np.eye(int(ref.max()) + 1 if ref.size else 1)[ref]
    return np.asarray(references, dtype=np.float64).copy()


def worse_predictions(task_type: str, predictions: Any, references: Any) -> list[Any]:
    """Imperfect predictions to compare perfect ones with: noisy, reversed and shuffled ones."""
    import numpy as np

    if task_type == "generation":
        refs = list(references)
        return [list(predictions), refs[3:] + refs[:3]]
    if task_type == "classification":
        ref = np.asarray(references, dtype=np.int64)
        k = int(ref.max()) + 1
        uniform = np.full((ref.size, k), 1.0 / k)
        return [np.asarray(predictions, dtype=np.float64), np.eye(k)[(ref + 1) % k], np.eye(k)[np.roll(ref, 5)],
                uniform]
    ref = np.asarray(references, dtype=np.float64)
    return [np.asarray(predictions, dtype=np.float64), ref.max() - ref, np.roll(ref, 5)]


def sample_labelled() -> LabelledData:
    """Labelled data for classification methods: :func:`sample_pairs` with :data:`SAMPLE_LABELS` as
    ``label`` (int64), classes :data:`SAMPLE_CLASSES`, and the same rows as the validation split."""
    import numpy as np

    from evalkit.classification import LabelledData

    frame = sample_pairs()
    frame["label"] = np.array(SAMPLE_LABELS, dtype=np.int64)
    return LabelledData(frame, SAMPLE_CLASSES, frame.copy())


def sample_table(*, seed: int = 0) -> pd.DataFrame:
    """A complete methods x datasets table: 5 systems x 4 tasks, values in 0.2..0.9 (float64)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    values = rng.uniform(0.2, 0.9, (5, 4)).round(4)
    frame = pd.DataFrame(values, index=[f"system-{c}" for c in "abcde"],
                         columns=["stsb", "sickr", "sts12", "mrpc"])
    frame.index.name = "method"
    return frame


def sample_report() -> Report:
    """A report with two tables (one with a missing cell), notes, and a payload of ``results``.

    Row labels (``cosine``, ``tfidf``, ``café``) and column labels appear in both the tables and
    the payload, so every reporter, whatever it renders, must show them.
    """
    import numpy as np
    import pandas as pd

    from evalkit.interfaces import Report, Table

    first = pd.DataFrame({"stsb": [0.8203, 0.5912, 0.7001], "sickr": [0.7758, 0.6120, np.nan]},
                         index=pd.Index(["cosine", "tfidf", "café"], name="method"))
    first["mean"] = first.mean(axis=1, skipna=False)
    first["mean rank"] = [1.0, 2.0, np.nan]
    second = pd.DataFrame({"stsb": [0.1, 0.2]}, index=pd.Index(["cosine", "tfidf"], name="method"))
    records = [
        {"method": m, "dataset": d, "split": "test", "metric": "spearman", "value": float(v), "n": 10}
        for m, row in first[["stsb", "sickr"]].iterrows() for d, v in row.items() if not np.isnan(v)
    ]
    return Report(
        tables=[Table(first * 100, "Spearman's rho x 100, split: test", ["mean: arithmetic mean"]),
                Table(second, "mean absolute error", [], digits=3)],
        payload={"results": records, "suite": "conformance"},
    )
