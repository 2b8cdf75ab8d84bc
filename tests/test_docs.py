"""The README's hook reference is the output of ``evalkit hooks --markdown`` and documents every hook.

The reference is generated from the hookspec docstrings (:mod:`evalkit.hookdocs`) and pasted into
README.md between the markers ``hookdocs.START`` and ``hookdocs.END``. Once README.md carries the
markers, these tests fail when the pasted section differs from the generated one (regenerate it
with ``evalkit hooks --markdown``) or misses a hook. Until the section is merged into README.md
(it is delivered with issue 7 for the lead to paste), they check the generated output itself, and
fail if README.md talks about the generated reference without carrying its markers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evalkit.hookdocs import (
    END,
    START,
    extract_section,
    hook_docs,
    hook_names,
    hook_reference_markdown,
    rst_to_markdown,
)

README = Path(__file__).resolve().parents[1] / "README.md"


def hook_reference() -> str:
    """The README's section, or the generated one while README.md has none (see module docstring)."""
    text = README.read_text(encoding="utf-8")
    section = extract_section(text)
    if section is None:
        assert "evalkit hooks --markdown" not in text, f"README.md mentions the reference but lacks {START!r}"
        return hook_reference_markdown()
    return section


def test_readme_hook_reference_matches_the_hookspecs() -> None:
    assert hook_reference() == hook_reference_markdown(), (
        "README.md's hook reference is stale: replace the section between the markers with the "
        "output of 'evalkit hooks --markdown'"
    )


def test_every_hook_is_documented_with_an_example() -> None:
    section = hook_reference()
    assert section.startswith(START) and section.rstrip().endswith(END)
    for name in hook_names():
        assert f"#### `{name}(" in section, f"hook {name} is not in the README's hook reference"
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
