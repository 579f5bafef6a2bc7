"""How robust is the headline to violations of parallel trends? Rambachan & Roth (2023) with ``honestdid``.

Parallel trends cannot be tested after adoption; the pre-trend test only says whether the
pre-periods reject it. Rambachan & Roth replace "parallel trends hold" by a bound on how far the
post-adoption trends may deviate, relative to what the pre-periods show, and give confidence sets
that are valid under that bound:

* **relative magnitudes** (Delta^RM(Mbar)): the post-adoption violation between consecutive years is
  at most Mbar times the largest pre-adoption one (Mbar = 1: as bad as the worst pre-period);
* **smoothness** (Delta^SD(M)): the slope of the differential trend changes by at most M (log points)
  per year; M = 0 allows a linear trend continued from the pre-periods.

The **breakdown value** is the largest Mbar (or M) at which the robust 95 % set still excludes 0. The
target is the headline: the average of the event-time effects 0 to the window's end (``l_vec`` of
equal weights), on the Callaway & Sant'Anna event study and its influence-function covariance.

The PyPI package ``honestdid`` (a Python port of the R package HonestDiD) computes the sets. It was
checked against the R package's published numbers before use (tests/test_adoption_honest.py): the
Benzarti & Carloni example of the HonestDiD vignette (Delta^SDRM, the original interval) and the
Medicaid example of its README (Delta^RM and Delta^SD) agree to the vignette's and README's printed
digits or the test-inversion grid. Two limits of the port, found then: under NumPy 2.4 its Delta^RM
path fails (``float()`` of a 1x1 array, which NumPy 2.4 rejects; the package is pinned below 2.4 in
pyproject.toml), and it needs a ``cvxpy`` solver (ECOS) that is not installed for the sign-restricted
variants, which are therefore not used. Its relative-magnitudes sets invert a test over a grid of
``points`` values: their ends are exact to the grid's step.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .estimators import EventStudy

MBAR_GRID = (0.5, 1.0, 2.0)
"""Relative magnitudes shown: half, once and twice the worst pre-period violation (each costs honestdid ~15 s)."""
M_GRID = (0.0, 0.0025, 0.005, 0.01, 0.02)
"""Smoothness bounds shown (change in the slope of the differential trend, log points per year)."""
BISECTIONS = 2
"""Steps refining the breakdown value between the grid values that bracket it (to a quarter of their gap; the value
reported is the largest bound known to exclude 0, so it errs low)."""


@dataclass(frozen=True, eq=False)
class HonestSensitivity:
    """The Rambachan & Roth sensitivity of one target.

    Fields:
        target: what is bounded, in words; ``estimate`` its value.
        original: (low, high) its 95 % interval under exact parallel trends (normal).
        relative_magnitudes: by Mbar: lb, ub (the robust 95 % set; honestdid's conditional-least-favourable hybrid).
        smoothness: by M: lb, ub (honestdid's fixed-length interval, FLCI).
        breakdown_rm, breakdown_sd: the largest Mbar / M at which the robust set excludes 0 (found on the grid
            and refined by bisection); None when the original interval already includes 0 (no conclusion to
            break down); ``float('inf')`` when it excludes 0 at every value tried (the largest is then a lower
            bound).
        pre_periods, post_periods: event times before and after adoption in the input vector.
        points: grid points of the relative-magnitudes test inversion.
    """

    target: str
    estimate: float
    original: tuple[float, float]
    relative_magnitudes: pd.DataFrame = field(repr=False)
    smoothness: pd.DataFrame = field(repr=False)
    breakdown_rm: float | None
    breakdown_sd: float | None
    pre_periods: int
    post_periods: int
    points: int

    def table(self) -> pd.DataFrame:
        """The robust sets in one table: restriction (relative magnitudes | smoothness), bound, lb, ub; the original
        interval first, and the breakdown values as the last rows' ``breakdown``."""
        rows = [("parallel trends (original)", 0.0, *self.original)]
        rows += [("relative magnitudes (Mbar)", m, r["lb"], r["ub"]) for m, r in self.relative_magnitudes.iterrows()]
        rows += [("smoothness (M)", m, r["lb"], r["ub"]) for m, r in self.smoothness.iterrows()]
        t = pd.DataFrame(rows, columns=["restriction", "bound", "lb", "ub"])
        t["excludes_0"] = ~((t["lb"] <= 0) & (t["ub"] >= 0))
        return t.set_index(["restriction", "bound"])

    @property
    def significant(self) -> bool:
        """The original interval excludes 0."""
        return not self.original[0] <= 0 <= self.original[1]


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _rm(b, V, npre, npost, l_vec, mbar, points):
    import honestdid as hd

    with _quiet():
        r = hd.createSensitivityResults_relativeMagnitudes(
            b, V, npre, npost, l_vec=l_vec, Mbarvec=[float(mbar)], gridPoints=int(points)
        )
    return float(r["lb"].iloc[0]), float(r["ub"].iloc[0])


def _sd(b, V, npre, npost, l_vec, m):
    import honestdid as hd

    with _quiet():
        r = hd.createSensitivityResults(b, V, npre, npost, l_vec=l_vec, Mvec=[float(m)])
    return float(r["lb"].iloc[0]), float(r["ub"].iloc[0])


def _breakdown(interval_at, grid: tuple[float, ...], known: dict[float, tuple[float, float]]) -> float:
    """The largest value at which the set excludes 0: the last such grid value, refined by bisection towards the
    first grid value whose set includes 0."""

    def excludes(v):
        lb, ub = known[v] if v in known else interval_at(v)
        return not lb <= 0 <= ub

    last = None
    for v in grid:
        if excludes(v):
            last = v
        else:
            break
    if last is None:
        return 0.0
    if last == grid[-1]:
        return float("inf")
    lo, hi = last, grid[grid.index(last) + 1]
    for _ in range(BISECTIONS):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if excludes(mid) else (lo, mid)
    return float(lo)


def honest_sensitivity(study: EventStudy, *, points: int = 100) -> HonestSensitivity:
    """Relative-magnitudes and smoothness sensitivity of the average of the event-time effects 0 to the window's
    end of ``study`` (its non-reference estimates and their covariance ``study.vcov``)."""
    from scipy import stats

    times = list(study.vcov.index)
    b = study.table.loc[times, "estimate"].to_numpy(float)
    V = study.vcov.to_numpy(float)
    pre = [e for e in times if e < 0]
    post = [e for e in times if e >= 0]
    npre, npost = len(pre), len(post)
    l_vec = np.full(npost, 1 / npost)
    est = float(b[npre:] @ l_vec)
    se = float(np.sqrt(l_vec @ V[npre:, npre:] @ l_vec))
    z = stats.norm.ppf(0.975)
    original = (est - z * se, est + z * se)
    significant = not original[0] <= 0 <= original[1]
    rm = {m: _rm(b, V, npre, npost, l_vec, m, points) for m in MBAR_GRID}
    sd = {m: _sd(b, V, npre, npost, l_vec, m) for m in M_GRID}
    if significant:
        b_rm = _breakdown(lambda m: _rm(b, V, npre, npost, l_vec, m, points), MBAR_GRID, rm)
        b_sd = _breakdown(lambda m: _sd(b, V, npre, npost, l_vec, m), M_GRID, sd)
    else:
        b_rm = b_sd = None
    frame = lambda d, name: pd.DataFrame(  # noqa: E731
        [(m, lb, ub) for m, (lb, ub) in d.items()], columns=[name, "lb", "ub"]
    ).set_index(name)
    return HonestSensitivity(
        target=f"the average of the event-time effects {post[0]} to {post[-1]} ({study.label})",
        estimate=est,
        original=original,
        relative_magnitudes=frame(rm, "Mbar"),
        smoothness=frame(sd, "M"),
        breakdown_rm=b_rm,
        breakdown_sd=b_sd,
        pre_periods=npre,
        post_periods=npost,
        points=int(points),
    )
