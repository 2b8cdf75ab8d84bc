"""The public Python API (``evalkit.compare/score/check/leaderboard/rescore``, ``Run``).

Checked against the CLI's own output (the same numbers as ``evalkit compare --format csv``) and
against independent computations: TF-IDF cosine + Spearman recomputed with scikit-learn and scipy
from the raw STS-B file, metrics of a predictions file with scipy, a leaderboard's means and ranks
with numpy/scipy, and check verdicts from hand-computed drops.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

import evalkit
import evalkit.api
from evalkit.cli import build_cli
from evalkit.errors import ConfigError, UnknownNameError

README = Path(__file__).resolve().parents[1] / "README.md"


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build_cli(), list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _stsb_test(data_dir: Path) -> pd.DataFrame:
    """STS-B test read without evalkit: tab-separated, no quoting, fields 4-6 (LOADING.md)."""
    lines = (data_dir / "stsbenchmark" / "sts-test.csv").read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines if line]
    return pd.DataFrame({"score": [float(r[4]) for r in rows], "s1": [r[5] for r in rows], "s2": [r[6] for r in rows]})


@pytest.mark.data
def test_compare_matches_an_independent_tfidf_spearman(data_dir: Path) -> None:
    """TF-IDF cosine Spearman on STS-B test equals scikit-learn + scipy on the raw file."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    run = evalkit.compare(datasets="stsb", methods="tfidf-cosine", metrics=["spearman", "pearson"], save=False)
    raw = _stsb_test(data_dir)
    assert len(raw) == 1379
    vec = TfidfVectorizer().fit(list(raw["s1"]) + list(raw["s2"]))
    a, b = vec.transform(raw["s1"]), vec.transform(raw["s2"])
    cos = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    rho = stats.spearmanr(cos, raw["score"]).statistic
    r = stats.pearsonr(cos, raw["score"]).statistic
    table = run.table()
    assert list(table.columns) == ["stsb", "mean", "mean rank"]
    assert table.loc["tfidf-cosine", "stsb"] == pytest.approx(rho, abs=1e-12)
    assert run.table("pearson").loc["tfidf-cosine", "stsb"] == pytest.approx(r, abs=1e-12)
    assert run.path is None
    preds = run.predictions[run.predictions["role"] == "eval"].sort_values("row")
    np.testing.assert_allclose(preds["prediction"].to_numpy(), cos, atol=1e-12)
    np.testing.assert_allclose(preds["reference"].to_numpy(), raw["score"].to_numpy())


@pytest.mark.data
def test_compare_table_equals_the_cli_csv_and_load_reads_the_saved_run(data_dir: Path, tmp_path: Path) -> None:
    """``Run.table()`` x 100 equals ``evalkit compare --format csv``; ``Run.load`` reads the CLI's saved run."""
    methods = "tfidf-cosine,tfidf-cosine@sub:sublinear_tf=true"
    code, out, _ = _cli("compare", "--datasets", "stsb,sickr", "--methods", methods, "--metrics", "spearman",
                        "--aggregate", "mean,geometric", "--format", "csv", "--runs-dir", str(tmp_path))
    assert code == 0
    cli_table = pd.read_csv(io.StringIO(out), index_col=0)  # one table: no title line
    run = evalkit.compare(datasets=["stsb", "sickr"], methods=methods, metrics="spearman",
                          aggregate=["mean", "geometric"], runs_dir=tmp_path / "api")
    table = run.table("spearman")
    for col in ("stsb", "sickr", "mean", "geometric"):
        np.testing.assert_allclose(table[col].to_numpy() * 100, cli_table.loc[table.index, col].to_numpy(),
                                   atol=1e-7)
    for col in ("mean rank", "geometric rank"):
        assert table[col].tolist() == cli_table.loc[table.index, col].tolist()
    assert run.path == tmp_path / "api" / run.run_id and (run.path / "run.json").is_file()
    loaded = evalkit.Run.load("latest", runs_dir=tmp_path, aggregate="mean,geometric")
    np.testing.assert_allclose(loaded.table()[["stsb", "sickr", "mean"]].to_numpy() * 100,
                               cli_table.loc[loaded.table().index, ["stsb", "sickr", "mean"]].to_numpy(), atol=1e-7)
    assert loaded.provenance_dict()["suite"] == "ad-hoc"


