"""The estimators of the adoption effect, each returning a typed result that holds the library's fit.

* :func:`fit_twfe_event` — two-way fixed-effects Poisson (PPML, ``pyfixest.fepois``) of the loans
  count with unit and year fixed effects, ``log(population)`` as offset, event-time dummies
  (endpoints binned), standard errors clustered by kommune (CRV1); its pre-trend test is the joint
  Wald test of the pre-period dummies. :func:`fit_twfe_static` is the one-dummy version. Both are
  biased when effects differ across adoption cohorts (forbidden comparisons). Their intervals and
  p-values are **normal (z)**: pyfixest's ``fepois`` computes them from N(0, 1) although its table
  names the column ``Pr(>|t|)`` and the fit records ``_df_t = G - 1`` (tests/test_tables.py checks the
  numbers); z is also what R's ``fixest::fepois`` and ``glm`` + ``sandwich::vcovCL`` + ``lmtest`` report
  for a Poisson model, so the labels say z. The few-cluster alternative is the wild score bootstrap
  (:mod:`.inference`). The demeaning and IRLS run to tight tolerances (``FEPOIS_TOLERANCES``): at
  pyfixest's defaults the standard errors are ~1e-7 off their converged value and depend on what ran
  before in the process.
* :func:`fit_cs` — Callaway & Sant'Anna (2021) group-time effects (``csdid``, outcome regression
  without covariates) on log loans per 1,000, never-treated or not-yet-treated controls, universal
  base period (the last year before ``g - anticipation``), each kommune weighted equally or by its
  population; aggregated as R's ``did::aggte`` (by event time, overall, by cohort, by year) with
  analytic influence-function standard errors (pointwise 95 % intervals, normal), and a simultaneous
  95 % band for the event times by did's multiplier bootstrap (seeded, :func:`.arrays.multiplier_bootstrap`).
  Its pre-trend test is csdid's Wald test that every pre-treatment ATT(g,t) is 0.

Every event study names its family of tests (its event times) with Holm and Benjamini-Hochberg adjusted
p-values beside the raw ones (:mod:`helpers.analysis.multiplicity`), and its headline: the average of the
event-time effects 0 to the window's end (did's ``overall.att`` of the dynamic aggregation), with its own
standard error.

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

from helpers.analysis import multiplicity
from helpers.core import lazy, vocabulary
from helpers.core.errors import DataError, Problem
from helpers.core.vocabulary import Aggregation, ControlGroup, CsWeights, Estimator
from helpers.results.adoption import ESTIMATOR_LABELS

from .panel import balanced

stats = lazy.module("scipy.stats")  # about 0.7 s: imported by the first test or interval

DEFAULT_WINDOW = (-4, 8)
FEPOIS_TOLERANCES = {"fixef_tol": 1e-10, "iwls_tol": 1e-12}
"""pyfixest's demeaning and IRLS tolerances for every PPML fit (its defaults, 1e-6 and 1e-8, leave the clustered
standard errors ~1e-7 relative off their converged value); the demeaning tolerance is passed as pyfixest's typed
``MapDemeaner`` (its default alternating projections)."""
ESTIMATOR_WORDS: dict[str, str] = {
    "cs": "Callaway & Sant'Anna (csdid), heterogeneity-robust",
    "twfe": "two-way fixed-effects Poisson (pyfixest)",
}
"""Each :data:`~helpers.core.vocabulary.Estimator` in words (tests check it covers exactly the alias)."""
ESTIMANDS: dict[str, str] = {
    "cs": "the average, over the adopting kommuner (each counted once) and their years since adoption, of the "
    "change in log loans per inhabitant against comparable not-yet-treated kommuner: ATT(g,t) averaged with "
    "cohort-size weights (did::aggte)",
    "cs_population": "as Callaway & Sant'Anna, with each kommune weighted by its population: the effect on the "
    "typical inhabitant rather than the typical kommune (closer to what PPML weights)",
    "twfe": "a weighted average of the changes in loans per inhabitant, each kommune weighted by its loan volume "
    "(Poisson pseudo-ML), in which earlier adopters also serve as comparisons for later ones: not a causal average "
    "when effects differ across cohorts",
}
"""Each estimator's estimand in words, as tables and the notebook state it."""
CONTROL_GROUP_WORDS: dict[str, str] = {
    "notyettreated": "not-yet-treated and never-treated units",
    "nevertreated": "never-treated units only",
}
"""Each :data:`~helpers.core.vocabulary.ControlGroup` in words (tests check it covers exactly the alias)."""
CS_WEIGHTS_WORDS: dict[str, str] = {
    "units": "each kommune counted once",
    "population": "each kommune weighted by its mean population over the sample years",
}
"""Each :data:`~helpers.core.vocabulary.CsWeights` in words (tests check it covers exactly the alias)."""
EVENT_COLUMNS = [
    "estimate",
    "se",
    "low",
    "high",
    "p",
    "se_jk",
    "low_jk",
    "high_jk",
    "p_jk",
    "p_holm",
    "p_bh",
    "band_low",
    "band_high",
    "band_jk_low",
    "band_jk_high",
    "reference",
]
Z95 = 1.959963984540054  # scipy.stats.norm.ppf(0.975), written out so importing this module does not import scipy


