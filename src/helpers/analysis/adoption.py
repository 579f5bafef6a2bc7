"""The adoption panel: library loans per unit and year around each kommune's move into cooperation.

Design
------
One row per library unit (97; unit 561 = Esbjerg + Fanø, :func:`helpers.data.usage.to_library_units`)
and year of the real loans series (2010-2015, 2018-2025). The survey rounds give each unit a
*treatment status* per round (does it report the treated level?); the **first round** at which it
reports the treated level gives its **first treated usage year** ``g`` by the pairing rule of
notebook 03 (:func:`helpers.analysis.models.usage_year`: round + ``offset``, default 2009->2010,
2011->2012, 2014->2015). Units never reporting it are never treated (``g = 0``).

Rules (each shown in :func:`timing`'s table)
--------------------------------------------
* **Always treated**: a unit treated at the *first* round of the configuration has no untreated
  year in the data (2009 -> 2010, the first year of the series) or an unknown start (a first
  round after 2009). It is left out of the estimators by default: their effect is not identified,
  the estimates describe the later adopters only.
* **Reporting a lower level later** (``reversals``): ``"absorbing"`` (default) keeps the unit
  treated from its first treated report on (the effect of first adoption; a later lower answer may
  be a change or a reporting difference); ``"exclude"`` leaves such units out.
* **Non-response**: an unanswered round says nothing; the adoption interval reaches back to the
  last round answered below the treated level. A unit answering no round is left out.
* **Interval-censored timing**: adoption happened somewhere between the last untreated report and
  the first treated one. By the pairing rule, the usage year paired with the last untreated round
  (round + offset) is untreated, so the earliest first treated year is that year + 1 (2011 for a
  unit untreated in 2009 and treated in 2011; 2013 for 2011 -> 2014). ``timing="earliest"`` dates
  adoption there (the sensitivity); ``timing="round"`` (default) at the round's usage year.

Years: 2016-2017 are not in the series (Statistics Denmark did not publish them): event times that
fall there have no observation; the estimators use calendar years, so event time ``e = year - g``
keeps its meaning across the gap. 2020-2021 (COVID-19 closures) are kept by default (the year
effects absorb a national shock) or left out with ``covid="exclude"``. 2024-2025 have no 1 January
population in ``data/raw/reference`` and so no exposure: they are left out. Values flagged as
reporting failures (:data:`helpers.data.usage.QUALITY_FLAGS`, e.g. Gribskov 2012 = 0) are left out by
default; the balanced-panel estimator (Callaway & Sant'Anna) then leaves those units out entirely.

Estimators
----------
* :func:`fit_twfe_event` — two-way fixed-effects Poisson (PPML, ``pyfixest.fepois``) of the loans
  count with unit and year fixed effects, ``log(population)`` as offset, event-time dummies
  (endpoints binned), standard errors clustered by kommune; :func:`fit_twfe_static` the one-dummy
  version. Both are biased when effects differ across adoption cohorts (forbidden comparisons).
* :func:`fit_cs` — Callaway & Sant'Anna (2021) group-time effects (``csdid``, outcome regression
  without covariates) on log loans per 1,000, never-treated or not-yet-treated controls, universal
  base period (the last year before ``g - anticipation``), aggregated to event time with analytic
  influence-function standard errors; its pre-trend Wald test. With never-treated controls its
  event-time estimates equal Sun & Abraham's interaction-weighted estimator (pyfixest's saturated
  event study) to 1e-8: two libraries, one estimand (tested).
* :func:`cs_event_arrays` — the same estimator written with numpy for many panels at once (the
  coverage simulation); tested equal to ``csdid`` to 1e-8 (``tests/test_adoption.py``). It exists
  because 500 ``csdid`` fits take minutes; nothing else is hand-written.

All effects are on the log scale (log rate ratio): ``exp(b) - 1`` is the relative change.
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from helpers.core import cooperation, paths
from helpers.core.errors import DataError, Problem
from helpers.data import usage

TREATMENTS = {
    "any": "any cooperation (models 1-4)",
    "staff": "library staff do the tasks (models 3-4)",
    "level>=k": "level k or higher under the ordering (k = 1..4; also written 'levelk+', e.g. 'level3+')",
}
TIMINGS = ("round", "earliest")
REVERSALS = ("absorbing", "exclude")
CONTROL_GROUPS = {
    "notyettreated": "not-yet-treated and never-treated units",
    "nevertreated": "never-treated units only",
}
COVID_YEARS = (2020, 2021)
COVID_CHOICES = ("include", "exclude")
SOURCES = ("real", "synthetic")
ESTIMATORS = {
    "cs": "Callaway & Sant'Anna (csdid), heterogeneity-robust",
    "twfe": "two-way fixed-effects Poisson (pyfixest)",
}
DEFAULT_WINDOW = (-4, 8)


# --- treatment and timing ----------------------------------------------------------------------
def treated_models(treatment: str, ordering=None) -> list[int]:
    """Model codes that count as treated: "any" (1-4), "staff" (3-4) or "level>=k" / "levelk+" under ``ordering``."""
    t = str(treatment).strip().replace(" ", "")
    if t == "any":
        return list(cooperation.COOPERATING)
    if t == "staff":
        return [3, 4]
    m = re.fullmatch(r"level>=([1-4])", t) or re.fullmatch(r"level([1-4])\+", t)
    if m:
        k = int(m.group(1))
        return sorted(code for code, level in cooperation.level_scores(ordering).items() if level >= k)
    raise ValueError(f"treatment {treatment!r}; accepted: {', '.join(TREATMENTS)} (e.g. 'level>=3')")


def round_models(rounds: Sequence[int], surveys: dict[int, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Reported model per library unit (rows, 97) and round (columns); <NA> where the unit did not answer.

    ``surveys`` maps a round to a frame with kommunekode and model (default: the cleaned rounds,
    :func:`helpers.data.survey.load_clean`). Fanø's row (563) is dropped: unit 561 takes Esbjerg's answer.
    """
    if surveys is None:
        from helpers.data import survey

        surveys = {int(r): survey.load_clean(int(r)) for r in rounds}
    out = pd.DataFrame(index=pd.Index(usage.unit_codes(), name="kommunekode"))
    for r in sorted(int(x) for x in rounds):
        if r not in surveys:
            raise ValueError(f"no survey frame for round {r}; given: {sorted(surveys)}")
        s = surveys[r][["kommunekode", "model"]].copy()
        s["model"] = pd.to_numeric(s["model"].astype("object"), errors="coerce").astype("Int64")
        s = s[s["kommunekode"].isin(out.index)].drop_duplicates("kommunekode")
        out[r] = s.set_index("kommunekode")["model"].reindex(out.index).where(lambda m: m.between(1, 5))
    return out.astype("Int64")


