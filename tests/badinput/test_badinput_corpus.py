"""The bad-input corpus: every kind of bad input or plugin fault, with its exit code and message.

One table of cases (:data:`CASES`), each run in-process through the ``evalkit_cli`` fixture with
the faulty plugin of ``faulty.py`` registered. Every case asserts the exit code of the contract
(``docs/src/reference/exit-codes.md``: 0 ok, 2 user error, 3 plugin failure, 4 internal error) and the
key words of the message (the file's physical line, the byte offset, the plugin, the cell, ...), and
that no Python traceback reaches the user for 2 and 3. The expected places (line 7, byte offset
407) are counted by hand in the files written here, not taken from evalkit's output.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import faulty

STS = ("sentence1,sentence2,score\n"
       "A cat sits on the mat.,A cat is on the mat.,4.5\n"
       "A dog runs.,A man sings a song.,0.5\n"
       "Two kids play.,Children are playing.,3.8\n"
       "The sky is blue.,Stocks fell sharply today.,0.2\n"
       "He reads a book.,He is reading.,3.9\n")


def suite(tmp: Path, *, data: str = "pairs.csv", methods: tuple[str, ...] = ("tfidf-cosine",),
          metrics: tuple[str, ...] = ("spearman",), dataset: str = "pairs", extra: str = "",
          splits: str = "", aggregate: str = "") -> str:
    """A suite TOML in ``tmp`` for ``data`` (a file in ``tmp``); returns its path."""
    params = f'path = "{tmp / data}"' if dataset == "pairs" else ""
    if extra:
        params = f"{params}, {extra}" if params else extra
    text = (f'name = "corpus"\nmethods = {json.dumps(list(methods))}\nmetrics = {json.dumps(list(metrics))}\n'
            + (f"aggregate = {json.dumps([aggregate])}\n" if aggregate else "")
            + f'[[datasets]]\nname = "mine"\ndataset = "{dataset}"\nparams = {{ {params} }}\n'
            + (f"splits = {splits}\n" if splits else ""))
    path = tmp / "suite.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@dataclass
class Case:
    """One bad input: files to write, the command, the expected exit code and key words."""

    id: str
    args: Callable[[Path], list[str]]
    code: int
    words: tuple[str, ...]
    files: dict[str, str | bytes] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    stdout_words: tuple[str, ...] = ()


def cmp(**kw: Any) -> Callable[[Path], list[str]]:
    """``compare --suite <suite> --no-save`` for a suite built by :func:`suite`."""
    extra_args = kw.pop("args", [])
    return lambda tmp: ["compare", "--suite", suite(tmp, **kw), "--no-save", *extra_args]


def score(name: str, *extra: str) -> Callable[[Path], list[str]]:
    return lambda tmp: ["score", str(tmp / name), *extra]


def board(name: str, *extra: str) -> Callable[[Path], list[str]]:
    return lambda tmp: ["leaderboard", str(tmp / name), *extra]


def _line(i: int, length: int) -> bytes:
    """A valid CSV line of exactly ``length`` bytes (newline included)."""
    head, tail = f"pair {i} ", f",second,{i}.0\n"
    return (head + "x" * (length - len(head) - len(tail)) + tail).encode()


# The example: a Latin-1 byte at byte offset 407 on line 7. The header (26 bytes), four lines
# of 76 and one of 74 bytes make 404 bytes; line 7 then starts with "caf" (404-406) and 0xe9 (407).
_ENC_PREFIX = b"sentence1,sentence2,score\n" + b"".join(_line(i, 76) for i in range(1, 5)) + _line(5, 74)
_ENCODED = _ENC_PREFIX + b"caf\xe9 au lait,coffee,2.0\n"

SCORE_OK = "score,label\n0.9,1\n0.2,0\n0.8,1\n0.1,0\n"

CASES: list[Case] = [
    # ---- usage errors: every command, click's errors included (exit 2) ----
    Case("unknown-option", lambda t: ["compare", "--bogus"], 2, ("No such option", "--bogus")),
    Case("unknown-command", lambda t: ["comprae"], 2, ("No such command",)),
    Case("score-missing-file", lambda t: ["score", str(t / "nope.csv")], 2, ("does not exist",)),
    Case("score-unknown-extension", score("preds.xlsx"), 2, ("unknown file type",), {"preds.xlsx": "x"}),
    Case("unknown-method", cmp(methods=("tfidf-cosin",)), 2, ("unknown method", "Did you mean"), {"pairs.csv": STS}),
    Case("unknown-metric", cmp(metrics=("spearmann",)), 2, ("unknown metric",), {"pairs.csv": STS}),
    Case("jobs-zero", cmp(args=["--jobs", "0"]), 2, ("--jobs must be at least 1",), {"pairs.csv": STS}),
    Case("unknown-format", cmp(args=["--format", "yaml"]), 2, ("unknown reporter", "yaml"), {"pairs.csv": STS}),
    Case("suite-toml-syntax", lambda t: ["compare", "--suite", str(t / "s.toml")], 2, ("s.toml",),
         {"s.toml": "name = \n"}),
    Case("check-missing-baseline", lambda t: ["check", str(t / "r.json"), "--baseline", str(t / "b.json")], 2,
         ("r.json",), {}),
    Case("leaderboard-no-board", lambda t: ["leaderboard"], 2, ("give a BOARD",)),
    Case("leaderboard-unknown-board", lambda t: ["leaderboard", "glue2"], 2, ("neither a built-in board",)),
    Case("new-plugin-missing-folder",
         lambda t: ["new-plugin", "x", "--kind", "metric", "--directory", str(t / "no")], 2, ("does not exist",)),
    Case("plugins-bad-option", lambda t: ["plugins", "--bogus"], 2, ("No such option",)),
    Case("hooks-bad-option", lambda t: ["hooks", "--bogus"], 2, ("No such option",)),
    Case("list-unknown-kind", lambda t: ["list", "widgets"], 2, ("widgets",)),
    Case("diff-unknown-run", lambda t: ["diff", "nosuchrun", "latest"], 2, ("nosuchrun",)),
    Case("rescore-unknown-run", lambda t: ["rescore", "nosuchrun"], 2, ("nosuchrun",)),
    Case("runs-bad-limit", lambda t: ["runs", "--limit", "x"], 2, ("Invalid value",)),
    # ---- the user's pair files (item 4) ----
    Case("pairs-zero-bytes", cmp(), 2, ("pairs.csv", "empty (0 bytes)"), {"pairs.csv": ""}),
    Case("pairs-header-only", cmp(), 2, ("pairs.csv", "no data rows"), {"pairs.csv": "sentence1,sentence2,score\n"}),
    Case("pairs-duplicated-columns", cmp(), 2, ("duplicated column", "'score' in columns [3, 4]"),
         {"pairs.csv": "sentence1,sentence2,score,score\na,b,1,2\nc,d,2,3\n"}),
    Case("pairs-encoding-error", cmp(), 2, ("pairs.csv:7:4", "byte offset 407", "0xe9", "line 7"),
         {"pairs.csv": _ENCODED}),
    Case("pairs-quoted-newline-line", cmp(), 2, ("line(s) [5]", "'high'"),
         {"pairs.csv": 'sentence1,sentence2,score\n"two\nlines",b,1\nc,d,2\nx,y,high\n'}),
    Case("pairs-blank-lines-counted", cmp(), 2, ("line(s) [6]",),
         {"pairs.csv": "sentence1,sentence2,score\n\na,b,1\n\nc,d,2\nx,y,n/a\n"}),
    Case("pairs-wrong-field-count", cmp(), 2, ("pairs.csv:3:", "expected 3 fields", "found 4"),
         {"pairs.csv": "sentence1,sentence2,score\na,b,1\nc,d,2,9\n"}),
    Case("pairs-unclosed-quote", cmp(), 2, ("pairs.csv:3:", "never be closed"),
         {"pairs.csv": 'sentence1,sentence2,score\na,b,1\n"c,d,2\ne,f,3\n'}),
    Case("pairs-split-case", cmp(extra='split_column = "split"'), 2,
         ("match no split", "'Test' (did you mean 'test'?) at line(s) [3]"),
         {"pairs.csv": "sentence1,sentence2,score,split\na,b,1,test\nc,d,2,Test\ne,f,3,test\n"}),
    Case("pairs-split-space", cmp(extra='split_column = "split"'), 2,
         ("match no split", "'test ' (did you mean 'test'?) at line(s) [4]"),
         {"pairs.csv": "sentence1,sentence2,score,split\na,b,1,test\nc,d,2,train\ne,f,3,test \n"}),
    Case("pairs-split-unknown-value", cmp(extra='split_column = "split"'), 2, ("'heldout'", "params.splits"),
         {"pairs.csv": "sentence1,sentence2,score,split\na,b,1,test\nc,d,2,heldout\n"}),
    Case("pairs-split-not-declared", cmp(splits='["dev"]'), 2, ("only split is 'test'", "'dev'"), {"pairs.csv": STS}),
    Case("pairs-empty-text", cmp(), 2, ("empty or whitespace-only", "line(s) [3]", "on_empty"),
         {"pairs.csv": 'sentence1,sentence2,score\na b,b c,1\n"",d e,2\nf g,h,3\n'}),
    Case("pairs-whitespace-text", cmp(), 2, ("empty or whitespace-only", "line(s) [2]"),
         {"pairs.csv": "sentence1,sentence2,score\na b,   ,1\nc d,d e,2\nf g,h,3\n"}),
    Case("pairs-non-numeric-score", cmp(), 2, ("not a finite number", "line(s) [3]", "'n/a'"),
         {"pairs.csv": "sentence1,sentence2,score\na,b,1\nc,d,n/a\ne,f,3\n"}),
    Case("pairs-nan-score", cmp(), 2, ("not a finite number", "line(s) [2]"),
         {"pairs.csv": "sentence1,sentence2,score\na,b,nan\nc,d,2\ne,f,3\n"}),
    Case("pairs-missing-column", cmp(), 2, ("missing column", "'score'"),
         {"pairs.csv": "sentence1,sentence2,gold\na,b,1\n"}),
    Case("pairs-label-not-binary", cmp(extra='task_type = "pair_classification"', metrics=("average_precision",)),
         2, ("must be 0 or 1", "line(s) [3]"), {"pairs.csv": "sentence1,sentence2,label\na,b,1\nc,d,2\n"}),
    Case("pairs-jsonl-invalid", cmp(data="p.jsonl"), 2, ("p.jsonl:2:", "invalid JSON"),
         {"p.jsonl": '{"sentence1": "a", "sentence2": "b", "score": 1}\n{"sentence1": "c",\n'}),
    Case("pairs-jsonl-duplicate-key", cmp(data="p.jsonl"), 2, ("p.jsonl:1", "'score' appears twice"),
         {"p.jsonl": '{"sentence1": "a", "sentence2": "b", "score": 1, "score": 2}\n'}),
    Case("pairs-jsonl-encoding", cmp(data="p.jsonl"), 2, ("p.jsonl:2:16", "byte offset 67"),
         {"p.jsonl": b'{"sentence1": "ab", "sentence2": "b", "score": 1.0}\n' + b'{"sentence1": "\xff"}\n'}),
    Case("pairs-jsonl-missing-text", cmp(data="p.jsonl"), 2, ("empty or whitespace-only", "line(s) [2]"),
         {"p.jsonl": '{"sentence1": "a b", "sentence2": "b c", "score": 1}\n{"sentence2": "d", "score": 2}\n'}),
    Case("pairs-bad-on-empty", cmp(extra='on_empty = "skip"'), 2, ("on_empty must be",), {"pairs.csv": STS}),
    # ---- evalkit score: files of predictions ----
    Case("score-numeric-with-na", score("p.csv"), 2, ("'label' holds numbers", "line(s) [4]", "'n/a'", "--task"),
         {"p.csv": "score,label\n0.9,3.5\n0.1,1.0\n0.5,n/a\n0.7,4.0\n"}),
    Case("score-inf-prediction", score("p.csv"), 2, ("finite numbers", "line(s) [3]"),
         {"p.csv": "score,label\n0.9,3.5\ninf,1.0\n0.5,2.0\n"}),
    Case("score-zero-bytes", score("p.csv"), 2, ("empty (0 bytes)",), {"p.csv": ""}),
    Case("score-header-only", score("p.csv"), 2, ("no data rows",), {"p.csv": "score,label\n"}),
    Case("score-duplicated-columns", score("p.csv"), 2, ("duplicated column", "'score'"),
         {"p.csv": "score,score,label\n1,2,1\n"}),
    Case("score-encoding", score("p.tsv"), 2, ("p.tsv:3:3", "byte offset 20"),
         {"p.tsv": b"score\tlabel\n0.5\t1\n0.\x80\t0\n"}),
    Case("score-quoted-newline", score("p.csv"), 2, ("line(s) [5]",),
         {"p.csv": 'score,label,text\n0.5,1,"a\nb"\n0.2,0,c\n0.x,1,d\n'}),
    Case("score-jsonl-not-object", score("p.jsonl"), 2, ("p.jsonl:2", "one JSON object per line"),
         {"p.jsonl": '{"score": 1, "label": 1}\n[1, 2]\n'}),
    Case("score-near-constant-undefined", score("p.csv", "--metrics", "spearman,pearson"), 0,
         (), {"p.csv": "score,label\n1.0000000000000004,1.5\n0.9999999999999996,2.5\n"
                              "1.0000000000000004,3.5\n0.9999999999999996,4.5\n1,0.5\n"},
         stdout_words=("undefined", "near-constant")),
    Case("score-constant-undefined", score("p.csv", "--metrics", "spearman"), 0, (),
         {"p.csv": "score,label\n0.5,1.5\n0.5,2.5\n0.5,3.5\n"}, stdout_words=("undefined", "are constant")),
    Case("score-constant-gold-undefined", score("p.csv", "--metrics", "pearson"), 0, (),
         {"p.csv": "score,label\n0.1,2.5\n0.5,2.5\n0.9,2.5\n"}, stdout_words=("undefined", "references are constant")),
    Case("score-all-positive-note", score("p.csv", "--metrics", "average_precision"), 0, (),
         {"p.csv": "score,label\n0.9,1\n0.2,1\n0.8,1\n"}, stdout_words=("all 3 evaluated labels are 1", "one class")),
    Case("score-all-negative-ap-undefined", score("p.csv", "--metrics", "average_precision", "--task",
                                                  "pair_classification"), 0, (),
         {"p.csv": "score,label\n0.9,0\n0.2,0\n0.8,0\n"}, stdout_words=("undefined", "no positive label")),
    # ---- leaderboards ----
    Case("board-cell-not-number", board("b.csv"), 2, ("b.csv:3", "row 2", "system 'B'", "column 'CoLA'", "'x'"),
         {"b.csv": "system,CoLA,SST-2\nA,50,90\nB,x,91\nC,52,92\n"}),
    Case("board-rank-not-a-task", board("b.csv"), 0,
         ("averaging its numeric columns CoLA, SST-2", "not tasks: system, Rank"),
         {"b.csv": "system,Rank,CoLA,SST-2\nA,1,50,90\nB,2,49,91\nC,3,52,92\n"},
         stdout_words=("not tasks: system, Rank",)),
    Case("board-missing-cells-counted", board("b.csv"), 0, (),
         {"b.csv": "system,CoLA,SST-2\nA,50,90\nB,-,91\nC,52,92\n"}, stdout_words=("1 missing cell(s)", "CoLA: B")),
    Case("board-spec-undeclared-marker", board("b.toml"), 2, ("b.csv:4", "'n/a'", "Declared missing markers"),
         {"b.toml": 'file = "b.csv"\n[[tasks]]\nname = "CoLA"\n[[tasks]]\nname = "SST-2"\n',
          "b.csv": "system,CoLA,SST-2\nA,50,90\nB,49,91\nC,n/a,92\n"}),
    Case("board-spec-declared-marker", board("b.toml"), 0, (),
         {"b.toml": 'file = "b.csv"\nmissing = ["n/a"]\n[[tasks]]\nname = "CoLA"\n[[tasks]]\nname = "SST-2"\n',
          "b.csv": "system,CoLA,SST-2\nA,50,90\nB,49,91\nC,n/a,92\n"}, stdout_words=("1 missing cell(s)", "'n/a'")),
    Case("board-zero-bytes", board("b.csv"), 2, ("empty (0 bytes)",), {"b.csv": ""}),
    Case("board-duplicated-columns", board("b.csv"), 2, ("duplicated column", "'CoLA'"),
         {"b.csv": "system,CoLA,CoLA\nA,1,2\n"}),
    Case("board-quoted-newline-line", board("b.csv"), 2, ("b.csv:5", "'?'"),
         {"b.csv": 'system,CoLA,SST-2\n"A\nmulti",50,90\nB,49,91\nC,?,92\nD,50,93\n'}),
    # ---- plugin failures (exit 3): plugin, distribution, component, cell named ----
    Case("method-raises", cmp(methods=("faulty-raise",)), 3,
         ("plugin 'faulty'", "method 'faulty-raise'", "cell faulty-raise on mine/test", "predict raised ValueError"),
         {"pairs.csv": STS}),
    Case("method-nan", cmp(methods=("faulty-nan",)), 3, ("method 'faulty-nan'", "non-finite", "rows [1]"),
         {"pairs.csv": STS}),
    Case("method-inf", cmp(methods=("faulty-inf",)), 3, ("non-finite", "rows [0]"), {"pairs.csv": STS}),
    Case("method-shape", cmp(methods=("faulty-shape2d",)), 3, ("shape (5, 2)", "one score per pair"),
         {"pairs.csv": STS}),
    Case("method-short", cmp(methods=("faulty-short",)), 3, ("4 scores for 5 pairs",), {"pairs.csv": STS}),
    Case("method-complex", cmp(methods=("faulty-complex",)), 3, ("complex numbers", "must be real"),
         {"pairs.csv": STS}),
    Case("method-text", cmp(methods=("faulty-text",)), 3, ("not real numbers",), {"pairs.csv": STS}),
    Case("method-sys-exit-0", cmp(methods=("faulty-exit",)), 3, ("called sys.exit(0) in predict",),
         {"pairs.csv": STS}),
    Case("method-sys-exit-message", cmp(methods=("faulty-exit1",)), 3, ("sys.exit('fatal: giving up')",),
         {"pairs.csv": STS}),
    Case("method-fit-raises", cmp(methods=("faulty-fit",)), 3, ("fit raised KeyError",), {"pairs.csv": STS}),
    Case("method-init-raises", cmp(methods=("faulty-init",)), 3,
         ("method 'faulty-init'", "__init__ raised RuntimeError"),
         {"pairs.csv": STS}),
    Case("method-near-constant-undefined", cmp(methods=("faulty-constant", "tfidf-cosine")), 0, (),
         {"pairs.csv": STS}, stdout_words=("undefined", "faulty-constant on mine/test", "near-constant")),
    Case("metric-nan", cmp(metrics=("metric-nan",)), 3, ("metric 'metric-nan'", "where a number is due", "cell"),
         {"pairs.csv": STS}),
    Case("metric-raises", cmp(metrics=("metric-raise",)), 3, ("compute raised ZeroDivisionError",), {"pairs.csv": STS}),
    Case("metric-text", cmp(metrics=("metric-text",)), 3, ("'high', not a number",), {"pairs.csv": STS}),
    Case("metric-complex", cmp(metrics=("metric-complex",)), 3, ("not a real number",), {"pairs.csv": STS}),
    Case("metric-sys-exit", cmp(metrics=("metric-exit",)), 3, ("called sys.exit(3) in compute",), {"pairs.csv": STS}),
    Case("metric-nan-in-score", score("p.csv", "--metrics", "metric-nan"), 3, ("where a number is due",),
         {"p.csv": SCORE_OK}),
    Case("dataset-load-raises", cmp(dataset="ds-raise"), 3, ("dataset 'mine'", "load('test') raised IndexError"), {}),
    Case("dataset-load-not-frame", cmp(dataset="ds-notframe"), 3, ("returned list, not a DataFrame",), {}),
    Case("dataset-load-no-gold", cmp(dataset="ds-nocolumn"), 3, ("without column(s) ['score']",), {}),
    Case("aggregator-raises", cmp(aggregate="faulty-agg"), 3, ("aggregator 'faulty-agg'", "AttributeError"),
         {"pairs.csv": STS}),
    Case("reporter-raises", cmp(args=["--format", "rep-raise"]), 3, ("reporter 'rep-raise'", "render raised TypeError"),
         {"pairs.csv": STS}),
    Case("reporter-not-text", cmp(args=["--format", "rep-bytes"]), 3, ("render returned bytes",), {"pairs.csv": STS}),
    Case("plugin-command-raises", lambda t: ["explode"], 3, ("plugin 'faulty'", "command 'explode'", "KeyError")),
    # ---- writes (item 5): found before any work; a faulty method shows nothing ran ----
    Case("output-folder-missing", cmp(methods=("faulty-raise",), args=["--output", "/nonexistent/x/out.txt"]), 2,
         ("--output", "does not exist"), {"pairs.csv": STS}),
    Case("output-is-folder", lambda t: ["compare", "--suite", suite(t, methods=("faulty-raise",)), "--no-save",
                                        "--output", str(t)], 2, ("is a directory",), {"pairs.csv": STS}),
    Case("runs-dir-unwritable", lambda t: ["compare", "--suite", suite(t, methods=("faulty-raise",)),
                                           "--runs-dir", str(t / "pairs.csv" / "runs")], 2,
         ("runs folder", "not writable", "nothing was computed"), {"pairs.csv": STS}),
    Case("check-junit-unwritable", lambda t: ["check", str(t / "r.json"), "--baseline", str(t / "r.json"),
                                              "--junit-xml", str(t / "no" / "j.xml")], 2, ("does not exist",),
         {"r.json": "{}"}),
    Case("score-output-unwritable", score("p.csv", "--output", "/nonexistent/dir/o.txt"), 2, ("--output",),
         {"p.csv": SCORE_OK}),
    Case("cache-unwritable-readonly", cmp(), 0, ("Warning", "not writable", "nothing new is stored"),
         {"pairs.csv": STS, "blocker": "a file"}, env={"EVALKIT_CACHE_DIR": "{tmp}/blocker/cache"}),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, evalkit_plugin: Any, evalkit_cli: Any,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    evalkit_plugin(faulty.PLUGIN, name="faulty")
    for name, content in case.files.items():
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    for key, value in case.env.items():
        monkeypatch.setenv(key, value.replace("{tmp}", str(tmp_path)))
    monkeypatch.chdir(tmp_path)
    result = evalkit_cli(*case.args(tmp_path), expect=None)
    out = result.stdout + result.stderr
    assert result.exit_code == case.code, f"exit {result.exit_code}, expected {case.code}:\n{out}"
    for word in case.words:
        assert word in result.stderr, f"{word!r} not in stderr:\n{result.stderr}"
    for word in case.stdout_words:
        assert word in result.stdout, f"{word!r} not in stdout:\n{result.stdout}"
    assert "Traceback" not in out
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_corpus_covers_every_kind() -> None:
    """At least 60 cases, each exit code of the contract that a user can cause represented."""
    assert len(CASES) >= 60
    assert {c.code for c in CASES} >= {0, 2, 3}


def test_encoding_offset_is_counted_by_hand() -> None:
    """The place the encoding case expects: 404 bytes of six lines, then "caf" and 0xe9 at offset 407."""
    assert len(_ENC_PREFIX) == 26 + 4 * 76 + 74 == 404
    assert _ENCODED.index(b"\xe9") == len(_ENC_PREFIX) + 3 == 407
    assert _ENCODED[: _ENCODED.index(b"\xe9")].count(b"\n") + 1 == 7


def test_encoding_error_names_the_byte_offset(tmp_path: Path, evalkit_cli: Any) -> None:
    """The issue's example: a bad byte at offset 407 on line 7 is reported at 407, not at 3."""
    path = tmp_path / "p.csv"
    path.write_bytes(_ENCODED)
    result = evalkit_cli("score", path, expect=2)
    assert "byte offset 407" in result.stderr and "line 7, byte 4 of the line" in result.stderr


