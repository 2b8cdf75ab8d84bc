"""``evalkit leaderboard``: the GLUE/SuperGLUE snapshots checked against their published scores and
against an independent computation of every rule (csv + fractions + scipy, not the plugin)."""

from __future__ import annotations

import csv
import json
import shutil
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

from evalkit.cli import build_cli

BOARDS = Path(__file__).resolve().parents[1] / "leaderboards"
GLUE_TASKS = [
    ["CoLA"],
    ["SST2"],
    ["MRPC_F1", "MRPC_Acc"],
    ["STSB_Pearson", "STSB_Spearman"],
    ["QQP_F1", "QQP_Acc"],
    ["MNLI_m", "MNLI_mm"],
    ["QNLI"],
    ["RTE"],
    ["WNLI"],
]
SUPERGLUE_TASKS = [
    ["BoolQ"],
    ["CB_F1", "CB_Acc"],
    ["COPA"],
    ["MultiRC_F1a", "MultiRC_EM"],
    ["ReCoRD_F1", "ReCoRD_EM"],
    ["RTE"],
    ["WiC"],
    ["WSC"],
]


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build_cli(), ["leaderboard", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def rows_json(*args: str) -> dict[str, Any]:
    code, out, err = cli(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def reference_table(
    file: str, tasks: list[list[str]]
) -> tuple[list[dict[str, str]], list[list[Fraction] | None]]:
    """Rows of the CSV and, per row, the exact task values (None if a cell is empty)."""
    with open(BOARDS / file, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    values: list[list[Fraction] | None] = []
    for r in rows:
        if any(r[c] == "" for t in tasks for c in t):
            values.append(None)
        else:
            values.append([sum(Fraction(r[c]) for c in t) / len(t) for t in tasks])
    return rows, values


def half_up(x: Fraction) -> Decimal:
    return (Decimal(x.numerator) / Decimal(x.denominator)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def test_glue_arithmetic_mean_reproduces_the_published_score() -> None:
    rows, values = reference_table("glue.csv", GLUE_TASKS)
    doc = rows_json("glue")
    got = {r["system"]: r for r in doc["rows"]}
    complete = [(r, v) for r, v in zip(rows, values, strict=True) if v is not None and r["score"]]
    assert len(complete) == 97
    reproduced, differ = 0, set()
    names = [r["system"] for r in rows]
    for r, v in complete:
        exact = sum(v) / len(v)
        label = r["system"] if names.count(r["system"]) == 1 else f"{r['system']} #{r['row_id']}"
        assert got[label]["scores"]["mean"]["value"] == pytest.approx(float(exact), abs=1e-9)
        if half_up(exact) == Decimal(r["score"]):
            reproduced += 1
        else:
            differ.add(label)
    assert reproduced >= 90
    check = doc["published_check"]
    assert check["rows"] == 97 and check["reproduced"] == reproduced
    assert {d["system"] for d in check["differ"]} == differ
    for d in check["differ"]:  # every difference is within the rounding of the 9 shown cells
        assert abs(d["mean"] - d["published"]) <= 0.05 + 0.05 + 1e-9


def test_superglue_arithmetic_mean_reproduces_the_published_score() -> None:
    rows, values = reference_table("superglue.csv", SUPERGLUE_TASKS)
    doc = rows_json("superglue")
    complete = [(r, v) for r, v in zip(rows, values, strict=True) if v is not None and r["score"]]
    expected = sum(half_up(sum(v) / len(v)) == Decimal(r["score"]) for r, v in complete)
    assert doc["published_check"]["rows"] == len(complete) == 22
    assert doc["published_check"]["reproduced"] == expected >= 20


def independent_ranks(file: str, tasks: list[list[str]], human: str) -> dict[str, int]:
    """Where the human row ranks under AM, GM, HM (rows with a zero skipped for GM/HM), by scipy."""
    rows, values = reference_table(file, tasks)
    complete = {
        r["row_id"]: np.array([float(x) for x in v])
        for r, v in zip(rows, values, strict=True)
        if v is not None
    }
    hid = next(r["row_id"] for r in rows if r["system"] == human)
    out = {}
    for rule, f in (("mean", np.mean), ("geometric", stats.gmean), ("harmonic", stats.hmean)):
        scores = {k: f(v) for k, v in complete.items() if rule == "mean" or (v > 0).all()}
        out[rule] = 1 + sum(1 for k, s in scores.items() if s > scores[hid] + 1e-9)
    return out


@pytest.mark.parametrize(
    ("board", "file", "tasks", "human"),
    [
        ("glue", "glue.csv", GLUE_TASKS, "GLUE Human Baselines"),
        ("superglue", "superglue.csv", SUPERGLUE_TASKS, "SuperGLUE Human Baselines"),
    ],
)
def test_human_baseline_rank_under_the_three_means(
    board: str, file: str, tasks: list[list[str]], human: str
) -> None:
    doc = rows_json(board, "--aggregate", "mean,geometric,harmonic", "--nonpositive", "skip")
    row = next(r for r in doc["rows"] if r["human"])
    assert row["system"] == human
    assert sum(r["human"] for r in doc["rows"]) == 1
    expected = independent_ranks(file, tasks, human)
    assert {rule: row["scores"][rule]["rank"] for rule in expected} == expected
    for rule in ("geometric", "harmonic"):
        assert row["scores"][rule]["rank_change"] == expected["mean"] - expected[rule]


def test_ties_share_the_best_rank_in_json() -> None:
    # DeBERTa / TuringNLRv4 and DeBERTa + CLEVER both average exactly 90.7666... on GLUE
    doc = rows_json("glue")
    ranks = {r["system"]: r["scores"]["mean"]["rank"] for r in doc["rows"]}
    assert ranks["DeBERTa / TuringNLRv4"] == ranks["DeBERTa + CLEVER"] == 3
    assert sorted(v for v in ranks.values() if v is not None)[:6] == [1, 2, 3, 3, 5, 6]


def test_geometric_mean_over_a_zero_cell_is_an_error_naming_systems_and_tasks() -> None:
    code, out, err = cli("glue", "--aggregate", "geometric")
    assert code == 2 and out == ""
    assert "Skip-Thought (CoLA = 0)" in err and "10 rows" in err and "--nonpositive skip" in err
    assert "Traceback" not in err


def test_shift_policy_and_rule_printed_under_the_table() -> None:
    code, out, _ = cli("glue", "--aggregate", "harmonic", "--nonpositive", "shift=1", "--top", "3")
    assert code == 0
    assert (
        "harmonic: harmonic mean over the columns, each weighted equally; computed on cell + 1"
        in out
    )
    doc = rows_json("glue", "--aggregate", "harmonic", "--nonpositive", "shift=1")
    _, values = reference_table("glue.csv", GLUE_TASKS)
    first = np.array([float(x) for x in values[0]])  # ERNIE
    ernie = next(r for r in doc["rows"] if r["system"] == "ERNIE")
    assert ernie["scores"]["harmonic"]["value"] == pytest.approx(stats.hmean(first + 1))


def test_diagnostics_mixed_in_for_some_rows_only() -> None:
    # GLUE's human row has no AX cell. By default a missing cell means no value and no rank...
    doc = rows_json(
        "glue", "--with-diagnostics", "--aggregate", "mean,geometric", "--nonpositive", "skip"
    )
    human = next(r for r in doc["rows"] if r["human"])
    assert human["scores"]["mean"] == {"value": None, "rank": None}
    assert human["scores"]["geometric"]["rank"] is None
    assert [t["name"] for t in doc["tasks"]][-1] == "AX"
    # ... and averaging each row over the cells it has (humans over 9 tasks, systems over 10,
    # AX being every system's weakest column) lifts the human baseline to the top.
    doc = rows_json(
        "glue",
        "--with-diagnostics",
        "--aggregate",
        "mean,geometric,harmonic",
        "--nonpositive",
        "skip",
        "--missing",
        "skip",
    )
    human = next(r for r in doc["rows"] if r["human"])
    rows, values = reference_table("glue.csv", GLUE_TASKS)
    hv = np.array(
        [
            float(x)
            for x in next(v for r, v in zip(rows, values, strict=True) if r["is_human"] == "1")
        ]
    )
    assert human["scores"]["mean"]["value"] == pytest.approx(hv.mean())
    assert human["scores"]["geometric"]["value"] == pytest.approx(stats.gmean(hv))
    assert human["scores"]["geometric"]["rank"] == 1 and human["scores"]["harmonic"]["rank"] == 1


def test_task_subset_and_errors() -> None:
    doc = rows_json("superglue", "--tasks", "boolq,CB,ax-b")
    assert [t["name"] for t in doc["tasks"]] == ["BoolQ", "CB", "AX-b"]
    assert "published_check" not in doc  # not the board's own task set
    code, _, err = cli("superglue", "--tasks", "BoolQ,Nope")
    assert code == 2 and "no task 'Nope'" in err and "AX-g" in err
    code, _, err = cli("glue", "--snapshot", "1999")
    assert code == 2 and "2022-02" in err
    code, _, err = cli("nosuchboard")
    assert code == 2 and "glue" in err and "superglue" in err
    code, _, err = cli("glue", "--aggregate", "mean,geometric", "--nonpositive", "clamp")
    assert code == 2 and "error, skip or shift=C" in err


def test_later_snapshot_and_list() -> None:
    doc = rows_json("glue", "--snapshot", "2022-02", "--top", "1")
    assert doc["snapshot"]["name"] == "2022-02" and doc["rows"][0]["system"] == "Turing NLR v5"
    code, out, _ = cli("--list")
    assert code == 0 and "glue" in out and "2022-02" in out


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "latex", "html"])
def test_formats(fmt: str) -> None:
    code, out, err = cli("superglue", "--aggregate", "mean,borda", "--format", fmt)
    assert code == 0, err
    assert "ERNIE 3.0" in out
    if fmt in ("table", "markdown"):
        assert "Borda count (Vote'n'Rank)" in out and "SuperGLUE Human Baselines" in out
    if fmt == "csv":
        from io import StringIO

        frame = pd.read_csv(StringIO(out), index_col=0)
        assert frame.loc["ERNIE 3.0", "mean rank"] == 1
        assert frame.loc["SuperGLUE Human Baselines", "human"]


def test_bootstrap_over_tasks_in_the_leaderboard() -> None:
    args = ("superglue", "--aggregate", "mean,harmonic", "--bootstrap", "200", "--seed", "3")
    doc = rows_json(*args)
    assert doc["bootstrap"] == {
        "over": "tasks",
        "n_resamples": 200,
        "seed": 3,
        "confidence": 0.95,
        "reference": "SuperGLUE Human Baselines",
    }
    for row in doc["rows"]:
        for s in row["scores"].values():
            if s["rank"] is None:
                assert s["rank_interval"] is None
                continue
            lo, hi = s["rank_interval"]
            assert 1 <= lo <= hi <= 22
            if row["human"]:
                assert s["p_beat_human"] is None
            else:
                assert 0 <= s["p_beat_human"] <= 1
    assert rows_json(*args) == doc  # the seed fixes the result
    _, out, _ = cli(*args)
    assert "rank CI" in out and "P(>human)" in out


def test_a_plain_csv_and_a_user_spec(tmp_path: Path) -> None:
    board = tmp_path / "mine.csv"
    board.write_text("system,taskA,taskB,is_human\nx,10,40,0\ny,20,20,0\nh,30,10,1\n")
    doc = rows_json(str(board), "--aggregate", "mean,geometric")
    got = {r["system"]: r for r in doc["rows"]}
    assert got["x"]["scores"]["geometric"]["value"] == pytest.approx(20.0)
    assert got["y"]["scores"]["geometric"]["value"] == pytest.approx(20.0)
    assert got["x"]["scores"]["geometric"]["rank"] == got["y"]["scores"]["geometric"]["rank"] == 1
    assert got["h"]["human"] and got["x"]["scores"]["mean"]["value"] == 25.0
    spec = tmp_path / "spec.toml"
    spec.write_text(
        'name = "mine"\nfile = "mine.csv"\n[[tasks]]\nname = "A"\ncolumns = ["taskA"]\n'
        '[columns]\nsystem = "system"\nhuman = "is_human"\n'
    )
    doc = rows_json(str(spec))
    assert [r["system"] for r in doc["rows"]] == ["h", "y", "x"]
    spec.write_text('name = "mine"\nfile = "mine.csv"\n[[tasks]]\nname = "A"\ncolumns = ["nope"]\n')
    code, _, err = cli(str(spec))
    assert code == 2 and "nope" in err


def test_a_modified_snapshot_is_refused(tmp_path: Path) -> None:
    shutil.copy(BOARDS / "superglue.toml", tmp_path)
    for f in ("superglue.csv", "superglue_2022-02.csv"):
        shutil.copy(BOARDS / f, tmp_path)
    target = tmp_path / "superglue.csv"
    target.write_text(target.read_text().replace("90.6,91.0", "99.9,91.0", 1))
    code, _, err = cli(str(tmp_path / "superglue.toml"))
    assert code == 2 and "sha256" in err


def test_html_page_highlights_the_human_baseline_and_says_where_it_ranks(tmp_path: Path) -> None:
    """``--output x.html``: a page whose summary line gives the ranks scipy computes independently."""
    import html5lib

    out = tmp_path / "board.html"
    code, _, err = cli("glue", "--aggregate", "mean,geometric,harmonic", "--nonpositive", "skip", "--output", str(out))
    assert code == 0, err
    doc = html5lib.parse(out.read_text(encoding="utf-8"), namespaceHTMLElements=False)
    expected = independent_ranks("glue.csv", GLUE_TASKS, "GLUE Human Baselines")
    (summary,) = [p for p in doc.iter("p") if p.get("class") == "human-summary"]
    ranked = sum(v is not None for v in reference_table("glue.csv", GLUE_TASKS)[1])

    def nth(n: int) -> str:
        return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"

    text = "".join(summary.itertext())
    assert text.startswith(f"The human baseline GLUE Human Baselines ranks {nth(expected['mean'])} of {ranked} "
                           "under the mean, ")
    assert f"{nth(expected['geometric'])}" in text and "under the geometric mean" in text
    assert f"{nth(expected['harmonic'])}" in text and "under the harmonic mean" in text
    human_rows = [tr for tr in doc.iter("tr") if "human" in (tr.get("class") or "").split()]
    assert any("GLUE Human Baselines" in "".join(tr.itertext()) for tr in human_rows)
    (script,) = [s for s in doc.iter("script") if s.get("id") == "evalkit-data"]
    data = json.loads(script.text)
    assert data["figures"]["ranks-board"]["ranks"]["mean"]["GLUE Human Baselines"] == expected["mean"]