@dataclass(frozen=True)
class EstimationSpec:
    """How the effects are estimated (checked against the vocabulary when made).

    Fields: ``estimator`` of the headline ("cs" | "twfe"); ``window`` (first, last) event time shown (TWFE bins
    the endpoints; it must hold the reference period and event time 0); ``anticipation`` years before the first
    treated year in which an effect may start (the reference period is ``-1 - anticipation``); ``control_group``
    of Callaway & Sant'Anna ("notyettreated" | "nevertreated"); ``cs_weights`` ("units" | "population");
    ``draws`` of every bootstrap (the simultaneous band, the wild score bootstrap); ``seed`` of their draws.
    """

    estimator: Estimator = "cs"
    window: tuple[int, int] = DEFAULT_WINDOW
    anticipation: int = 0
    control_group: ControlGroup = "notyettreated"
    cs_weights: CsWeights = "units"
    draws: int = 999
    seed: int = 1

    def __post_init__(self):
        object.__setattr__(self, "window", (int(self.window[0]), int(self.window[1])))
        vocabulary.check_choice("estimator", self.estimator, Estimator)
        vocabulary.check_choice("control_group", self.control_group, ControlGroup)
        vocabulary.check_choice("cs_weights", self.cs_weights, CsWeights)
        _check_window(self.window, self.anticipation)
        if int(self.draws) < 99:
            raise ValueError(f"bootstrap draws {self.draws}: at least 99 are needed for a 95 % band")


@dataclass(frozen=True)
class PretrendTest:
    """The test that every pre-period effect is 0: Wald ``statistic``, its ``df`` (None where the library does not
    report it), ``p`` (NaN when there is no pre-period), and the ``test`` in words."""

    statistic: float
    df: int | None
    p: float
    test: str


@dataclass(frozen=True)
class Effect:
    """One effect with its uncertainty: ``estimate`` (log scale), ``se``, the 95 % interval ``low``-``high``, ``p``
    (of effect = 0), and ``interval``: what the interval is, in words (distribution, standard error)."""

    estimate: float
    se: float
    low: float
    high: float
    p: float
    interval: str

    @classmethod
    def normal(cls, estimate: float, se: float, interval: str) -> Effect:
        """The effect with its normal (z) 95 % interval and two-sided p-value."""
        estimate, se = float(estimate), float(se)
        ok = np.isfinite(se) and se > 0
        return cls(
            estimate,
            se,
            estimate - Z95 * se if ok else np.nan,
            estimate + Z95 * se if ok else np.nan,
            float(2 * stats.norm.sf(abs(estimate / se))) if ok else np.nan,
            interval,
        )


