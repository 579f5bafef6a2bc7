"""How often notebook 02's 95 % intervals cover, by simulation at the design of a pair of rounds.

Notebook 02 reports its key quantities (``compare.key_statistics``: the share cooperating in each round, the
shares that started and stopped, and the net change, started minus stopped) with 95 % intervals: **complete
case** (``nr.complete_case``: Wilson score for the four shares, z for the net change) and **imputed**
(``nr.imputed``, Rubin's rules: for the shares the Wilson-type interval of ``nr.pooling.wilson_pooled``, for the
net change t with Barnard-Rubin df); the brief quotes those of the net change. :func:`key_coverage`
simulates many pairs of rounds like the one observed and counts how often each interval covers the truth.

**Design** (from the comparison's own panel, so it is "the real design" of each run):

* 98 kommuner (the panel's); each kommune's cooperation (yes: models 1-4, no: model 5) in both rounds drawn
  from the 2 x 2 table of the kommuner that answered both, each cell (count + 1/2) / (pairs + 2). The half
  keeps a cell that no kommune took (0 stopped in the example data) at a small positive share: a true 0
  would make every interval [0, 0] and "cover" trivially;
* non-response missing completely at random (the assumption of the complete case, a special case of the
  imputation's): each kommune answers both rounds, only the first, only the second or neither with the
  shares observed in the panel.

**Truth.** The cell probabilities: the share a kommune *of this kind* has (the superpopulation share),
which is what the intervals' standard errors are about (they have no finite-population correction).
``coverage_realised`` is beside it: coverage of the share of the 98 simulated kommuner themselves, for
which the intervals are conservative (most of the 98 are observed).

**Estimators.** The complete-case interval is computed exactly as ``nr.complete_case`` does (the mean of
the score over the kommuner that answered the rounds it reads; a share's Wilson score interval, the net
change's mean +- z s / sqrt(n)). The imputed one is the
same chain, Rubin's rules and Barnard-Rubin df as ``nr.impute`` and ``nr.pool``, with the imputation model
reduced so that it vectorises: each round's cooperation from the other round's (a saturated logit: two
Bernoulli probabilities, drawn from Beta(count + 1/2, count + 1/2) posteriors, i.e. proper, in the role of
mice's augmentation and the drawn coefficients); the notebook's model adds the five categories,
kommunegruppe, region and population, which under this design carry no information.

**Not simulated:** the weighted intervals (raking and its linearization SE; their means and SEs equal
R's ``survey``, and under missingness at random they approach the complete-case ones) and the model shares.

**Cost.** Everything is numpy arrays over (repetitions x imputations x kommuner), in chunks of
:data:`CHUNK` repetitions, each chunk seeded by ``SeedSequence(seed).spawn``: about 1-2 s for 2,000
repetitions of 50 imputations. The Monte Carlo SE of a coverage c is sqrt(c (1 - c) / reps).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.analysis.nonresponse.frame import Panel
from helpers.analysis.nonresponse.pooling import LAMBDA_FLOOR, WILSON_POOLED, wilson_interval_pooled
from helpers.analysis.nonresponse.statistics import LEVEL, WILSON, Z, wilson
from helpers.core import lazy
from helpers.results.nonresponse import CoverageCheck, IntervalCoverage

stats = lazy.module("scipy.stats")  # ~0.6 s to import: at the first interval

REPS = 2000  # simulated pairs of rounds (Monte Carlo SE of a 95 % coverage: 0.49 points)
ITERATIONS = 5  # sweeps of the reduced chain (mice's default; two binary rounds mix in one or two)
SEED = 23
CHUNK = 200  # repetitions per chunk: the unit of seeding and of memory (200 x 50 x 98 values)
TARGET = (0.94, 0.96)  # issue 23's band for a 95 % interval
PRIOR = 0.5  # the half added to each cell of the design and to each count of the imputation's posterior
QUANTITIES = ("cooperating_a", "cooperating_b", "started", "stopped", "net_change")  # compare.key_statistics
SHARES = QUANTITIES[:4]  # the shares (0/1 scores: Wilson intervals); the net change is a paired difference (Wald)
COMPLETE_CASE, IMPUTED = "complete case", "imputed"
INTERVALS = {  # what each treatment's interval is, shares and the net change (the sensitivity table's words)
    (COMPLETE_CASE, True): WILSON,
    (COMPLETE_CASE, False): "z",
    (IMPUTED, True): f"{WILSON_POOLED}, t, Barnard-Rubin df",
    (IMPUTED, False): "t, Barnard-Rubin df (Rubin's rules)",
}
NOT_SIMULATED = (
    "weighted intervals (raking with linearization SEs, equal to R's survey) and the model shares are not simulated"
)


def pool_arrays(q: np.ndarray, u: np.ndarray, dfcom: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rubin's rules over the last axis, vectorised (``nr.pool`` and ``nr.barnard_rubin`` on each row):
    ``q`` estimates and ``u`` squared SEs (..., m); returns the pooled estimate, its SE and the Barnard-Rubin
    df, each (...)."""
    m = q.shape[-1]
    qbar, ubar, b = q.mean(axis=-1), u.mean(axis=-1), q.var(axis=-1, ddof=1)
    total = ubar + (1 + 1 / m) * b
    with np.errstate(invalid="ignore", divide="ignore"):
        lam = np.where(total > 0, np.maximum((1 + 1 / m) * b / total, LAMBDA_FLOOR), LAMBDA_FLOOR)
    dfold = (m - 1) / lam**2
    if dfcom is None or not np.isfinite(dfcom):
        df = dfold
    else:
        dfobs = (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lam)
        df = dfold * dfobs / (dfold + dfobs)
    return qbar, np.sqrt(total), df


