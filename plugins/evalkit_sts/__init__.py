"""Built-in plugin: the English STS benchmarks and a generic ``pairs`` dataset.

Datasets (task type ``sts``; columns ``sentence1``, ``sentence2``, ``score`` on the 0-5 scale):

- ``stsb``: STS Benchmark (Cer et al. 2017), splits train 5749 / dev 1500 / test 1379.
- ``sickr``: SICK relatedness from the SemEval-2014 Task 1 files (Marelli et al. 2014), splits
  train 4500 / trial 500 / test 4927 and ``all`` (9927 pairs, the set MTEB reports as SICK-R,
  evaluated by default). Score 1-5.
- ``sts12`` ... ``sts16``: the SemEval STS test sets (Agirre et al. 2012-2016); every sub-corpus of
  a year is pooled into one ``test`` split as MTEB does, the sub-corpus kept in column ``subset``.
  Pairs whose gold line is blank (not officially scored, STS15/16) are dropped.

``pairs`` reads a user's CSV, TSV or JSONL file with a column mapping.
"""

from __future__ import annotations

from evalkit import Register, SuiteRegister, hookimpl
from evalkit_sts.datasets import SICKR, STS12, STS13, STS14, STS15, STS16, STSB
from evalkit_sts.pairs import PairsFile


@hookimpl
def register_datasets(register: Register) -> None:
    for cls in (STSB, SICKR, STS12, STS13, STS14, STS15, STS16):
        register(cls)
    register(PairsFile)


@hookimpl
def register_suites(register: SuiteRegister) -> None:
    from evalkit_sts.suites import STS

    register(STS, default=True)