@dataclass(frozen=True, eq=False)
class EventStudy:
    """An event study of one estimator.

    Fields:
        estimator: "cs" | "twfe" (``label`` gives its short name).
        table: by event time: estimate; se, low, high, p (the pointwise 95 % interval as the library computes it:
            analytic influence function for Callaway & Sant'Anna, CRV1 for TWFE, normal); se_jk, low_jk, high_jk,
            p_jk (Callaway & Sant'Anna: the delete-one-kommune jackknife, normal; NaN for TWFE); p_holm and p_bh
            (adjusted within the ``family``, from ``family_p``); band_low and band_high (the simultaneous 95 % band
            of ``band``); band_jk_low and band_jk_high (Callaway & Sant'Anna: the sup-t band of the jackknife
            covariance); reference (the reference period, ``-1 - anticipation``, is 0 with no interval).
        pretrend: the pre-trend test (:class:`PretrendTest`).
        n_units: kommuner in the data given to the fit.
        n_obs: unit-years the fit used.
        window: the event window (first, last).
        anticipation: years of anticipation allowed.
        overall: the average of the event-time effects 0 to the window's end, with its standard error (:class:`Effect`;
            Callaway & Sant'Anna: the jackknife one, which covers at the real design; its analytic one is
            ``overall_by["dynamic"]``).
        family: the event times as a family of tests (:class:`helpers.analysis.multiplicity.Family`) of the p-values
            in column ``family_p`` ("p_jk" for Callaway & Sant'Anna, "p" for TWFE).
        vcov: the covariance of the non-reference event-time estimates (the Rambachan & Roth input).
        interval: what the pointwise intervals are, in words.
        band: what the simultaneous band is, in words (its method, draws and seed), and ``band_crit`` its critical
            value (the pointwise one is 1.96).
        fit: the library's fit (pyfixest ``Fepois`` for "twfe", csdid ``ATTgt`` for "cs").
    """

    estimator: Estimator
    table: pd.DataFrame = field(repr=False)
    pretrend: PretrendTest
    n_units: int
    n_obs: int
    window: tuple[int, int]
    anticipation: int
    overall: Effect
    family: multiplicity.Family = field(repr=False)
    family_p: str
    vcov: pd.DataFrame = field(repr=False)
    interval: str
    band: str
    band_crit: float
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
        weights: "units" | "population".
        aggregates: did::aggte's four aggregations by kind ("dynamic", "simple", "group", "calendar"): each a
            table (index: event time, cohort or year; estimate, se, low, high, p; "simple" has one row, "overall")
            with normal 95 % intervals from the analytic influence function.
        overall_by: the overall effect of each aggregation with its analytic standard error (:class:`Effect`).
        influence: (n, m) influence functions of the non-reference event-time estimates (the band's input).
        band_jk, band_jk_crit: the jackknife sup-t band in words and its critical value.
        simple: the simple ATT (did's "simple") with its jackknife standard error.
    """

    attgt: pd.DataFrame = field(repr=False)
    control_group: ControlGroup
    weights: CsWeights
    aggregates: dict[Aggregation, pd.DataFrame] = field(repr=False)
    overall_by: dict[Aggregation, Effect] = field(repr=False)
    influence: np.ndarray = field(repr=False)
    band_jk: str
    band_jk_crit: float
    simple: Effect


@dataclass(frozen=True, eq=False)
class StaticFit:
    """The naive PPML with one effect for all treated unit-years (``treated_a``).

    Fields: ``estimate``, ``se``, ``low``, ``high`` (95 %, normal (z) with the CRV1 standard error, as pyfixest
    computes them), ``p``, ``n`` (unit-years), ``anticipation``, ``fit`` (the pyfixest ``Fepois``).
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


def family_of(table: pd.DataFrame, name: str, column: str = "p") -> multiplicity.Family:
    """The event times of one event study as a family of tests of the p-values in ``column`` (the reference period
    is not a member)."""
    p = table[column].where(~table["reference"].astype(bool))
    return multiplicity.adjust({int(e): v for e, v in p.items()}, name)


def _finish(table: pd.DataFrame, family_name: str, column: str) -> tuple[pd.DataFrame, multiplicity.Family]:
    """The table in :data:`EVENT_COLUMNS` with the adjusted p-values of its family (of the p-values in ``column``)."""
    table = table.copy()
    for c in EVENT_COLUMNS:
        if c not in table:
            table[c] = np.nan
    fam = family_of(table, family_name, column)
    table["p_holm"] = fam.table["p_holm"].reindex(table.index).to_numpy()
    table["p_bh"] = fam.table["p_bh"].reindex(table.index).to_numpy()
    table["reference"] = table["reference"].astype(bool)
    return table[EVENT_COLUMNS], fam


def sup_t_crit(V: np.ndarray, *, draws: int = 999, seed: int = 1, level: float = 0.95) -> float:
    """The sup-t critical value of a simultaneous band for estimates with covariance ``V``: the ``level`` quantile of
    max |Z_k| / sd_k for Z ~ N(0, V) (Montiel Olea & Plagborg-Moller 2019; seeded draws), at least the pointwise
    normal value."""
    V = np.asarray(V, float)
    sd = np.sqrt(np.diag(V))
    rng = np.random.default_rng(seed)
    Z = rng.multivariate_normal(np.zeros(len(V)), V, size=int(draws), method="eigh")
    t = np.abs(Z / sd).max(axis=1)
    return float(max(np.quantile(t, level, method="inverted_cdf"), stats.norm.ppf(0.5 + level / 2)))


def _overall(table: pd.DataFrame, V: pd.DataFrame, interval: str) -> Effect:
    """The average of the event-time effects 0 and later (non-reference), its standard error from ``V``."""
    post = [e for e in table.index if e >= 0 and not table.loc[e, "reference"] and e in V.index]
    w = np.full(len(post), 1 / len(post))
    est = float(table.loc[post, "estimate"].to_numpy() @ w)
    se = float(np.sqrt(w @ V.loc[post, post].to_numpy() @ w))
    return Effect.normal(est, se, interval)


# --- two-way fixed-effects Poisson (pyfixest) ---------------------------------------------------
TWFE_INTERVAL = "normal (z), CRV1 standard errors clustered by kommune (pyfixest)"


def fepois(formula: str, df: pd.DataFrame, offset: str = "log_pop"):
    """``pyfixest.fepois`` with CRV1 by kommune at :data:`FEPOIS_TOLERANCES` (every PPML fit of the package)."""
    import pyfixest as pf
    from pyfixest.demeaners import MapDemeaner

    with _quiet():
        return pf.fepois(
            formula,
            data=df,
            offset=offset,
            vcov={"CRV1": "kommunekode"},
            iwls_tol=FEPOIS_TOLERANCES["iwls_tol"],
            demeaner=MapDemeaner(fixef_tol=FEPOIS_TOLERANCES["fixef_tol"]),
        )


def fit_twfe_event(
    sample: pd.DataFrame, window=DEFAULT_WINDOW, anticipation: int = 0, *, draws: int = 999, seed: int = 1
) -> EventStudy:
    """PPML event study: loans ~ event dummies | unit + year, offset log(population), CRV1 by kommune.

    The reference row (``-1 - anticipation``) is 0 with no interval; endpoints bin all earlier/later years;
    an event time without a dummy in the fit (no unit observed there) has no estimate. The simultaneous band is
    the sup-t band of the CRV1 covariance (:func:`sup_t_crit`, ``draws`` normal draws, ``seed``).
    """
    df, times = event_dummies(sample, window, anticipation)
    names = [event_term(k) for k in times]
    fit = fepois(f"loans ~ {' + '.join(names)} | kommunekode + year", df)
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
                "p": r["Pr(>|t|)"],  # pyfixest's name; the value is normal (z): see the module docstring
            }
        )
        rows.append({"event_time": k, **values, "reference": False})
    rows.append({"event_time": -1 - anticipation, **empty, "estimate": 0.0, "reference": True})
    table = pd.DataFrame(rows).sort_values("event_time").set_index("event_time")
    V = pd.DataFrame(fit._vcov, index=fit._coefnames, columns=fit._coefnames)
    est = [k for k, nm in zip(times, names, strict=True) if nm in tidy.index]
    vcov = pd.DataFrame(
        V.loc[[event_term(k) for k in est], [event_term(k) for k in est]].to_numpy(), index=est, columns=est
    )
    crit = sup_t_crit(vcov.to_numpy(), draws=draws, seed=seed)
    table["band_low"] = table["estimate"] - crit * table["se"]
    table["band_high"] = table["estimate"] + crit * table["se"]
    table, fam = _finish(table, f"event times {window[0]} to {window[1]} of the TWFE Poisson event study", "p")
    pre = [nm for k, nm in zip(times, names, strict=True) if k < -anticipation and nm in tidy.index]
    test = "joint Wald, pre-period coefficients = 0 (CRV1), chi-squared"
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
        overall=_overall(table, vcov, TWFE_INTERVAL),
        family=fam,
        family_p="p",
        vcov=vcov,
        interval=f"pointwise 95 %: {TWFE_INTERVAL}",
        band=f"simultaneous 95 %: sup-t band of the CRV1 covariance ({draws} normal draws, seed {seed})",
        band_crit=crit,
        fit=fit,
    )


