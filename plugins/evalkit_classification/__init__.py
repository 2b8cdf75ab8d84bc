"""Built-in plugin: the ``classification`` task on SICK-E, linear probes, logit adjustment and CAN.

Dataset: ``sick-e`` (SICK entailment, 3 classes, SemEval-2014 train/trial/test).

Metrics (task type ``classification``, predictions of shape (n, K)): ``accuracy``, ``macro_f1``,
``balanced_accuracy``, ``log_loss`` (scikit-learn) and ``ece`` (expected calibration error, 15
equal-width bins, Guo et al. 2017).

Methods:

- ``majority``, ``prior``: the training majority class / class distribution for every example.
- ``sbert-logreg`` (preset ``minilm-logreg``) and ``tfidf-logreg``: logistic regression on
  (u, v, |u - v|, u * v), C tuned on the validation split.
- ``logit-adjust`` and ``can``: post-processors of any classification method named by ``base``.
  Composed names ``<probe>+logit-adjust`` and ``<probe>+can`` are registered presets for the
  built-in probes; in a suite, any other base is written
  ``{ name = "mine+can", method = "can", params = { base = "mine" } }``.
"""

from __future__ import annotations

from evalkit import Register, SuiteRegister, hookimpl
from evalkit_classification.baselines import Majority, Prior
from evalkit_classification.datasets import SICKE
from evalkit_classification.metrics import Accuracy, BalancedAccuracy, ExpectedCalibrationError, LogLoss, MacroF1
from evalkit_classification.probes import EncoderLogReg, TfidfLogReg
from evalkit_classification.wrappers import CANAdjusted, LogitAdjusted

MINILM = "all-MiniLM-L6-v2"
#: The probes that get ``+logit-adjust`` and ``+can`` presets.
PROBES = ("minilm-logreg", "tfidf-logreg")


@hookimpl
def register_datasets(register: Register) -> None:
    register(SICKE)


@hookimpl
def register_metrics(register: Register) -> None:
    for cls in (Accuracy, MacroF1, BalancedAccuracy, LogLoss, ExpectedCalibrationError):
        register(cls)


@hookimpl
def register_methods(register: Register) -> None:
    register(Majority, description="the training split's most frequent class, probability 1")
    register(Prior, description="the training split's class distribution for every example")
    register(EncoderLogReg, description="logistic regression on (u, v, |u-v|, u*v) of sentence-transformers embeddings")
    register(EncoderLogReg, "minilm-logreg", params={"model": MINILM},
             description="logistic regression on (u, v, |u-v|, u*v) of all-MiniLM-L6-v2 embeddings, C tuned on dev")
    register(TfidfLogReg, description="logistic regression on (u, v, |u-v|, u*v) of TF-IDF vectors, C tuned on dev")
    register(LogitAdjusted, description="post-hoc logit adjustment (Menon et al. 2021) of a base method's output")
    register(CANAdjusted, description="CAN, alternating normalisation (Jia et al. 2021), of a base method's output")
    for probe in PROBES:
        register(LogitAdjusted, f"{probe}+logit-adjust", params={"base": probe},
                 description=f"{probe}, then post-hoc logit adjustment with tau tuned on dev")
        register(CANAdjusted, f"{probe}+can", params={"base": probe},
                 description=f"{probe}, then CAN (k=3, threshold 0.9, alpha 1, 1 iteration)")


@hookimpl
def register_suites(register: SuiteRegister) -> None:
    from evalkit_classification.suites import SICK_E

    register(SICK_E)
