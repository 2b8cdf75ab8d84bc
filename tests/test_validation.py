"""The validation helpers plugins use (evalkit.validation: check_pairs, as_score_table) and Method.fit's default."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit import DataError, Method, as_score_table, check_pairs


def test_check_pairs_accepts_string_columns_and_returns_the_frame() -> None:
    pairs = pd.DataFrame({"sentence1": ["a", ""], "sentence2": ["b", "c"], "extra": [1, None]})
    assert check_pairs(pairs) is pairs


@pytest.mark.parametrize(("frame", "message"), [
    ([("a", "b")], "must be a pandas DataFrame with columns sentence1 and sentence2, got list"),
    (pd.DataFrame({"sentence1": ["a"]}), r"missing column\(s\) \['sentence2'\]; the frame has \['sentence1'\]"),
    (pd.DataFrame({"sentence1": ["a", None, np.nan], "sentence2": ["b", "c", "d"]}),
     r"column sentence1 has 2 values that are not strings, at rows \[1, 2\]"),
    (pd.DataFrame({"sentence1": ["a"], "sentence2": [3]}, index=["row-a"]), r"sentence2 .* at rows \['row-a'\]"),
])
def test_check_pairs_names_what_is_wrong(frame: object, message: str) -> None:
    with pytest.raises(DataError, match="my-method: pairs.*" + message):
        check_pairs(frame, what="my-method: pairs")


def test_as_score_table_converts_and_names_bad_cells() -> None:
    ok = as_score_table(pd.DataFrame({"t": [1, None], "u": ["0.5", 2]}, index=["a", "b"]))
    assert ok.dtypes.tolist() == [np.float64, np.float64]
    assert ok.loc["a", "u"] == 0.5 and np.isnan(ok.loc["b", "t"])
    table = pd.DataFrame({"stsb": [0.5, "x"], "sick": [np.inf, 0.2]}, index=["a", "b"])
    with pytest.raises(DataError, match=r"1 cells are not numbers, at \(system/task\) \['b/stsb'\]"):
        as_score_table(table)
    with pytest.raises(DataError, match=r"1 cells are infinite, at \(system/task\) \['a/sick'\]"):
        as_score_table(table.assign(stsb=[0.5, 0.6]))
    with pytest.raises(DataError, match="no task columns"):
        as_score_table(table.iloc[:, :0])
    with pytest.raises(DataError, match="must be a pandas DataFrame"):
        as_score_table([[0.5]])


def test_default_fit_validates_the_pairs() -> None:
    class Constant(Method):
        """Scores every pair 0.5."""

        name = "constant"

        def predict(self, pairs: pd.DataFrame) -> np.ndarray:
            return np.full(len(pairs), 0.5)

    m = Constant()
    assert m.fit(pd.DataFrame({"sentence1": ["a"], "sentence2": ["b"]})) is m
    with pytest.raises(DataError, match="constant: pairs: missing column"):
        m.fit(pd.DataFrame({"s1": ["a"], "s2": ["b"]}))