def timing(
    models: pd.DataFrame,
    treatment: str = "any",
    ordering=None,
    *,
    offset: int = 1,
    first_year: int = 2010,
    reversals: str = "absorbing",
) -> pd.DataFrame:
    """Adoption timing per unit from the reported models of the rounds (columns of ``models``, in order).

    Columns: history ("2009:5 2011:2 2014:3"), first_treated_round, g_round (first treated usage year by
    the pairing rule, 0 = never), g_earliest (earliest possible first treated year), category
    (never treated | adopter | always treated | no answer), reversal (a lower level reported after a
    treated one), left_censored (no untreated report before the first treated one), included, reason.
    """
    if reversals not in REVERSALS:
        raise ValueError(f"reversals {reversals!r}; accepted: {', '.join(REVERSALS)}")
    treated = set(treated_models(treatment, ordering))
    rounds = [int(c) for c in models.columns]
    if len(rounds) < 2:
        raise ValueError(f"an adoption panel needs at least two rounds; got {rounds}")
    rows = []
    for k, row in models.iterrows():
        status = {r: (pd.NA if pd.isna(row[r]) else int(row[r]) in treated) for r in rounds}
        history = " ".join(f"{r}:{'-' if pd.isna(row[r]) else int(row[r])}" for r in rounds)
        answered = [r for r in rounds if status[r] is not pd.NA]
        first = next((r for r in rounds if status[r] is True), None)
        rec = {
            "kommunekode": int(k),
            "history": history,
            "first_treated_round": first,
            "g_round": 0,
            "g_earliest": 0,
            "reversal": False,
            "left_censored": False,
        }
        if not answered:
            rec.update(category="no answer", included=False, reason="answered no round")
        elif first is None:
            last_missing = status[rounds[-1]] is pd.NA
            rec.update(
                category="never treated",
                included=True,
                reason="not treated at any answered round" + ("; the last round unanswered" if last_missing else ""),
            )
        else:
            g = first + offset
            before = [r for r in rounds if r < first and status[r] is False]
            rec["g_round"] = g
            rec["reversal"] = any(status[r] is False for r in rounds if r > first)
            if first == rounds[0]:
                rec.update(
                    category="always treated",
                    g_earliest=min(g, first_year),
                    included=False,
                    reason=f"treated at the first round ({first}): no untreated year observed or start unknown",
                )
            else:
                rec["left_censored"] = not before
                rec["g_earliest"] = (before[-1] + offset + 1) if before else first_year
                rec.update(
                    category="adopter",
                    included=True,
                    reason=(f"adopted after {before[-1]}" if before else "no untreated report before")
                    + f", by {first}",
                )
            if rec["reversal"]:
                rec["reason"] += "; reports a lower level later"
                if reversals == "exclude" and rec["included"]:
                    rec.update(included=False, reason=rec["reason"] + " (left out: reversals='exclude')")
        rows.append(rec)
    out = pd.DataFrame(rows).set_index("kommunekode")
    out["first_treated_round"] = out["first_treated_round"].astype("Int64")
    return out


