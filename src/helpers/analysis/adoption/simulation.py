"""Do the published estimators and their intervals work at the real design? Recovery on simulated panels.

:func:`simulation_study` draws balanced panels of log loans per 1,000 (unit effect + year trend + the
true effect + noise that is serially correlated in calendar years, an AR(1) across the 2016-2017 gap
too) with known, cohort-heterogeneous effects, and fits both published estimators on each panel with
the array versions of :mod:`.arrays` (equal to csdid and pyfixest on the same data):

* **Callaway & Sant'Anna**: coverage of the pointwise 95 % intervals per event time, of the
  simultaneous 95 % band (did's multiplier bootstrap) and of the headline (the average of the event
  times 0 to the window's end) and the overall ATT (did's "simple"), each with its Monte Carlo
  standard error sqrt(c (1 - c) / reps);
* **TWFE Poisson** (PPML of the loans count, population as exposure, CRV1 by kommune): coverage of
  its event-study intervals, its sup-t band and its event-time average around the value it estimates
  on the noise-free panel (its pseudo-true value: TWFE is biased with heterogeneous effects, so its
  intervals are judged against what it estimates, and its bias separately), and of the static
  effect's CRV1 interval and wild score bootstrap test;
* **bias of the naive estimator**: the static PPML effect (the published naive TWFE) against the true
  average effect over treated unit-years, beside Callaway & Sant'Anna's simple ATT.

:func:`simulation_for` runs it at an adoption panel's own design: the cohort sizes and never-treated
count of its balanced sample, its years, its kommuner's populations, and noise calibrated to the real
panel (:func:`calibrate_noise`: the two-way residual sd and lag-1 autocorrelation of log loans per
1,000, matched by an AR(1)).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.core import lazy
from helpers.results.adoption import NoiseResult

from .arrays import (
    _two_way_residuals,
    aggregate,
    group_time_arrays,
    jackknife,
    multiplier_bootstrap,
    ppml_arrays,
    score_bootstrap,
)
from .estimators import DEFAULT_WINDOW, EstimationSpec
from .panel import AdoptionPanel
from .truth import synthetic_effect

optimize = lazy.module("scipy.optimize")  # imported by the first spillover simulation
Z95 = 1.959963984540054  # scipy.stats.norm.ppf(0.975), written out so importing this module does not import scipy
NOMINAL_FLOOR = 0.93
"""Coverage below this (of nominal 0.95) is flagged, and the notebook names the interval that reaches nominal."""


@dataclass(frozen=True)
class TwfeBias:
    """The naive static TWFE Poisson effect on the simulated panels: ``true_att`` (the average effect over treated
    unit-years), ``mean`` estimate, ``bias`` (mean - true_att) and ``sd`` across panels."""

    true_att: float
    mean: float
    bias: float
    sd: float


@dataclass(frozen=True)
class NoiseCalibration(NoiseResult):
    """The noise of the simulation, calibrated to a real panel.

    Fields:
        residual_sd, lag1: of the real panel's two-way (unit and year) fixed-effects residuals of log loans per 1,000
            (balanced sample; lag 1 over consecutive calendar years only); units, observations: of that sample.
        ar_sd, ar_rho: the AR(1) in calendar years (stationary sd, autocorrelation) whose two-way residuals have that
            sd and lag-1 autocorrelation in expectation (``implied_sd``, ``implied_lag1``: equal to the targets).
    """

    implied_sd: float
    implied_lag1: float


def _consecutive(years: Sequence[int]) -> list[int]:
    return [i for i in range(len(years) - 1) if years[i + 1] == years[i] + 1]


def _implied(sd: float, rho: float, years: Sequence[int]) -> tuple[float, float]:
    """Expected two-way residual sd and lag-1 autocorrelation of an AR(1) (stationary sd, rho) over ``years``."""
    y = np.asarray(years, float)
    T = len(y)
    S = sd**2 * rho ** np.abs(y[:, None] - y[None, :])
    P = np.eye(T) - 1 / T
    C = P @ S @ P
    var = np.trace(C) / (T - 1)  # the OLS residual variance with unit and year effects (df n(T-1) - (T-1))
    cons = _consecutive(years)
    lag = np.mean([C[i, i + 1] for i in cons]) / (np.trace(C) / T)
    return float(np.sqrt(var)), float(lag)


def calibrate_noise(panel: AdoptionPanel) -> NoiseCalibration:
    """The two-way residual sd and lag-1 autocorrelation of the panel's balanced log loans per 1,000, and the AR(1)
    that reproduces both."""
    b = panel.balanced()
    wide = b.pivot(index="kommunekode", columns="year", values="log_rate").sort_index(axis=1)
    years = [int(y) for y in wide.columns]
    Y = wide.to_numpy(float)
    n, T = Y.shape
    e = _two_way_residuals(Y)
    sd = float(np.sqrt((e**2).sum() / ((n - 1) * (T - 1))))
    cons = _consecutive(years)
    lag1 = float(np.mean(e[:, cons] * e[:, [i + 1 for i in cons]]) / np.mean(e**2))
    lag_of = lambda r: _implied(1.0, r, years)[1] - lag1  # noqa: E731
    lo, hi = -0.9, 0.995
    rho = float(optimize.brentq(lag_of, lo, hi)) if lag_of(lo) * lag_of(hi) < 0 else (hi if lag_of(hi) < 0 else lo)
    unit_sd = _implied(1.0, rho, years)[0]
    ar_sd = sd / unit_sd
    isd, ilag = _implied(ar_sd, rho, years)
    return NoiseCalibration(sd, lag1, n, int(n * T), float(ar_sd), rho, isd, ilag)


def simulate_panels(
    g: np.ndarray,
    years: Sequence[int],
    effect,
    reps: int,
    *,
    sd_unit=0.2,
    sd_noise=0.05,
    rho: float = 0.0,
    seed=1,
) -> np.ndarray:
    """``reps`` balanced panels (reps, n, T) of log loans: unit effect + year effect + ``effect(g, year)`` + noise,
    the noise an AR(1) in calendar years with stationary sd ``sd_noise`` and autocorrelation ``rho`` (0: iid). The
    unit effects are drawn once (the design): only the noise differs between panels, and a noise-free panel of the
    same ``seed`` has the same unit effects."""
    rng = np.random.default_rng(seed)
    g = np.asarray(g)
    years = np.asarray(list(years))
    eff = np.array([[effect(int(gg), int(y)) for y in years] for gg in g])
    yfx = 0.02 * (years - years[0])
    u = rng.normal(0, sd_unit, (1, len(g), 1))  # the design's unit effects: drawn once, the same in every panel
    if rho:
        full = np.arange(years[0], years[-1] + 1)
        z = rng.normal(0, 1, (reps, len(g), len(full)))
        ar = np.empty_like(z)
        ar[..., 0] = z[..., 0]
        for t in range(1, len(full)):
            ar[..., t] = rho * ar[..., t - 1] + np.sqrt(1 - rho**2) * z[..., t]
        noise = sd_noise * ar[..., np.searchsorted(full, years)]
    else:
        noise = rng.normal(0, sd_noise, (reps, len(g), len(years)))
    return u + yfx[None, None, :] + eff[None] + noise


@dataclass(frozen=True, eq=False)
class SimulationStudy:
    """The recovery simulation.

    Fields:
        event: Callaway & Sant'Anna by event time: true, mean_estimate, bias, coverage (of the pointwise 95 %
            intervals), mc_se (Monte Carlo standard error of the coverage).
        coverage: every interval checked, one row each: estimator, interval (what it is), target (event time,
            "all event times" for a band, or an aggregate), true (the estimand; for TWFE its pseudo-true value),
            mean_estimate, coverage, mc_se, below_floor (coverage below :data:`NOMINAL_FLOOR`).
        twfe: the bias of the naive static TWFE Poisson effect (:class:`TwfeBias`); ``cs_simple``: the same for
            Callaway & Sant'Anna's simple ATT against the same true average.
        reps: simulated panels; draws: multiplier / wild bootstrap draws per panel.
        cohorts: the design: units per first treated year (0 = never). years: its calendar years.
        control_group: of the Callaway & Sant'Anna estimates.
        noise: the noise calibration (None: iid noise of the given sd).
    """

    event: pd.DataFrame = field(repr=False)
    coverage: pd.DataFrame = field(repr=False)
    twfe: TwfeBias
    cs_simple: TwfeBias
    reps: int
    draws: int
    cohorts: dict[int, int]
    years: tuple[int, ...]
    control_group: str
    noise: NoiseCalibration | None = None

    def summary(self) -> str:
        """One sentence: the naive TWFE mean against the truth, and the mean coverage of the intervals."""
        t = self.twfe
        return (
            f"Naive TWFE Poisson: mean {t.mean:.4f} against a true average effect of {t.true_att:.4f} "
            f"(bias {t.bias:+.4f}); Callaway & Sant'Anna simple ATT: bias {self.cs_simple.bias:+.4f}; mean coverage "
            f"of the staggered pointwise intervals {self.event['coverage'].mean():.3f}"
        )

    def below_floor(self) -> pd.DataFrame:
        """The intervals covering less than :data:`NOMINAL_FLOOR`."""
        return self.coverage[self.coverage["below_floor"]]

    def floor_note(self) -> str:
        """In words, for each estimator and target: which intervals cover less than :data:`NOMINAL_FLOOR` at this
        design, and the one that covers closest to 0.95 (or that none reaches the floor), each with its Monte Carlo
        SE. Pointwise event times are summarised per interval (the lowest coverage and at which event time)."""
        c = self.coverage.copy()
        c["kind"] = np.where(c["target"].str.fullmatch(r"-?\d+"), "each event time", c["target"])
        lines = []
        for (est, kind), part in c.groupby(["estimator", "kind"], sort=False):
            worst = part.loc[part.groupby("interval", sort=False)["coverage"].idxmin()]
            below = worst[worst["below_floor"]]
            if below.empty:
                continue
            ok = worst[~worst["below_floor"]]
            pointwise = kind == "each event time"
            at = lambda r, pointwise=pointwise: f" (lowest at event time {r['target']})" if pointwise else ""  # noqa: E731
            said = "; ".join(
                f"{r['interval']}: {r['coverage']:.3f} (MC SE {r['mc_se']:.3f}){at(r)}" for _, r in below.iterrows()
            )
            if ok.empty:
                best = worst.loc[(worst["coverage"] - 0.95).abs().idxmin()]
                fix = f"none reaches {NOMINAL_FLOOR}; the closest is {best['interval']} ({best['coverage']:.3f})"
            else:
                best = ok.loc[(ok["coverage"] - 0.95).abs().idxmin()]
                fix = f"use {best['interval']}: {best['coverage']:.3f} (MC SE {best['mc_se']:.3f}){at(best)}"
            lines.append(f"{est}, {kind}: below {NOMINAL_FLOOR}: {said}; {fix}.")
        return "\n".join(lines) if lines else f"Every interval checked covers at least {NOMINAL_FLOOR} at this design."


def _cover(hit: np.ndarray) -> tuple[float, float]:
    c = float(np.mean(hit))
    return c, float(np.sqrt(c * (1 - c) / len(hit)))


def _true_event(g, years, effect, window) -> dict[int, float]:
    sizes = {gg: int((g == gg).sum()) for gg in set(g.tolist()) if gg > 0}
    out = {}
    for e in range(int(window[0]), int(window[1]) + 1):
        num = den = 0.0
        for gg, n_g in sizes.items():
            if gg + e in years and any(y < gg for y in years):
                base = max(y for y in years if y < gg)
                num += n_g * (effect(gg, gg + e) - effect(gg, base))
                den += n_g
        if den:
            out[e] = num / den
    return out


def _design(g, years, window, anticipation=0):
    """Event dummies (endpoints binned, reference -1 - anticipation) and the static dummy, as arrays (n, T, .)."""
    lo, hi = window
    ref = -1 - anticipation
    times = [k for k in range(lo, hi + 1) if k != ref]
    yrs = np.asarray(years)
    E = np.where(g[:, None] > 0, np.clip(yrs[None, :] - g[:, None], lo, hi), -999)
    D = np.stack([(E == k).astype(float) for k in times], axis=2)
    static = ((g[:, None] > 0) & (yrs[None, :] >= g[:, None])).astype(float)[:, :, None]
    T = len(years)
    year_dummies = np.zeros((len(g), T, T - 1))
    for t in range(1, T):
        year_dummies[:, t, t - 1] = 1
    keep = _independent(np.concatenate([year_dummies, D], axis=2))[T - 1 :] - (T - 1)
    times = [times[i] for i in keep]  # event times without a unit, or collinear with the fixed effects, dropped
    D = D[:, :, keep]
    return times, np.concatenate([year_dummies, D], axis=2), np.concatenate([year_dummies, static], axis=2)


def _independent(X: np.ndarray) -> np.ndarray:
    """The columns of ``X`` (n, T, k) that are linearly independent given unit effects (within each unit, demeaned),
    in order: a column is kept unless it is a combination of the columns before it (as pyfixest drops collinear
    variables)."""
    Xd = (X - X.mean(axis=1, keepdims=True)).reshape(-1, X.shape[2])
    keep: list[int] = []
    for j in range(X.shape[2]):
        trial = Xd[:, [*keep, j]]
        if np.linalg.matrix_rank(trial, tol=1e-9 * max(1.0, np.abs(trial).max())) == len(keep) + 1:
            keep.append(j)
    return np.array(keep, dtype=int)


def simulation_study(
    g: np.ndarray,
    years: Sequence[int],
    effect: Callable[[int, int], float],
    reps: int = 500,
    *,
    window=DEFAULT_WINDOW,
    seed: int = 1,
    control_group: str = "notyettreated",
    sd_noise: float = 0.05,
    rho: float = 0.0,
    population: np.ndarray | None = None,
    draws: int = 199,
    noise: NoiseCalibration | None = None,
    ppml: bool = True,
    wild: bool = True,
) -> SimulationStudy:
    """Coverage of the published intervals and the bias of the naive TWFE on ``reps`` panels with units of first
    treated years ``g`` (0 = never) over ``years`` and true effects ``effect(g, year)``; the noise an AR(1) of sd
    ``sd_noise`` and autocorrelation ``rho``; ``population`` (n,) weights the Poisson fits (default 50,000 each)."""
    years = [int(y) for y in years]
    g = np.asarray(g).astype(int)
    n, T = len(g), len(years)
    Y = simulate_panels(g, years, effect, reps, seed=seed, sd_noise=sd_noise, rho=rho)
    rng = np.random.default_rng(seed + 1)
    rows = []
    # --- Callaway & Sant'Anna ------------------------------------------------------------------
    gt = group_time_arrays(Y, g, years, control_group=control_group)
    dyn = aggregate(gt, "dynamic", window)
    simple = aggregate(gt, "simple")
    true_e = _true_event(g, years, effect, window)
    est, se = dyn.estimate, dyn.se()
    event_rows = []
    for i, e in enumerate(dyn.labels):
        hit = np.abs(est[:, i] - true_e[e]) <= Z95 * se[:, i]
        c, mc = _cover(hit)
        event_rows.append(
            {
                "event_time": e,
                "true": true_e[e],
                "mean_estimate": est[:, i].mean(),
                "bias": est[:, i].mean() - true_e[e],
                "coverage": c,
                "mc_se": mc,
            }
        )
        rows.append(("cs", "pointwise 95 %, normal, analytic IF", str(e), true_e[e], est[:, i].mean(), c, mc))
    boot = multiplier_bootstrap(dyn.inf, draws=draws, rng=rng)
    truth = np.array([true_e[e] for e in dyn.labels])
    hit = (np.abs(est - truth) <= boot.crit[:, None] * boot.se).all(axis=1)
    rows.append(
        ("cs", f"simultaneous 95 %, multiplier bootstrap ({draws} draws)", "all event times", np.nan, np.nan)
        + _cover(hit)
    )
    post = [i for i, e in enumerate(dyn.labels) if e >= 0]
    true_avg = float(truth[post].mean())
    hit = np.abs(dyn.overall - true_avg) <= Z95 * dyn.overall_se()
    rows.append(
        ("cs", "95 %, normal, analytic IF", "average of event times 0+", true_avg, dyn.overall.mean()) + _cover(hit)
    )
    D = np.array([[(gg > 0) and (y >= gg) for y in years] for gg in g], bool)
    eff = np.array([[effect(int(gg), int(y)) for y in years] for gg in g])
    true_att = float(eff[D].mean())
    # did's simple ATT weights each cohort's post cells by cohort size: its estimand on this design
    base = {gg: max(y for y in years if y < gg) for gg in set(g[g > 0].tolist())}
    cells = [(gg, t) for gg, t in gt.cells if gg <= t]
    pg = np.array([np.mean(g == gg) for gg, _ in cells])
    true_simple = float(sum(p * (effect(gg, t) - effect(gg, base[gg])) for p, (gg, t) in zip(pg, cells, strict=True)))
    true_simple /= pg.sum()
    hit = np.abs(simple.overall - true_simple) <= Z95 * simple.overall_se()
    rows.append(("cs", "95 %, normal, analytic IF", "simple ATT", true_simple, simple.overall.mean()) + _cover(hit))
    # the delete-one-kommune jackknife: pointwise, the headline, the simple ATT and the sup-t band of its covariance
    jk = jackknife(Y, g, years, control_group=control_group, window=window)
    for i, e in enumerate(jk.labels):
        c = _cover(np.abs(est[:, i] - true_e[e]) <= Z95 * jk.se[:, i])
        rows.append(("cs", "pointwise 95 %, normal, jackknife", str(e), true_e[e], est[:, i].mean()) + c)
    m = len(jk.labels)
    L = np.linalg.cholesky(jk.vcov + 1e-14 * np.eye(m))
    Z = np.einsum("rkl,bl->rbk", L, rng.normal(size=(draws, m)))
    crit = np.maximum(np.quantile(np.abs(Z / jk.se[:, None, :]).max(axis=2), 0.95, axis=1, method="inverted_cdf"), Z95)
    hit = (np.abs(est - truth) <= crit[:, None] * jk.se).all(axis=1)
    rows.append(
        (
            "cs",
            f"simultaneous 95 %, sup-t of the jackknife covariance ({draws} draws)",
            "all event times",
            np.nan,
            np.nan,
        )
        + _cover(hit)
    )
    hit = np.abs(dyn.overall - true_avg) <= Z95 * jk.overall_se
    rows.append(
        ("cs", "95 %, normal, jackknife", "average of event times 0+", true_avg, dyn.overall.mean()) + _cover(hit)
    )
    hit = np.abs(simple.overall - true_simple) <= Z95 * jk.simple_se
    rows.append(("cs", "95 %, normal, jackknife", "simple ATT", true_simple, simple.overall.mean()) + _cover(hit))
    cs_simple = TwfeBias(
        true_att,
        float(simple.overall.mean()),
        float(simple.overall.mean() - true_att),
        float(simple.overall.std(ddof=1)),
    )
    # --- TWFE Poisson --------------------------------------------------------------------------
    pop = np.full(n, 5e4) if population is None else np.asarray(population, float)
    offset = np.repeat(np.log(pop)[:, None], T, axis=1)
    counts = np.exp(Y) * pop[:, None] / 1000  # loans from log loans per 1,000
    Y0 = simulate_panels(g, years, effect, 1, seed=seed, sd_noise=0.0)  # the same unit effects, no noise
    times, Xe, Xs = _design(g, years, window)
    if ppml:
        st = ppml_arrays(counts, Xs, offset)
        st0 = ppml_arrays(np.exp(Y0) * pop[:, None] / 1000, Xs, offset)
        b, s = st.beta[:, -1], st.se()[:, -1]
        twfe = TwfeBias(true_att, float(b.mean()), float(b.mean() - true_att), float(b.std(ddof=1)))
        pseudo = float(st0.beta[0, -1])
        rows.append(
            ("twfe", "95 %, normal (z), CRV1", "static effect", pseudo, b.mean())
            + _cover(np.abs(b - pseudo) <= Z95 * s)
        )
        if wild:
            V = rng.choice(np.array([-1.0, 1.0]), size=(draws, n))
            p = np.array(
                [
                    score_bootstrap(counts[r], Xs, offset, None, Xs.shape[2] - 1, pseudo, multipliers=V).p
                    for r in range(reps)
                ]
            )
            rows.append(
                ("twfe", f"95 %, wild score bootstrap ({draws} draws)", "static effect", pseudo, b.mean())
                + _cover(p > 0.05)
            )
        ev = ppml_arrays(counts, Xe, offset)
        ev0 = ppml_arrays(np.exp(Y0) * pop[:, None] / 1000, Xe, offset)
        k0 = T - 1
        be, se_e = ev.beta[:, k0:], ev.se()[:, k0:]
        pe = ev0.beta[0, k0:]
        for i, e in enumerate(times):
            c = _cover(np.abs(be[:, i] - pe[i]) <= Z95 * se_e[:, i])
            rows.append(("twfe", "pointwise 95 %, normal (z), CRV1", str(e), float(pe[i]), be[:, i].mean()) + c)
        Vs = ev.vcov[:, k0:, k0:]
        L = np.linalg.cholesky(Vs + 1e-14 * np.eye(len(times)))
        Z = np.einsum("rkl,bl->rbk", L, rng.normal(size=(draws, len(times))))
        crit = np.maximum(
            np.quantile(np.abs(Z / se_e[:, None, :]).max(axis=2), 0.95, axis=1, method="inverted_cdf"), Z95
        )
        hit = (np.abs(be - pe) <= crit[:, None] * se_e).all(axis=1)
        rows.append(
            ("twfe", f"simultaneous 95 %, sup-t of CRV1 ({draws} draws)", "all event times", np.nan, np.nan)
            + _cover(hit)
        )
        pi = [i for i, e in enumerate(times) if e >= 0]
        w = np.full(len(pi), 1 / len(pi))
        avg = be[:, pi] @ w
        avg_se = np.sqrt(np.einsum("k,rkl,l->r", w, Vs[:, pi][:, :, pi], w))
        pavg = float(pe[pi] @ w)
        rows.append(
            ("twfe", "95 %, normal (z), CRV1", "average of event times 0+", pavg, avg.mean())
            + _cover(np.abs(avg - pavg) <= Z95 * avg_se)
        )
    else:
        twfe = TwfeBias(true_att, np.nan, np.nan, np.nan)
    coverage = pd.DataFrame(
        rows, columns=["estimator", "interval", "target", "true", "mean_estimate", "coverage", "mc_se"]
    )
    coverage["below_floor"] = coverage["coverage"] < NOMINAL_FLOOR
    return SimulationStudy(
        event=pd.DataFrame(event_rows).set_index("event_time"),
        coverage=coverage,
        twfe=twfe,
        cs_simple=cs_simple,
        reps=int(reps),
        draws=int(draws),
        cohorts={int(k): int(v) for k, v in zip(*np.unique(g, return_counts=True), strict=True)},
        years=tuple(years),
        control_group=control_group,
        noise=noise,
    )


def simulation_for(
    panel: AdoptionPanel, spec: EstimationSpec, reps: int, *, seed: int = 1, draws: int | None = None, wild: bool = True
) -> SimulationStudy:
    """:func:`simulation_study` at the panel's design: the cohorts of its balanced sample, its years, its kommuner's
    mean populations, the synthetic generator's effect path (:func:`~.truth.synthetic_effect`) and noise calibrated
    to the panel (:func:`calibrate_noise`)."""
    b = panel.balanced()
    units = b.groupby("kommunekode").agg(g=("g", "first"), population=("population", "mean"))
    years = sorted(int(y) for y in b["year"].unique())
    noise = calibrate_noise(panel)
    return simulation_study(
        units["g"].to_numpy(),
        years,
        synthetic_effect,
        reps=reps,
        window=spec.window,
        control_group=spec.control_group,
        seed=seed,
        sd_noise=noise.ar_sd,
        rho=noise.ar_rho,
        population=units["population"].to_numpy(),
        draws=draws or min(spec.draws, 499),
        noise=noise,
        wild=wild,
    )
