"""Built-in plugin: optimal-transport text distances, Word Mover's and Word Rotator's Distance.

Definitions (see :mod:`evalkit_ot.solver` for the equations and sources):

- **WMD** (Kusner et al. 2015): nBOW weights, Euclidean cost between token vectors.
- **WRD** (Yokoi et al. 2020): mass proportional to token-vector norms, cost ``1 - cos``,
  in ``[0, 2]``.

Both are solved exactly in float64 by POT's network simplex; an entropic (log-domain Sinkhorn)
solver is optional and always reports its measured gap to the exact values.

Registered components:

- methods ``wmd`` (similarity ``-WMD``) and ``wrd`` (similarity ``1 - WRD``) over any
  sentence-transformers model's contextual token embeddings (``model=...``) or static word
  vectors (``vectors=PATH``); presets ``minilm-wmd`` and ``minilm-wrd`` (all-MiniLM-L6-v2);
- metrics ``wmd`` and ``wrd`` (task type ``generation``, lower is better): per-example distance of
  each prediction to its reference and the corpus mean.

Python API: :func:`evalkit_ot.solver.wmd`, :func:`~evalkit_ot.solver.wrd` (one pair),
:func:`evalkit_ot.batch.ot_distances` (many pairs across cores: worker processes,
:mod:`evalkit_ot.procs`, or threads), :mod:`evalkit_ot.bounds` (WCD,
RWMD, WRD centroid bound), :func:`evalkit_ot.knn.knn` (exact k-NN with prefetch and prune) and
:mod:`evalkit_ot.embeddings` (token vectors). POT, torch and sentence-transformers are imported
only when something is computed.
"""

from __future__ import annotations

from evalkit import Register, hookimpl
from evalkit_ot.methods import MINILM, WMDSimilarity, WRDSimilarity
from evalkit_ot.metrics import WMDMetric, WRDMetric


@hookimpl
def register_methods(register: Register) -> None:
    register(WMDSimilarity)
    register(WRDSimilarity)
    register(WMDSimilarity, "minilm-wmd", params={"model": MINILM},
             description="-WMD over all-MiniLM-L6-v2 contextual token embeddings (exact, POT)")
    register(WRDSimilarity, "minilm-wrd", params={"model": MINILM},
             description="1 - WRD over all-MiniLM-L6-v2 contextual token embeddings (exact, POT)")


@hookimpl
def register_metrics(register: Register) -> None:
    register(WMDMetric)
    register(WRDMetric)