def fit_twfe_static(sample: pd.DataFrame, anticipation: int = 0) -> StaticFit:
    """Naive PPML: loans ~ treated | unit + year, offset log(population), CRV1 by kommune (one effect for all).

    Treated from ``g - anticipation`` on.
    """
    df = sample.copy()
    df["treated_a"] = ((df["g"] > 0) & (df["year"] >= df["g"] - int(anticipation))).astype(float)
    fit = fepois("loans ~ treated_a | kommunekode + year", df)
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
CS_INTERVAL = "normal (z), analytic influence-function standard errors (csdid, as R's did)"
CS_JACKKNIFE = "normal (z), delete-one-kommune jackknife standard errors"


def cs_jackknife(df: pd.DataFrame, control_group: str, anticipation: int, window):
    """:func:`.arrays.jackknife` of the balanced csdid frame ``df`` (id, year, g, log_rate, w)."""
    from .arrays import jackknife

    wide = df.pivot(index="id", columns="year", values="log_rate").sort_index(axis=1)
    units = df.groupby("id").agg(g=("g", "first"), w=("w", "first")).loc[wide.index]
    weights = None if (units["w"] == 1).all() else units["w"].to_numpy(float)
    return jackknife(
        wide.to_numpy(float)[None],
        units["g"].to_numpy(int),
        [int(y) for y in wide.columns],
        control_group=control_group,
        anticipation=int(anticipation),
        window=window,
        weights=weights,
    )


