"""``evalkit report``: the page of a real saved run, checked against independent computations
(scipy, scikit-learn, numpy, the csv module) of every number its figures and tables embed, parsed
with html5lib (no external resource), rendered in headless Chromium (not blank), and escaped."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import html5lib
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats
from sklearn.metrics import accuracy_score, average_precision_score, f1_score

from evalkit.cli import build_cli
from evalkit.htmlreport.render import CITATIONS

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}href"


@dataclass
class Page:
    run_dir: Path
    html: Path
    text: str
    data: dict[str, Any]
    pairs_file: Path


def embedded(text: str) -> dict[str, Any]:
    """The JSON of ``script#evalkit-data``, read with html5lib (not with the code under test)."""
    doc = html5lib.parse(text, namespaceHTMLElements=False)
    (script,) = [s for s in doc.iter("script") if s.get("id") == "evalkit-data"]
    assert script.get("type") == "application/json"
    return json.loads(script.text)


def invoke(args: list[str], env: dict[str, str]) -> Any:
    result = CliRunner().invoke(build_cli(), args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def write_pairs(path: Path, rows: list[tuple[str, str, float]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("sentence1\tsentence2\tscore\n")
        for s1, s2, score in rows:
            fh.write(f"{s1}\t{s2}\t{score}\n")


@pytest.fixture(scope="session")
def page(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Page:
    """A real run (the first 300 STS-B test pairs and MRPC; three TF-IDF methods; 200 bootstrap
    resamples), saved, then ``evalkit report`` of it."""
    from evalkit.plugins import get_host

    base = tmp_path_factory.mktemp("report")
    stsb = get_host().datasets.create("stsb").load("test", data_dir).iloc[:300]
    pairs = base / "stsb-slice.tsv"
    write_pairs(pairs, list(zip(stsb["sentence1"], stsb["sentence2"], stsb["score"], strict=True)))
    suite = base / "suite.toml"
    suite.write_text(
        'datasets = [{name = "stsb-slice", dataset = "pairs", params = {path = "' + str(pairs) + '"}}, "mrpc"]\n'
        'methods = ["tfidf-cosine", "tfidf-char", {name = "tfidf-bigram", method = "tfidf", '
        "params = {ngram_range = [1, 2]}}]\n"
        'metrics = ["spearman", "pearson", "auto_threshold_f1", "auto_threshold_accuracy", "average_precision"]\n'
        'aggregate = ["mean"]\n', encoding="utf-8")
    env = {"EVALKIT_RUNS_DIR": str(base / "runs"), "EVALKIT_CACHE_DIR": str(base / "cache"),
           "EVALKIT_DATA_DIR": str(data_dir)}
    invoke(["compare", "--suite", str(suite), "--bootstrap", "200", "--no-progress", "--format", "json"], env)
    (run_dir,) = [p for p in (base / "runs").iterdir() if not p.name.startswith(".")]
    out = base / "report.html"
    invoke(["report", run_dir.name, "-o", str(out)], env)
    text = out.read_text(encoding="utf-8")
    return Page(run_dir, out, text, embedded(text), pairs)


def cells(run_dir: Path) -> dict[tuple[str, str], pd.DataFrame]:
    """Evaluated predictions per (method, dataset), read with pandas from the saved run."""
    p = pd.read_csv(run_dir / "predictions.csv.gz")
    p = p[p["role"] != "tune"]
    return {(str(m), str(d)): g.sort_values("row") for (m, d), g in p.groupby(["method", "dataset"])}


@pytest.mark.data
def test_tables_equal_scipy_on_the_stored_predictions(page: Page) -> None:
    res = pd.read_csv(page.run_dir / "results.csv")
    for (method, dataset), g in cells(page.run_dir).items():
        x, y = g["prediction"].to_numpy(), g["reference"].to_numpy()
        rho = stats.spearmanr(x, y).statistic
        r = stats.pearsonr(x, y).statistic
        assert page.data["metrics"]["spearman"]["values"][method][dataset] == pytest.approx(rho, abs=1e-12)
        assert page.data["metrics"]["pearson"]["values"][method][dataset] == pytest.approx(r, abs=1e-12)
        row = res[(res["method"] == method) & (res["dataset"] == dataset) & (res["metric"] == "spearman")].iloc[0]
        lo, hi = page.data["metrics"]["spearman"]["intervals"][method][dataset]
        assert (lo, hi) == (pytest.approx(row["ci_low"]), pytest.approx(row["ci_high"]))
    table = page.data["metrics"]["spearman"]
    for dataset in table["datasets"]:
        values = {m: table["values"][m][dataset] for m in table["methods"]}
        assert table["best"][dataset] == [max(values, key=lambda m: values[m])]
        mean = {m: np.mean([table["values"][m][d] for d in table["datasets"]]) for m in table["methods"]}
        assert table["aggregates"]["mean"] == pytest.approx(mean, abs=1e-12)
    # The page shows the best cell highlighted, x 100 with two decimals.
    best = table["best"]["stsb-slice"][0]
    shown = f"{table['values'][best]['stsb-slice'] * 100:.2f}"
    assert re.search(r'<td class="num win"[^>]*>' + re.escape(shown), page.text)


def compare_draws(run_dir: Path, n_resamples: int, seed: int) -> dict[tuple[str, str], np.ndarray]:
    """The row positions ``evalkit compare --bootstrap`` draws (its documented order): one
    ``(B, n)`` matrix per (dataset, split) of the saved predictions, in file order, from one
    ``numpy.random.default_rng(seed)``."""
    p = pd.read_csv(run_dir / "predictions.csv.gz")
    rng = np.random.default_rng(seed)
    out = {}
    for (d, s), g in p.groupby(["dataset", "split"], sort=False):
        n = g["row"].nunique()
        out[(str(d), str(s))] = rng.integers(0, n, size=(n_resamples, n))
    return out


def brute_force_replicates(page: Page, metric: Any, n_resamples: int, seed: int) -> dict[tuple[str, str], np.ndarray]:
    """``metric`` (a scipy function) of every (method, dataset) on every drawn resample, one call each."""
    p = pd.read_csv(page.run_dir / "predictions.csv.gz")
    splits = {str(d): str(s) for d, s in p[p["role"] != "tune"][["dataset", "split"]].drop_duplicates().to_numpy()}
    draws = compare_draws(page.run_dir, n_resamples, seed)
    out = {}
    for (method, dataset), g in cells(page.run_dir).items():
        x, y = g["prediction"].to_numpy(), g["reference"].to_numpy()
        out[(method, dataset)] = np.array([metric(x[ix], y[ix]).statistic for ix in draws[(dataset, splits[dataset])]])
    return out


@pytest.mark.data
def test_forest_plot_equals_an_independent_paired_bootstrap(page: Page) -> None:
    """Deltas, percentile intervals and shifted-null p-values against scipy on every resample, and the
    draws against the run's own stored intervals (computed by compare's per-resample loop)."""
    fig = page.data["figures"]["forest-spearman"]
    assert (fig["n_resamples"], fig["seed"], fig["origin"]) == (200, 0, "run")
    assert fig["baseline"] in page.data["metrics"]["spearman"]["methods"]
    reps = brute_force_replicates(page, stats.spearmanr, 200, 0)
    res = pd.read_csv(page.run_dir / "results.csv")
    for (method, dataset), dist in reps.items():  # the same draws as the run's --bootstrap 200
        row = res[(res["method"] == method) & (res["dataset"] == dataset) & (res["metric"] == "spearman")].iloc[0]
        assert np.quantile(dist, [0.025, 0.975]) == pytest.approx([row["ci_low"], row["ci_high"]], abs=1e-12)
    groups = cells(page.run_dir)
    assert len(fig["rows"]) == 2 * 2  # two other methods on two datasets
    for row in fig["rows"]:
        a, b = groups[(fig["baseline"], row["dataset"])], groups[(row["method"], row["dataset"])]
        delta = (stats.spearmanr(b["prediction"], b["reference"]).statistic
                 - stats.spearmanr(a["prediction"], a["reference"]).statistic)
        d = reps[(row["method"], row["dataset"])] - reps[(fig["baseline"], row["dataset"])]
        assert row["delta"] == pytest.approx(delta, abs=1e-12)
        assert [row["ci_low"], row["ci_high"]] == pytest.approx(np.quantile(d, [0.025, 0.975]).tolist(), abs=1e-9)
        p = (1 + np.sum(np.abs(d - delta) >= abs(delta) - 1e-12 * max(1, abs(delta)))) / (1 + d.size)
        assert row["p_value"] == pytest.approx(p)


@pytest.mark.data
def test_rank_distribution_equals_a_brute_force_bootstrap_of_ranks(page: Page) -> None:
    """P(rank = k) per method: on each resample, scipy's rho per dataset, their mean per method,
    ranked by scipy (ties sharing the best rank); and the percentile rank interval."""
    fig = page.data["figures"]["rankdist-spearman"]
    table = page.data["metrics"]["spearman"]
    methods, datasets = table["methods"], table["datasets"]
    assert (fig["n_resamples"], fig["n_used"], fig["rule"], fig["methods"]) == (200, 200, "mean", methods)
    reps = brute_force_replicates(page, stats.spearmanr, 200, 0)
    means = np.mean([[reps[(m, d)] for d in datasets] for m in methods], axis=1)  # (methods, B)
    ranks = np.array([stats.rankdata(-means[:, b], method="min") for b in range(200)])
    for i, m in enumerate(methods):
        expected = [float(np.mean(ranks[:, i] == k)) for k in range(1, len(methods) + 1)]
        assert fig["probabilities"][m] == pytest.approx(expected, abs=1e-12)
        assert sum(fig["probabilities"][m]) == pytest.approx(1.0)
        assert fig["rank_interval"][m] == [np.quantile(ranks[:, i], 0.025, method="lower"),
                                           np.quantile(ranks[:, i], 0.975, method="higher")]
    full = stats.rankdata(-np.array([np.mean([table["values"][m][d] for d in datasets]) for m in methods]),
                          method="min")
    assert [fig["rank_full"][m] for m in methods] == full.tolist()
    # The page shows it: a figure with a reading, and its table with one P(rank k) column per rank.
    assert re.search(r"ranks first in \d+% of 200 resamples", page.text)
    assert page.text.count("P(rank ") >= 2 * len(methods)


@pytest.mark.data
def test_rank_stability_equals_scipy_means_and_a_borda_count(page: Page) -> None:
    fig = page.data["figures"]["ranks-spearman"]
    table = page.data["metrics"]["spearman"]
    methods, datasets = table["methods"], table["datasets"]
    values = np.array([[table["values"][m][d] for d in datasets] for m in methods])
    for rule, f in (("mean", np.mean), ("geometric", stats.gmean), ("harmonic", stats.hmean)):
        expected = stats.rankdata(-f(values, axis=1), method="min")
        assert [fig["ranks"][rule][m] for m in methods] == expected.tolist()
    borda = [sum(int((values[:, j] < values[i, j]).sum()) for j in range(len(datasets))) for i in range(len(methods))]
    assert [fig["ranks"]["borda"][m] for m in methods] == stats.rankdata(-np.array(borda), method="min").tolist()


@pytest.mark.data
def test_sts_figures_equal_scipy(page: Page) -> None:
    groups = cells(page.run_dir)
    panels = page.data["figures"]["sts-scatter"]["panels"]
    assert {p["dataset"] for p in panels} == {"stsb-slice"}
    for p in panels:
        g = groups[(p["method"], p["dataset"])]
        x, y = g["prediction"].to_numpy(), g["reference"].to_numpy()
        assert p["n"] == 300
        assert p["spearman"] == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
        assert p["pearson"] == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)
    (bands,) = page.data["figures"]["sts-bands"]["datasets"]
    assert (bands["dataset"], bands["split"]) == ("stsb-slice", "test")
    assert bands["bands"] == [[0.0, 1.0], [1.0, 2.0], [2.0, 3.0], [3.0, 4.0], [4.0, 5.0]]
    for method, entry in bands["methods"].items():
        g = groups[(method, "stsb-slice")]
        x, y = g["prediction"].to_numpy(), g["reference"].to_numpy()
        fit = stats.linregress(x, y)
        err = np.abs(fit.intercept + fit.slope * x - y)
        for k, (lo, hi) in enumerate(bands["bands"]):
            inside = [i for i in range(len(y)) if lo <= y[i] < hi or (hi == 5.0 and y[i] == 5.0)]
            assert entry["n"][k] == len(inside)
            assert entry["mae"][k] == pytest.approx(float(np.mean(err[inside])), rel=1e-9)


@pytest.mark.data
def test_pair_classification_figures_equal_sklearn(page: Page) -> None:
    groups = cells(page.run_dir)
    res = pd.read_csv(page.run_dir / "results.csv")
    items = page.data["figures"]["pr-mrpc"]["methods"]
    assert len(items) == 3
    for item in items:
        g = groups[(item["method"], "mrpc")]
        x, y = g["prediction"].to_numpy(), g["reference"].to_numpy().astype(int)
        assert item["average_precision"] == pytest.approx(average_precision_score(y, x), abs=1e-12)
        assert item["majority"]["accuracy"] == pytest.approx(max(y.mean(), 1 - y.mean()))
        c = item["curves"]
        for k in range(0, len(c["threshold"]), 37):
            t = c["threshold"][k]
            assert c["f1"][k] == pytest.approx(f1_score(y, x >= t), abs=1e-12)
            assert c["accuracy"][k] == pytest.approx(accuracy_score(y, x >= t), abs=1e-12)
        row = res[(res["method"] == item["method"]) & (res["metric"] == "auto_threshold_f1")].iloc[0]
        assert item["tuned"]["auto_threshold_f1"]["threshold"] == pytest.approx(row["threshold"])
        assert item["tuned"]["auto_threshold_f1"]["tuned_on"] == "dev"


@pytest.mark.data
def test_disagreements_show_the_sentences_of_the_data(page: Page) -> None:
    with page.pairs_file.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    item = next(i for i in page.data["disagreements"] if i["dataset"] == "stsb-slice")
    groups = cells(page.run_dir)
    ra = stats.rankdata(groups[(item["method_a"], "stsb-slice")]["prediction"].to_numpy()) / 300
    rb = stats.rankdata(groups[(item["method_b"], "stsb-slice")]["prediction"].to_numpy()) / 300
    assert item["rows"][0]["gap"] == pytest.approx(np.abs(ra - rb).max())
    for r in item["rows"]:
        s1, s2, score = rows[r["row"]]
        assert (r["sentence1"], r["sentence2"], r["gold"]) == (s1, s2, float(score))
        assert s1.replace("&", "&amp;").replace("<", "&lt;") in page.text


@pytest.mark.data
def test_page_parses_loads_nothing_external_and_numbers_its_figures(page: Page) -> None:
    doc = html5lib.parse(page.text, namespaceHTMLElements=False)
    allowed = {url for _, url in CITATIONS.values()}
    refs = [(el.tag, k, v) for el in doc.iter() if isinstance(el.tag, str)
            for k, v in el.attrib.items() if k in ("src", "href", XLINK, "action", "data", "poster")]
    # In-page anchors and the citation links only; no embedded raster image (every figure is vector).
    external = [r for r in refs if not r[2].startswith("#") and r[2] not in allowed]
    assert external == []
    assert "data:image" not in page.text and f"{SVG}image" not in {el.tag for el in doc.iter()}
    assert not [el for el in doc.iter() if el.tag in ("link", "img", "iframe", "object", "embed")]
    scripts = list(doc.iter("script"))
    assert len(scripts) == 2 and all(s.get("src") is None for s in scripts)
    figures = [el for el in doc.iter("figure")]
    assert len(figures) == len(page.data["figures"]) >= 8
    for n, fig in enumerate(figures, start=1):
        key = fig.get("data-figure")
        assert page.data["figures"][key]["figure_number"] == n
        assert fig.find(f".//{SVG}svg") is not None
        assert "".join(fig.find("figcaption").itertext()).startswith(f"Figure {n}. ")
    assert page.text.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page.text


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        msg = "headless Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return exe


def run_chromium(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           f"--user-data-dir={tmp_path / 'profile'}", "--no-first-run", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)


@pytest.mark.data
def test_headless_chromium_renders_the_page(page: Page, tmp_path: Path) -> None:
    from PIL import Image

    shot = tmp_path / "report.png"
    out = run_chromium(["--window-size=1200,2600", f"--screenshot={shot}", page.html.as_uri()], tmp_path)
    assert shot.is_file(), out.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape == (2600, 1200)
    assert pixels.std() > 20  # text, tables and figures, not a blank page
    assert (pixels < 200).mean() > 0.02


HOSTILE_METHOD = "<b>cost $5</b></svg><script>document.title='PWNED'</script>"
HOSTILE_SENTENCE = "a cat </svg><script>document.title='PWNED'</script> & <img src=x onerror=alert(1)>"


def test_data_texts_are_escaped_everywhere(tmp_path: Path) -> None:
    """A method label and sentences holding </svg>, <script> and <img> show as text and run nothing."""
    pairs = tmp_path / "hostile.tsv"
    rng = np.random.default_rng(0)
    words = ["cat", "dog", "sun", "tea", "rain", "car", "sea", "red"]
    # Every first sentence holds the hostile text, so whichever pairs are listed show it.
    rows = [(f"{HOSTILE_SENTENCE} {' '.join(rng.choice(words, 4))}", " ".join(rng.choice(words, 4)),
             float(rng.integers(0, 6))) for _ in range(40)]
    write_pairs(pairs, rows)
    suite = tmp_path / "suite.toml"
    suite.write_text(
        f'datasets = [{{name = "<i>d</i>", dataset = "pairs", params = {{path = "{pairs}"}}}}]\n'
        f'methods = [{{name = "{HOSTILE_METHOD}", method = "tfidf-cosine"}}, "tfidf-char"]\n'
        'metrics = ["spearman"]\n', encoding="utf-8")
    out = tmp_path / "page.html"
    result = CliRunner().invoke(build_cli(), ["compare", "--suite", str(suite), "--output", str(out),
                                              "--no-progress"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    doc = html5lib.parse(text, namespaceHTMLElements=False)
    assert len(list(doc.iter("script"))) == 2  # the JSON data and the sorting script, nothing injected
    assert not list(doc.iter("img")) and not list(doc.iter("b")) and not list(doc.iter("i"))
    visible = "".join(doc.find("body").itertext())
    assert HOSTILE_METHOD in visible and HOSTILE_SENTENCE in visible
    svg_texts = ["".join(t.itertext()) for t in doc.iter(f"{SVG}text")]
    assert any(HOSTILE_METHOD[:20] in t for t in svg_texts)  # matplotlib's <text>, escaped
    data = embedded(text)
    assert HOSTILE_METHOD in data["methods"]
    assert all(r["sentence1"].startswith(HOSTILE_SENTENCE) for r in data["disagreements"][0]["rows"])
    if shutil.which("chromium") or shutil.which("chromium-browser") or os.environ.get("CI"):
        dom = run_chromium(["--dump-dom", out.as_uri()], tmp_path).stdout
        assert "<title>evalkit report" in dom and "PWNED" not in dom.split("</title>")[0]


@pytest.mark.data
def test_cd_diagram_mean_ranks_equal_scipy_and_friedman(page: Page) -> None:
    """The CD diagram's mean ranks (ties averaged per dataset) and Friedman's p against scipy."""
    table = page.data["metrics"]["spearman"]
    cd = page.data["figures"]["cd-spearman"]
    methods, datasets = table["methods"], table["datasets"]
    values = np.array([[table["values"][m][d] for d in datasets] for m in methods])
    ranks = np.column_stack([stats.rankdata(-values[:, j]) for j in range(len(datasets))]).mean(axis=1)
    assert [cd["mean_ranks"][m] for m in methods] == pytest.approx(ranks.tolist())
    assert cd["posthoc"] == "Wilcoxon signed-rank, Holm-corrected"
    assert cd["cd"] is not None and cd["cd"] > 0  # Nemenyi's critical difference is drawn
    if len(datasets) >= 2:
        chi2 = stats.friedmanchisquare(*values).statistic
        assert page.data["metrics"]["spearman"]["tests"]["friedman"]["chi2_tie_corrected"] == pytest.approx(chi2)


def test_bulk_rank_equals_scipy_min_ranks_per_row() -> None:
    """The rank figure's row-wise ranks: scipy's ``rankdata(method="min")`` of each row (NaN kept),
    values equal up to rounding tie, in both directions."""
    from evalkit.htmlreport.rankdist import bulk_rank

    rng = np.random.default_rng(3)
    values = np.round(rng.normal(size=(50, 6)), 1)
    values[4, 2] = np.nan
    values[5] = values[5, 0] + np.array([0, 1e-15, 0, 2, 3, 4])  # equal up to rounding: tied
    for higher in (True, False):
        got = bulk_rank(values, higher_is_better=higher)
        for row, out in zip(values, got, strict=True):
            ok = ~np.isnan(row)
            expected = stats.rankdata(-row[ok] if higher else row[ok], method="min")
            if np.isnan(row).any() or abs(row[1] - row[0]) < 1e-12:  # scipy sees 1e-15 as different
                expected = stats.rankdata(np.round(-row[ok] if higher else row[ok], 9), method="min")
            assert out[ok].tolist() == expected.tolist() and np.isnan(out[~ok]).all()


@pytest.mark.parametrize("rule", ["mean", "geometric", "borda", "copeland"])
def test_rank_counts_equal_each_resample_ranked_alone(rule: str) -> None:
    """Scoring all resamples at once (row-wise rules) or one by one (the others) gives, per resample,
    scipy's min-ranks of the rule's value on that resample's table (means computed by numpy/scipy,
    Borda by counting the methods beaten per dataset)."""
    from evalkit.htmlreport.rankdist import rank_counts
    from evalkit.plugins import get_host

    rng = np.random.default_rng(7)
    methods, datasets = ["a", "b", "c", "d"], ["x", "y", "z"]
    cube = np.round(rng.uniform(0.2, 0.9, size=(40, len(methods), len(datasets))), 2)
    table = {"methods": methods, "datasets": datasets, "higher_is_better": True}
    ranks, failed = rank_counts(cube, table, (rule, get_host().aggregators.create(rule)))
    assert failed == 0
    for b in range(cube.shape[0]):
        t = cube[b]
        if rule in ("mean", "geometric"):
            score = -(t.mean(axis=1) if rule == "mean" else stats.gmean(t, axis=1))
        elif rule == "borda":
            score = -np.array([sum(int((t[:, j] < t[i, j]).sum()) for j in range(t.shape[1]))
                               for i in range(len(methods))])
        else:  # Copeland: pairwise wins minus losses, a pair won by the majority of datasets
            wins = [[np.sign((t[i] > t[k]).sum() - (t[i] < t[k]).sum()) for k in range(len(methods)) if k != i]
                    for i in range(len(methods))]
            score = -np.array([sum(w) for w in wins])
        assert ranks[b].tolist() == stats.rankdata(np.round(score, 9), method="min").tolist(), b
