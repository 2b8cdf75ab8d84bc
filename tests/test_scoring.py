"""The one scorer (evalkit.scoring.score): values against scipy and hand computation, the tuning-rows rule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from evalkit.interfaces import Metric, MetricResult, TunedMetric
from evalkit.scoring import TaskInfo, limit_notes, score


class Spearman(Metric):
    name = "spearman"
    task_types = ("sts",)

    def compute(self, *, predictions: Any, references: Any) -> float:
        return float(stats.spearmanr(predictions, references).statistic)


class MeanThresholdAccuracy(TunedMetric):
    """Accuracy of ``prediction > threshold``; the threshold is the mean of the fitting rows' predictions."""

    name = "mta"
    task_types = ("sts", "pair_classification")

    def fit(self, *, predictions: Any, references: Any) -> dict[str, Any]:
        return {"threshold": float(np.mean(predictions))}

    def apply(self, *, predictions: Any, references: Any, fitted: Mapping[str, Any]) -> MetricResult:
        acc = float(np.mean((np.asarray(predictions) > fitted["threshold"]) == np.asarray(references)))
        return MetricResult(acc, {"threshold": fitted["threshold"]})

    def cross_fit(self, *, predictions: Any, references: Any) -> MetricResult:
        return MetricResult(-1.0)  # a marker value: the test only checks that cv was chosen


def frame(rows: list[tuple[str, str, str, int, float, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["method", "dataset", "split", "row", "prediction", "reference", "role"])


def test_plain_metric_equals_scipy_and_rows_are_in_row_order() -> None:
    rng = np.random.default_rng(1)
    pred, ref = rng.normal(size=20), rng.normal(size=20)
    order = rng.permutation(20)  # stored out of order: the scorer sorts by row
    preds = frame([("m", "d", "test", int(i), float(pred[i]), float(ref[i]), "eval") for i in order])
    out = score(preds, {"spearman": Spearman()}, {"d": TaskInfo("sts")})
    assert out["value"].tolist() == [stats.spearmanr(pred, ref).statistic]
    assert out["n"].tolist() == [20]


def test_tuning_rows_fit_the_other_splits_and_are_never_scored() -> None:
    tune = [("m", "d", "dev", i, p, r, "tune") for i, (p, r) in enumerate([(0.1, 0), (0.5, 1), (0.9, 1)])]
    test = [("m", "d", "test", i, p, r, "eval") for i, (p, r) in enumerate([(0.2, 0), (0.6, 1), (0.4, 1), (0.8, 0)])]
    out = score(frame(tune + test), {"mta": MeanThresholdAccuracy()}, {"d": TaskInfo("sts")}, tune_on="dev")
    assert out[["split", "n"]].values.tolist() == [["test", 4]]
    # threshold = mean(0.1, 0.5, 0.9) = 0.5; test predictions > 0.5: F T F T vs gold 0 1 1 0 -> 2 of 4 right
    assert out["value"].tolist() == [0.5]
    assert out["threshold"].tolist() == [0.5]
    assert out["tuned_on"].tolist() == ["dev"] and out["tuned_split"].tolist() == ["dev"]
    assert out["n_tune"].tolist() == [3]


def test_an_evaluated_validation_split_is_not_tuned_on_itself() -> None:
    rows = [("m", "d", "dev", 0, 0.3, 1.0, "tune"), ("m", "d", "dev", 1, 0.7, 0.0, "tune"),
            ("m", "d", "dev", 0, 0.3, 1.0, "eval"), ("m", "d", "dev", 1, 0.7, 0.0, "eval")]
    out = score(frame(rows), {"mta": MeanThresholdAccuracy()}, {"d": TaskInfo("sts")}, tune_on="dev")
    assert out["value"].tolist() == [-1.0] and out["tuned_on"].tolist() == ["cv"]


def test_metrics_apply_by_task_type_and_notes_are_added() -> None:
    rows = [("m", "d", "test", i, float(i), float(i % 2), "eval") for i in range(6)]
    out = score(frame(rows), {"spearman": Spearman(), "mta": MeanThresholdAccuracy()},
                {"d": TaskInfo("pair_classification", notes={"test": ["a dataset note"]})},
                tune_on="self", notes=limit_notes(6))
    assert out["metric"].tolist() == ["mta"]  # spearman does not apply to pair classification
    # self: threshold = mean(0..5) = 2.5 -> predicted 0 0 0 1 1 1 vs gold 0 1 0 1 0 1 -> 4 of 6
    assert out["value"].tolist() == [4 / 6]
    assert out["note"].tolist() == ["a dataset note; " + limit_notes(6)[0]]
    assert limit_notes(None) == []
