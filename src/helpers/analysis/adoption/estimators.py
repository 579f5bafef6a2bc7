"""The estimators of the adoption effect, each returning a typed result that holds the library's fit.

* :func:`fit_twfe_event` — two-way fixed-effects Poisson (PPML, ``pyfixest.fepois``) of the loans
  count with unit and year fixed effects, ``log(population)`` as offset, event-time dummies
  (endpoints binned), standard errors clustered by kommune (CRV1); its pre-trend test is the joint
  Wald test of the pre-period dummies. :func:`fit_twfe_static` is the one-dummy version. Both are
  biased when effects differ across adoption cohorts (forbidden comparisons).
* :func:`fit_cs` — Callaway & Sant'Anna (2021) group-time effects (``csdid``, outcome regression
  without covariates) on log loans per 1,000, never-treated or not-yet-treated controls, universal
  base period (the last year before ``g - anticipation``), aggregated to event time with analytic
  influence-function standard errors (pointwise 95 % intervals, normal); its pre-trend test is
  csdid's Wald test that every pre-treatment ATT(g,t) is 0.

Nothing is set on a pyfixest or csdid object: each result is a frozen dataclass with the fit as a
field (``fit``), read by ``helpers.outputs.tables`` for the regression table.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from helpers.core import lazy, vocabulary
from helpers.core.errors import DataError, Problem
from helpers.core.vocabulary import ControlGroup, Estimator
from helpers.results.adoption import ESTIMATOR_LABELS

from .panel import balanced

stats = lazy.module("scipy.stats")  # about 0.7 s: imported by the first test or interval

DEFAULT_WINDOW = (-4, 8)
ESTIMATOR_WORDS: dict[str, str] = {
    "cs": "Callaway & Sant'Anna (csdid), heterogeneity-robust",
    "twfe": "two-way fixed-effects Poisson (pyfixest)",
}
"""Each :data:`~helpers.core.vocabulary.Estimator` in words (tests check it covers exactly the alias)."""
CONTROL_GROUP_WORDS: dict[str, str] = {
    "notyettreated": "not-yet-treated and never-treated units",
    "nevertreated": "never-treated units only",
}
"""Each :data:`~helpers.core.vocabulary.ControlGroup` in words (tests check it covers exactly the alias)."""
EVENT_COLUMNS = ["estimate", "se", "low", "high", "p", "reference"]


@dataclass(frozen=True)
class EstimationSpec:
    """How the effects are estimated (checked against the vocabulary when made).

    Fields: ``estimator`` of the headline ("cs" | "twfe"); ``window`` (first, last) event time shown (TWFE bins
    the endpoints; it must hold the reference period and event time 0); ``anticipation`` years before the first
    treated year in which an effect may start (the reference period is ``-1 - anticipation``); ``control_group``
    of Callaway & Sant'Anna ("notyettreated" | "nevertreated").
    """

    estimator: Estimator = "cs"
    window: tuple[int, int] = DEFAULT_WINDOW
    anticipation: int = 0
    control_group: ControlGroup = "notyettreated"

    def __post_init__(self):
        object.__setattr__(self, "window", (int(self.window[0]), int(self.window[1])))
        vocabulary.check_choice("estimator", self.estimator, Estimator)
        vocabulary.check_choice("control_group", self.control_group, ControlGroup)
        _check_window(self.window, self.anticipation)


@dataclass(frozen=True)
class PretrendTest:
    """The test that every pre-period effect is 0: Wald ``statistic``, its ``df`` (None where the library does not
    report it), ``p`` (NaN when there is no pre-period), and the ``test`` in words."""

    statistic: float
    df: int | None
    p: float
    test: str


@dataclass(frozen=True, eq=False)
class EventStudy:
    """An event study of one estimator.

    Fields:
        estimator: "cs" | "twfe" (``label`` gives its short name).
        table: by event time: estimate, se, low, high (pointwise 95 %), p, reference (the reference period,
            ``-1 - anticipation``, is 0 with no interval).
        pretrend: the pre-trend test (:class:`PretrendTest`).
        n_units: kommuner in the data given to the fit.
        n_obs: unit-years the fit used.
        window: the event window (first, last).
        anticipation: years of anticipation allowed.
        fit: the library's fit (pyfixest ``Fepois`` for "twfe", csdid ``ATTgt`` for "cs").
    """

    estimator: Estimator
    table: pd.DataFrame = field(repr=False)
    pretrend: PretrendTest
    n_units: int
    n_obs: int
    window: tuple[int, int]
    anticipation: int
    fit: Any = field(repr=False)

    @property
    def label(self) -> str:
        return ESTIMATOR_LABELS[self.estimator]

    def average_post(self) -> float:
        """Mean of the post-adoption event-time estimates in the window (event times 0 to the window's end)."""
        t = self.table
        return float(t.loc[(t.index >= 0) & ~t["reference"], "estimate"].mean())


@dataclass(frozen=True, eq=False)
class CSEventStudy(EventStudy):
    """A Callaway & Sant'Anna event study (:class:`EventStudy`'s fields), and:

    Fields:
        attgt: the group-time effects (g, year, att, se).
        control_group: "notyettreated" | "nevertreated".
    """

    attgt: pd.DataFrame = field(repr=False)
    control_group: ControlGroup


@dataclass(frozen=True, eq=False)
class StaticFit:
    """The naive PPML with one effect for all treated unit-years (``treated_a``).

    Fields: ``estimate``, ``se``, ``low``, ``high`` (95 %, pyfixest's t with G - 1 df), ``p``, ``n`` (unit-years),
    ``anticipation``, ``fit`` (the pyfixest ``Fepois``).
    """

    estimate: float
    se: float
    low: float
    high: float
    p: float
    n: int
    anticipation: int
    fit: Any = field(repr=False)


# --- helpers -----------------------------------------------------------------------------------
@contextlib.contextmanager
def _quiet():
    """pyfixest 0.60 warns about pandas' deprecated ``inplace`` inside its own code; not ours to act on."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"pyfixest\..*")
        yield


def _check_window(window, anticipation: int) -> None:
    lo, hi = int(window[0]), int(window[1])
    ref = -1 - int(anticipation)
    if not lo <= ref < 0 <= hi:
        raise ValueError(f"event window {tuple(window)} must contain the reference period {ref} and event time 0")


def event_term(e: int) -> str:
    """The name of event time ``e``'s dummy: ``pre2`` for -2, ``post0`` for 0."""
    return f"pre{-e}" if e < 0 else f"post{e}"


def event_dummies(sample: pd.DataFrame, window=DEFAULT_WINDOW, anticipation: int = 0) -> tuple[pd.DataFrame, list[int]]:
    """The sample with event-time dummies for treated units (endpoints binned), and the event times they stand for;
    the reference period ``-1 - anticipation`` has none."""
    _check_window(window, anticipation)
    lo, hi = int(window[0]), int(window[1])
    ref = -1 - int(anticipation)
    df = sample.copy()
    e = df["event_time"].clip(lo, hi)
    times = [k for k in range(lo, hi + 1) if k != ref]
    for k in times:
        df[event_term(k)] = ((e == k) & (df["g"] > 0)).astype(float)
    return df, times


def wald(b: np.ndarray, V: np.ndarray, test: str) -> PretrendTest:
    """Joint Wald test that the finite entries of ``b`` are 0, covariance ``V`` (chi-squared, df = their number)."""
    b = np.asarray(b, float)
    ok = np.isfinite(b)
    b, V = b[ok], np.asarray(V, float)[np.ix_(ok, ok)]
    if not len(b):
        return PretrendTest(float("nan"), 0, float("nan"), test)
    W = float(b @ np.linalg.pinv(V) @ b)
    return PretrendTest(W, len(b), float(stats.chi2.sf(W, len(b))), test)


# --- two-way fixed-effects Poisson (pyfixest) ---------------------------------------------------
def fit_twfe_event(sample: pd.DataFrame, window=DEFAULT_WINDOW, anticipation: int = 0) -> EventStudy:
    """PPML event study: loans ~ event dummies | unit + year, offset log(population), CRV1 by kommune.

    The reference row (``-1 - anticipation``) is 0 with no interval; endpoints bin all earlier/later years;
    an event time without a dummy in the fit (no unit observed there) has no estimate.
    """
    import pyfixest as pf

    df, times = event_dummies(sample, window, anticipation)
    names = [event_term(k) for k in times]
    with _quiet():
        fit = pf.fepois(
            f"loans ~ {' + '.join(names)} | kommunekode + year", data=df, offset="log_pop", vcov={"CRV1": "kommunekode"}
        )
    tidy = fit.tidy()
    empty = {"estimate": np.nan, "se": np.nan, "low": np.nan, "high": np.nan, "p": np.nan}
    rows = []
    for k, nm in zip(times, names, strict=True):
        r = tidy.loc[nm] if nm in tidy.index else None
        values = (
            empty
            if r is None
            else {
                "estimate": r["Estimate"],
                "se": r["Std. Error"],
                "low": r["2.5%"],
                "high": r["97.5%"],
                "p": r["Pr(>|t|)"],
            }
        )
        rows.append({"event_time": k, **values, "reference": False})
    rows.append({"event_time": -1 - anticipation, **empty, "estimate": 0.0, "reference": True})
    table = pd.DataFrame(rows).sort_values("event_time").set_index("event_time")[EVENT_COLUMNS]
    pre = [nm for k, nm in zip(times, names, strict=True) if k < -anticipation and nm in tidy.index]
    V = pd.DataFrame(fit._vcov, index=fit._coefnames, columns=fit._coefnames)
    test = "joint Wald, pre-period coefficients = 0 (CRV1)"
    pretrend = (
        wald(tidy.loc[pre, "Estimate"].to_numpy(), V.loc[pre, pre].to_numpy(), test)
        if pre
        else PretrendTest(float("nan"), 0, float("nan"), test)
    )
    return EventStudy(
        estimator="twfe",
        table=table,
        pretrend=pretrend,
        n_units=int(sample["kommunekode"].nunique()),
        n_obs=int(fit._N),
        window=(int(window[0]), int(window[1])),
        anticipation=int(anticipation),
        fit=fit,
    )


def fit_twfe_static(sample: pd.DataFrame, anticipation: int = 0) -> StaticFit:
    """Naive PPML: loans ~ treated | unit + year, offset log(population), CRV1 by kommune (one effect for all).

    Treated from ``g - anticipation`` on.
    """
    import pyfixest as pf

    df = sample.copy()
    df["treated_a"] = ((df["g"] > 0) & (df["year"] >= df["g"] - int(anticipation))).astype(float)
    with _quiet():
        fit = pf.fepois(
            "loans ~ treated_a | kommunekode + year", data=df, offset="log_pop", vcov={"CRV1": "kommunekode"}
        )
    r = fit.tidy().loc["treated_a"]
    return StaticFit(
        estimate=float(r["Estimate"]),
        se=float(r["Std. Error"]),
        low=float(r["2.5%"]),
        high=float(r["97.5%"]),
        p=float(r["Pr(>|t|)"]),
        n=int(fit._N),
        anticipation=int(anticipation),
        fit=fit,
    )


# --- Callaway & Sant'Anna (csdid) ----------------------------------------------------------------
def fit_cs(
    sample: pd.DataFrame, control_group: str = "notyettreated", anticipation: int = 0, window=DEFAULT_WINDOW
) -> CSEventStudy:
    """Callaway & Sant'Anna with csdid on log loans per 1,000 (balanced panel), universal base period.

    The table holds the event-time ATT with its influence-function standard error and pointwise 95 %
    normal interval; the reference period ``-1 - anticipation`` has no standard error. The pre-trend test is
    csdid's Wald test that all pre-treatment ATT(g,t) are 0 (csdid reports no df).
    """
    from csdid.att_gt import ATTgt

    vocabulary.check_choice("control_group", control_group, ControlGroup)
    df = balanced(sample)[["kommunekode", "year", "g", "log_rate"]].rename(columns={"kommunekode": "id"})
    df["g"] = df["g"].astype(int)
    if not (df["g"] > 0).any():
        raise DataError("adoption panel", "no adopting unit in the sample: nothing to estimate")
    if control_group == "nevertreated" and not (df["g"] == 0).any():
        raise DataError(
            "adoption panel",
            Problem("no never-treated unit in the sample", column="g", accepted="control_group='notyettreated'"),
        )
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        m = ATTgt(
            yname="log_rate",
            tname="year",
            idname="id",
            gname="g",
            data=df,
            control_group=[control_group],
            anticipation=int(anticipation),
        ).fit(est_method="reg", base_period="universal", bstrap=False)
        m.aggte(typec="dynamic", bstrap=False, min_e=int(window[0]), max_e=int(window[1]))
    a = m.atte
    crit = stats.norm.ppf(0.975)
    table = pd.DataFrame(
        {
            "event_time": np.asarray(a["egt"], int),
            "estimate": np.asarray(a["att_egt"], float),
            "se": np.asarray(a["se_egt"], float),
        }
    )
    ref = -1 - int(anticipation)
    table["reference"] = table["event_time"] == ref
    table.loc[table["reference"], "se"] = np.nan
    table["low"] = table["estimate"] - crit * table["se"]
    table["high"] = table["estimate"] + crit * table["se"]
    table["p"] = 2 * stats.norm.sf(np.abs(table["estimate"] / table["se"]))
    table = table.set_index("event_time")[EVENT_COLUMNS]
    r = m.results
    attgt = pd.DataFrame(
        {"g": np.asarray(r["group"], int), "year": np.asarray(r["year"], int), "att": r["att"], "se": r["se"]}
    )
    w, wp = m.MP["W"], m.MP["Wpval"]
    pretrend = PretrendTest(
        float(w) if w is not None else np.nan,
        None,
        float(wp) if wp is not None else np.nan,
        "csdid Wald pre-test: all pre-treatment ATT(g,t) = 0",
    )
    return CSEventStudy(
        estimator="cs",
        table=table,
        pretrend=pretrend,
        n_units=int(df["id"].nunique()),
        n_obs=len(df),
        window=(int(window[0]), int(window[1])),
        anticipation=int(anticipation),
        fit=m,
        attgt=attgt,
        control_group=control_group,
    )