@pytest.mark.data
def test_rescore_and_bootstrap_through_the_api(data_dir: Path, tmp_path: Path) -> None:
    """``rescore`` of a saved run with pearson equals scipy on its stored predictions; a bootstrap
    adds interval columns that bracket the value."""
    run = evalkit.compare(datasets="stsb", methods="tfidf-cosine", metrics="spearman", bootstrap=50, seed=3,
                          runs_dir=tmp_path)
    res = run.results.iloc[0]
    assert res["ci_low"] <= res["value"] <= res["ci_high"]
    assert run.provenance_dict()["bootstrap"] == {"n_resamples": 50, "seed": 3, "confidence": 0.95}
    again = evalkit.api.rescore(run.run_id, metrics="pearson", runs_dir=tmp_path, save=False)
    preds = run.predictions[run.predictions["role"] == "eval"]
    expected = stats.pearsonr(preds["prediction"], preds["reference"]).statistic
    assert again.table().loc["tfidf-cosine", "stsb"] == pytest.approx(expected, abs=1e-12)


def test_score_matches_scipy(tmp_path: Path) -> None:
    """``evalkit.score(FILE)`` values are scipy's Spearman and Pearson of the file's columns."""
    rng = np.random.default_rng(0)
    label = rng.uniform(0, 5, 200)
    score = label + rng.normal(0, 1.5, 200)
    path = tmp_path / "preds.csv"
    pd.DataFrame({"score": score, "label": label}).to_csv(path, index=False)
    run = evalkit.score(path, metrics="spearman,pearson")
    values = run.results.set_index("metric")["value"]
    assert values["spearman"] == pytest.approx(stats.spearmanr(score, label).statistic, abs=1e-12)
    assert values["pearson"] == pytest.approx(stats.pearsonr(score, label).statistic, abs=1e-12)
    assert list(run.table("pearson").columns) == [run.results["dataset"].iloc[0]]  # no aggregators
    assert "metrics=['spearman', 'pearson'], scores=2, path=None)" in repr(run)
    with pytest.raises(ConfigError, match="no such file"):
        evalkit.score(tmp_path / "missing.csv", metrics="spearman")


def _scored(tmp_path: Path, name: str, noise: float) -> tuple[evalkit.Run, float]:
    """A predictions file ``<name>/preds.csv`` (same dataset name on every side), its run and scipy's rho."""
    label = np.random.default_rng(1).uniform(0, 5, 300)
    score = label + np.random.default_rng(2).normal(0, 1, 300) * noise
    path = tmp_path / name / "preds.csv"
    path.parent.mkdir()
    pd.DataFrame({"score": score, "label": label}).to_csv(path, index=False)
    return evalkit.score(path, metrics="spearman"), float(stats.spearmanr(score, label).statistic)


def test_check_gates_a_drop_in_the_metric_direction(tmp_path: Path) -> None:
    """The drop ``check`` reports is the difference of scipy's rhos; tolerance decides the verdict."""
    (good, rho_good), (worse, rho_worse) = _scored(tmp_path, "good", 0.5), _scored(tmp_path, "worse", 2.0)
    drop = rho_good - rho_worse
    assert drop > 0.01
    result = evalkit.check(worse, good)
    assert not result.passed
    assert result.cells["worse_by"].iloc[0] == pytest.approx(drop, abs=1e-12)
    assert result.cells["status"].tolist() == ["regression"]
    assert evalkit.check(worse, good, tolerance=drop + 1e-6).passed
    assert evalkit.check(good, worse).cells["status"].tolist() == ["improved"]
    baseline = evalkit.update_baseline(good, tmp_path / "base.json")
    assert not evalkit.check(worse, baseline, tolerance=["spearman=0.001"]).passed
    with pytest.raises(ConfigError, match="--update-baseline"):
        evalkit.check(worse, tmp_path / "nothing.json")