def timing_summary(t: pd.DataFrame) -> pd.DataFrame:
    """Units per category and first treated year (round timing and earliest bound)."""
    return (
        t.groupby(["category", "g_round", "g_earliest"], dropna=False)
        .agg(units=("history", "size"), included=("included", "sum"), reversals=("reversal", "sum"))
        .reset_index()
    )


def reversal_table(t: pd.DataFrame) -> pd.DataFrame:
    """Units that report a lower level after a treated one, with the rule applied to them."""
    r = t[t["reversal"]].copy()
    r["rule"] = np.where(r["included"], "absorbing: treated from the first treated report on", "left out")
    r.loc[r["category"] == "always treated", "rule"] = "always treated: left out"
    return r[["history", "first_treated_round", "g_round", "category", "rule"]]


# --- outcome and panel -------------------------------------------------------------------------
def outcome_panel(source: str = "real") -> tuple[pd.DataFrame, bool]:
    """Loans per library unit and year of the real series: kommunekode, year, population, loans, loans_per_1000,
    quality_flag; and whether the source is synthetic (from the manifest)."""
    from helpers.data import provenance
    from helpers.data.synthetic import usage as synth

    if source == "real":
        df = usage.real_loans()
        return df[
            ["kommunekode", "year", "population", "loans", "loans_per_1000", "quality_flag"]
        ].copy(), provenance.is_synthetic(paths.usage_raw() / usage.REAL_KOMMUNE_FILE)
    if source == "synthetic":
        f = paths.usage_raw() / synth.ADOPTION_FILE
        if not f.is_file():
            raise DataError(f, "synthetic adoption panel missing; regenerate it with `borgerservice examples`")
        df = pd.read_csv(f)
        need = {"kommunekode", "year", "loans"}
        if not need <= set(df.columns):
            raise DataError(f, Problem("columns missing", column=", ".join(sorted(need - set(df.columns)))))
        pop = usage.unit_population(df["year"].unique())
        df = (
            df[["kommunekode", "year", "loans"]]
            .astype({"loans": float})
            .merge(pop, on=["kommunekode", "year"], how="left", validate="one_to_one")
        )
        df["loans_per_1000"] = df["loans"] / df["population"] * 1000
        df["quality_flag"] = pd.Series(pd.NA, index=df.index, dtype="str")
        return df[
            ["kommunekode", "year", "population", "loans", "loans_per_1000", "quality_flag"]
        ], provenance.is_synthetic(f)
    raise ValueError(f"usage source {source!r}; accepted: {', '.join(SOURCES)}")


def year_table(years: Sequence[int], covid: str = "include", population_years: Sequence[int] = ()) -> pd.DataFrame:
    """Every calendar year from the first to the last of the series: in the series, exposure, COVID, used, why."""
    years = sorted(int(y) for y in years)
    rows = []
    for y in range(years[0], years[-1] + 1):
        in_series = y in years
        why = []
        if not in_series:
            why.append(usage.REAL_LOANS_GAPS.get(y, "not in the series"))
        if in_series and y not in population_years:
            why.append("no 1 January population (exposure) in data/raw/reference")
        if y in COVID_YEARS:
            why.append(
                "COVID-19 closures: "
                + (
                    "kept; the year effect absorbs the national shock"
                    if covid == "include"
                    else "left out (covid='exclude')"
                )
            )
        used = in_series and y in population_years and not (y in COVID_YEARS and covid == "exclude")
        rows.append(
            {
                "year": y,
                "in_series": in_series,
                "has_population": y in population_years,
                "covid": y in COVID_YEARS,
                "used": used,
                "note": "; ".join(why),
            }
        )
    return pd.DataFrame(rows).set_index("year")