def _scores(a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    """The per-kommune score of each key quantity from cooperation (bool) in round a and round b."""
    return {
        "cooperating_a": a.astype(float),
        "cooperating_b": b.astype(float),
        "started": (~a & b).astype(float),
        "stopped": (a & ~b).astype(float),
        "net_change": b.astype(float) - a.astype(float),
    }


def _mean_se(y: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and s / sqrt(n) over the kommuner in ``mask`` (last axis), as ``nr.weighted_mean`` unweighted."""
    n = mask.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (y * mask).sum(axis=-1) / n
        var = (mask * (y - mean[..., None]) ** 2).sum(axis=-1) / (n - 1)
        return mean, np.sqrt(var / n)


def design_of(panel: Panel, year_a: int, year_b: int, cooperating) -> tuple[np.ndarray, np.ndarray]:
    """The simulation's design from a panel: the cell probabilities of cooperation (rows round a no/yes,
    columns round b no/yes; (count + 1/2) / (pairs + 2) over the kommuner that answered both) and the shares
    of the response patterns (answered both, only a, only b, neither)."""
    ans = panel.answers[[year_a, year_b]]
    ra, rb = ans[year_a].notna().to_numpy(), ans[year_b].notna().to_numpy()
    both = ra & rb
    ca = ans[year_a].isin(list(cooperating)).to_numpy()
    cb = ans[year_b].isin(list(cooperating)).to_numpy()
    counts = np.array(
        [[(~ca & ~cb & both).sum(), (~ca & cb & both).sum()], [(ca & ~cb & both).sum(), (ca & cb & both).sum()]]
    )
    cells = (counts + PRIOR) / (counts.sum() + 4 * PRIOR)
    patterns = np.array([both.sum(), (ra & ~rb).sum(), (~ra & rb).sum(), (~ra & ~rb).sum()], dtype=float) / len(ans)
    return cells, patterns


def _truth(cells: np.ndarray) -> dict[str, float]:
    return {
        "cooperating_a": float(cells[1].sum()),
        "cooperating_b": float(cells[:, 1].sum()),
        "started": float(cells[0, 1]),
        "stopped": float(cells[1, 0]),
        "net_change": float(cells[0, 1] - cells[1, 0]),
    }


def _chunk(cells, patterns, n, reps, m, iterations, rng) -> dict[tuple[str, str], dict[str, np.ndarray]]:
    """One chunk: per (quantity, treatment) the low and high ends and the realised share of each repetition."""
    cell = (rng.random((reps, n))[..., None] > np.cumsum(cells.ravel())[:-1]).sum(axis=-1)  # 0..3: (a, b) = divmod
    a, b = cell >= 2, cell % 2 == 1
    pattern = (rng.random((reps, n))[..., None] > np.cumsum(patterns)[:-1]).sum(axis=-1)
    oa, ob = np.isin(pattern, (0, 1)), np.isin(pattern, (0, 2))
    out = {}
    truth_scores = _scores(a, b)
    masks = {"cooperating_a": oa, "cooperating_b": ob}
    for q, y in truth_scores.items():
        mask = masks.get(q, oa & ob)
        value, se = _mean_se(y, mask)
        if q in SHARES:  # as nr.complete_case: a share's interval is Wilson's score interval
            used = mask.sum(axis=-1)
            with np.errstate(invalid="ignore", divide="ignore"):
                low, high = wilson(np.round(np.nan_to_num(value) * used), np.where(used > 1, used, np.nan))
        else:
            low, high = value - Z * se, value + Z * se
        out[q, COMPLETE_CASE] = {"low": low, "high": high, "realised": y.mean(axis=-1)}

    # the reduced chain: start from draws of the observed answers, then each round from the other, proper draws
    ia = np.broadcast_to(a[:, None, :], (reps, m, n)).copy()
    ib = np.broadcast_to(b[:, None, :], (reps, m, n)).copy()
    ma, mb = np.broadcast_to(~oa[:, None, :], ia.shape), np.broadcast_to(~ob[:, None, :], ib.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        share_a = np.nan_to_num((a & oa).sum(-1) / oa.sum(-1), nan=0.5)[:, None, None]
        share_b = np.nan_to_num((b & ob).sum(-1) / ob.sum(-1), nan=0.5)[:, None, None]
    ia = np.where(ma, rng.random(ia.shape) < share_a, ia)
    ib = np.where(mb, rng.random(ib.shape) < share_b, ib)
    for _ in range(iterations):
        for target, other, missing in ((ia, ib, ma), (ib, ia, mb)):
            seen = ~missing
            theta = np.empty((reps, m, 2))
            for x in (0, 1):
                given = seen & (other == bool(x))
                yes = (given & target).sum(-1)
                theta[..., x] = rng.beta(yes + PRIOR, given.sum(-1) - yes + PRIOR)
            p = np.where(other, theta[..., 1:2], theta[..., 0:1])
            target[...] = np.where(missing, rng.random(target.shape) < p, target)
    for q, y in _scores(ia, ib).items():
        mean, se = _mean_se(y, np.ones(y.shape, bool))
        value, total_se, df = pool_arrays(mean, se**2, n - 1)
        if q in SHARES:  # as nr.imputed: a share's pooled interval is Wilson-type (nr.pooling.wilson_pooled)
            low, high = wilson_interval_pooled(value, (se**2).mean(-1), mean.var(-1, ddof=1), n, m, df)
        else:
            half = stats.t.ppf(0.5 + LEVEL / 2, df) * total_se
            low, high = value - half, value + half
        out[q, IMPUTED] = {"low": low, "high": high, "realised": truth_scores[q].mean(axis=-1)}
    return out


def key_coverage(
    panel: Panel,
    year_a: int,
    year_b: int,
    cooperating,
    *,
    reps: int = REPS,
    m: int = 50,
    iterations: int = ITERATIONS,
    seed: int = SEED,
) -> CoverageCheck:
    """Coverage of the complete-case and imputed 95 % intervals of the key quantities of rounds ``year_a`` and
    ``year_b`` (cooperation = a model in ``cooperating``), over ``reps`` pairs of rounds simulated at the
    panel's design (:func:`design_of`) with ``m`` imputations each (see the module docstring). Returns a
    :class:`~helpers.results.nonresponse.CoverageCheck`."""
    cells, patterns = design_of(panel, year_a, year_b, cooperating)
    design = (
        f"{len(panel.answers)} kommuner; cooperation in both rounds from the 2 x 2 table of the kommuner that "
        f"answered both (each cell (count + 1/2) / (pairs + 2)); non-response missing completely at random with "
        f"the panel's shares: both rounds {patterns[0]:.3f}, only {year_a} {patterns[1]:.3f}, only {year_b} "
        f"{patterns[2]:.3f}, neither {patterns[3]:.3f}"
    )
    return simulate(cells, patterns, len(panel.answers), design, reps=reps, m=m, iterations=iterations, seed=seed)


def simulate(
    cells,
    patterns,
    n: int,
    design: str = "",
    *,
    reps: int = REPS,
    m: int = 50,
    iterations: int = ITERATIONS,
    seed: int = SEED,
) -> CoverageCheck:
    """The simulation of :func:`key_coverage` at a design given directly: ``cells`` (2 x 2 probabilities of
    cooperation, rows round a no/yes, columns round b no/yes), ``patterns`` (the shares answering both rounds,
    only a, only b, neither) and ``n`` kommuner; ``design`` says it in words."""
    cells, patterns = np.asarray(cells, float), np.asarray(patterns, float)
    if cells.shape != (2, 2) or patterns.shape != (4,):
        raise ValueError(f"cells must be 2 x 2 and patterns 4 shares; got {cells.shape} and {patterns.shape}")
    if not (np.isclose(cells.sum(), 1) and np.isclose(patterns.sum(), 1)):
        raise ValueError(f"cells and patterns must each sum to 1; got {cells.sum()} and {patterns.sum()}")
    if reps < 2 or m < 2 or n < 3:
        raise ValueError(f"reps and m must be at least 2 and n at least 3; got reps={reps}, m={m}, n={n}")
    truth = _truth(cells)
    sizes = [CHUNK] * (reps // CHUNK) + ([reps % CHUNK] if reps % CHUNK else [])
    parts = [
        _chunk(cells, patterns, n, size, m, iterations, np.random.default_rng(s))
        for size, s in zip(sizes, np.random.SeedSequence(seed).spawn(len(sizes)), strict=True)
    ]
    rows = []
    for treatment in (COMPLETE_CASE, IMPUTED):
        for q in QUANTITIES:
            words = INTERVALS[treatment, q in SHARES]
            low = np.concatenate([p[q, treatment]["low"] for p in parts])
            high = np.concatenate([p[q, treatment]["high"] for p in parts])
            realised = np.concatenate([p[q, treatment]["realised"] for p in parts])
            used = np.isfinite(low) & np.isfinite(high)
            low, high, realised = low[used], high[used], realised[used]
            c = float(np.mean((low <= truth[q]) & (truth[q] <= high)))
            cr = float(np.mean((low <= realised) & (realised <= high)))
            k = len(low)
            gap = c - TARGET[0] if c < TARGET[0] else c - TARGET[1] if c > TARGET[1] else 0.0
            rows.append(
                IntervalCoverage(
                    quantity=q,
                    treatment=treatment,
                    interval=words,
                    truth=truth[q],
                    coverage=c,
                    mc_se=float(np.sqrt(c * (1 - c) / k)),
                    coverage_realised=cr,
                    mc_se_realised=float(np.sqrt(cr * (1 - cr) / k)),
                    mean_width=float(np.mean(high - low)),
                    gap=float(gap),
                    used=int(k),
                )
            )
    return CoverageCheck(
        reps=int(reps),
        m=int(m),
        iterations=int(iterations),
        seed=int(seed),
        level=LEVEL,
        target=TARGET,
        design=design,
        cells=tuple(tuple(float(v) for v in row) for row in cells),
        response_patterns=tuple(float(v) for v in patterns),
        imputation_model=(
            "reduced: each round's cooperation from the other round's (saturated logit, Beta(count + 1/2) "
            "posterior draws: proper), the notebook's chain, pooling and df otherwise"
        ),
        not_simulated=NOT_SIMULATED,
        rows=tuple(rows),
    )


def coverage_table(check: CoverageCheck) -> pd.DataFrame:
    """The coverage of each key quantity's interval per treatment: truth, coverage and its Monte Carlo SE, the
    coverage of the 98 kommuner's own share, mean width and the gap to the target band (0 inside)."""
    return pd.DataFrame(
        [
            {
                "quantity": r.quantity,
                "treatment": r.treatment,
                "interval": r.interval,
                "truth": r.truth,
                "coverage": r.coverage,
                "mc_se": r.mc_se,
                "coverage_realised": r.coverage_realised,
                "mean_width": r.mean_width,
                "gap": r.gap,
            }
            for r in check.rows
        ]
    ).set_index(["quantity", "treatment"])


__all__ = [
    "REPS",
    "TARGET",
    "CoverageCheck",
    "IntervalCoverage",
    "coverage_table",
    "design_of",
    "key_coverage",
    "pool_arrays",
    "simulate",
]
