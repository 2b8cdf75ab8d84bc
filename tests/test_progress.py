"""Progress: tqdm bars on a terminal, one line per finished cell otherwise; encoders' own bars off."""

from __future__ import annotations

import io
import re
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from evalkit.cli import build_cli
from evalkit.cli.compare import progress_mode

ARGS = ["compare", "--datasets", "stsb,sts13", "--methods", "tfidf-cosine", "--metrics", "spearman", "--no-save"]


class Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_progress_mode_follows_the_terminal_and_the_flags() -> None:
    assert progress_mode(None, Stream(True)) == "bars"
    assert progress_mode(None, Stream(False)) == "lines"
    assert progress_mode(True, Stream(False)) == "bars"
    assert progress_mode(False, Stream(True)) == "off"


def test_without_a_terminal_one_line_per_finished_cell(data_dir: Any) -> None:
    result = CliRunner().invoke(build_cli(), ARGS, catch_exceptions=False)  # stderr is not a TTY here
    assert result.exit_code == 0, result.stderr
    lines = [x for x in result.stderr.splitlines() if x.startswith("evalkit: [")]
    assert len(lines) == 2
    assert re.fullmatch(r"evalkit: \[1/2\] tfidf-cosine on stsb/test: \d+\.\ds, 0 texts encoded", lines[0])
    assert re.fullmatch(r"evalkit: \[2/2\] tfidf-cosine on sts13/test: \d+\.\ds, 0 texts encoded", lines[1])
    assert "evalkit: 2 of 2 cells to compute (0 stored)" in result.stderr
    assert "\r" not in result.stderr  # no bar redrawn in a log file


def test_on_a_terminal_bars_and_no_lines(data_dir: Any) -> None:
    result = CliRunner().invoke(build_cli(), [*ARGS, "--progress"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert re.search(r"cells: +\d+%", result.stderr)  # tqdm's bar
    assert "evalkit: [1/2]" not in result.stderr
    quiet = CliRunner().invoke(build_cli(), [*ARGS, "--no-progress", "--force"], catch_exceptions=False)
    assert not re.search(r"cells: +\d+%", quiet.stderr) and "evalkit: [1/2]" not in quiet.stderr


class Recorder:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def encode(self, texts: list[str], **kwargs: Any) -> np.ndarray:
        self.calls.append(kwargs)
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


@pytest.mark.parametrize("enabled", [True, False])
def test_encoding_advances_one_evalkit_bar_with_the_encoders_bar_off(
    enabled: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    from evalkit_encoders.encoding import encode_batches

    texts = [f"text {'x' * i}" for i in range(100)]
    st = Recorder()
    out = encode_batches(st, texts, batch_size=4, desc="encoding (m)", progress=enabled)
    np.testing.assert_array_equal(out, [[len(t), 1.0] for t in texts])
    assert st.calls and all(c["show_progress_bar"] is False for c in st.calls)
    err = capsys.readouterr().err
    assert ("encoding (m)" in err) is enabled
