"""Words shared by the brief writers: p-values, percentages, the strength of evidence."""

from __future__ import annotations


def p_value(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def pct(ratio: float) -> str:
    return f"{abs(ratio - 1) * 100:.1f} % {'higher' if ratio >= 1 else 'lower'}"


def evidence(p: float) -> str:
    return "clear evidence" if p < 0.01 else "some evidence" if p < 0.05 else "no clear evidence"


def points(share: float) -> str:
    """A difference of two shares in percentage points, signed: 0.245 -> "+24.5 points"."""
    return f"{share * 100:+.1f} points"


def interval(low: float | None, high: float | None, unit=points) -> str:
    """A 95 % interval in words, "95 % interval +3.1 points to +20.4 points" (or "no interval")."""
    return "no interval" if low is None or high is None else f"95 % interval {unit(low)} to {unit(high)}"
