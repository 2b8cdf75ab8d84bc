"""The documentation states facts that are checked here, so it cannot drift from the code.

- The hook reference (``docs/src/reference/hooks.md``) is the output of ``evalkit hooks --markdown``
  pasted between the markers ``hookdocs.START`` and ``hookdocs.END`` (the approach of datasette's
  ``tests/test_docs.py``); it fails when the page differs from the generated text or misses a hook.
- The site builds with ``mkdocs build --strict`` (broken links and anchors, pages missing from the
  navigation and docstrings that do not parse are errors), and its CLI reference lists every command.
- Every ``evalkit`` command line in the README and the pages names real commands and options; every
  ``tests/``, ``benchmarks/`` and ``evalkit.*`` name they cite exists; the environment variables the
  configuration page lists are exactly those the code reads.
- The README stays a front page (at most about 12 KB) whose install lines, make targets, default
  suite and links are true.

The code blocks of the tutorial and how-to pages are run by ``tests/test_docs_examples.py``.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from evalkit.hookdocs import (
    END,
    START,
    extract_section,
    hook_docs,
    hook_names,
    hook_reference_markdown,
    rst_to_markdown,
)

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs" / "src"
HOOKS_PAGE = DOCS / "reference" / "hooks.md"
CONFIG_PAGE = DOCS / "reference" / "configuration.md"
README_MAX_BYTES = 12 * 1024


def doc_files() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def hook_reference() -> str:
    section = extract_section(HOOKS_PAGE.read_text(encoding="utf-8"))
    assert section is not None, f"{HOOKS_PAGE} lacks the markers {START!r} ... {END!r}"
    return section


def test_hook_reference_page_matches_the_hookspecs() -> None:
    assert hook_reference() == hook_reference_markdown(), (
        f"{HOOKS_PAGE.relative_to(ROOT)} is stale: replace the section between the markers with the "
        "output of 'evalkit hooks --markdown'"
    )


def test_every_hook_is_documented_with_an_example() -> None:
    section = hook_reference()
    assert section.startswith(START) and section.rstrip().endswith(END)
    for name in hook_names():
        assert f"#### `{name}(" in section, f"hook {name} is not in the hook reference"
        assert f"| `{name}(" in section, f"hook {name} is missing from the summary table"
    for h in hook_docs():
        assert "Example::" in h.doc and "@evalkit.hookimpl" in h.doc, f"{h.name}'s docstring needs an example"
        assert f"def {h.name}(" in h.doc, f"{h.name}'s example must implement {h.name}"


def test_hooks_markdown_command_prints_the_reference(evalkit_cli: Any) -> None:
    assert evalkit_cli("hooks", "--markdown").stdout == hook_reference_markdown()


def test_rst_to_markdown() -> None:
    doc = "Use :class:`~evalkit.Metric` and ``register``. Example::\n\n    @hook\n    def f():\n        pass\n\nDone."
    assert rst_to_markdown(doc) == (
        "Use `evalkit.Metric` and `register`. Example:\n\n```python\n@hook\ndef f():\n    pass\n```\n\nDone.\n"
    )


def test_extract_section() -> None:
    body = hook_reference_markdown()
    assert extract_section(f"# Title\n\ntext\n{body}\nmore\n") == body
    assert extract_section("no markers") is None
    assert extract_section(f"{START}\nunterminated") is None


# -- the site -------------------------------------------------------------------------------------


def test_site_builds_strictly_with_every_command_in_the_cli_reference(tmp_path: Path) -> None:
    """``mkdocs build --strict``: what ``make docs`` runs, into a temporary folder."""
    try:
        import mkdocs  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("mkdocs is not installed: install the 'docs' extra")
        pytest.skip("mkdocs is not installed (pip install -e '.[docs]')")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", str(ROOT / "docs" / "mkdocs.yml"),
         "-d", str(tmp_path / "site")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    cli_page = (tmp_path / "site" / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    from evalkit.cli.reference import cli

    for name, command in cli.commands.items():
        assert f"evalkit {name}" in cli_page, f"the CLI reference lacks 'evalkit {name}'"
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--"):
                    assert opt in cli_page, f"the CLI reference lacks 'evalkit {name} {opt}'"
    assert (tmp_path / "site" / "reference" / "api" / "index.html").read_text(encoding="utf-8").count(
        "doc-heading") > 20, "the API reference rendered (almost) nothing"


def test_every_page_is_in_the_navigation_and_every_entry_exists() -> None:
    nav = re.findall(r":\s+([\w/.-]+\.md)\s*$", (ROOT / "docs" / "mkdocs.yml").read_text(encoding="utf-8"), re.M)
    pages = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    assert sorted(nav) == pages


# -- commands, options and names cited in the docs ------------------------------------------------


def _command_lines(text: str) -> list[str]:
    """``evalkit ...`` invocations in bash blocks and ``$ evalkit`` lines of console/text blocks."""
    out: list[str] = []
    for lang, body in re.findall(r"^```(\w*)\n(.*?)^```", text, re.S | re.M):
        body = body.replace("\\\n", " ")
        for line in body.splitlines():
            line = line.strip()
            if lang in ("console", "text"):
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            elif lang != "bash":
                continue
            for part in re.split(r"\|\||&&|[|;]", line):
                words = part.split()
                if words and words[0] in ("evalkit", ".venv/bin/evalkit"):
                    out.append(part.strip())
    return out


def _check_command(line: str, cli: click.Group) -> None:
    words = shlex.split(line, comments=True)[1:]
    cmd: click.Command = cli
    while isinstance(cmd, click.Group) and words and not words[0].startswith("-"):
        assert words[0] in cmd.commands or "..." in words[0], f"unknown command {words[0]!r} in: {line}"
        if words[0] not in cmd.commands:
            return
        cmd = cmd.commands[words.pop(0)]
    opts = {o for p in cmd.params for o in [*getattr(p, "opts", []), *getattr(p, "secondary_opts", [])]}
    opts |= {"--help", "-h"}
    for word in words:
        if word.startswith(">") or word.startswith("2>"):
            break
        if word.startswith("-") and word not in ("-", "--"):
            assert word.split("=")[0] in opts, f"{cmd.name} has no option {word.split('=')[0]!r}: {line}"


def test_every_documented_command_line_names_real_commands_and_options() -> None:
    from evalkit.cli.reference import cli

    checked = 0
    for path in doc_files():
        for line in _command_lines(path.read_text(encoding="utf-8")):
            try:
                _check_command(line, cli)
            except AssertionError as exc:
                raise AssertionError(f"{path.relative_to(ROOT)}: {exc}") from None
            checked += 1
    assert checked >= 40


def test_cited_files_and_python_names_exist() -> None:
    for path in doc_files():
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(ROOT)
        for cited in sorted(set(re.findall(r"(?<![\w/.-])((?:tests|benchmarks)/[\w/*.-]+\.py)", text))):
            assert list(ROOT.glob(cited)), f"{where} cites {cited}, which does not exist"
        for dotted in sorted(set(re.findall(r"`(evalkit(?:\.\w+)+)", text))):
            _resolve(dotted, where)


def _resolve(dotted: str, where: Path) -> None:
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            assert hasattr(obj, attr), f"{where} cites {dotted}, but {'.'.join(parts[:i])} has no {attr!r}"
            obj = getattr(obj, attr)
        return
    raise AssertionError(f"{where} cites {dotted}, which does not import")


def test_configuration_page_lists_exactly_the_environment_variables_the_code_reads() -> None:
    code = "\n".join(p.read_text(encoding="utf-8") for d in ("evalkit", "plugins") for p in (ROOT / d).rglob("*.py"))
    read = set(re.findall(r"\bEVALKIT_[A-Z_]+\b", code)) - {"EVALKIT_"}
    documented = set(re.findall(r"^\| `(EVALKIT_[A-Z_]+)`", CONFIG_PAGE.read_text(encoding="utf-8"), re.M))
    assert documented == read


# -- the README -----------------------------------------------------------------------------------


def test_readme_is_a_short_front_page_that_links_into_the_site() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) <= README_MAX_BYTES
    assert "\n## Development\n" in text
    links = re.findall(r"\]\((docs/src/[^)#]+)", text)
    assert len(links) >= 15
    for link in links:
        assert (ROOT / link).is_file(), f"README links to {link}, which does not exist"
    for section in ("tutorial", "how-to", "reference", "explanation"):
        assert f"docs/src/{section}/" in text, f"README does not link to the {section} pages"


def test_readme_install_lines_are_true() -> None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    text = README.read_text(encoding="utf-8")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = set(project["optional-dependencies"])
    installs = re.findall(r'pip install "evalkit\[([\w,]+)\]"', text)
    assert installs, "README gives no pip install line"
    for group in installs:
        assert set(group.split(",")) <= extras
    named = set(re.findall(r"`(\w+)` \(", text.split("Extras:")[1].split("\n\n")[0]))
    assert named == extras, "README's list of extras differs from pyproject.toml's"
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M))
    for target in re.findall(r"`?make (\w+)", text):
        assert target in targets, f"README mentions 'make {target}', which the Makefile lacks"


def test_readme_default_suite_table_has_the_default_suite() -> None:
    from evalkit.suite import load_suite

    suite = load_suite("sts")
    text = README.read_text(encoding="utf-8")
    table = text[text.index("**Spearman's rho x 100"):]
    header = next(line for line in table.splitlines() if line.startswith("|"))
    columns = [c.strip() for c in header.strip("|").split("|")]
    assert columns == ["method", *(d.label for d in suite.datasets), "mean", "mean rank"]
    body = [line for line in table.split("\n\n")[1].splitlines() if line.startswith("|")][2:]
    rows = [line.split("|")[1].strip() for line in body]
    assert rows == sorted(m.label for m in suite.methods)
    assert "5 methods x 7 datasets" in text and (len(suite.methods), len(suite.datasets)) == (5, 7)
