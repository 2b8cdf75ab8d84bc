"""The CI gate: tolerances, direction, missing cells, the significance gate, outputs, baselines."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import evalkit
from evalkit.check_output import check_report, github_annotations, junit_xml
from evalkit.checking import Tolerance, Tolerances, check_runs, write_baseline
from evalkit.errors import ConfigError, DataError
from evalkit.history import Source, load_source
from evalkit.paired import PairedSettings
from evalkit.plugins import Host
from evalkit.results import RunResult


class AbsError(evalkit.Metric):
    """Mean absolute error (lower is better), decomposable."""

    name = "abs_error"
    higher_is_better = False
    task_types = ("sts",)

    def compute(self, *, predictions: Any, references: Any) -> float:
        return float(np.mean(np.abs(np.asarray(predictions) - np.asarray(references))))

    def per_example(self, *, predictions: Any, references: Any) -> np.ndarray:
        return np.abs(np.asarray(predictions, dtype=float) - np.asarray(references, dtype=float))


class ErrorPlugin:
    @evalkit.hookimpl
    def register_metrics(self, register: Any) -> None:
        register(AbsError)


@pytest.fixture(scope="module")
def host() -> Host:
    return Host(autoload=False, extra_plugins=[("errors", ErrorPlugin())])


def make_source(host: Host, preds: dict[tuple[str, str], np.ndarray], refs: dict[str, np.ndarray],
                metrics: tuple[str, ...] = ("spearman",), name: str = "run") -> Source:
    """A run scored with the real metrics from the given predictions (a fake run folder path)."""
    rows, pred_frames = [], []
    objs = {m: host.metrics.create(m) for m in metrics}
    for (method, dataset), p in preds.items():
        r = refs[dataset]
        pred_frames.append(pd.DataFrame({"method": method, "dataset": dataset, "split": "test",
                                         "row": np.arange(len(p)), "prediction": p, "reference": r}))
        for label, m in objs.items():
            rows.append({"method": method, "dataset": dataset, "split": "test", "metric": label,
                         "value": float(m.compute(predictions=p, references=r)), "n": len(p)})
    prov = {"metrics": {label: {"metric": m.name, "params": {}, "higher_is_better": m.higher_is_better}
                        for label, m in objs.items()}}
    run = RunResult(pd.DataFrame(rows), pd.concat(pred_frames, ignore_index=True), prov)
    return Source(run, Path(name), "run")


def with_values(src: Source, changes: dict[tuple[str, str, str], float], name: str) -> Source:
    """A copy of ``src`` whose results (not predictions) are shifted, dropping predictions."""
    res = src.run.results.copy()
    for (method, dataset, metric), delta in changes.items():
        m = (res["method"] == method) & (res["dataset"] == dataset) & (res["metric"] == metric)
        assert m.sum() == 1
        res.loc[m, "value"] += delta
    run = RunResult(res, src.run.predictions.iloc[0:0], dict(src.run.provenance))
    return Source(run, Path(name), "json")


@pytest.fixture(scope="module")
def data() -> tuple[dict[str, np.ndarray], np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.uniform(0, 5, 400)
    return {"d1": y, "d2": rng.uniform(0, 5, 400)}, rng.normal(0, 1, 400)


@pytest.fixture(scope="module")
def base(host: Host, data) -> Source:
    refs, noise = data
    return make_source(host, {("m", "d1"): refs["d1"] + noise, ("m", "d2"): refs["d2"] + noise},
                       refs, ("spearman", "abs_error"), "base")


def status(result, method: str = "m", dataset: str = "d1", metric: str = "spearman") -> str:
    c = result.cells
    row = c[(c["method"] == method) & (c["dataset"] == dataset) & (c["metric"] == metric)]
    assert len(row) == 1
    return str(row["status"].iloc[0])


def test_tolerance_parsing() -> None:
    t = Tolerances.parse(["0.005", "spearman=0.01", "pearson=2%"])
    assert t.default == Tolerance(0.005, False)
    assert t.for_metric("spearman") == Tolerance(0.01, False)
    assert t.for_metric("pearson") == Tolerance(0.02, True)
    assert t.for_metric("pearson").allowed(-0.5) == pytest.approx(0.01)
    assert Tolerances.parse(["1%"]).default.allowed(0.8) == pytest.approx(0.008)
    assert Tolerances.parse([]).default == Tolerance(0.0, False)
    for bad, msg in (("x", "not a number"), ("-0.1", ">= 0"), ("=0.1", "metric name"), ("nan", ">= 0")):
        with pytest.raises(ConfigError, match=msg):
            Tolerances.parse([bad])
    with pytest.raises(ConfigError, match="given twice"):
        Tolerances.parse(["spearman=0.1", "spearman=0.2"])


def test_drop_beyond_tolerance_fails_and_the_same_rise_passes(host: Host, base: Source) -> None:
    tol = Tolerances.parse(["0.005"])
    down = check_runs(with_values(base, {("m", "d1", "spearman"): -0.01}, "cur"), base, tolerances=tol, host=host)
    assert not down.passed and status(down) == "regression"
    assert status(down, dataset="d2") == "unchanged"
    row = down.cells[down.cells["status"] == "regression"].iloc[0]
    assert row["change"] == pytest.approx(-0.01) and row["worse_by"] == pytest.approx(0.01)
    up = check_runs(with_values(base, {("m", "d1", "spearman"): 0.01}, "cur"), base, tolerances=tol, host=host)
    assert up.passed and status(up) == "improved"
    small = check_runs(with_values(base, {("m", "d1", "spearman"): -0.004}, "cur"), base, tolerances=tol, host=host)
    assert small.passed and status(small) == "within tolerance"


def test_lower_is_better_metric_fails_when_it_rises(host: Host, base: Source) -> None:
    tol = Tolerances.parse(["0.001"])
    worse = check_runs(with_values(base, {("m", "d1", "abs_error"): 0.01}, "cur"), base, tolerances=tol, host=host)
    assert status(worse, metric="abs_error") == "regression" and not worse.passed
    better = check_runs(with_values(base, {("m", "d1", "abs_error"): -0.5}, "cur"), base, tolerances=tol, host=host)
    assert status(better, metric="abs_error") == "improved" and better.passed


def test_relative_and_per_metric_tolerances(host: Host, base: Source) -> None:
    b = float(base.run.results.query("dataset == 'd1' and metric == 'spearman'")["value"].iloc[0])
    rel = Tolerances.parse(["1%"])
    inside = with_values(base, {("m", "d1", "spearman"): -0.009 * b}, "cur")
    outside = with_values(base, {("m", "d1", "spearman"): -0.011 * b}, "cur")
    assert check_runs(inside, base, tolerances=rel, host=host).passed
    assert not check_runs(outside, base, tolerances=rel, host=host).passed
    per = Tolerances.parse(["0", "spearman=0.02"])
    cur = with_values(base, {("m", "d1", "spearman"): -0.015, ("m", "d1", "abs_error"): 0.001}, "cur")
    res = check_runs(cur, base, tolerances=per, host=host)
    assert status(res) == "within tolerance" and status(res, metric="abs_error") == "regression"
    with pytest.raises(ConfigError, match="spaerman"):
        check_runs(cur, base, tolerances=Tolerances.parse(["spaerman=0.1"]), host=host)


def test_float_noise_is_not_a_regression(host: Host, base: Source) -> None:
    cur = with_values(base, {("m", "d1", "spearman"): -1e-15}, "cur")
    assert status(check_runs(cur, base, host=host)) == "unchanged"


def test_missing_cells_fail_unless_allowed(host: Host, base: Source) -> None:
    res = base.run.results
    dropped = Source(RunResult(res[res["dataset"] != "d2"].reset_index(drop=True), res.iloc[0:0], base.run.provenance),
                     Path("cur"), "json")
    out = check_runs(dropped, base, host=host)
    assert not out.passed
    assert set(out.cells.loc[out.cells["failed"], "status"]) == {"missing in current"}
    assert out.counts()["missing in current"] == 2
    allowed = check_runs(dropped, base, allow_missing=True, host=host)
    assert allowed.passed and "(allowed)" in allowed.summary()
    reverse = check_runs(base, dropped, host=host)  # new cells in the current run
    assert not reverse.passed and reverse.counts()["missing in baseline"] == 2


def test_significance_gate(host: Host, data) -> None:
    refs, noise = data
    rng = np.random.default_rng(5)
    base = make_source(host, {("m", "d1"): refs["d1"] + noise}, refs, name="base")
    # A tiny random perturbation: by chance rho drops a little (not significantly).
    jitter = make_source(host, {("m", "d1"): refs["d1"] + noise + rng.normal(0, 0.05, 400)}, refs, name="cur")
    # A real degradation: much more noise.
    worse = make_source(host, {("m", "d1"): refs["d1"] + 1.6 * noise}, refs, name="cur")
    settings = PairedSettings(n_resamples=300, seed=0)
    drop = float(base.run.results["value"].iloc[0] - jitter.run.results["value"].iloc[0])
    tol = Tolerances.parse([f"{abs(drop) / 2}"])
    plain = check_runs(jitter, base, tolerances=tol, host=host)
    gated = check_runs(jitter, base, tolerances=tol, significance=0.05, settings=settings, host=host)
    assert drop > 0
    assert not plain.passed and status(plain) == "regression"  # the tolerance alone fails it
    assert gated.passed and status(gated) == "not significant"
    assert gated.cells["p_value"].iloc[0] > 0.05
    bad = check_runs(worse, base, significance=0.05, settings=settings, host=host)
    assert status(bad) == "regression" and bad.cells["p_value"].iloc[0] < 0.01
    assert bad.settings["n_tested"] == 1
    # Without predictions the gate cannot run: a clear error naming the file.
    no_preds = with_values(base, {}, "scores.json")
    with pytest.raises(ConfigError, match=r"scores\.json has none"):
        check_runs(worse, no_preds, significance=0.05, host=host)
    with pytest.raises(ConfigError, match="between 0 and 1"):
        check_runs(worse, base, significance=5, host=host)


def test_significance_refuses_to_pair_different_data(host: Host, data) -> None:
    refs, noise = data
    base = make_source(host, {("m", "d1"): refs["d1"] + noise}, refs, name="base")
    other_refs = {"d1": refs["d1"][::-1].copy()}
    cur = make_source(host, {("m", "d1"): other_refs["d1"] + 3 * noise}, other_refs, name="cur")
    with pytest.raises(DataError, match="gold references differ"):
        check_runs(cur, base, significance=0.05, settings=PairedSettings(n_resamples=50), host=host)


def test_direction_unknown_or_conflicting(host: Host, base: Source) -> None:
    res = base.run.results.assign(metric="bleurt")
    anon = Source(RunResult(res.iloc[:1], res.iloc[0:0], {}), Path("x.json"), "json")
    with pytest.raises(ConfigError, match="higher or lower 'bleurt' is better"):
        check_runs(anon, anon, host=host)
    flipped = {"metrics": {"bleurt": {"metric": "bleurt", "higher_is_better": False}}}
    kept = {"metrics": {"bleurt": {"metric": "bleurt", "higher_is_better": True}}}
    a = Source(RunResult(res.iloc[:1], res.iloc[0:0], flipped), Path("a.json"), "json")
    b = Source(RunResult(res.iloc[:1], res.iloc[0:0], kept), Path("b.json"), "json")
    with pytest.raises(DataError, match=r"higher-is-better in b\.json but lower-is-better in a\.json"):
        check_runs(a, b, host=host)
    assert check_runs(a, a, host=host).passed  # recorded direction, unknown to the registry


def test_junit_xml_has_one_testcase_per_cell(host: Host, base: Source) -> None:
    cur = with_values(base, {("m", "d1", "spearman"): -0.01}, "cur")
    res = base.run.results
    cur.run.results = cur.run.results[~((res["dataset"] == "d2") & (res["metric"] == "abs_error"))]
    result = check_runs(cur, base, tolerances=Tolerances.parse(["0.005"]), allow_missing=True, host=host)
    root = ET.fromstring(junit_xml(result))
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == 4 == int(suite.get("tests", "0"))
    assert suite.get("failures") == "1" and suite.get("skipped") == "1"
    failed = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["m d1/test spearman"]
    fail = failed[0].find("failure")
    assert fail is not None and "dropped by 0.0100" in fail.get("message", "")
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert [c.get("name") for c in skipped] == ["m d2/test abs_error"]


def test_github_annotations_escape_and_levels(host: Host, base: Source) -> None:
    cur = with_values(base, {("m", "d1", "spearman"): -0.01}, "cur")
    result = check_runs(cur, base, host=host)
    result.baseline = Source(base.run, Path("ci/base,100%:x"), "run")
    lines = github_annotations(result).splitlines()
    errors = [x for x in lines if x.startswith("::error ")]
    assert len(errors) == 1
    # The cell is the first row of the baseline's results.csv: line 2, after the header.
    assert errors[0].startswith(
        "::error file=ci/base%2C100%25%3Ax/results.csv,line=2,title=evalkit regression%3A m d1/test spearman::")
    result.baseline = Source(base.run, Path("ci/base.json"), "json")
    assert github_annotations(result).startswith("::error file=ci/base.json,title=")
    assert lines[-1].startswith("::notice title=evalkit check::evalkit check: FAIL")
    result.cells.loc[0, "message"] = "two\nlines 5%"
    assert "two%0Alines 5%25" in github_annotations(result)


def test_check_report_lists_failures_first(host: Host, base: Source) -> None:
    cur = with_values(base, {("m", "d2", "abs_error"): 0.01}, "cur")
    result = check_runs(cur, base, host=host)
    report = check_report(result)
    table = report.tables[0]
    assert table.frame.iloc[0]["status"] == "regression" and table.frame.iloc[0]["dataset"] == "d2"
    assert "p" not in table.frame.columns  # no test was run
    assert report.payload["passed"] is False
    assert json.dumps(report.payload, allow_nan=False)


@pytest.mark.parametrize("name", ["baseline.json", "baseline"])
def test_write_baseline_round_trip(host: Host, base: Source, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    write_baseline(base, path)
    back = load_source(path, runs_dir=tmp_path / "runs")
    pd.testing.assert_frame_equal(back.run.results[["method", "dataset", "split", "metric", "value"]],
                                  base.run.results[["method", "dataset", "split", "metric", "value"]])
    assert back.has_predictions == (name == "baseline")
    assert back.run.provenance["baseline"]["source"] == "base"
    assert check_runs(base, back, host=host).passed
    # Replacing it leaves one complete baseline and no temporary files.
    cur = with_values(base, {("m", "d1", "spearman"): 0.05}, "cur")
    write_baseline(cur, path, check=check_runs(cur, back, host=host))
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    again = load_source(path, runs_dir=tmp_path / "runs")
    assert again.run.provenance["baseline"]["replaced_verdict"] == "pass"
    assert status(check_runs(cur, again, host=host)) == "unchanged"
    with pytest.raises(ConfigError, match="does not exist"):
        write_baseline(base, tmp_path / "nope" / "b.json")


def test_spearman_p_value_matches_an_independent_bootstrap(host: Host, data) -> None:
    """The gate's two-sided p-value equals the shifted-null share computed here with numpy."""
    refs, noise = data
    base = make_source(host, {("m", "d1"): refs["d1"] + noise}, refs, name="base")
    cur = make_source(host, {("m", "d1"): refs["d1"] + 1.1 * noise}, refs, name="cur")
    res = check_runs(cur, base, significance=0.5, settings=PairedSettings(n_resamples=400, seed=3), host=host)
    p = float(res.cells["p_value"].iloc[0])
    y, pa, pb = refs["d1"], refs["d1"] + noise, refs["d1"] + 1.1 * noise
    rng = np.random.default_rng(99)
    boot = []
    for _ in range(1000):
        i = rng.integers(0, 400, 400)
        boot.append(stats.spearmanr(pb[i], y[i]).statistic - stats.spearmanr(pa[i], y[i]).statistic)
    boot_arr = np.array(boot)
    delta = stats.spearmanr(pb, y).statistic - stats.spearmanr(pa, y).statistic
    ref_p = np.mean(np.abs(boot_arr - delta) >= abs(delta))  # Berg-Kirkpatrick et al. 2012, two-sided
    assert abs(p - ref_p) < 4 * np.sqrt(ref_p * (1 - ref_p) * (1 / 400 + 1 / 1000)) + 1 / 400


