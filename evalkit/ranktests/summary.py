"""Plain-language lines of a cross-dataset comparison: the summary, power warnings, table notes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

#: How each post-hoc is named in text.
POSTHOC_TITLES = {
    "nemenyi": "Nemenyi",
    "wilcoxon_holm": "pairwise Wilcoxon signed-rank, Holm-corrected",
    "holm": "Holm vs control",
    "bonferroni_dunn": "Bonferroni-Dunn vs control",
}


def _names(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _fmt_p(p: float) -> str:
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


#: Above this many systems the summary counts pairs instead of naming every group.
MAX_NAMED = 8


def _pairwise_sentence(ordered: Sequence[str], result: dict[str, Any]) -> str:
    if len(ordered) > MAX_NAMED:
        k = len(ordered)
        n_sig = len(result["significant_pairs"])
        lost_to_best = {w for b, w in result["significant_pairs"] if b == ordered[0]}
        same = k - 1 - len(lost_to_best)
        lead = (f"{ordered[0]} (best mean rank) is not distinguishable from {same} other system(s)"
                if same else f"{ordered[0]} (best mean rank) beats every other system")
        return f"{n_sig} of {k * (k - 1) // 2} pairs are distinguishable; {lead}"
    beats: dict[str, list[str]] = {s: [] for s in ordered}
    for better, worse in result["significant_pairs"]:
        beats[better].append(worse)
    parts = []
    for group in result["groups"]:
        parts.append(f"{_names(group)} are not distinguishable" if len(group) == 2
                     else f"{_names(group)} are not distinguishable from one another")
    seen: dict[tuple[str, ...], list[str]] = {}
    for s in ordered:
        if beats[s]:
            key = tuple(sorted(beats[s], key=ordered.index))
            seen.setdefault(key, []).append(s)
    for beaten, winners in seen.items():
        verb = "beats" if len(winners) == 1 else ("both beat" if len(winners) == 2 else "each beat")
        parts.append(f"{_names(winners)} {verb} {_names(beaten)}")
    if not result["significant_pairs"]:
        return "no two systems are distinguishable"
    return "; ".join(parts)


def _control_sentence(result: dict[str, Any]) -> str:
    control = result["control"]
    better = [c["system"] for c in result["comparisons"] if c["reject"] and c["z"] > 0]
    worse = [c["system"] for c in result["comparisons"] if c["reject"] and c["z"] < 0]
    same = [c["system"] for c in result["comparisons"] if not c["reject"]]
    parts = []
    if worse:
        parts.append(f"{control} beats {_names(worse)}")
    if better:
        parts.append(f"{_names(better)} {'beats' if len(better) == 1 else 'beat'} {control}")
    if same:
        parts.append(f"{control} is not distinguishable from {_names(same)}")
    return "; ".join(parts)


def summary_line(tests: dict[str, Any], ordered: Sequence[str]) -> str:
    """One sentence: the Friedman p-value and what the first requested post-hoc concludes.

    ``ordered``: the systems from the best mean rank to the worst.
    """
    alpha = tests["alpha"]
    fr = tests["friedman"]
    head = (f"at alpha={alpha:g} over {tests['n_datasets']} datasets (two-sided; Friedman "
            f"{_fmt_p(fr['p_value'])}")
    posthocs = [p.replace("-", "_") for p in tests["posthoc"]]
    if not posthocs:
        verdict = "the systems differ" if fr["p_value"] <= alpha else "no difference among the systems is detected"
        return f"{head}): {verdict}"
    key = posthocs[0]
    result = tests[key]
    head += f"; {POSTHOC_TITLES[key]})"
    sentence = _control_sentence(result) if key in ("holm", "bonferroni_dunn") else _pairwise_sentence(ordered, result)
    return f"{head}: {sentence}"


def power_warnings(tests: dict[str, Any], n_pairs: int) -> list[str]:
    """Warnings that a test cannot, or can hardly, reject with this many datasets."""
    n, k, alpha = tests["n_datasets"], tests["n_methods"], tests["alpha"]
    out = []
    if n < 10:
        out.append(f"only {n} datasets: rank tests over fewer than about 10 datasets have little power "
                   "(Demšar 2006, Sec. 3.2.2); 'not distinguishable' is weak evidence of equality")
    if "nemenyi" in tests and tests["nemenyi"]["cd"] > k - 1:
        out.append(f"Nemenyi: the critical difference {tests['nemenyi']['cd']:.2f} exceeds the largest "
                   f"possible mean-rank gap {k - 1} with {n} datasets: no pair can be separated")
    if "wilcoxon_holm" in tests and n_pairs:
        smallest = 2.0 ** (1 - n)  # exact two-sided Wilcoxon p when every difference has one sign
        if smallest > alpha / n_pairs:
            out.append(f"Wilcoxon-Holm: with {n} datasets the smallest two-sided p-value is "
                       f"{smallest:.3g}, above Holm's first threshold alpha/{n_pairs} = "
                       f"{alpha / n_pairs:.3g}: no pair can be separated")
    fr = tests["friedman"]
    if fr["p_value"] > alpha and any(
            tests[p.replace("-", "_")].get("significant_pairs") for p in tests["posthoc"]
            if p.replace("-", "_") in ("nemenyi", "wilcoxon_holm")):
        out.append("the post-hoc test separates systems although the Friedman test does not reject; "
                   "Demšar (2006) reads post-hoc results only after a rejection")
    return out


def _groups_text(found: list[list[str]], max_groups: int = 6, max_names: int = 6) -> str:
    """Groups as ``{A, B}; {B, C}``, long groups and long lists shortened (the JSON has all)."""
    def one(g: list[str]) -> str:
        if len(g) <= max_names:
            return "{" + ", ".join(g) + "}"
        return "{" + ", ".join(g[:max_names - 2]) + f", ..., {g[-1]}" + f" ({len(g)} systems)}}"

    text = "; ".join(one(g) for g in found[:max_groups]) or "none"
    return text + (f"; and {len(found) - max_groups} more" if len(found) > max_groups else "")


def table_notes(tests: dict[str, Any]) -> list[str]:
    """Lines for under a table: Friedman's result, each post-hoc's groups, the summary, warnings."""
    fr = tests["friedman"]
    ff = fr["iman_davenport_f"]
    f_text = f"F_F({fr['df1']}, {fr['df2']})={ff:.2f}" if ff is not None else "F_F infinite"
    lines = [f"Friedman test ({tests['n_methods']} systems, {tests['n_datasets']} datasets): "
             f"chi2_F={fr['chi2']:.2f} (tie-corrected {fr['chi2_tie_corrected']:.2f}), {f_text}, "
             f"{_fmt_p(fr['p_value'])}"
             + (" (chi-square tail)" if fr.get("p_value_from") == "chi2" else "")]
    for key in (p.replace("-", "_") for p in tests["posthoc"]):
        res = tests[key]
        if key in ("nemenyi", "wilcoxon_holm"):
            grp = _groups_text(res["groups"])
            cd = f", CD={res['cd']:.2f}" if "cd" in res else ""
            lines.append(f"{POSTHOC_TITLES[key]}{cd}: groups not significantly different: {grp}")
        else:
            cd = f", CD={res['cd']:.2f}" if "cd" in res else ""
            lines.append(f"{POSTHOC_TITLES[key]} ({res['control']}){cd}: " + ", ".join(
                f"{c['system']} z={c['z']:.2f} p_adj={c['p_adjusted']:.3f}{' *' if c['reject'] else ''}"
                for c in res["comparisons"]))
    lines.append("summary: " + tests["summary"])
    lines.extend(f"warning: {w}" for w in tests["warnings"])
    return lines


def finite_or_none(x: float | None) -> float | None:
    """``x`` unless it is NaN or infinite (JSON has no such numbers)."""
    return None if x is None or not math.isfinite(x) else x
