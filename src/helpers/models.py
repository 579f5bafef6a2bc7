"""Models of cooperation level against library usage, and checks that they recover known effects.

* Count models per round: negative binomial with the dispersion estimated by profile likelihood
  (as R's glm.nb; statsmodels' discrete NegativeBinomial diverges or stops early with exposures
  the size of a municipality's population, and GLM NegativeBinomial alone keeps alpha = 1),
  with population as exposure; Poisson with HC3 standard errors as a check.
* A change model between two rounds: the change in log usage per inhabitant against the change
  in cooperation (first differences = municipality fixed effects with two periods).
* An ordinal logit of the cooperation level on municipal characteristics (no constant: the
  thresholds play its part; statsmodels#7418), thresholds converted to the usual cut points.
* Simulation: datasets with known rate ratios, to check coverage and bias and to find the
  smallest effect 98 municipalities can detect.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy.optimize import minimize_scalar
from statsmodels.miscmodels.ordinal_model import OrderedModel

from .cooperation import DEFAULT_ORDERING, SHORT_NAMES, parse_ordering
from .errors import DataError, Problem

CONTROLS = ("C(kommunegruppe)", "merged_2007")
OUTCOMES = ("visits", "loans", "downloads")


def score(model: pd.Series, ordering=DEFAULT_ORDERING) -> pd.Series:
    """Cooperation level 0-4 by position in ``ordering``; non-response (0) is missing."""
    pos = {m: i for i, m in enumerate(parse_ordering(ordering))}
    return pd.to_numeric(model, errors="coerce").astype("Int64").map(pos).astype(float)


def analysis_frame(survey: pd.DataFrame, panel: pd.DataFrame, usage_year: int, outcome: str) -> pd.DataFrame:
    """Survey answers of one round joined 1:1 to one usage year; only kommuner that answered.

    ``survey`` needs kommunekode and model; ``panel`` one row per library unit and year with
    ``<outcome>``, population and the controls. Fanø (563) is served by Esbjerg (561): the
    panel's unit 561 covers both, so a survey row for 563 is dropped here (named in ``dropped``).
    """
    if outcome not in panel:
        raise ValueError(f"outcome {outcome!r} not in the usage panel; accepted: {[o for o in OUTCOMES if o in panel]}")
    year = panel[panel["year"] == usage_year]
    if year.empty:
        raise DataError("usage panel", f"no usage data for {usage_year}; years present: {sorted(panel['year'].unique())}")
    if year[outcome].isna().all():
        with_values = sorted(int(y) for y in panel.loc[panel[outcome].notna(), "year"].unique())
        source = f" (source: {year[f'{outcome}_source'].iat[0]})" if f"{outcome}_source" in year else ""
        raise DataError("usage panel", Problem(f"no {outcome} values for usage year {usage_year}{source}", column=outcome,
                                               accepted=f"a round whose usage year has {outcome}: {with_values}"))
    s = survey[["kommunekode", "model"]].copy()
    s["model"] = pd.to_numeric(s["model"].astype("object"), errors="coerce").astype("Int64")
    s = s[s["model"].between(1, 5)]
    cols = ["kommunekode", "population", outcome, "kommunegruppe", "regionsnavn", "merged_2007"]
    if "outlier" in year:
        cols.append("outlier")
    df = s.merge(year[cols], on="kommunekode", how="inner", validate="one_to_one")
    df = df[df[outcome].notna() & (df["population"] > 0)].copy()
    df.attrs["dropped"] = sorted(set(s["kommunekode"]) - set(df["kommunekode"]))
    df["model"] = df["model"].astype(int)
    df["rate_per_1000"] = df[outcome] / df["population"] * 1000
    df["log_population"] = np.log(df["population"])
    return df.reset_index(drop=True)


def _formula(outcome: str, spec: str, controls: Sequence[str]) -> str:
    if spec == "categorical":
        coop = "C(model, Treatment(reference=5))"
    elif spec == "score":
        coop = "score"
    else:
        raise ValueError(f"spec {spec!r}: accepted 'categorical' or 'score'")
    return " + ".join([f"{outcome} ~ {coop}", *controls])


def fit_count(df: pd.DataFrame, outcome: str, *, spec="categorical", family="negbin", ordering=DEFAULT_ORDERING, controls=CONTROLS):
    """Fit a count model of ``outcome`` with log(population) as offset; returns the statsmodels result."""
    data = df.assign(score=score(df["model"], ordering))
    formula = _formula(outcome, spec, controls)
    if family == "negbin":
        return fit_negbin(formula, data)
    if family == "poisson":
        return smf.glm(formula, data=data, family=sm.families.Poisson(), exposure=data["population"]).fit(cov_type="HC3")
    raise ValueError(f"family {family!r}: accepted 'negbin' or 'poisson'")


def fit_negbin(formula: str, data: pd.DataFrame):
    """Negative binomial (NB2) GLM with alpha maximising the full log-likelihood; ``result.alpha`` holds it.

    The mean parameters and alpha are orthogonal in NB2, so the GLM standard errors at the
    profiled alpha are the usual maximum-likelihood ones.
    """
    def fit(alpha):
        family = sm.families.NegativeBinomial(alpha=alpha)
        return smf.glm(formula, data=data, family=family, exposure=data["population"]).fit()

    best = minimize_scalar(lambda la: -fit(np.exp(la)).llf, bounds=(np.log(1e-6), np.log(10.0)), method="bounded", options={"xatol": 1e-4})
    result = fit(float(np.exp(best.x)))
    result.alpha = float(np.exp(best.x))
    return result


def irr_table(result, *, pattern: str = "model|score") -> pd.DataFrame:
    """Coefficients of the cooperation terms as incidence-rate ratios with 95 % intervals."""
    ci = result.conf_int()
    t = pd.DataFrame({"coef": result.params, "se": result.bse, "p": result.pvalues, "low": ci[0], "high": ci[1]})
    t = t[t.index.str.contains(pattern)]
    out = t.assign(irr=np.exp(t["coef"]), irr_low=np.exp(t["low"]), irr_high=np.exp(t["high"]))
    out.index = [_term_label(i) for i in out.index]
    return out.rename_axis("term")


def _term_label(term: str) -> str:
    if "[T." in term:
        m = int(term.split("[T.")[1].rstrip("]"))
        return f"model {m} ({SHORT_NAMES[m]})"
    return "cooperation score (per level)" if term == "score" else term


def dispersion(result) -> float:
    """Pearson chi2 / residual df: about 1 for a well-specified Poisson, far above with overdispersion."""
    return float(np.sum(np.asarray(result.resid_pearson) ** 2) / result.df_resid)


def pearson_residuals(result) -> pd.DataFrame:
    """Fitted means and Pearson residuals of a negative binomial fit (variance mu + alpha mu^2)."""
    mu = np.asarray(result.fittedvalues)
    y = np.asarray(result.model.endog)
    alpha = getattr(result, "alpha", 0.0)
    return pd.DataFrame({"fitted": mu, "observed": y, "pearson": (y - mu) / np.sqrt(mu + alpha * mu**2)})


def irr_in_words(row: pd.Series, outcome: str, synthetic: bool) -> str:
    """One sentence stating an incidence-rate ratio in plain words."""
    pct = (row["irr"] - 1) * 100
    lo, hi = (row["irr_low"] - 1) * 100, (row["irr_high"] - 1) * 100
    direction = "more" if pct >= 0 else "fewer"
    what = "per level of cooperation" if "score" in row.name else f"in {row.name} than in municipalities without cooperation"
    text = (f"{abs(pct):.1f} % {direction} {outcome} per inhabitant {what} "
            f"(95 % interval {lo:+.1f} % to {hi:+.1f} %), holding kommunegruppe and the 2007 merger fixed.")
    return ("[synthetic example, not a finding] " + text) if synthetic else text


def change_frame(a: pd.DataFrame, b: pd.DataFrame, ordering=DEFAULT_ORDERING, outcome: str = "rate_per_1000") -> pd.DataFrame:
    """Kommuner in both analysis frames: change in cooperation score and in log usage per inhabitant."""
    cols = ["kommunekode", "model", outcome]
    m = a[cols].merge(b[cols + ["kommunegruppe", "merged_2007"]], on="kommunekode", suffixes=("_a", "_b"), validate="one_to_one")
    m = m[(m[f"{outcome}_a"] > 0) & (m[f"{outcome}_b"] > 0)].copy()
    m["d_score"] = score(m["model_b"], ordering) - score(m["model_a"], ordering)
    m["d_log_rate"] = np.log(m[f"{outcome}_b"]) - np.log(m[f"{outcome}_a"])
    m["started"] = ((m["model_a"] == 5) & (m["model_b"] != 5)).astype(int)
    return m


def fit_change(changes: pd.DataFrame, term: str = "d_score"):
    """First-difference (two-period fixed-effects) model with HC3 errors; the intercept is the common trend."""
    return smf.ols(f"d_log_rate ~ {term}", data=changes).fit(cov_type="HC3")


ORDINAL_POPULATION_CENTRE = 50_000  # cut points then describe a kommune of 50,000 in kommunegruppe 1, not merged


def ordinal_design(df: pd.DataFrame) -> pd.DataFrame:
    """Covariates for the ordinal logit, without a constant: log population (centred), kommunegruppe dummies, merger."""
    kg = pd.get_dummies(df["kommunegruppe"].astype(int), prefix="kommunegruppe", drop_first=True, dtype=float)
    logpop = (df["log_population"] - np.log(ORDINAL_POPULATION_CENTRE)).rename("log_population_vs_50000")
    return pd.concat([logpop, kg, df[["merged_2007"]].astype(float)], axis=1)


def fit_ordinal(df: pd.DataFrame, ordering=DEFAULT_ORDERING):
    """Ordinal logit of the cooperation level on municipal characteristics (no constant)."""
    levels = parse_ordering(ordering)
    present = [lv for lv in levels if (df["model"] == lv).any()]
    endog = pd.Series(pd.Categorical(df["model"], categories=present, ordered=True), index=df.index)
    model = OrderedModel(endog, ordinal_design(df), distr="logit")
    return model.fit(method="bfgs", disp=0, maxiter=2000)


def thresholds(result) -> pd.Series:
    """Cut points as in R's MASS::polr: statsmodels stores the first, then log increments."""
    k = result.model.k_levels - 1
    raw = np.asarray(result.params)[-k:]
    cuts = np.concatenate([[raw[0]], raw[0] + np.cumsum(np.exp(raw[1:]))])
    levels = list(result.model.labels)
    return pd.Series(cuts, index=[f"{levels[i]}|{levels[i + 1]}" for i in range(k)], name="cut point")


