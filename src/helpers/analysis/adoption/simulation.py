"""Does the method work on a design like this one? Simulated panels with known, cohort-heterogeneous effects.

:func:`simulation_study` draws balanced panels of log loans (unit effect + year trend + the true
effect + noise), estimates the event study with :func:`~.arrays.cs_event_arrays` and the static
TWFE effect with :func:`~.arrays.twfe_static_arrays`, and reports the coverage of the 95 %
intervals per event time (with its Monte Carlo standard error) and the bias of static TWFE.
:func:`simulation_for` runs it at an adoption panel's own design (its cohort sizes and years).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.core import lazy

from .arrays import cs_event_arrays, twfe_static_arrays
from .estimators import DEFAULT_WINDOW, EstimationSpec
from .panel import AdoptionPanel
from .truth import synthetic_effect

stats = lazy.module("scipy.stats")  # about 0.7 s: imported by the first interval


@dataclass(frozen=True)
class TwfeBias:
    """Static TWFE on the simulated panels: ``true_att`` (the average effect over treated unit-years), ``mean``
    estimate, ``bias`` (mean - true_att) and ``sd`` across panels."""

    true_att: float
    mean: float
    bias: float
    sd: float


@dataclass(frozen=True, eq=False)
class SimulationStudy:
    """The simulation study.

    Fields:
        event: by event time: true, mean_estimate, bias, coverage (of the 95 % intervals), mc_se (Monte Carlo
            standard error of the coverage).
        twfe: the bias of static TWFE (:class:`TwfeBias`).
        reps: simulated panels.
        cohorts: the design: units per first treated year (0 = never).
        years: the design's calendar years.
        control_group: of the Callaway & Sant'Anna estimates.
    """

    event: pd.DataFrame = field(repr=False)
    twfe: TwfeBias
    reps: int
    cohorts: dict[int, int]
    years: tuple[int, ...]
    control_group: str

    def summary(self) -> str:
        """One sentence: the naive TWFE mean against the truth, and the mean coverage of the intervals."""
        t = self.twfe
        return (
            f"Naive TWFE: mean {t.mean:.4f} against a true average effect of {t.true_att:.4f} (bias {t.bias:+.4f}); "
            f"mean coverage of the staggered intervals {self.event['coverage'].mean():.3f}"
        )


def simulate_panels(
    g: np.ndarray, years: Sequence[int], effect, reps: int, *, sd_unit=0.2, sd_noise=0.05, seed=1
) -> np.ndarray:
    """``reps`` balanced panels (reps, n, T) of log loans: unit effect + year effect + ``effect(g, year)`` + noise."""
    rng = np.random.default_rng(seed)
    g = np.asarray(g)
    years = np.asarray(list(years))
    eff = np.array([[effect(int(gg), int(y)) for y in years] for gg in g])
    yfx = 0.02 * (years - years[0])
    u = rng.normal(0, sd_unit, (reps, len(g), 1))
    return u + yfx[None, None, :] + eff[None] + rng.normal(0, sd_noise, (reps, len(g), len(years)))


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
) -> SimulationStudy:
    """Coverage of the 95 % intervals of :func:`~.arrays.cs_event_arrays` and bias of static TWFE, on ``reps``
    panels with units of first treated years ``g`` (0 = never) over ``years`` and true effects ``effect(g, year)``."""
    years = list(years)
    g = np.asarray(g)
    Y = simulate_panels(g, years, effect, reps, seed=seed, sd_noise=sd_noise)
    res = cs_event_arrays(Y, g, years, control_group=control_group, window=window)
    z = stats.norm.ppf(0.975)
    sizes = {gg: int((g == gg).sum()) for gg in set(g.tolist()) if gg > 0}
    rows = []
    for e, (est, se) in res.items():
        num = den = 0.0
        for gg, n_g in sizes.items():
            if gg + e in years and any(y < gg for y in years):
                base = max(y for y in years if y < gg)
                num += n_g * (effect(gg, gg + e) - effect(gg, base))
                den += n_g
        true = num / den
        cover = (est - z * se <= true) & (true <= est + z * se)
        rows.append(
            {
                "event_time": e,
                "true": true,
                "mean_estimate": est.mean(),
                "bias": est.mean() - true,
                "coverage": cover.mean(),
                "mc_se": np.sqrt(cover.mean() * (1 - cover.mean()) / reps),
            }
        )
    D = np.array([[(gg > 0) and (y >= gg) for y in years] for gg in g], float)
    twfe = twfe_static_arrays(Y, D)
    eff = np.array([[effect(int(gg), int(y)) for y in years] for gg in g])
    true_att = float(eff[D == 1].mean())
    return SimulationStudy(
        event=pd.DataFrame(rows).set_index("event_time"),
        twfe=TwfeBias(
            true_att=true_att, mean=float(twfe.mean()), bias=float(twfe.mean() - true_att), sd=float(twfe.std(ddof=1))
        ),
        reps=int(reps),
        cohorts={int(k): int(v) for k, v in zip(*np.unique(g, return_counts=True), strict=True)},
        years=tuple(int(y) for y in years),
        control_group=control_group,
    )


def simulation_for(panel: AdoptionPanel, spec: EstimationSpec, reps: int, *, seed: int = 1) -> SimulationStudy:
    """:func:`simulation_study` at the panel's design (the cohorts of its balanced sample and its years), with the
    synthetic generator's effect path (:func:`~.truth.synthetic_effect`)."""
    g = panel.balanced().drop_duplicates("kommunekode")["g"].to_numpy()
    years = sorted(panel.sample["year"].unique())
    return simulation_study(
        g, years, synthetic_effect, reps=reps, window=spec.window, control_group=spec.control_group, seed=seed
    )