def cs_frame(sample: pd.DataFrame, weights: str = "units") -> pd.DataFrame:
    """The balanced panel csdid is given: id, year, g, log_rate and the unit weight ``w`` (1, or the unit's mean
    population over the sample years)."""
    vocabulary.check_choice("cs_weights", weights, CsWeights)
    cols = ["kommunekode", "year", "g", "log_rate"] + (["population"] if weights == "population" else [])
    df = balanced(sample)[cols].rename(columns={"kommunekode": "id"})
    df["g"] = df["g"].astype(int)
    df["w"] = 1.0 if weights == "units" else df.groupby("id")["population"].transform("mean")
    return df.drop(columns=[c for c in ("population",) if c in df])


def _aggregate_table(atte: dict, kind: str) -> tuple[pd.DataFrame, Effect]:
    overall = Effect.normal(atte["overall_att"], atte["overall_se"], CS_INTERVAL)
    if kind == "simple":
        rows = pd.DataFrame({"estimate": [overall.estimate], "se": [overall.se]}, index=pd.Index(["overall"]))
    else:
        name = {"dynamic": "event_time", "group": "cohort", "calendar": "year"}[kind]
        rows = pd.DataFrame(
            {"estimate": np.asarray(atte["att_egt"], float), "se": np.asarray(atte["se_egt"], float)},
            index=pd.Index(np.asarray(atte["egt"], int), name=name),
        )
    rows["se"] = rows["se"].where(rows["se"] > 0)
    rows["low"] = rows["estimate"] - Z95 * rows["se"]
    rows["high"] = rows["estimate"] + Z95 * rows["se"]
    rows["p"] = 2 * stats.norm.sf(np.abs(rows["estimate"] / rows["se"]))
    # the effects of one aggregation are one family of tests (issue 23): Holm and BH beside the raw p
    adjusted = multiplicity.adjust(rows["p"], f"the {kind} aggregation's effects").table
    rows["p_holm"], rows["p_bh"] = adjusted["p_holm"].to_numpy(), adjusted["p_bh"].to_numpy()
    return rows, overall


