"""The ``sts`` suite, the default of ``evalkit compare``: seven English STS benchmarks, five methods."""

from __future__ import annotations

from typing import Any

STS_DATASETS = ["stsb", "sickr", "sts12", "sts13", "sts14", "sts15", "sts16"]

#: ``register_suites`` registers it with ``default=True``.
STS: dict[str, Any] = {
    "name": "sts",
    "description": "English STS (STSb, SICK-R, STS12-16): MiniLM cosine/whitening/WMD/WRD and TF-IDF, "
                   "Spearman and Pearson",
    "datasets": STS_DATASETS,
    "methods": ["minilm-cosine", "minilm-whitening", "minilm-wmd", "minilm-wrd", "tfidf-cosine"],
    "metrics": ["spearman", "pearson"],
    "aggregate": ["mean"],
}