def test_significance_p_values_are_corrected_across_the_tested_cells(host: Host, data) -> None:
    """Holm (default) and Benjamini-Hochberg across the cells tested, as statsmodels adjusts them."""
    from statsmodels.stats.multitest import multipletests

    refs, noise = data
    rng = np.random.default_rng(8)
    datasets = {f"d{i}": refs["d1"] for i in range(1, 5)}
    base = make_source(host, {("m", d): r + noise for d, r in datasets.items()}, datasets, name="base")
    scale = {"d1": 1.05, "d2": 1.15, "d3": 1.3, "d4": 1.6}
    cur = make_source(host, {("m", d): r + scale[d] * noise + rng.normal(0, 0.01, 400) for d, r in datasets.items()},
                      datasets, name="cur")
    settings = PairedSettings(n_resamples=300, seed=1)
    raw = check_runs(cur, base, significance=0.05, settings=settings, host=host, correction="none")
    p = raw.cells["p_value"].to_numpy()
    assert np.all(np.isfinite(p)) and raw.settings["alternative"] == "two-sided"
    assert np.array_equal(raw.cells["p_adjusted"].to_numpy(), p)
    for ours, theirs in (("holm", "holm"), ("bh", "fdr_bh")):
        res = check_runs(cur, base, significance=0.05, settings=settings, host=host, correction=ours)
        assert np.array_equal(res.cells["p_value"].to_numpy(), p)  # same resamples per cell
        expected = multipletests(p, method=theirs)[1]
        assert res.cells["p_adjusted"].to_numpy() == pytest.approx(expected)
        assert list(res.cells["status"]) == ["regression" if e <= 0.05 else "not significant" for e in expected]
    assert "Holm-adjusted p" in check_runs(cur, base, significance=0.05, settings=settings,
                                           host=host).cells["message"].iloc[0]
    with pytest.raises(ConfigError, match="--correction"):
        check_runs(cur, base, significance=0.05, host=host, correction="sidak")
