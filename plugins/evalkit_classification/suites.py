"""The ``sick-e`` suite: three-way entailment on SICK-E, baselines, probes and their post-processors."""

from __future__ import annotations

from typing import Any

SICK_E: dict[str, Any] = {
    "name": "sick-e",
    "description": "SICK-E entailment (3 classes): majority/prior baselines, TF-IDF and MiniLM probes with "
                   "logit adjustment and CAN; accuracy, macro F1, balanced accuracy",
    "datasets": ["sick-e"],
    "methods": ["majority", "prior", "tfidf-logreg", "tfidf-logreg+logit-adjust", "tfidf-logreg+can",
                "minilm-logreg", "minilm-logreg+logit-adjust", "minilm-logreg+can"],
    "metrics": ["accuracy", "macro_f1", "balanced_accuracy"],
    "aggregate": ["mean"],
}
