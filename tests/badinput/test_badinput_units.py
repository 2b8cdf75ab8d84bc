"""Unit checks behind the corpus, against independent references (pandas, scipy, hand counts)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from evalkit_correlation import Pearson, Spearman

from evalkit import DataError, UndefinedValueError, read_delimited
from evalkit.inputs import real_scores
from evalkit.tuning import score_metric


def test_reader_matches_pandas_on_a_well_formed_file(tmp_path: Path) -> None:
    """Cells equal pandas' (RFC 4180 quoting, embedded commas, quotes and newlines, CRLF)."""
    text = ('a,b,c\r\n"x, y","he said ""hi""",1\r\n"multi\nline",plain,2\r\n\r\nlast,"",3\r\n')
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode())
    ours = read_delimited(path)
    ref = pd.read_csv(path, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(ours.drop(columns="_line"), ref, check_dtype=False)
    # Physical lines by hand: header 1, record 2, record 3-4 (quoted newline), blank 5, record 6.
    assert ours["_line"].tolist() == [2, 3, 6]


def test_reader_keeps_quotes_when_quoting_is_none(tmp_path: Path) -> None:
    """TSV with unbalanced quotes (as in the official STS files) is split on tabs only."""
    path = tmp_path / "f.tsv"
    path.write_text('s1\ts2\n"open\tclose"\n', encoding="utf-8")
    frame = read_delimited(path, sep="\t", quoting="none")
    assert frame.iloc[0, :2].tolist() == ['"open', 'close"']


def test_reader_bom_and_gzip(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "f.csv.gz"
    path.write_bytes(gzip.compress("\ufeffa,b\n1,2\n".encode()))
    frame = read_delimited(path)
    assert list(frame.columns) == ["a", "b", "_line"] and frame["a"].tolist() == ["1"]


def test_reader_rejects_header_only_with_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("a,b\n\n\n", encoding="utf-8")
    with pytest.raises(DataError, match="no data rows"):
        read_delimited(path)


@pytest.mark.parametrize(("raw", "problem"), [
    ([1.0, 2.0 + 1e-9j, 3.0], "complex"),
    (np.ones((3, 1)), "shape (3, 1)"),
    (["1", "2", "3"], "dtype <U1"),
    ([1.0, None, 2.0], "dtype object"),
    ([1.0, 2.0], "2 scores for 3 pairs"),
    ([1.0, np.nan, -np.inf], "2 non-finite scores (NaN or inf) at rows [1, 2]"),
])
def test_real_scores_problems(raw: object, problem: str) -> None:
    found, _ = real_scores(raw, 3)
    assert found is not None and problem in found


def test_real_scores_accepts_ints_and_float32() -> None:
    for raw in ([1, 2, 3], np.array([0.5, 0.25, 1.0], dtype=np.float32), [True, False, True]):
        problem, pred = real_scores(raw, 3)
        assert problem is None and pred.dtype == np.float64
        np.testing.assert_array_equal(pred, np.asarray(raw, dtype=np.float64))


NOISE = np.array([1 + 4e-16, 1 - 4e-16, 1 + 2e-16, 1 - 2e-16, 1.0, 1 + 4e-16, 1 - 4e-16, 1.0])
GOLD = np.arange(8, dtype=np.float64)


def test_near_constant_predictions_give_scipy_a_meaningless_number() -> None:
    """The issue's finding: scipy ranks floating-point noise and returns a correlation."""
    rho = scipy.stats.spearmanr(NOISE, GOLD).statistic
    assert np.isfinite(rho) and rho != 0


@pytest.mark.parametrize("metric", [Spearman(), Pearson()])
def test_near_constant_predictions_are_undefined(metric: object) -> None:
    with pytest.raises(UndefinedValueError, match="near-constant"):
        metric.compute(predictions=NOISE, references=GOLD)  # type: ignore[attr-defined]
    value, extras = score_metric(metric, "m", NOISE, GOLD)  # type: ignore[arg-type]
    assert np.isnan(value) and "near-constant" in extras["undefined"]


@pytest.mark.parametrize(("metric", "fn"), [(Spearman(), scipy.stats.spearmanr), (Pearson(), scipy.stats.pearsonr)])
def test_tiny_but_real_spread_still_scored_as_scipy(metric: object, fn: object) -> None:
    """Scale does not matter: scores 1e-20 apart with magnitude 1e-19 are not noise."""
    pred = np.array([3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.0, 6.0]) * 1e-20
    value = metric.compute(predictions=pred, references=GOLD)  # type: ignore[attr-defined]
    assert value == pytest.approx(fn(pred, GOLD).statistic, abs=1e-12)  # type: ignore[operator]
