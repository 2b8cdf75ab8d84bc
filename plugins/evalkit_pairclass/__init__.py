"""Built-in plugin: pair classification with auto-threshold F1 and accuracy, without test leakage.

Metrics (task type ``pair_classification``: ``sentence1``, ``sentence2``, ``label`` in {0, 1}; or
any scored binary data through ``evalkit score``):

- ``auto_threshold_f1``, ``auto_threshold_accuracy``: F1 / accuracy at the exactly optimal
  similarity threshold (sort-and-sweep, :mod:`evalkit_pairclass.threshold`), fitted on the
  validation split and applied unchanged to the test split by default; stratified k-fold
  cross-fitting where there is no validation split (:mod:`evalkit_pairclass.crossfit`); tuned on
  the evaluated rows only with ``--tune-on self`` (labelled ``oracle``). Extras: ``threshold``,
  ``precision``, ``recall``, ``tuned_on``.
- ``average_precision``: threshold-free (scikit-learn).

Method: ``majority-class``, the trivial baseline (one score for every pair, so one predicted
class; :mod:`evalkit_pairclass.baseline`), a row of the ``pairclass`` suites.

Datasets: ``mrpc`` (train/dev/test, dev carved from train), and the Chinese ``atec``, ``bq``,
``lcqmc``, ``pawsx`` (validation/test; PAWS-X's ``NS`` placeholder rows dropped by default).
"""

from __future__ import annotations

from evalkit import Register, SuiteRegister, hookimpl
from evalkit_pairclass.baseline import MajorityClass
from evalkit_pairclass.datasets import ATEC, BQ, LCQMC, MRPC, PAWSX
from evalkit_pairclass.metrics import AutoThresholdAccuracy, AutoThresholdF1, AveragePrecision


@hookimpl
def register_metrics(register: Register) -> None:
    register(AutoThresholdF1)
    register(AutoThresholdAccuracy)
    register(AveragePrecision)


@hookimpl
def register_datasets(register: Register) -> None:
    for cls in (MRPC, ATEC, BQ, LCQMC, PAWSX):
        register(cls)


@hookimpl
def register_methods(register: Register) -> None:
    register(MajorityClass)


@hookimpl
def register_suites(register: SuiteRegister) -> None:
    from evalkit_pairclass.suites import PAIRCLASS, PAIRCLASS_ZH

    register(PAIRCLASS)
    register(PAIRCLASS_ZH)