def build(
    rounds: Sequence[int],
    *,
    treatment: str = "any",
    ordering=None,
    source: str = "real",
    offset: int = 1,
    timing_rule: str = "round",
    covid: str = "include",
    exclude_flags: Sequence[str] = ("reporting_failure",),
    exclude: Sequence[int] = (),
    reversals: str = "absorbing",
    surveys: dict | None = None,
) -> dict:
    """The adoption panel and everything said about it.

    Returns {"panel": all unit-years with ``g`` (first treated year used), ``event_time``, ``treated``,
    ``in_sample`` and ``why_out``; "sample": the rows used; "timing": :func:`timing`; "years":
    :func:`year_table`; "flags": the flagged values met; "synthetic": bool (source or survey rounds)}.
    """
    if timing_rule not in TIMINGS:
        raise ValueError(f"timing {timing_rule!r}; accepted: {', '.join(TIMINGS)}")
    if covid not in COVID_CHOICES:
        raise ValueError(f"covid {covid!r}; accepted: {', '.join(COVID_CHOICES)}")
    models = round_models(rounds, surveys)
    synthetic_survey = False
    if surveys is None:
        from helpers.data import survey

        synthetic_survey = any(bool(survey.load_clean(int(r))["synthetic"].any()) for r in rounds)
    else:
        synthetic_survey = any(bool(df["synthetic"].any()) for df in surveys.values() if "synthetic" in df)
    t = timing(models, treatment, ordering, offset=offset, first_year=min(usage.REAL_LOANS_YEARS), reversals=reversals)
    df, synthetic_usage = outcome_panel(source)
    df = df[df["year"].isin(usage.REAL_LOANS_YEARS)].copy()
    gcol = "g_round" if timing_rule == "round" else "g_earliest"
    df = df.merge(
        t[[gcol, "category", "included"]].rename(columns={gcol: "g"}),
        left_on="kommunekode",
        right_index=True,
        how="left",
        validate="many_to_one",
    )
    df["event_time"] = np.where(df["g"] > 0, df["year"] - df["g"], np.nan)
    df["treated"] = (df["g"] > 0) & (df["year"] >= df["g"])
    years = year_table(usage.REAL_LOANS_YEARS, covid, sorted(df.loc[df["population"].notna(), "year"].unique()))
    why = pd.Series("", index=df.index)

    def _out(mask, text):  # every reason a row is left out, in this order
        nonlocal why
        text = pd.Series(text, index=df.index) if isinstance(text, str) else text
        why = why.mask(mask & (why == ""), text).mask(mask & (why != "") & (why != text), why + "; " + text)

    _out(~df["included"], "unit: " + df["category"].astype(str))
    _out(df["kommunekode"].isin(list(exclude)), "unit excluded by parameter")
    _out(~df["year"].map(years["used"]).astype(bool), "year: " + df["year"].map(years["note"]).astype(str))
    flagged = df["quality_flag"].isin(list(exclude_flags))
    _out(flagged, "value flagged: " + df["quality_flag"].astype(str))
    _out(df["loans"].isna() | ~(df["loans"] > 0), "no positive loans count")
    # a timing that is now always-treated in the data (earliest bound at the first year) has no pre-period
    first = min(usage.REAL_LOANS_YEARS)
    _out(
        df["included"] & (df["g"] > 0) & (df["g"] <= first),
        "unit: treated from the first year of the series (earliest timing)",
    )
    df["in_sample"] = why == ""
    df["why_out"] = why.replace("", pd.NA)
    df["log_pop"] = np.log(df["population"])
    rate = df["loans"] / df["population"] * 1000
    df["log_rate"] = np.log(rate.where(rate > 0))
    flags = df.loc[df["quality_flag"].notna(), ["kommunekode", "year", "loans_per_1000", "quality_flag", "in_sample"]]
    sample = df[df["in_sample"]].reset_index(drop=True)
    return {
        "panel": df.reset_index(drop=True),
        "sample": sample,
        "timing": t,
        "years": years,
        "flags": flags.reset_index(drop=True),
        "synthetic": bool(synthetic_usage or synthetic_survey),
        "synthetic_usage": bool(synthetic_usage),
        "synthetic_survey": bool(synthetic_survey),
        "models": models,
    }


