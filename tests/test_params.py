"""Component parameters on the command line: syntax, TOML values, errors, labels, ``list --params``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from scipy.stats import spearmanr

from evalkit.cli import build_cli
from evalkit.errors import ConfigError
from evalkit.paramdocs import docstring_params, parameter_table
from evalkit.params import parse_specs, parse_value
from evalkit.plugins import Host
from evalkit.suite import ComponentSpec, override_specs


def cli(*args: str) -> Any:
    return CliRunner().invoke(build_cli(), list(args), catch_exceptions=False)


@pytest.mark.parametrize("text, expected", [
    ("64", 64), ("-3", -3), ("0.5", 0.5), ("1e-3", 1e-3), ("true", True), ("false", False),
    ('"a, b"', "a, b"), ("'C:\\x'", "C:\\x"), ("[1, 2]", [1, 2]), ('["a", "b"]', ["a", "b"]),
    ("all-MiniLM-L6-v2", "all-MiniLM-L6-v2"), ("/models/my model", "/models/my model"),
    ("none", None), ("2024-01-01", "2024-01-01"), ("inf", float("inf")),
])
def test_values_are_toml_scalars_and_bare_words_strings(text: str, expected: Any) -> None:
    assert parse_value(text) == expected and type(parse_value(text)) is type(expected)


def test_components_and_their_parameters() -> None:
    specs = parse_specs("sbert-cosine:model=C:/m/x,batch_size=64,prompt='q: a, b',tfidf-cosine,"
                        "sbert-cosine@long:max_seq_length=512,power:p=2:nonpositive=skip")
    assert [(s.name, s.label, s.params) for s in specs or []] == [
        ("sbert-cosine", "sbert-cosine:model=C:/m/x,batch_size=64,prompt='q: a, b'",
         {"model": "C:/m/x", "batch_size": 64, "prompt": "q: a, b"}),
        ("tfidf-cosine", "tfidf-cosine", {}),
        ("sbert-cosine", "long", {"max_seq_length": 512}),
        ("power", "power:p=2:nonpositive=skip", {"p": 2, "nonpositive": "skip"}),
    ]


@pytest.mark.parametrize("text, match", [
    ("batch_size=64", "comes before any component"), ("sbert-cosine,batch_size=64", "has no ':'"),
    ("sbert-cosine:batch_size", "'batch_size' is not KEY=VALUE"), ("m:k=", "parameter 'k' has no value"),
    ("m:k=[1,", "unbalanced"), ("m:k='x", "unterminated"), ("m:k=1,k=2", "'k' is given twice"),
    ("m:k=1,m:k=1", "listed twice"), ('m:k="a', "unterminated"), ("m@:k=1", "empty label"),
])
def test_syntax_errors(text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_specs(text)


def test_cli_errors_name_the_parameter_with_did_you_mean_and_types() -> None:
    r = cli("compare", "--datasets", "stsb", "--methods", "sbert-cosine:batchsize=64", "--no-save")
    assert r.exit_code == 2
    assert ("method 'sbert-cosine' (plugin 'encoders') has no parameter 'batchsize'. "
            "Did you mean 'batch_size'?") in r.stderr
    r = cli("compare", "--datasets", "stsb", "--methods", "sbert-cosine:batch_size=big", "--no-save")
    assert r.exit_code == 2 and "parameter 'batch_size' expects int, got 'big' (str)" in r.stderr
    r = cli("compare", "--datasets", "stsb", "--methods", "tfidf-cosine", "--aggregate", "power:p=[1]", "--no-save")
    assert r.exit_code == 2 and "aggregator 'power': parameter 'p' expects float | None" in r.stderr
    r = cli("compare", "--datasets", "pairs:paht=x.tsv", "--methods", "tfidf-cosine", "--no-save")
    assert r.exit_code == 2 and "Did you mean 'path'?" in r.stderr


def test_two_configurations_of_one_method_in_one_table(data_dir: Path) -> None:
    r = cli("compare", "--datasets", "stsb", "--metrics", "spearman", "--format", "json", "--no-save",
            "--methods", "tfidf-cosine@plain,tfidf-cosine@sublinear:sublinear_tf=true,min_df=2",
            "--aggregate", "arithmetic")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    got = {rec["method"]: rec["value"] for rec in doc["results"]}
    assert doc["provenance"]["methods"]["sublinear"]["params"]["sublinear_tf"] is True
    test = Host().datasets.create("stsb").load("test", data_dir)
    for label, params in (("plain", {}), ("sublinear", {"sublinear_tf": True, "min_df": 2})):
        pred = Host().methods.create("tfidf-cosine", **params).fit(test).predict(test)
        assert got[label] == pytest.approx(spearmanr(pred, test["score"]).statistic)
    assert got["plain"] != got["sublinear"]
    assert doc["tables"]["spearman"]["aggregates"]["plain"]["arithmetic"] == pytest.approx(got["plain"])


def test_option_parameters_update_a_suite_component() -> None:
    suite = [ComponentSpec("mpnet", "sbert-cosine", {"model": "all-mpnet-base-v2", "batch_size": 64})]
    (spec,) = override_specs(suite, "mpnet:batch_size=8")
    assert spec == ComponentSpec("mpnet:batch_size=8", "sbert-cosine", {"model": "all-mpnet-base-v2", "batch_size": 8})
    assert override_specs(suite, "mpnet") == suite and override_specs(suite, "mpnet@m:batch_size=8")[0].label == "m"


def test_list_params_text_and_json() -> None:
    out = cli("list", "methods", "--params").stdout
    assert "    batch_size (int, default 32): sentences per forward pass (MTEB's default is 32)." in out
    assert "    trust_remote_code (bool, default False): allow the model's own Python code" in out
    doc = json.loads(cli("list", "methods", "--params", "--json").stdout)
    minilm = {p["name"]: p for p in next(m for m in doc if m["name"] == "minilm-cosine")["parameters"]}
    assert minilm["model"] == {"name": "model", "type": "str", "default": "all-MiniLM-L6-v2", "required": False,
                               "description": "sentence-transformers model name or local folder."}
    assert minilm["max_seq_length"]["type"] == "int | None" and minilm["max_seq_length"]["default"] is None
    plain = json.loads(cli("list", "methods", "--json").stdout)
    assert all("parameters" not in m for m in plain)
    aggs = {a["name"]: a for a in json.loads(cli("list", "aggregators", "--json").stdout)}
    assert aggs["mean"]["aliases"] == ["arithmetic", "am"]


class NumpyDoc:
    """A component documented in numpydoc style.

    Parameters
    ----------
    alpha : float
        Smoothing, 0-1.
        Second line.
    beta, gamma : int
        Two at once.

    Returns
    -------
    nothing : None
        Not a parameter.
    """

    def __init__(self, *, alpha: float = 0.5, beta: int = 1, gamma: int = 2, delta: str = "x") -> None:
        """
        Args:
            delta (str): Google style in __init__.
                Continued.

        Raises:
            ValueError: not a parameter.
        """


def test_docstring_sections_numpy_and_google() -> None:
    assert docstring_params(NumpyDoc.__doc__) == {"alpha": "Smoothing, 0-1. Second line.", "beta": "Two at once.",
                                                  "gamma": "Two at once."}
    rows = {r["name"]: r for r in parameter_table(NumpyDoc, {"beta": 7})}
    assert rows["delta"]["description"] == "Google style in __init__. Continued."
    assert rows["beta"]["default"] == 7 and rows["alpha"]["type"] == "float"
    assert "nothing" not in rows and "ValueError" not in str(rows)


class Mixin:
    """Shared parameters.

    Parameters:
        alpha: documented once, on the mixin.
    """


class Sub(Mixin):
    """A subclass that does not repeat the mixin's documentation."""

    def __init__(self, *, alpha: float = 1.0) -> None:
        self.alpha = alpha


def test_descriptions_are_inherited_from_base_classes() -> None:
    (row,) = parameter_table(Sub)
    assert row["description"] == "documented once, on the mixin."
    wmd = {r["name"]: r for r in parameter_table(Host().methods.get("wmd").factory)}
    assert wmd["solver"]["description"].startswith("``exact`` (POT network simplex")
