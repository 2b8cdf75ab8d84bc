"""`evalkit score FILE --metrics wmd,wrd` on generated texts: same records as compare, per-row errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import ot
import pytest
from click.testing import CliRunner

from evalkit.cli import build_cli
from evalkit.plugins import Host

pytestmark = pytest.mark.model


def test_score_text_file_with_wmd_and_wrd(tmp_path: Path) -> None:
    f = tmp_path / "gen.jsonl"
    rows = [("A man is playing a guitar.", "A man plays the guitar."),
            ("Stocks fell sharply on Monday.", "Stocks fell sharply on Monday.")]
    f.write_text("".join(json.dumps({"prediction": p, "reference": r}) + "\n" for p, r in rows))
    result = CliRunner().invoke(build_cli(), ["score", str(f), "--metrics", "wmd,wrd", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    recs = {r["metric"]: r for r in json.loads(result.stdout)["results"]}
    assert set(recs) == {"wmd", "wrd"} and recs["wmd"]["n"] == 2
    # Independent check of the first row's WRD: POT's emd2 on the same token vectors (Yokoi et al.).
    from evalkit_encoders.encoding import encode_tokens

    x, y = (t.astype(np.float64) for t in encode_tokens("all-MiniLM-L6-v2", [rows[0][0], rows[0][1]]))
    nx, ny = np.linalg.norm(x, axis=1), np.linalg.norm(y, axis=1)
    cost = 1 - (x @ y.T) / np.outer(nx, ny)
    wrd0 = ot.emd2(nx / nx.sum(), ny / ny.sum(), cost)
    assert recs["wrd"]["value"] == pytest.approx((wrd0 + 0.0) / 2, abs=1e-6)  # row 2 is identical: 0
    per_row = Host(autoload=False).metrics.create("wrd").per_example(
        predictions=[r[0] for r in rows], references=[r[1] for r in rows])
    assert per_row[1] == 0.0


def test_score_empty_text_names_the_row(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("prediction,reference\nfine text here,another text\n,A man plays the guitar.\n")
    result = CliRunner().invoke(build_cli(), ["score", str(f), "--metrics", "wmd"])
    assert result.exit_code == 2
    assert "row 1 (prediction)" in result.stderr and "on_empty='nan'" in result.stderr
