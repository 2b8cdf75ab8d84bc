"""Reporters: LaTeX escaping of every special character."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from evalkit import Report, Table
from evalkit.plugins import Host

# What typesets each of LaTeX's ten special characters literally in text mode (Lamport, "LaTeX: A
# Document Preparation System", 2nd ed., section 2.2.1 and appendix C; the LaTeX Companion 7.5).
REFERENCE = {
    "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
    "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}",
}


def render(method: str, dataset: str, title: str = "t") -> str:
    table = Table(pd.DataFrame({dataset: [87.5]}, index=pd.Index([method], name="method")), title, ["note"])
    return Host().reporters.create("latex").render(Report([table]))


def cells(line: str) -> list[str]:
    """A tabular row split on its unescaped ampersands, without the closing ``\\\\``."""
    body = line.rstrip().removesuffix(r"\\").rstrip()
    return [c.strip() for c in re.split(r"(?<!\\)&", body)]


@pytest.mark.parametrize("char", list(REFERENCE))
def test_latex_escapes_each_special_character(char: str) -> None:
    out = render(f"m{char}x", f"d{char}y")
    lines = out.splitlines()
    header = next(x for x in lines if "d" in x and "y" in x and not x.startswith("%"))
    row = next(x for x in lines if x.lstrip().startswith("m"))
    assert cells(header) == ["", f"d{REFERENCE[char]}y"]
    assert cells(row) == [f"m{REFERENCE[char]}x", "87.50"]  # one label, one number: no extra column


def test_latex_escapes_all_at_once_in_one_pass() -> None:
    label = "".join(REFERENCE)
    row = next(x for x in render(label, "d").splitlines() if x.startswith(REFERENCE["&"]))
    assert cells(row) == ["".join(REFERENCE.values()), "87.50"]


def test_latex_comments_stay_comments() -> None:
    out = render("m", "d", title="a\nb & c")
    assert "% a b & c" in out.splitlines()
