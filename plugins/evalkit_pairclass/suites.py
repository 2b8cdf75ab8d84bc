"""The pair-classification suites: ``pairclass`` (English MRPC) and ``pairclass-zh`` (four Chinese sets)."""

from __future__ import annotations

from typing import Any

TUNED_METRICS = ["auto_threshold_f1", "auto_threshold_accuracy", "average_precision"]

PAIRCLASS: dict[str, Any] = {
    "name": "pairclass",
    "description": "MRPC paraphrase detection: MiniLM cosine/WMD/WRD, TF-IDF and the majority class, "
                   "auto-threshold F1/accuracy and average precision",
    "datasets": ["mrpc"],
    "methods": ["minilm-cosine", "minilm-wmd", "minilm-wrd", "tfidf-cosine", "majority-class"],
    "metrics": TUNED_METRICS,
    "aggregate": ["mean"],
}

PAIRCLASS_ZH: dict[str, Any] = {
    "name": "pairclass-zh",
    "description": "Chinese pair classification (ATEC, BQ, LCQMC, PAWS-X zh): character TF-IDF and the "
                   "majority class, auto-threshold F1/accuracy and average precision",
    "datasets": ["atec", "bq", "lcqmc", "pawsx"],
    "methods": ["tfidf-char", "majority-class"],
    "metrics": TUNED_METRICS,
    "aggregate": ["mean"],
}