def cohort_table(sample: pd.DataFrame) -> pd.DataFrame:
    """Units and unit-years per first treated year in the estimation sample (0 = never treated)."""
    return sample.groupby("g").agg(
        units=("kommunekode", "nunique"),
        unit_years=("year", "size"),
        first_year=("year", "min"),
        last_year=("year", "max"),
    )


def balanced(sample: pd.DataFrame) -> pd.DataFrame:
    """Only the units observed in every year of the sample (csdid's panel estimator needs a balanced panel)."""
    years = sample["year"].nunique()
    n = sample.groupby("kommunekode")["year"].transform("nunique")
    return sample[n == years].reset_index(drop=True)


# --- estimators --------------------------------------------------------------------------------
@contextlib.contextmanager
def _quiet():
    """pyfixest 0.60 warns about pandas' deprecated ``inplace`` inside its own code; not ours to act on."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"pyfixest\..*")
        yield


def _name(e: int) -> str:
    return f"pre{-e}" if e < 0 else f"post{e}"


def event_dummies(sample: pd.DataFrame, window=DEFAULT_WINDOW, anticipation: int = 0) -> tuple[pd.DataFrame, list[int]]:
    """Event-time dummies for treated units, endpoints binned; the reference period ``-1 - anticipation`` has none."""
    lo, hi = int(window[0]), int(window[1])
    ref = -1 - int(anticipation)
    if not lo <= ref < 0 <= hi:
        raise ValueError(f"event window {window} must contain the reference period {ref} and event time 0")
    df = sample.copy()
    e = df["event_time"].clip(lo, hi)
    times = [k for k in range(lo, hi + 1) if k != ref]
    for k in times:
        df[_name(k)] = ((e == k) & (df["g"] > 0)).astype(float)
    return df, times


def _wald(b: np.ndarray, V: np.ndarray) -> tuple[float, int, float]:
    b = np.asarray(b, float)
    ok = np.isfinite(b)
    b, V = b[ok], V[np.ix_(ok, ok)]
    if not len(b):
        return float("nan"), 0, float("nan")
    W = float(b @ np.linalg.pinv(V) @ b)
    return W, len(b), float(stats.chi2.sf(W, len(b)))


def fit_twfe_event(sample: pd.DataFrame, window=DEFAULT_WINDOW, anticipation: int = 0) -> dict:
    """PPML event study: loans ~ event dummies | unit + year, offset log(population), CRV1 by kommune.

    Returns {"table": event_time, estimate, se, low, high, p, reference; "pretrend": {W, df, p}; "fit"}.
    The reference row (``-1 - anticipation``) is 0 with no interval; endpoints bin all earlier/later years.
    """
    import pyfixest as pf

    df, times = event_dummies(sample, window, anticipation)
    names = [_name(k) for k in times]
    with _quiet():
        fit = pf.fepois(
            f"loans ~ {' + '.join(names)} | kommunekode + year", data=df, offset="log_pop", vcov={"CRV1": "kommunekode"}
        )
    tidy = fit.tidy()
    rows = []
    for k, nm in zip(times, names, strict=False):
        if nm in tidy.index:
            r = tidy.loc[nm]
            rows.append(
                {
                    "event_time": k,
                    "estimate": r["Estimate"],
                    "se": r["Std. Error"],
                    "low": r["2.5%"],
                    "high": r["97.5%"],
                    "p": r["Pr(>|t|)"],
                    "reference": False,
                }
            )
        else:
            rows.append(
                {
                    "event_time": k,
                    "estimate": np.nan,
                    "se": np.nan,
                    "low": np.nan,
                    "high": np.nan,
                    "p": np.nan,
                    "reference": False,
                }
            )
    rows.append(
        {
            "event_time": -1 - anticipation,
            "estimate": 0.0,
            "se": np.nan,
            "low": np.nan,
            "high": np.nan,
            "p": np.nan,
            "reference": True,
        }
    )
    table = pd.DataFrame(rows).sort_values("event_time").set_index("event_time")
    pre = [nm for k, nm in zip(times, names, strict=False) if k < -anticipation and nm in tidy.index]
    V = pd.DataFrame(fit._vcov, index=fit._coefnames, columns=fit._coefnames)
    W, dof, p = _wald(tidy.loc[pre, "Estimate"].to_numpy(), V.loc[pre, pre].to_numpy()) if pre else (np.nan, 0, np.nan)
    return {
        "table": table,
        "pretrend": {"W": W, "df": dof, "p": p, "test": "joint Wald, pre-period coefficients = 0 (CRV1)"},
        "fit": fit,
        "n": int(fit._N),
    }


def fit_twfe_static(sample: pd.DataFrame, anticipation: int = 0) -> dict:
    """Naive PPML: loans ~ treated | unit + year, offset log(population), CRV1 by kommune (one effect for all).

    Returns {estimate, se, low, high, p, n; "fit": the pyfixest fit (for ``tables.regression_table``;
    not JSON: leave it out of results files)}.
    """
    import pyfixest as pf

    df = sample.copy()
    df["treated_a"] = ((df["g"] > 0) & (df["year"] >= df["g"] - int(anticipation))).astype(float)
    with _quiet():
        fit = pf.fepois(
            "loans ~ treated_a | kommunekode + year", data=df, offset="log_pop", vcov={"CRV1": "kommunekode"}
        )
    r = fit.tidy().loc["treated_a"]
    return {
        "estimate": float(r["Estimate"]),
        "se": float(r["Std. Error"]),
        "low": float(r["2.5%"]),
        "high": float(r["97.5%"]),
        "p": float(r["Pr(>|t|)"]),
        "n": int(fit._N),
        "fit": fit,
    }


def fit_cs(
    sample: pd.DataFrame, control_group: str = "notyettreated", anticipation: int = 0, window=DEFAULT_WINDOW
) -> dict:
    """Callaway & Sant'Anna with csdid on log loans per 1,000 (balanced panel), universal base period.

    Returns {"table": event-time ATT with se, low, high (pointwise 95 %), reference row; "overall":
    average of the post-period event-time effects in the window; "pretrend": csdid's Wald test that
    all pre-treatment ATT(g,t) are 0; "attgt": the group-time table; "n_units"}.
    """
    from csdid.att_gt import ATTgt

    if control_group not in CONTROL_GROUPS:
        raise ValueError(f"control_group {control_group!r}; accepted: {', '.join(CONTROL_GROUPS)}")
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
    table = table.set_index("event_time")[["estimate", "se", "low", "high", "p", "reference"]]
    r = m.results
    attgt = pd.DataFrame(
        {"g": np.asarray(r["group"], int), "year": np.asarray(r["year"], int), "att": r["att"], "se": r["se"]}
    )
    post = table[(table.index >= 0)]
    return {
        "table": table,
        "attgt": attgt,
        "n_units": int(df["id"].nunique()),
        "overall": {"estimate": float(post["estimate"].mean()), "event_times": post.index.tolist()},
        "pretrend": {
            "W": float(m.MP["W"]) if m.MP["W"] is not None else np.nan,
            "p": float(m.MP["Wpval"]) if m.MP["Wpval"] is not None else np.nan,
            "test": "csdid Wald pre-test: all pre-treatment ATT(g,t) = 0",
        },
    }


# --- truth of the synthetic panel ------------------------------------------------------------
def load_adoption_truth() -> pd.DataFrame:
    """The synthetic adoption panel's truth per unit and year (cohort, event_time, log_effect). SYNTHETIC."""
    from helpers.data.synthetic import usage as synth

    f = paths.usage_raw() / synth.ADOPTION_TRUTH_FILE
    if not f.is_file():
        raise DataError(f, "truth of the synthetic adoption panel missing; regenerate it with `borgerservice examples`")
    return pd.read_csv(f)