def test_leaderboard_means_and_ranks_match_numpy(tmp_path: Path) -> None:
    """Mean, geometric mean and their 1-based ranks (ties share the best) of a CSV board."""
    board = pd.DataFrame({"system": ["a", "b", "c", "d"], "T1": [80.0, 70.0, 90.0, 60.0],
                          "T2": [60.0, 75.0, 50.0, 60.0], "T3": [70.0, 65.0, 70.0, 90.0]})
    path = tmp_path / "board.csv"
    board.to_csv(path, index=False)
    result = evalkit.leaderboard(path, aggregate="geometric,mean")
    cells = board.set_index("system")[["T1", "T2", "T3"]]
    table = result.table
    np.testing.assert_allclose(table.loc[cells.index, "mean"], cells.mean(axis=1), atol=1e-12)
    np.testing.assert_allclose(table.loc[cells.index, "geometric"], stats.gmean(cells, axis=1), atol=1e-12)
    for rule, values in (("mean", cells.mean(axis=1)), ("geometric", pd.Series(stats.gmean(cells, axis=1),
                                                                                 index=cells.index))):
        expected = stats.rankdata(-values.round(12), method="min")
        assert table.loc[cells.index, f"{rule} rank"].tolist() == expected.tolist()
    assert list(table.index) == list(table.sort_values("geometric rank", kind="stable").index)  # first rule sorts
    code, out, _ = _cli("leaderboard", str(path), "--aggregate", "geometric,mean", "--format", "csv")
    assert code == 0 and out == result.render("csv")
    assert repr(result) == ("LeaderboardResult(board='board', snapshot='file', systems=4, tasks=3, "
                            "rules=['geometric', 'mean'])")


def test_api_errors_are_evalkit_errors(tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError):
        evalkit.compare(datasets="stsb", methods="no-such-method", metrics="spearman", save=False)
    with pytest.raises(ConfigError, match="bootstrap"):
        evalkit.compare(datasets="stsb", methods="tfidf-cosine", bootstrap=-1, save=False)
    with pytest.raises(ConfigError, match="confidence"):
        evalkit.compare(datasets="stsb", methods="tfidf-cosine", confidence=1.5, save=False)
    with pytest.raises(ConfigError, match=r"posthoc|post-hoc"):
        evalkit.compare(datasets="stsb", methods="tfidf-cosine", posthoc="tukey", save=False)
    run, _ = _scored(tmp_path, "x", 1.0)
    with pytest.raises(ConfigError, match="not in the run"):
        run.table("pearson")
    with pytest.raises(ConfigError):
        evalkit.Run.load("latest", runs_dir=tmp_path / "empty")


def test_import_evalkit_and_the_api_stay_light() -> None:
    """``import evalkit`` and reaching ``evalkit.compare``/``Run`` import no heavy library."""
    code = ("import sys, evalkit; evalkit.compare; evalkit.Run; evalkit.check; evalkit.leaderboard; "
            "print(sorted(m for m in ('torch', 'pandas', 'sklearn', 'scipy', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.data
def test_readme_python_api_example_runs(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fenced example of README's "Python API" section runs and prints the table it describes."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Python API", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks, "README's Python API section has no python block"
    monkeypatch.chdir(tmp_path)
    out = subprocess.run([sys.executable, "-c", blocks[0]], capture_output=True, text=True, check=True).stdout
    assert "tfidf-cosine" in out and "stsb" in out


def test_compare_limit_must_be_positive() -> None:
    """``--limit N`` (passed to the runner as ``limit=``) refuses 0 on the command line and in Python."""
    code, _, err = _cli("compare", "--datasets", "stsb", "--methods", "tfidf-cosine", "--limit", "0", "--no-save")
    assert code == 2 and "--limit" in err
    with pytest.raises(ConfigError, match="limit"):
        evalkit.compare(datasets="stsb", methods="tfidf-cosine", limit=0, save=False)


def test_api_names_are_no_submodule_names() -> None:
    """Importing a submodule ``evalkit.X`` sets the package attribute ``X``: no API name may be one."""
    package = Path(evalkit.__file__).parent
    for name in evalkit._API:
        assert not (package / f"{name}.py").exists() and not (package / name).is_dir(), name
        assert callable(getattr(evalkit, name)), name
