"""Plugin loading: built-ins, entry points one at a time, broken, duplicate and blocked plugins."""

from __future__ import annotations

import importlib.metadata as md
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

import evalkit
from evalkit import plugins as plugins_mod
from evalkit.errors import DuplicateNameError, PluginError, UnknownNameError
from evalkit.plugins import DEFAULT_PLUGINS, Host, PluginLoadWarning


def _write_module(root: Path, name: str, body: str) -> None:
    (root / f"{name}.py").write_text(textwrap.dedent(body), encoding="utf-8")


@pytest.fixture
def fake_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Install modules on sys.path and expose them as entry points of group 'evalkit'."""
    monkeypatch.syspath_prepend(str(tmp_path))
    eps: list[md.EntryPoint] = []
    real = md.entry_points

    def entry_points(**kw):
        if kw.get("group") == "evalkit":
            return md.EntryPoints(eps)
        return real(**kw)

    monkeypatch.setattr(plugins_mod.md, "entry_points", entry_points)

    def add(name: str, body: str) -> None:
        module = f"ekplug_{name.replace('-', '_')}_{abs(hash(str(tmp_path))) % 10**8}"
        _write_module(tmp_path, module, body)
        sys.modules.pop(module, None)
        eps.append(md.EntryPoint(name=name, value=module, group="evalkit"))

    return add


GOOD = """
    import evalkit

    class Kendall(evalkit.Metric):
        '''Kendall's tau (test plugin).'''
        name = "kendall"
        task_types = ("sts",)
        def compute(self, *, predictions, references):
            return 0.0

    @evalkit.hookimpl
    def register_metrics(register):
        register(Kendall)
"""


def test_builtins_register_their_components() -> None:
    host = Host(autoload=False)
    assert [p.name for p in host.plugins.values()] == [n for n, _ in DEFAULT_PLUGINS]
    assert {"spearman", "pearson"} <= set(host.metrics.names())
    assert {"stsb", "sickr", "sts12", "sts16", "pairs"} <= set(host.datasets.names())
    assert {"minilm-cosine", "minilm-whitening", "tfidf-cosine"} <= set(host.methods.names())
    entry = host.metrics.get("spearman")
    assert (entry.plugin, entry.distribution, entry.version) == ("correlation", "evalkit", evalkit.__version__)


def test_third_party_plugin_loads_with_provenance(fake_entry_points) -> None:
    fake_entry_points("kendall", GOOD)
    host = Host(autoload=True, strict=False, blocked=())
    assert "kendall" in host.metrics
    assert host.metrics.get("kendall").plugin == "kendall"
    listing = host.listing()
    info = next(p for p in listing["plugins"] if p["name"] == "kendall")
    assert info["hooks"] == ["register_metrics"]
    assert info["components"] == {"metric": ["kendall"]}


def test_broken_plugin_warns_and_others_still_load(fake_entry_points) -> None:
    fake_entry_points("broken", "raise RuntimeError('boom at import')\n")
    fake_entry_points("kendall", GOOD)
    with pytest.warns(PluginLoadWarning, match=r"'broken'.*boom at import"):
        host = Host(autoload=True, strict=False, blocked=())
    assert "kendall" in host.metrics and "spearman" in host.metrics
    assert [f.name for f in host.failures] == ["broken"]
    assert host.listing()["failures"][0]["error"] == "RuntimeError: boom at import"


def test_broken_plugin_is_an_error_in_strict_mode(fake_entry_points) -> None:
    fake_entry_points("broken", "raise RuntimeError('boom at import')\n")
    with pytest.raises(PluginError, match=r"'broken'.*EVALKIT_STRICT_PLUGINS"):
        Host(autoload=True, strict=True, blocked=())


def test_strict_mode_from_environment(fake_entry_points, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_entry_points("broken", "import not_a_module_anywhere\n")
    monkeypatch.setenv("EVALKIT_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="not_a_module_anywhere"):
        Host(autoload=True)


def test_blocked_plugin_is_not_imported(fake_entry_points, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_entry_points("broken", "raise RuntimeError('must not be imported')\n")
    fake_entry_points("kendall", GOOD)
    monkeypatch.setenv("EVALKIT_BLOCK_PLUGINS", "broken, tfidf")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        host = Host(autoload=True, strict=False)
    assert "broken" not in host.plugins and not host.failures
    assert "tfidf-cosine" not in host.methods  # built-ins can be blocked too
    assert "kendall" in host.metrics


def test_autoload_can_be_disabled(fake_entry_points, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_entry_points("kendall", GOOD)
    monkeypatch.setenv("EVALKIT_DISABLE_PLUGIN_AUTOLOAD", "1")
    host = Host(strict=False, blocked=())
    assert "kendall" not in host.metrics and "spearman" in host.metrics


def test_duplicate_name_names_both_plugins(fake_entry_points) -> None:
    fake_entry_points("my-metrics", GOOD.replace('"kendall"', '"spearman"'))
    with pytest.raises(DuplicateNameError, match=r"'spearman'.*'correlation' and 'my-metrics'"):
        Host(autoload=True, strict=False, blocked=())


def test_misspelled_hook_is_an_error(fake_entry_points) -> None:
    fake_entry_points("typo", """
        import evalkit

        @evalkit.hookimpl
        def register_metric(register):
            pass
    """)
    with pytest.raises(PluginError, match="register_metric"):
        Host(autoload=True, strict=False, blocked=())


def test_invalid_name_is_rejected(fake_entry_points) -> None:
    fake_entry_points("bad-name", GOOD.replace('"kendall"', '"Kendall Tau"'))
    with pytest.raises(PluginError, match="invalid name 'Kendall Tau'"):
        Host(autoload=True, strict=False, blocked=())


def test_unknown_name_suggests_close_matches() -> None:
    host = Host(autoload=False)
    with pytest.raises(UnknownNameError, match=r"unknown method 'minilm-cosin'\. Did you mean 'minilm-cosine'"):
        host.methods.get("minilm-cosin")
    with pytest.raises(UnknownNameError, match=r"Known datasets: .*stsb"):
        host.datasets.get("nope")


def test_preset_parameters_can_be_overridden_and_are_checked() -> None:
    from evalkit.errors import ConfigError

    host = Host(autoload=False)
    m = host.methods.create("minilm-cosine", batch_size=8)
    params = m.get_params()
    assert {k: params[k] for k in ("model", "batch_size", "device")} == {
        "model": "all-MiniLM-L6-v2", "batch_size": 8, "device": None}
    assert params["trust_remote_code"] is False  # encoder options at their defaults
    assert m.display_name == "minilm-cosine"
    with pytest.raises(ConfigError, match=r"has no parameter 'batchsize'.*batch_size"):
        host.methods.create("minilm-cosine", batchsize=8)


def test_plugin_modules_are_light() -> None:
    """Building the CLI (and so importing every built-in plugin) must not import torch & co."""
    import subprocess

    code = (
        "import sys; from evalkit.cli import build_cli; build_cli(); "
        "heavy = [m for m in ('torch', 'sentence_transformers', 'ot', 'gensim', 'sklearn', 'pandas', 'scipy') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