def fit_cs(
    sample: pd.DataFrame,
    control_group: str = "notyettreated",
    anticipation: int = 0,
    window=DEFAULT_WINDOW,
    *,
    weights: str = "units",
    draws: int = 999,
    seed: int = 1,
) -> CSEventStudy:
    """Callaway & Sant'Anna with csdid on log loans per 1,000 (balanced panel), universal base period.

    The table holds the event-time ATT with its influence-function standard error, pointwise 95 % normal
    interval and the simultaneous 95 % band (did's multiplier bootstrap of the event-time influence functions:
    Rademacher, ``draws`` draws, ``seed``; :func:`.arrays.multiplier_bootstrap`); the reference period
    ``-1 - anticipation`` has no standard error. ``aggregates`` holds did::aggte's four aggregations. The
    pre-trend test is csdid's Wald test that all pre-treatment ATT(g,t) are 0 (csdid reports no df).
    ``weights="population"`` weights each kommune by its mean population (csdid's ``weights_name``).
    """
    from csdid.att_gt import ATTgt

    from .arrays import multiplier_bootstrap

    vocabulary.check_choice("control_group", control_group, ControlGroup)
    df = cs_frame(sample, weights)
    if not (df["g"] > 0).any():
        raise DataError("adoption panel", "no adopting unit in the sample: nothing to estimate")
    if control_group == "nevertreated" and not (df["g"] == 0).any():
        raise DataError(
            "adoption panel",
            Problem("no never-treated unit in the sample", column="g", accepted="control_group='notyettreated'"),
        )
    if not (df["g"] == 0).any() and df.loc[df["g"] > 0, "g"].nunique() < 2:
        raise DataError("adoption panel", "one adoption cohort and no never-treated unit: no comparison units")
    atte: dict[str, dict] = {}
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
            weights_name=None if weights == "units" else "w",
        ).fit(est_method="reg", base_period="universal", bstrap=False)
        for kind in ("simple", "group", "calendar", "dynamic"):  # dynamic last: m.atte is its result
            extra = {"min_e": int(window[0]), "max_e": int(window[1])} if kind == "dynamic" else {}
            m.aggte(typec=kind, bstrap=False, **extra)
            atte[kind] = m.atte
    a = atte["dynamic"]
    ref = -1 - int(anticipation)
    table = pd.DataFrame(
        {
            "event_time": np.asarray(a["egt"], int),
            "estimate": np.asarray(a["att_egt"], float),
            "se": np.asarray(a["se_egt"], float),
        }
    )
    table["reference"] = table["event_time"] == ref
    table.loc[table["reference"], "se"] = np.nan
    table["low"] = table["estimate"] - Z95 * table["se"]
    table["high"] = table["estimate"] + Z95 * table["se"]
    table["p"] = 2 * stats.norm.sf(np.abs(table["estimate"] / table["se"]))
    table = table.set_index("event_time")
    # the simultaneous band: did's multiplier bootstrap of the event-time influence functions
    inf_all = np.asarray(a["inf_function"]["dynamic_inf_func_e"], float)
    keep = ~table["reference"].to_numpy()
    inf = inf_all[:, keep]
    boot = multiplier_bootstrap(inf, draws=draws, seed=seed)
    crit = float(boot.crit[0])
    est_times = table.index[keep]
    table["band_low"], table["band_high"] = np.nan, np.nan
    table.loc[est_times, "band_low"] = table.loc[est_times, "estimate"] - crit * boot.se[0]
    table.loc[est_times, "band_high"] = table.loc[est_times, "estimate"] + crit * boot.se[0]
    # the delete-one-kommune jackknife (the interval that covers at the real design: the recovery simulation)
    jk = cs_jackknife(df, control_group, anticipation, window)
    se_jk = pd.Series(jk.se[0], index=list(jk.labels)).reindex(table.index)
    table["se_jk"] = se_jk.where(~table["reference"])
    table["low_jk"] = table["estimate"] - Z95 * table["se_jk"]
    table["high_jk"] = table["estimate"] + Z95 * table["se_jk"]
    table["p_jk"] = 2 * stats.norm.sf(np.abs(table["estimate"] / table["se_jk"]))
    jk_times = [e for e in jk.labels if e in set(est_times)]
    idx = [list(jk.labels).index(e) for e in jk_times]
    crit_jk = sup_t_crit(jk.vcov[0][np.ix_(idx, idx)], draws=draws, seed=seed)
    table.loc[jk_times, "band_jk_low"] = table.loc[jk_times, "estimate"] - crit_jk * table.loc[jk_times, "se_jk"]
    table.loc[jk_times, "band_jk_high"] = table.loc[jk_times, "estimate"] + crit_jk * table.loc[jk_times, "se_jk"]
    label = "Callaway & Sant'Anna" + (" (population-weighted)" if weights == "population" else "")
    table, fam = _finish(table, f"event times {window[0]} to {window[1]} of the {label} event study", "p_jk")
    n = inf.shape[0]
    vcov = pd.DataFrame(inf.T @ inf / n / n, index=est_times, columns=est_times)
    aggregates, overall_by = {}, {}
    for kind, res in atte.items():
        aggregates[kind], overall_by[kind] = _aggregate_table(res, kind)
    overall = Effect.normal(overall_by["dynamic"].estimate, float(jk.overall_se[0]), CS_JACKKNIFE)
    simple_jk = Effect.normal(overall_by["simple"].estimate, float(jk.simple_se[0]), CS_JACKKNIFE)
    r = m.results
    attgt = pd.DataFrame(
        {"g": np.asarray(r["group"], int), "year": np.asarray(r["year"], int), "att": r["att"], "se": r["se"]}
    )
    w, wp = m.MP["W"], m.MP["Wpval"]
    pretrend = PretrendTest(
        float(w) if w is not None else np.nan,
        None,
        float(wp) if wp is not None else np.nan,
        "csdid Wald pre-test: all pre-treatment ATT(g,t) = 0, chi-squared",
    )
    return CSEventStudy(
        estimator="cs",
        table=table,
        pretrend=pretrend,
        n_units=int(df["id"].nunique()),
        n_obs=len(df),
        window=(int(window[0]), int(window[1])),
        anticipation=int(anticipation),
        overall=overall,
        family=fam,
        family_p="p_jk",
        vcov=vcov,
        interval=f"pointwise 95 %: {CS_INTERVAL}",
        band=f"simultaneous 95 %: did's multiplier bootstrap (Rademacher, {draws} draws, seed {seed}; "
        "bootstrap standard errors, sup-t critical value)",
        band_crit=crit,
        band_jk=f"simultaneous 95 %: sup-t band of the jackknife covariance ({draws} normal draws, seed {seed})",
        band_jk_crit=crit_jk,
        simple=simple_jk,
        fit=m,
        attgt=attgt,
        control_group=control_group,
        weights=weights,
        aggregates=aggregates,
        overall_by=overall_by,
        influence=inf,
    )
