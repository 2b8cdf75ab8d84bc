"""``evalkit score FILE`` and the re-scoring API: column rule, tuning protocol, errors."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.metrics import accuracy_score, f1_score

from evalkit import ConfigError, Metric
from evalkit.cli import build_cli
from evalkit.rescore import parse_params, read_table, rescore, resolve_inputs

RNG = np.random.default_rng(3)
N = {"dev": 150, "test": 200}
FRAME = pd.concat([
    pd.DataFrame({"score": (RNG.normal(size=n) + 1.3 * (y := (RNG.random(n) < 0.45).astype(int))).round(3),
                  "label": y, "split": split})
    for split, n in N.items()
], ignore_index=True)


def invoke(*args):
    result = CliRunner().invoke(build_cli(), list(args), catch_exceptions=False)
    return result


def scored_records(path, *extra):
    result = invoke("score", str(path), "--format", "json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["results"]


def best_threshold_brute(s, y, fn):
    best_t, best_v = None, -1.0
    for t in [np.inf, *np.unique(s)[::-1]]:
        v = fn(y, s >= t)
        if v > best_v + 1e-15:
            best_t, best_v = t, v
    return best_t


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "preds.csv"
    FRAME.to_csv(path, index=False)
    return path


def test_dev_split_fits_the_threshold_for_test(csv_file):
    recs = {r["metric"]: r for r in scored_records(csv_file, "--metrics",
                                                   "auto_threshold_f1,auto_threshold_accuracy,spearman")}
    dev, test = (FRAME[FRAME.split == s] for s in ("dev", "test"))
    f1 = functools.partial(f1_score, zero_division=0)
    for metric, fn in (("auto_threshold_f1", f1), ("auto_threshold_accuracy", accuracy_score)):
        rec = recs[metric]
        assert (rec["split"], rec["n"], rec["n_tune"]) == ("test", 200, 150)
        assert (rec["tuned_on"], rec["tuned_split"]) == ("dev", "dev")
        t_dev = best_threshold_brute(dev.score.to_numpy(), dev.label.to_numpy(), fn)
        assert dev.score[dev.score < t_dev].max() < rec["threshold"] <= t_dev
        assert rec["value"] == pytest.approx(fn(test.label, test.score >= rec["threshold"]))
        assert (rec["method"], rec["dataset"]) == ("preds", "preds")
    assert "tuned_on" not in recs["spearman"]


def test_jsonl_gives_the_same_records(csv_file, tmp_path):
    path = tmp_path / "preds.jsonl"
    with open(path, "w") as fh:
        for rec in FRAME.to_dict(orient="records"):
            fh.write(json.dumps(rec) + "\n")
    strip = lambda recs: [{k: v for k, v in r.items() if k not in ("method", "dataset")} for r in recs]  # noqa: E731
    assert strip(scored_records(path)) == strip(scored_records(csv_file))


def test_oracle_and_cv_are_labelled(csv_file):
    oracle = scored_records(csv_file, "--tune-on", "self", "--metrics", "auto_threshold_f1")
    assert {r["split"] for r in oracle} == {"dev", "test"}
    assert all(r["oracle"] is True and r["tuned_on"] == "self" for r in oracle)
    table = invoke("score", str(csv_file), "--tune-on", "self", "--metrics", "auto_threshold_f1").stdout
    assert "[ORACLE: tuned on the evaluated rows]" in table
    cv = scored_records(csv_file, "--tune-on", "cv", "--metrics", "auto_threshold_f1")
    assert all(r["tuned_on"] == "cv" and "oracle" not in r for r in cv)


def test_without_split_column_the_threshold_is_cross_fitted(tmp_path):
    path = tmp_path / "nosplit.csv"
    FRAME.drop(columns="split").to_csv(path, index=False)
    (rec,) = scored_records(path, "--metrics", "auto_threshold_f1")
    assert (rec["split"], rec["n"], rec["tuned_on"], rec["cv_folds"]) == ("test", 350, "cv", 5)


def test_non_finite_scores_are_rejected_naming_lines(tmp_path):
    path = tmp_path / "bad.csv"
    frame = FRAME.astype({"score": object})
    frame.loc[[4, 9], "score"] = ["nan", "inf"]
    frame.to_csv(path, index=False)
    result = CliRunner().invoke(build_cli(), ["score", str(path)])
    assert result.exit_code == 2
    assert "line(s) [6, 11]" in result.output and "Traceback" not in result.output


def test_metric_of_another_task_type_is_a_config_error(tmp_path):
    path = tmp_path / "sts.csv"
    pd.DataFrame({"prediction": [0.1, 0.5, 0.9], "reference": [1.0, 2.5, 4.0]}).to_csv(path, index=False)
    result = CliRunner().invoke(build_cli(), ["score", str(path), "--metrics", "auto_threshold_f1"])
    assert result.exit_code == 2 and "scored as 'sts'" in result.output
    recs = scored_records(path, "--metrics", "spearman")
    assert recs[0]["value"] == pytest.approx(1.0)


class ExactMatch(Metric):
    """A toy text metric: fraction of predictions equal to their reference."""

    name = "exact_match"
    task_types: ClassVar[tuple[str, ...]] = ("generation",)
    seen: ClassVar[list] = []

    def compute(self, *, predictions, references):
        ExactMatch.seen.append((predictions, references))
        return float(np.mean([p == r for p, r in zip(predictions, references, strict=True)]))


def test_text_metrics_get_the_prediction_and_reference_texts(tmp_path):
    path = tmp_path / "gen.jsonl"
    path.write_text('{"prediction": "a cat", "reference": "a cat"}\n{"prediction": "dog", "reference": "a dog"}\n')
    frame = read_table(path)
    inputs = resolve_inputs(frame, path)
    assert (inputs.predictions, inputs.references, inputs.task_type) == ("prediction", "reference", "generation")
    run = rescore(frame, {"exact_match": ExactMatch()}, path=path, inputs=inputs)
    assert run.results["value"].tolist() == [0.5]
    assert ExactMatch.seen[-1] == (["a cat", "dog"], ["a cat", "a dog"])


def test_a_saved_runs_predictions_rescore_to_the_same_results(tmp_path):
    from test_tuning import plugin  # the toy dataset and method (tests/ is on sys.path)

    from evalkit.plugins import Host
    from evalkit.runner import run_suite
    from evalkit.suite import suite_from_dict

    host = Host(autoload=False, extra_plugins=[("toy", plugin)])
    suite = suite_from_dict({"datasets": ["toy-pairs"], "methods": ["toy-method"],
                             "metrics": ["auto_threshold_f1", "average_precision"]}, name="t", source="t")
    run = run_suite(suite, host=host, data_dir=tmp_path)
    run_dir = run.save(tmp_path / "runs", "r")
    recs = scored_records(Path(run_dir) / "predictions.csv.gz", "--metrics", "auto_threshold_f1,average_precision")
    for rec in recs:
        orig = run.results.set_index("metric").loc[rec["metric"]]
        assert (rec["method"], rec["dataset"], rec["split"]) == ("toy-method", "toy-pairs", "test")
        assert rec["value"] == pytest.approx(orig["value"], abs=1e-12)
        if rec["metric"] == "auto_threshold_f1":
            assert rec["threshold"] == pytest.approx(orig["threshold"], abs=1e-12)


def test_parse_params():
    assert parse_params(["auto_threshold_f1.distance=true", "auto_threshold_f1.folds=3"],
                        ["auto_threshold_f1"]) == {"auto_threshold_f1": {"distance": True, "folds": 3}}
    with pytest.raises(ConfigError, match=r"METRIC\.KEY=VALUE"):
        parse_params(["distance=true"], ["auto_threshold_f1"])
    with pytest.raises(ConfigError, match="not scored"):
        parse_params(["spearman.x=1"], ["auto_threshold_f1"])