# --- simulation --------------------------------------------------------------------------------

def simulate_counts(df: pd.DataFrame, rate_per_person: float, irr: dict[int, float], alpha: float, rng: np.random.Generator) -> np.ndarray:
    """Negative binomial counts (variance mu + alpha mu^2) with known rate ratios per model vs model 5."""
    mu = df["population"].to_numpy() * rate_per_person * df["model"].map(lambda m: irr.get(m, 1.0)).to_numpy()
    n = 1.0 / alpha
    return rng.negative_binomial(n, n / (n + mu))


def coverage_study(df: pd.DataFrame, irr: dict[int, float], *, alpha=0.05, rate=5.0, reps=200, seed=1) -> pd.DataFrame:
    """Fit the negative binomial model to ``reps`` simulated datasets; coverage and bias per model term.

    ``mc_se`` is the Monte Carlo standard error of the mean estimate: a bias within about two of
    them is indistinguishable from zero with this many repetitions.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(reps):
        sim = df.assign(y=simulate_counts(df, rate, irr, alpha, rng))
        t = irr_table(fit_count(sim, "y", controls=()))
        for m, true in irr.items():
            row = t.loc[_term_label(f"C(model)[T.{m}]")]
            rows.append({"rep": r, "model": m, "true_log_irr": np.log(true), "est": row["coef"],
                         "covered": row["low"] <= np.log(true) <= row["high"]})
    sims = pd.DataFrame(rows)
    return sims.groupby("model").agg(true_log_irr=("true_log_irr", "first"), mean_est=("est", "mean"), sd_est=("est", "std"),
                                     coverage=("covered", "mean"), reps=("rep", "size")).assign(
        bias=lambda d: d["mean_est"] - d["true_log_irr"], mc_se=lambda d: d["sd_est"] / np.sqrt(d["reps"]))


def power_curve(df: pd.DataFrame, effects: Sequence[float], *, alpha=0.05, rate=5.0, reps=200, seed=2, level=0.05) -> pd.DataFrame:
    """Power to detect a rate ratio between cooperating (models 1-4) and other kommuner.

    Each dataset is fitted with a GLM negative binomial at the true dispersion (fast and
    adequate for power); the share of fits with p < ``level`` is the power.
    """
    rng = np.random.default_rng(seed)
    coop = (df["model"] != 5).astype(float).to_numpy()
    X = sm.add_constant(coop)
    rows = []
    for effect in effects:
        hits = 0
        for _ in range(reps):
            y = simulate_counts(df.assign(model=np.where(coop == 1, 1, 5)), rate, {1: effect}, alpha, rng)
            res = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=alpha), exposure=df["population"].to_numpy()).fit()
            hits += res.pvalues[1] < level
        rows.append({"irr": effect, "power": hits / reps})
    return pd.DataFrame(rows)


def minimal_detectable(curve: pd.DataFrame, target: float = 0.8) -> float | None:
    """Smallest rate ratio with power >= target, interpolated on the curve; None if never reached."""
    above = curve[curve["power"] >= target]
    if above.empty:
        return None
    i = above.index[0]
    if i == curve.index[0]:
        return float(curve.loc[i, "irr"])
    prev = curve.loc[:i].iloc[-2]
    x0, y0, x1, y1 = prev["irr"], prev["power"], curve.loc[i, "irr"], curve.loc[i, "power"]
    return float(x0 + (target - y0) * (x1 - x0) / (y1 - y0))


# --- sensitivity -------------------------------------------------------------------------------

ORDERINGS = {"5<1<2<3<4": (5, 1, 2, 3, 4), "5<1<3<2<4": (5, 1, 3, 2, 4)}
EXCLUSIONS = {
    "all kommuner": (),
    "without København and Frederiksberg": (101, 147),
    "without Esbjerg/Fanø": (561, 563),
}


def sensitivity(df: pd.DataFrame, outcome: str, orderings=ORDERINGS, exclusions=EXCLUSIONS, controls=CONTROLS) -> pd.DataFrame:
    """The cooperation-score rate ratio under each ordering of models 2 and 3 and each exclusion."""
    rows = []
    for oname, ordering in orderings.items():
        for ename, codes in exclusions.items():
            sub = df[~df["kommunekode"].isin(codes)]
            t = irr_table(fit_count(sub, outcome, spec="score", ordering=ordering, controls=controls)).iloc[0]
            rows.append({"ordering": oname, "sample": ename, "n": len(sub), "irr": t["irr"],
                         "irr_low": t["irr_low"], "irr_high": t["irr_high"], "p": t["p"]})
    return pd.DataFrame(rows)


# --- inputs and per-round fits for the model notebook ------------------------------------------

USAGE_SOURCES = {"synthetic": "synthetic", "real": "real", "statbank": "statbank"}


def usage_year(survey_year: int, offset: int = 1) -> int:
    """The usage year paired with a survey round.

    The rounds were answered in the autumn (September 2011) and describe the organisation in
    place from then on, so the default pairs a round with the following calendar year. It also
    makes the real loans series usable for 2009 (it starts in 2010).
    """
    return int(survey_year) + int(offset)


def model_inputs(rounds: Sequence[int], outcome: str, usage_source: str, offset: int = 1, exclude: Sequence[int] = ()) -> dict:
    """Analysis frames per round, the usage panel, and whether anything used is synthetic."""
    from . import survey, usage

    if usage_source not in USAGE_SOURCES:
        raise ValueError(f"usage_source {usage_source!r}; accepted: {sorted(USAGE_SOURCES)}")
    if usage_source == "real" and outcome != "loans":
        raise ValueError("the real series holds physical loans only: use outcome='loans' with usage_source='real'")
    panel = usage.build_panel(sources={outcome: usage_source})
    frames, synthetic, pairing = {}, bool(panel[f"{outcome}_synthetic"].any()), {}
    for year in rounds:
        s = survey.load_clean(year)
        synthetic |= bool(s["synthetic"].any())
        frame = analysis_frame(s, panel, usage_year(year, offset), outcome)
        frames[year] = frame[~frame["kommunekode"].isin(exclude)].reset_index(drop=True)
        pairing[year] = {"usage_year": usage_year(year, offset), "n": len(frames[year]), "dropped": frame.attrs["dropped"]}
    return {"frames": frames, "panel": panel, "synthetic": synthetic, "pairing": pd.DataFrame(pairing).T.rename_axis("survey round")}


def round_models(df: pd.DataFrame, outcome: str, ordering=DEFAULT_ORDERING) -> tuple[pd.DataFrame, dict]:
    """Negative binomial (categories, score) and Poisson-HC3 (categories) fits of one round; IRR table and fits."""
    fits = {
        "negative binomial": fit_count(df, outcome, ordering=ordering),
        "negative binomial, score": fit_count(df, outcome, spec="score", ordering=ordering),
        "Poisson, HC3": fit_count(df, outcome, family="poisson", ordering=ordering),
    }
    table = pd.concat({name: irr_table(res) for name, res in fits.items()}, names=["model", "term"])
    return table, fits


def fit_summary(fits: dict) -> pd.DataFrame:
    """n, dispersion parameter and Pearson dispersion of each fit: overdispersion shows in the Poisson row."""
    return pd.DataFrame({name: {"n": int(res.nobs), "alpha (NB)": getattr(res, "alpha", np.nan), "Pearson chi2/df": dispersion(res)}
                         for name, res in fits.items()}).T


def truth_by_term(rate_ratios: dict[int, float]) -> dict[str, float]:
    """The generator's true rate ratios keyed like irr_table's terms."""
    return {_term_label(f"C(model)[T.{int(m)}]"): float(rr) for m, rr in rate_ratios.items() if int(m) != 5}


def estimates_vs_truth(table: pd.DataFrame, truth: dict[str, float]) -> pd.DataFrame:
    """Estimated and true rate ratios side by side, and whether the 95 % interval covers the truth."""
    t = table[["irr", "irr_low", "irr_high"]].copy()
    t["true"] = [truth.get(term, np.nan) for term in t.index]
    t["covered"] = (t["irr_low"] <= t["true"]) & (t["true"] <= t["irr_high"])
    return t
