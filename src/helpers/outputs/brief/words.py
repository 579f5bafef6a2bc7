"""Words and numbers shared by the brief writers and the manuscript (``helpers.outputs.paper``).

One formatting code path: a number the "Results in brief" prints and the same number bound into the
manuscript are written by the same function here, so the two can never disagree on rounding or sign.
"""

from __future__ import annotations


def p_value(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def pct(ratio: float) -> str:
    return f"{abs(ratio - 1) * 100:.1f} % {'higher' if ratio >= 1 else 'lower'}"


def evidence(p: float) -> str:
    return "clear evidence" if p < 0.01 else "some evidence" if p < 0.05 else "no clear evidence"


def count(n: int) -> str:
    """A whole number with thousands separators: ``5,560,534`` (``98`` stays ``98``)."""
    return f"{n:,}"


def share(x: float) -> str:
    """A proportion as a whole per cent, as the survey brief writes response rates: ``0.878`` -> ``88%``."""
    return f"{x:.0%}"


def ratio(x: float) -> str:
    """A rate ratio to 3 decimals: ``1.026``."""
    return f"{x:.3f}"


def rough_ratio(x: float) -> str:
    """A rate ratio to 2 decimals, for approximate statements ("about 1.24"): ``1.24``."""
    return f"{x:.2f}"


def signed_percent(x: float) -> str:
    """A change on the log scale (or a proportion) as a signed per cent: ``0.0185`` -> ``+1.8 %``."""
    return f"{x * 100:+.1f} %"


def signed_points(x: float) -> str:
    """A change already in per cent, signed: ``-12.34`` -> ``-12.3 %``."""
    return f"{x:+.1f} %"


def percent_interval(low: float, high: float) -> str:
    """An interval of log-scale changes in per cent: ``-0.034, 0.056`` -> ``-3.4 to +5.6 %``."""
    return f"{low * 100:+.1f} to {high * 100:+.1f} %"


def effect_with_interval(estimate: float, low: float, high: float) -> str:
    """A log-scale effect with its 95 % interval: ``+1.2 % (95 % interval -3.4 to +5.6 %)``."""
    return f"{signed_percent(estimate)} (95 % interval {percent_interval(low, high)})"


def ratio_with_interval(value: float, low: float, high: float) -> str:
    """A rate ratio with its 95 % interval: ``1.026 (95 % interval 0.988 to 1.066)``."""
    return f"{ratio(value)} (95 % interval {ratio(low)} to {ratio(high)})"


def million(x: float) -> str:
    """A number of millions to 1 decimal: ``37.3 million``."""
    return f"{x:.1f} million"


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """``n`` and the noun in the number that fits it: ``1 figure``, ``2 figures``, ``0 figures``."""
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"


def points(share: float) -> str:
    """A difference of two shares in percentage points, signed: 0.245 -> "+24.5 points"."""
    return f"{share * 100:+.1f} points"


def interval(low: float | None, high: float | None, unit=points) -> str:
    """A 95 % interval in words, "95 % interval +3.1 points to +20.4 points" (or "no interval")."""
    return "no interval" if low is None or high is None else f"95 % interval {unit(low)} to {unit(high)}"
