"""Words shared by the brief writers: p-values, percentages, the strength of evidence."""

from __future__ import annotations


def p_value(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def pct(ratio: float) -> str:
    return f"{abs(ratio - 1) * 100:.1f} % {'higher' if ratio >= 1 else 'lower'}"


def evidence(p: float) -> str:
    return "clear evidence" if p < 0.01 else "some evidence" if p < 0.05 else "no clear evidence"
