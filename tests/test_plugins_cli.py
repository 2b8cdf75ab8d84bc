"""Installed third-party plugins seen through the real command line (subprocesses).

Plugins are "installed" the way pip leaves them: a module plus a ``*.dist-info`` folder holding
``METADATA`` and ``entry_points.txt``, on a folder put on ``PYTHONPATH``, so evalkit finds them
through ``importlib.metadata`` exactly as in a user's environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import evalkit

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"

OK_PLUGIN = """
    import click
    import evalkit

    class Overlap(evalkit.Metric):
        '''Share of pairs whose prediction and gold agree within 1 (test plugin), 0-1.'''
        name = "within_one_score"
        task_types = ("sts",)

        def compute(self, *, predictions, references):
            return 0.5

    @evalkit.hookimpl
    def register_metrics(register):
        register(Overlap)

    @evalkit.hookimpl
    def register_commands(cli):
        @cli.command("ok-hello")
        def hello():
            '''Say hello.'''
            click.echo("hello from ok")
"""


def _install(site: Path, dist: str, version: str, module: str, body: str, ep_name: str) -> None:
    (site / f"{module}.py").write_text(textwrap.dedent(body), encoding="utf-8")
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[evalkit]\n{ep_name} = {module}\n", encoding="utf-8")


def _checkout_metadata(site: Path) -> None:
    """evalkit's own dist-info as this checkout's pyproject.toml declares it, first on the path.

    It shadows whatever evalkit metadata the environment holds (an install of another checkout
    may declare built-in plugins this one lacks), so the built-ins seen are exactly this checkout's.
    """
    from evalkit.suite import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    info = site / f"evalkit-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: evalkit\nVersion: {project['version']}\n")
    groups = project["entry-points"]
    (info / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()) for group, eps in groups.items()))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site")
    _checkout_metadata(site)
    _install(site, "evalkit-broken", "1.2.3", "evalkit_broken_plugin",
             "raise RuntimeError('boom: evalkit_broken_plugin needs a newer numpy')\n", "broken")
    _install(site, "evalkit-ok", "0.4.0", "evalkit_ok_plugin", OK_PLUGIN, "ok")
    (site / "tiny_suite.toml").write_text(textwrap.dedent(f"""
        methods = ["tfidf-cosine"]
        metrics = ["spearman", "within_one_score"]

        [[datasets]]
        name = "tiny"
        dataset = "pairs"

        [datasets.params]
        path = {str(FIXTURES / "pairs.csv")!r}
        sentence1 = "text_a"
        sentence2 = "text_b"
        target = "similarity"
    """), encoding="utf-8")
    return site


def evalkit_cmd(site: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``evalkit ARGS`` in a fresh interpreter with the plugins of ``site`` installed."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("EVALKIT_") or k in (
        "EVALKIT_CACHE_DIR", "EVALKIT_RUNS_DIR", "EVALKIT_OFFLINE")}
    base["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT), str(ROOT / "plugins")])
    base.update(env)
    return subprocess.run([sys.executable, "-c", "from evalkit.cli import main; main()", *args],
                          env=base, capture_output=True, text=True, timeout=120)


WARNING = ("Warning: evalkit plugin 'broken' (distribution evalkit-broken 1.2.3) failed to load: "
           "RuntimeError: boom: evalkit_broken_plugin needs a newer numpy")


def test_listing_shows_distribution_version_hooks_and_components(site: Path) -> None:
    out = evalkit_cmd(site, "plugins", "--json")
    assert out.returncode == 0, out.stderr
    listing = json.loads(out.stdout)
    plugins = {p["name"]: p for p in listing["plugins"]}
    for p in plugins.values():
        assert set(p) == {"name", "module", "distribution", "version", "builtin", "hooks", "components"}
        assert p["hooks"] and p["components"], p  # every plugin here registers something
    assert plugins["ok"] == {
        "name": "ok", "module": "evalkit_ok_plugin", "distribution": "evalkit-ok", "version": "0.4.0",
        "builtin": False, "hooks": ["register_commands", "register_metrics"],
        "components": {"metric": ["within_one_score"], "command": ["ok-hello"]},
    }
    assert plugins["correlation"]["distribution"] == "evalkit" and plugins["correlation"]["builtin"] is True
    assert plugins["correlation"]["version"] == evalkit.__version__
    assert plugins["correlation"]["components"] == {"metric": ["pearson", "spearman"]}
    assert listing["failures"] == [{
        "name": "broken", "module": "evalkit_broken_plugin", "distribution": "evalkit-broken",
        "version": "1.2.3", "error": "RuntimeError: boom: evalkit_broken_plugin needs a newer numpy",
    }]
    assert WARNING in out.stderr


def test_a_plugin_failing_at_import_leaves_every_command_working(site: Path) -> None:
    """``--help`` of every command (core and plugin) plus real runs, each warning about 'broken'."""
    driver = textwrap.dedent("""
        import json, sys, warnings
        from evalkit.cli import build_cli, main
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            names = sorted(build_cli().commands)
        codes = {}
        for name in names:
            try:
                main([name, "--help"])
            except SystemExit as exc:
                codes[name] = exc.code
        print(json.dumps(codes))
    """)
    pythonpath = os.pathsep.join([str(site), str(ROOT), str(ROOT / "plugins")])
    out = subprocess.run([sys.executable, "-c", driver], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": pythonpath})
    assert out.returncode == 0, out.stderr
    codes = json.loads(out.stdout.strip().splitlines()[-1])
    assert {"compare", "list", "plugins", "hooks", "new-plugin", "ok-hello"} <= set(codes)
    assert set(codes.values()) == {0}, codes

    runs = [
        ("ok-hello",),
        ("list", "metrics"),
        ("hooks",),
        ("compare", "--suite", str(site / "tiny_suite.toml"), "--format", "json", "--no-save"),
    ]
    results = {}
    for args in runs:
        res = results[args[0]] = evalkit_cmd(site, *args)
        assert res.returncode == 0, (args, res.stderr)
        assert WARNING in res.stderr, args
        assert "Traceback" not in res.stderr
    assert results["ok-hello"].stdout == "hello from ok\n"
    assert "within_one_score" in results["list"].stdout
    assert "register_commands(cli)" in results["hooks"].stdout
    records = json.loads(results["compare"].stdout)["results"]
    assert {r["metric"] for r in records} == {"spearman", "within_one_score"}


@pytest.mark.parametrize("args", [("plugins",), ("--help",), ("list", "metrics")])
def test_strict_mode_exits_3_naming_the_plugin(site: Path, args: tuple[str, ...]) -> None:
    res = evalkit_cmd(site, *args, EVALKIT_STRICT_PLUGINS="1")
    assert res.returncode == 3
    assert res.stdout == ""
    assert res.stderr.startswith("Error: evalkit plugin 'broken' (distribution evalkit-broken 1.2.3) failed")
    assert "EVALKIT_STRICT_PLUGINS=1 makes this an error: fix or uninstall it" in res.stderr
    assert "Other plugins still work" not in res.stderr
    assert "Traceback" not in res.stderr


def test_blocking_skips_the_plugin_without_a_warning(site: Path) -> None:
    res = evalkit_cmd(site, "plugins", "--json", EVALKIT_BLOCK_PLUGINS="broken", EVALKIT_STRICT_PLUGINS="1")
    assert res.returncode == 0 and res.stderr == ""
    listing = json.loads(res.stdout)
    assert listing["failures"] == [] and "ok" in {p["name"] for p in listing["plugins"]}
    res = evalkit_cmd(site, "plugins", "--json", EVALKIT_DISABLE_PLUGIN_AUTOLOAD="1")
    assert res.returncode == 0 and res.stderr == ""
    assert {p["builtin"] for p in json.loads(res.stdout)["plugins"]} == {True}
