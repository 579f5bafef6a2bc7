""" "Results in brief" sentences checked against their own numbers: a helper every family's brief tests can use.

``problems(sentence)`` lists what in one sentence contradicts the numbers the sentence itself gives:

* **intervals and bounds**: "excludes N" / "includes N" (also "exclude", "include") must agree with the
  nearest range before it, "95 % interval a to b" or "between a and b" (a number may carry "%" or "points");
  "excludes N (no difference)" is flagged anyway: it reads as the opposite of what it means;
* **verdicts** ("clear evidence", "some evidence", "no clear evidence", "differs", "does not clearly differ")
  must agree with the sentence's deciding p-value: the first adjusted one ("Holm-adjusted p = ...",
  "BH-adjusted", "adjusted"), else the first one said to be "unadjusted"; clear evidence p < 0.01, some
  evidence 0.01 <= p < 0.05, no clear evidence p >= 0.05, differs p < 0.05;
* **singling out**: a sentence with a verdict must label every p-value it gives as adjusted or unadjusted.

``check(sentences)`` runs ``problems`` on each and returns every problem with its sentence, so a test can
``assert check(brief.sentences(doc)) == []``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

NUMBER = r"[-+]?\d+(?:\.\d+)?"
UNIT = r"(?:\s*(?:%|percentage points|points))?"
RANGE = re.compile(rf"(?:95 % interval|between)\s+(?P<low>{NUMBER}){UNIT}\s+(?:to|and)\s+(?P<high>{NUMBER}){UNIT}")
PVALUE = re.compile(
    r"(?:(?P<label>Holm-adjusted|BH-adjusted|Benjamini-Hochberg-adjusted|unadjusted|adjusted),?\s+)?"
    r"\bp\s*(?P<op>[=<])\s*(?P<value>\d*\.?\d+)"
)
CLAIM = re.compile(rf"\b(?P<verb>exclude|include)s?\s+(?P<value>{NUMBER})(?P<gloss>\s*\(no difference\))?")
EVIDENCE = re.compile(r"\b(?P<word>no clear evidence|clear evidence|some evidence)\b")
DIFFERS = re.compile(r"\b(?P<word>does not clearly differ|differs)\b")


def _deciding(sentence: str) -> tuple[float, str] | None:
    """The p-value a verdict must follow, and its label."""
    found = [(m.group("label") or "", float(m.group("value")), m.group("op")) for m in PVALUE.finditer(sentence)]
    for wanted in (lambda lb: lb.endswith("adjusted") and lb != "unadjusted", lambda lb: lb == "unadjusted"):
        for label, value, op in found:
            if wanted(label):
                return (value - 1e-12 if op == "<" else value), label
    return None


def problems(sentence: str) -> list[str]:
    """What in ``sentence`` contradicts its own numbers (empty when nothing does)."""
    out = []
    ranges = [(m.end(), float(m.group("low")), float(m.group("high"))) for m in RANGE.finditer(sentence)]
    for claim in CLAIM.finditer(sentence):
        value = float(claim.group("value"))
        before = [r for r in ranges if r[0] <= claim.start()]
        if not before:
            out.append(f"'{claim.group(0)}' without an interval or bounds before it")
            continue
        _, low, high = before[-1]
        inside = min(low, high) <= value <= max(low, high)
        if claim.group("verb") == "exclude" and inside:
            out.append(f"says it excludes {value:g}, but its range {low:g} to {high:g} contains it")
        if claim.group("verb") == "include" and not inside:
            out.append(f"says it includes {value:g}, but its range {low:g} to {high:g} does not")
        if claim.group("verb") == "exclude" and claim.group("gloss"):
            out.append("'excludes ... (no difference)' reads as the opposite of what it means")
    verdicts = [m.group("word") for m in EVIDENCE.finditer(sentence)] + [
        m.group("word") for m in DIFFERS.finditer(sentence)
    ]
    if not verdicts:
        return out
    unlabelled = [m.group(0) for m in PVALUE.finditer(sentence) if not m.group("label")]
    if unlabelled:
        out.append(f"a verdict beside p-values neither adjusted nor said to be unadjusted: {unlabelled}")
    deciding = _deciding(sentence)
    if deciding is None:
        out.append(f"a verdict ({verdicts[0]}) without a p-value labelled adjusted or unadjusted")
        return out
    p, label = deciding
    rules = {
        "clear evidence": p < 0.01,
        "some evidence": 0.01 <= p < 0.05,
        "no clear evidence": p >= 0.05,
        "differs": p < 0.05,
        "does not clearly differ": p >= 0.05,
    }
    for word in verdicts:
        if not rules[word]:
            out.append(f"'{word}' with {label} p = {p:.3g}")
    return out


def check(sentences: Iterable[str]) -> list[str]:
    """Every problem of every sentence, each prefixed with the start of its sentence."""
    return [f"{s[:60]}...: {p}" for s in sentences for p in problems(s)]