@pytest.mark.parametrize("flag", ["-v", None])
def test_verbose_shows_the_traceback(flag: str | None, tmp_path: Path, evalkit_plugin: Any,
                                     evalkit_cli: Any) -> None:
    """Exit 3 without a traceback; ``-v`` adds the plugin's own traceback (naming faulty.py)."""
    evalkit_plugin(faulty.PLUGIN, name="faulty")
    (tmp_path / "pairs.csv").write_text(STS, encoding="utf-8")
    args = ["compare", "--suite", suite(tmp_path, methods=("faulty-raise",)), "--no-save"]
    result = evalkit_cli(*([flag] if flag else []), *args, expect=3)
    assert ("Traceback" in result.stderr) == bool(flag)
    assert ("faulty.py" in result.stderr) == bool(flag)


def test_internal_error_exit_4_writes_a_log(tmp_path: Path, evalkit_cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in evalkit itself: exit 4, the traceback in a log file whose path is printed."""
    import evalkit.report

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("a bug in evalkit")

    monkeypatch.setattr(evalkit.report, "comparison_report", broken)
    monkeypatch.setenv("EVALKIT_LOG_DIR", str(tmp_path / "logs"))
    (tmp_path / "pairs.csv").write_text(STS, encoding="utf-8")
    result = evalkit_cli("compare", "--suite", suite(tmp_path), "--no-save", expect=4)
    logs = list((tmp_path / "logs").glob("crash-*.log"))
    assert len(logs) == 1 and str(logs[0]) in result.stderr
    assert "Traceback" not in result.stderr and "Internal error: ZeroDivisionError" in result.stderr
    text = logs[0].read_text()
    assert "Traceback" in text and "ZeroDivisionError: a bug in evalkit" in text and "broken" in text


def test_on_empty_drop_counts_in_notes(tmp_path: Path, evalkit_cli: Any) -> None:
    """The ``drop`` policy leaves the empty pairs out and the table says how many and where."""
    (tmp_path / "pairs.csv").write_text(
        'sentence1,sentence2,score\nred apple,green apple,1\n"",blue sky,2\nthe cat,the dog,3\nbig car,'
        'small car,4\n  ,lone words,5\n', encoding="utf-8")
    result = evalkit_cli("compare", "--suite", suite(tmp_path, extra='on_empty = "drop"'), "--no-save",
                         "--format", "json", expect=0)
    rec = result.json()["results"][0]
    assert rec["n"] == 3
    assert "2 pair(s) with an empty text dropped" in rec["note"] and "[3, 6]" in rec["note"]


def test_all_positive_labels_noted_in_compare(tmp_path: Path, evalkit_cli: Any) -> None:
    """All-positive labels: F1 and AP come with a note naming the one class (not a silent 100)."""
    (tmp_path / "pairs.csv").write_text(
        "sentence1,sentence2,label\nred apple,red apple,1\nthe cat,the dog,1\nbig car,blue sky,1\n"
        "old man,old men,1\n", encoding="utf-8")
    result = evalkit_cli("compare", "--suite", suite(tmp_path, extra='task_type = "pair_classification"',
                                                     metrics=("average_precision", "auto_threshold_f1")),
                         "--no-save", expect=0)
    assert result.stdout.count("all 4 evaluated labels are 1 (positive), one class only") == 2


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_written_files_follow_the_umask(umask: int, tmp_path: Path, evalkit_cli: Any) -> None:
    """--output files, run folders and their files, and stored cells get 0666/0777 minus the umask."""
    (tmp_path / "pairs.csv").write_text(STS, encoding="utf-8")
    old = os.umask(umask)
    try:
        evalkit_cli("compare", "--suite", suite(tmp_path), "--runs-dir", tmp_path / "runs",
                    "--output", tmp_path / "out.txt", expect=0)
    finally:
        os.umask(old)
    assert _mode(tmp_path / "out.txt") == 0o666 & ~umask
    (run,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    assert _mode(run) == 0o777 & ~umask
    assert {_mode(p) for p in (tmp_path / "runs").iterdir()} <= {0o777 & ~umask, 0o666 & ~umask}
    assert {_mode(p) for p in run.iterdir()} == {0o666 & ~umask}
    cells = list(Path(os.environ["EVALKIT_CACHE_DIR"]).glob("cells/*/*.npz"))
    assert cells and {_mode(p) for p in cells} == {0o666 & ~umask}
