"""The code blocks of the tutorial and how-to pages run, and print what the pages say they print.

Each page under ``docs/src/tutorial`` and ``docs/src/how-to`` runs in its own empty temporary
folder, its blocks in page order (so a file one block writes is there for the next). The
conventions (summarised for contributors in the README's "Development" section):

- A ``bash`` or ``python`` block runs (``bash -eo pipefail``; the venv's ``python``), and must
  exit 0. ``evalkit`` and ``python`` are the test environment's.
- ``<!-- not-run: REASON -->`` on the line before a ``bash``/``python`` block skips it; the reason
  is required (a long run, an install, a cluster address).
- ``<!-- file: PATH -->`` before a block of any language writes its text to ``PATH`` in the
  folder (suite files, data files), so a page shows exactly the files its commands read.
- ``<!-- expect -->`` before a block: every non-blank line of it must be a line of the previous
  run block's stdout (trailing spaces ignored; ``...`` stands for any text, as in doctest), so
  tables on the page are real output.
- ``<!-- doctest: data -->`` anywhere on a page: its blocks need the benchmark files
  (``EVALKIT_DATA_DIR``); the page is skipped locally without them and fails under ``CI``.

Runs share nothing with the user's cache and runs folders (``tests/conftest.py``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs" / "src"
RUNNABLE_DIRS = ("tutorial", "how-to")
RUN_LANGS = {"bash", "python"}
_FENCE = re.compile(r"^(`{3,})\s*([\w+-]*)\s*$")
_MARK = re.compile(r"^<!--\s*(not-run|file|expect|doctest)\s*:?\s*(.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """A fenced code block: its language, text, 1-based line of the fence and the marker above it."""

    lang: str
    text: str
    line: int
    mark: str = ""
    arg: str = ""

    @property
    def runs(self) -> bool:
        return self.lang in RUN_LANGS and self.mark not in ("not-run", "file")


def parse_blocks(text: str) -> list[Block]:
    """The fenced blocks of a markdown page, each with the marker comment on the line before it."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang, start = m.group(1), m.group(2), i
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip() != fence:
            body.append(lines[i])
            i += 1
        mark = _MARK.match(lines[start - 1].strip()) if start > 0 else None
        blocks.append(Block(lang, "\n".join(body) + "\n", start + 1, *(mark.groups() if mark else ("", ""))))
        i += 1
    return blocks


def pages() -> list[Path]:
    return sorted(p for d in RUNNABLE_DIRS for p in (DOCS / d).glob("*.md"))


def runnable_pages() -> list[Path]:
    return [p for p in pages() if any(b.runs for b in parse_blocks(p.read_text(encoding="utf-8")))]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env["COLUMNS"] = "200"
    return env


def _run(block: Block, where: str, cwd: Path) -> str:
    if block.lang == "python":
        cmd = [sys.executable, "-c", block.text]
    else:
        cmd = ["bash", "-eo", "pipefail", "-c", block.text]
    proc = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, (
        f"{where}: the {block.lang} block exited {proc.returncode}\n--- block\n{block.text}"
        f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"
    )
    return proc.stdout


def _matches(expected: str, got: set[str]) -> bool:
    """``expected`` is a line of ``got``; ``...`` in it stands for any text (as doctest's ELLIPSIS)."""
    if "..." not in expected:
        return expected in got
    pattern = re.compile(".*".join(re.escape(part) for part in expected.split("...")))
    return any(pattern.fullmatch(line) for line in got)


def _check_expected(block: Block, where: str, stdout: str | None) -> None:
    assert stdout is not None, f"{where}: an 'expect' block must follow a block that runs"
    got = {line.rstrip() for line in stdout.splitlines()}
    for line in block.text.splitlines():
        if line.strip():
            assert _matches(line.rstrip(), got), f"{where}: expected line not printed: {line!r}\n--- stdout\n{stdout}"


def run_page(page: Path, cwd: Path, *, root: Path = DOCS) -> int:
    """Run a page's blocks in ``cwd``; return how many ran."""
    text = page.read_text(encoding="utf-8")
    rel = page.relative_to(root)
    stdout: str | None = None
    ran = 0
    for block in parse_blocks(text):
        where = f"{rel}:{block.line}"
        if block.mark == "file":
            assert block.arg and not Path(block.arg).is_absolute(), f"{where}: 'file:' needs a relative path"
            (cwd / block.arg).parent.mkdir(parents=True, exist_ok=True)
            (cwd / block.arg).write_text(block.text, encoding="utf-8")
        elif block.mark == "expect":
            _check_expected(block, where, stdout)
        elif block.runs:
            stdout = _run(block, where, cwd)
            ran += 1
    return ran


@pytest.mark.parametrize("page", runnable_pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_page_examples_run(
    page: Path, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if "<!-- doctest: data -->" in page.read_text(encoding="utf-8"):
        monkeypatch.setenv("EVALKIT_DATA_DIR", str(request.getfixturevalue("data_dir")))
    assert run_page(page, tmp_path) > 0


def test_every_page_has_runnable_examples_and_reasons_for_the_rest() -> None:
    """Every tutorial and how-to page but the placeholders runs something; skips say why."""
    assert len(runnable_pages()) >= 7
    for page in pages():
        for block in parse_blocks(page.read_text(encoding="utf-8")):
            where = f"{page.relative_to(DOCS)}:{block.line}"
            if block.mark == "not-run":
                assert block.lang in RUN_LANGS, f"{where}: 'not-run' marks a {block.lang or 'plain'} block"
                assert len(block.arg) >= 10, f"{where}: 'not-run' needs a reason"
            if block.mark == "expect":
                assert block.lang in ("", "text", "console"), f"{where}: 'expect' goes on a text block"


def test_parse_blocks_reads_markers_and_nested_fences() -> None:
    page = (
        "# T\n\n<!-- file: a/s.toml -->\n```toml\nx = 1\n```\n\n```bash\necho hi\n```\n"
        "<!-- expect -->\n```text\nhi\n```\n<!-- not-run: needs a GPU machine -->\n```python\n1/0\n```\n"
        "````markdown\n```bash\nnot a block\n```\n````\n"
    )
    blocks = parse_blocks(page)
    assert [(b.lang, b.mark, b.arg, b.line, b.runs) for b in blocks] == [
        ("toml", "file", "a/s.toml", 4, False),
        ("bash", "", "", 8, True),
        ("text", "expect", "", 12, False),
        ("python", "not-run", "needs a GPU machine", 16, False),
        ("markdown", "", "", 19, False),
    ]
    assert blocks[0].text == "x = 1\n" and blocks[4].text == "```bash\nnot a block\n```\n"


def test_run_page_fails_on_a_failing_block_and_on_output_it_does_not_print(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text(
        "<!-- file: f.txt -->\n```text\nA\n```\n```bash\ncat f.txt\n```\n<!-- expect -->\n```text\nA\n```\n"
    )
    assert run_page(page, tmp_path, root=tmp_path) == 1
    page.write_text("```bash\necho 'A [/tmp/x]'\n```\n<!-- expect -->\n```text\nA ...]\n```\n")
    assert run_page(page, tmp_path, root=tmp_path) == 1
    page.write_text("```bash\necho A\n```\n<!-- expect -->\n```text\nB\n```\n")
    with pytest.raises(AssertionError, match="expected line not printed: 'B'"):
        run_page(page, tmp_path, root=tmp_path)
    page.write_text("```bash\nfalse\necho never\n```\n")
    with pytest.raises(AssertionError, match="exited 1"):
        run_page(page, tmp_path, root=tmp_path)