def true_event_effects(sample: pd.DataFrame, truth: pd.DataFrame, window=DEFAULT_WINDOW) -> pd.Series:
    """The estimand of :func:`fit_cs` on this sample: per event time, the cohort-size weighted mean of the
    true log effects of the units as classified (their true effect in year g + e, minus that in the base year)."""
    df = balanced(sample).merge(truth[["kommunekode", "year", "log_effect"]], on=["kommunekode", "year"], how="left")
    units = df.drop_duplicates("kommunekode")
    sizes = units[units["g"] > 0].groupby("g").size()
    years = sorted(df["year"].unique())
    eff = df.pivot(index="kommunekode", columns="year", values="log_effect")
    gof = units.set_index("kommunekode")["g"]
    out = {}
    for e in range(int(window[0]), int(window[1]) + 1):
        num = den = 0.0
        for g, n_g in sizes.items():
            t = g + e
            base = max((y for y in years if y < g), default=None)
            if t not in years or base is None:
                continue
            members = gof.index[gof == g]
            num += n_g * float((eff.loc[members, t] - eff.loc[members, base]).mean())
            den += n_g
        if den:
            out[e] = num / den
    return pd.Series(out, name="true").rename_axis("event_time")


# --- the estimator for many panels at once (simulation) ------------------------------------------
def cs_event_arrays(
    Y: np.ndarray,
    g: np.ndarray,
    years: Sequence[int],
    *,
    control_group: str = "notyettreated",
    anticipation: int = 0,
    window=DEFAULT_WINDOW,
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Callaway & Sant'Anna event-time effects and standard errors for ``R`` balanced panels at once.

    ``Y``: (R, n, T) outcomes, ``g``: (n,) first treated year (0 never), ``years``: the T calendar years.
    Universal base period, no covariates (outcome regression = difference in mean changes), cohort-size
    weights with the weight-estimation term of the influence function, as csdid/did's ``aggte``.
    Returns {event_time: (estimate (R,), se (R,))}; the reference period is left out.
    """
    Y = np.asarray(Y, float)
    R, n, T = Y.shape
    years = list(years)
    g = np.asarray(g)
    groups = sorted(int(x) for x in set(g.tolist()) if x > 0 and any(y + anticipation < x for y in years))
    pg = {gg: float(np.mean(g == gg)) for gg in groups}
    cells = {}
    for gg in groups:
        b = max(i for i, y in enumerate(years) if y + anticipation < gg)
        for ti, t in enumerate(years):
            if ti == b:
                continue
            treat = g == gg
            if control_group == "nevertreated":
                ctrl = g == 0
            else:
                ctrl = (g == 0) | ((g > max(t, years[b]) + anticipation) & (g != gg))
            if not ctrl.any():
                continue
            d = Y[:, :, ti] - Y[:, :, b]
            n1 = treat.sum() + ctrl.sum()
            p1, p0 = treat.sum() / n1, ctrl.sum() / n1
            m1 = d[:, treat].mean(axis=1)
            m0 = d[:, ctrl].mean(axis=1)
            inf = np.zeros((R, n))
            inf[:, treat] = (d[:, treat] - m1[:, None]) / p1
            inf[:, ctrl] = -(d[:, ctrl] - m0[:, None]) / p0
            cells[(gg, t)] = (m1 - m0, inf * (n / n1))
    out = {}
    for e in range(int(window[0]), int(window[1]) + 1):
        keep = [(gg, t) for (gg, t) in cells if t - gg == e]
        if not keep:
            continue
        p = np.array([pg[gg] for gg, _ in keep])
        w = p / p.sum()
        att = np.stack([cells[c][0] for c in keep], axis=1)  # (R, k)
        infs = np.stack([cells[c][1] for c in keep], axis=2)  # (R, n, k)
        est = att @ w
        ind = np.stack([(g == gg).astype(float) for gg, _ in keep], axis=1)  # (n, k)
        if1 = (ind - p) / p.sum()
        if2 = (ind - p).sum(axis=1, keepdims=True) * (p / p.sum() ** 2)
        wif = if1 - if2  # (n, k)
        psi = infs @ w + att @ wif.T  # (R, n)
        se = np.sqrt((psi**2).mean(axis=1) / n)
        out[e] = (est, se)
    return out


def twfe_static_arrays(Y: np.ndarray, D: np.ndarray) -> np.ndarray:
    """OLS two-way fixed-effects coefficient of a treatment dummy ``D`` (n, T) for R balanced panels ``Y`` (R, n, T)."""
    Y = np.asarray(Y, float)
    D = np.asarray(D, float)

    def within(a):
        return (
            a - a.mean(axis=-1, keepdims=True) - a.mean(axis=-2, keepdims=True) + a.mean(axis=(-1, -2), keepdims=True)
        )

    Dt = within(D)
    return (within(Y) * Dt).sum(axis=(1, 2)) / (Dt**2).sum()


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
    effect,
    reps: int = 500,
    *,
    window=DEFAULT_WINDOW,
    seed: int = 1,
    control_group: str = "notyettreated",
    sd_noise: float = 0.05,
) -> dict:
    """Coverage of the 95 % intervals of :func:`cs_event_arrays` and bias of static TWFE, on panels with known effects.

    Returns {"event": per event time: true, mean estimate, bias, coverage, mc_se (Monte Carlo se of
    the coverage); "twfe": {"true_att" (the post-period average effect over treated unit-years), "mean",
    "bias"}}.
    """
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
    return {
        "event": pd.DataFrame(rows).set_index("event_time"),
        "twfe": {
            "true_att": true_att,
            "mean": float(twfe.mean()),
            "bias": float(twfe.mean() - true_att),
            "sd": float(twfe.std(ddof=1)),
        },
        "reps": reps,
    }


def estimates_vs_truth(table: pd.DataFrame, truth: pd.Series) -> pd.DataFrame:
    """Event-time estimates beside the true effects, and whether the 95 % interval covers it."""
    t = table[["estimate", "low", "high"]].join(truth, how="left")
    covered = ((t["low"] <= t["true"]) & (t["true"] <= t["high"])).astype("boolean")
    t["covered"] = covered.mask(table["reference"].to_numpy() | t["true"].isna().to_numpy())
    return t


def synthetic_effect(cohort: int, year: int) -> float:
    """The synthetic generator's true effect path (cohort-heterogeneous), for simulations on any sample."""
    from helpers.data.synthetic import usage as synth

    cohort = int(cohort)
    if not cohort or cohort in synth.COHORT_SCALE:
        return synth.adoption_effect(cohort, year)
    like = (
        max(g for g in synth.COHORT_SCALE if g <= cohort)
        if cohort >= min(synth.COHORT_SCALE)
        else min(synth.COHORT_SCALE)
    )
    return synth.adoption_effect(
        like, int(year) - cohort + like
    )  # other cohorts (other rounds): the nearest earlier one's scale


def sensitivity(
    rounds: Sequence[int],
    variants: dict[str, dict],
    *,
    base: dict,
    control_group: str = "notyettreated",
    anticipation: int = 0,
    window=DEFAULT_WINDOW,
    estimator: str = "cs",
    surveys: dict | None = None,
) -> pd.DataFrame:
    """The headline average post-adoption effect and the naive TWFE effect under variants of :func:`build`'s options.

    ``base``: the options of the main specification; each variant overrides some of them. Columns:
    units, adopters, avg_post (mean over the event times 0..window end of the headline estimator),
    twfe_static (with its 95 % interval), pretrend_p (headline estimator).
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator {estimator!r}; accepted: {', '.join(ESTIMATORS)}")
    rows = {}
    for name, change in variants.items():
        b = build(rounds, **{**base, **change, "surveys": surveys})
        s = b["sample"]
        if estimator == "cs":
            fit = fit_cs(s, control_group, anticipation, window)
            t, pre, units = fit["table"], fit["pretrend"]["p"], fit["n_units"]
        else:
            fit = fit_twfe_event(s, window, anticipation)
            t, pre, units = fit["table"], fit["pretrend"]["p"], s["kommunekode"].nunique()
        st = fit_twfe_static(s, anticipation)
        post = t.loc[(t.index >= 0) & ~t["reference"], "estimate"]
        rows[name] = {
            "units": units,
            "adopters": int(s.loc[s["g"] > 0, "kommunekode"].nunique()),
            "avg_post": float(post.mean()),
            "twfe_static": st["estimate"],
            "twfe_low": st["low"],
            "twfe_high": st["high"],
            "pretrend_p": pre,
        }
    return pd.DataFrame(rows).T.rename_axis("variant")


def sensitivity_variants(timing_rule: str, covid: str, exclude_flags: Sequence[str], reversals: str) -> dict[str, dict]:
    """The specification as given, then each data choice turned the other way (one at a time)."""
    other_timing = {"round": "earliest", "earliest": "round"}[timing_rule]
    return {
        "as specified": {},
        f"timing at the {'earlier bound' if other_timing == 'earliest' else 'round'}": {"timing_rule": other_timing},
        f"COVID years {'excluded' if covid == 'include' else 'included'}": {
            "covid": "exclude" if covid == "include" else "include"
        },
        ("flagged values kept" if exclude_flags else "reporting failures left out"): {
            "exclude_flags": () if exclude_flags else ("reporting_failure",)
        },
        f"reversals {'excluded' if reversals == 'absorbing' else 'absorbing'}": {
            "reversals": "exclude" if reversals == "absorbing" else "absorbing"
        },
    }
