"""Synthetic example usage panel 2009-2015 with a known effect of the cooperation model.

NOTHING HERE IS REAL. :func:`write_examples` writes, into ``data/raw/usage/``:

* ``example_usage_panel_2009-2015.csv``: one row per library unit (97; unit 561 = Esbjerg +
  Fanø, see :func:`helpers.data.usage.to_library_units`) and year 2009-2015 with ``loans``,
  ``visits``, ``downloads``, ``service_points`` (with a collection) and ``expenditure`` (gross
  operating expenditure, DKK, rounded to 1,000);
* ``example_truth.yaml``: the true rate ratios, the survey round used for each usage year, the
  dispersion, the seed, the national totals and every assumption below;

and lists both with ``synthetic: true`` in ``data/raw/usage/MANIFEST.yaml``.

How the numbers are made
------------------------
For visits, loans and downloads, unit *i* in year *t* has the expected count::

    mu_it = pop_it * exp(a_t + u_i + s_i * (t - 2011.5)) * RR[model_true(i, round(t))]

* ``pop_it``: the real 1 January population of the unit (Esbjerg + Fanø for 561);
* ``a_t``: set so that the expected national total equals the calibration target of the year;
* ``u_i``: a persistent per-unit random effect (normal, sd :data:`UNIT_EFFECT_SD`; visits and
  loans correlated :data:`VISITS_LOANS_CORRELATION`), independent of the cooperation model;
* ``s_i``: a small per-unit trend (normal, sd :data:`UNIT_TREND_SD` per year);
* ``RR``: the TRUE multiplicative effect of the kommune's cooperation model
  (``helpers.data.synthetic.truth.true_models()``, column ``model_true``) relative to model 5
  (no cooperation), :data:`RATE_RATIOS`. Downloads have no model effect. The survey round that
  describes a usage year is :data:`ROUND_FOR_YEAR` (the latest round at or before the year:
  2009-2010 -> 2009, 2011-2013 -> 2011, 2014-2015 -> 2014).

Counts are drawn negative-binomial (gamma-Poisson): ``lambda ~ mu * Gamma(1/alpha, alpha)``,
``y ~ Poisson(lambda)``, so Var(y) = mu + alpha * mu^2 with alpha = :data:`DISPERSION`. The draws
of a year are then multiplied by one common factor (close to 1) and rounded by largest
remainders so the national total is hit exactly; a count model with year effects absorbs it.

Calibration (:data:`NATIONAL`): published figures where they exist (visits 2010 36,000,000 and
2011 36,297,751, 2009 = 2010 - 100,000; downloads 2009 7,294,916 and 2010 11,178,757; service
points 2010 = 97 + 353 branches + 32 bookmobiles = 482, 2009 branches 369); loans 2010-2015 =
the real national physical loans (sum over units of per capita x population, helpers.data.usage), 2009
extrapolated backwards with the geometric mean annual change 2010-2014 (about 48.4 million,
within the 48-50 million first loans reported for 2009). Everything else is an ASSUMPTION
and marked as such in :data:`NATIONAL_ASSUMED`: visits 2012-2015, downloads 2011-2015, branches
and bookmobiles after 2010, bookmobiles 2009, and all expenditure (about DKK 470 per
inhabitant, gently falling; an assumption, not a published figure).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from helpers.core import files, paths
from helpers.data import provenance, reference, usage

from . import SEED
from .truth import true_models

YEARS = tuple(range(2009, 2016))
STREAM = 3  # the usage panel draws from np.random.default_rng([seed, STREAM]); truth.py uses seed and seed + 1
ROUND_FOR_YEAR = {2009: 2009, 2010: 2009, 2011: 2011, 2012: 2011, 2013: 2011, 2014: 2014, 2015: 2014}
REFERENCE_MODEL = 5

# TRUE effects: rate ratio of visits / loans per inhabitant for each cooperation model vs model 5.
# Borgerservice in the library brings people in (visits up most where tasks moved in: 2, 4);
# loans rise much less. 2 (co-location) is set above 3 (library staff) on purpose: they are not ordered.
RATE_RATIOS = {
    "visits": {1: 1.03, 2: 1.12, 3: 1.08, 4: 1.18, 5: 1.0},
    "loans": {1: 1.01, 2: 1.04, 3: 1.03, 4: 1.06, 5: 1.0},
}
# NB alpha (Var = mu + alpha * mu^2). Calibrated on the real loans: after unit and year effects the
# log loans per inhabitant 2010-2015 (flagged values left out) have a residual sd of about 0.05, so
# alpha ~ 0.05^2; visits a little noisier (an assumption), downloads much noisier (a young, volatile service).
DISPERSION = {"visits": 0.004, "loans": 0.0025, "downloads": 0.05}
# loans: the real sd of the units' mean log loans per inhabitant 2010-2015 is 0.22; the others are assumptions
UNIT_EFFECT_SD = {"visits": 0.20, "loans": 0.22, "downloads": 0.35, "expenditure": 0.10}
VISITS_LOANS_CORRELATION = 0.6
UNIT_TREND_SD = {"visits": 0.010, "loans": 0.010, "downloads": 0.030}
EXPENDITURE_CV = 0.04  # gamma noise around the expected expenditure
EXPENDITURE_POPULATION_ELASTICITY = 0.9  # small units spend a little more per inhabitant
EXPENDITURE_PER_SERVICE_POINT = 0.04  # each extra service point adds 4 % to a unit's expected expenditure

NATIONAL = {
    "visits": {
        2009: 35_900_000,
        2010: 36_000_000,
        2011: 36_297_751,
        2012: 36_500_000,
        2013: 36_700_000,
        2014: 36_900_000,
        2015: 37_100_000,
    },
    "downloads": {
        2009: 7_294_916,
        2010: 11_178_757,
        2011: 14_500_000,
        2012: 16_000_000,
        2013: 17_000_000,
        2014: 18_000_000,
        2015: 18_700_000,
    },
    "main_libraries": {y: 97 for y in YEARS},
    "branches": {2009: 369, 2010: 353, 2011: 344, 2012: 335, 2013: 327, 2014: 320, 2015: 314},
    "bookmobiles": {2009: 33, 2010: 32, 2011: 31, 2012: 30, 2013: 29, 2014: 28, 2015: 27},
    "expenditure": {
        2009: 2_640_000_000,
        2010: 2_620_000_000,
        2011: 2_590_000_000,
        2012: 2_560_000_000,
        2013: 2_540_000_000,
        2014: 2_530_000_000,
        2015: 2_520_000_000,
    },
}
NATIONAL_PUBLISHED = {
    "visits": {
        2010: "36 million physical visits (SBS1; agency summary)",
        2011: "36,297,751 (Danmarks Biblioteksforening)",
        2009: "2010 was up about 100,000 on 2009",
    },
    "downloads": {2009: "7,294,916 downloads (BIB1 15250)", 2010: "11,178,757 downloads (BIB1 15250)"},
    "branches": {2009: "369 branches", 2010: "353 branches (482 = 97 + 353 + 32)"},
    "bookmobiles": {2010: "32 bookmobiles"},
    "main_libraries": {2010: "97 main libraries (Fanø served by Esbjerg)"},
}
NATIONAL_ASSUMED = [
    "visits 2012-2015: +0.2 million a year after 2011 (assumption)",
    "downloads 2011-2015: growth slowing from +30 % to +4 % a year (assumption)",
    "branches 2011-2015 and bookmobiles 2009 and 2011-2015: a slow decline (assumption)",
    "expenditure: gross operating expenditure about DKK 2.5-2.6 billion a year, about DKK 470 per inhabitant "
    "(assumption; "
    "no published figure was used)",
    "loans 2009: 2010 value x (2010/2014)^(1/4), the geometric mean annual change 2010-2014 carried one year back",
    "unit effects are independent of the cooperation model: the example has no confounding by design",
]


def _largest_remainder(x: np.ndarray, total: int) -> np.ndarray:
    """Round non-negative ``x`` to integers that add up to ``total`` (largest remainders; stable ties)."""
    x = np.asarray(x, dtype=float) * (total / x.sum())
    base = np.floor(x).astype(np.int64)
    short = int(total - base.sum())
    if short > 0:
        order = np.argsort(-(x - base), kind="stable")
        base[order[:short]] += 1
    return base


def national_loans() -> dict[int, int]:
    """Loans calibration targets: real national physical loans 2010-2015, 2009 extrapolated (see module doc)."""
    real = usage.national_real_loans().set_index("year")["loans"]
    out = {y: int(round(float(real[y]))) for y in range(2010, 2016)}
    out[2009] = int(round(out[2010] * (out[2010] / out[2014]) ** (1 / 4)))
    return dict(sorted(out.items()))


def _units() -> pd.DataFrame:
    """The 97 units with attributes needed here, sorted by code (fixed order = reproducible draws)."""
    ref = usage.unit_reference()
    m = reference.load_municipalities()[["kommunekode", "areal_km2"]]
    area = usage.to_library_units(m, ["areal_km2"]).drop(columns="unit_members")
    return ref.merge(area, on="kommunekode", validate="one_to_one").sort_values("kommunekode").reset_index(drop=True)


def _models(units: pd.Series, seed: int) -> pd.DataFrame:
    """model_true per unit and usage year via ROUND_FOR_YEAR; the unit 561 takes Esbjerg's model."""
    t = true_models(rounds=tuple(sorted(set(ROUND_FOR_YEAR.values()))), seed=seed)
    t = t[t["kommunekode"].isin(units)]
    rows = [(k, y, r) for y, r in ROUND_FOR_YEAR.items() for k in units]
    grid = pd.DataFrame(rows, columns=["kommunekode", "year", "round"])
    return grid.merge(
        t[["kommunekode", "year", "model_true"]].rename(columns={"year": "round"}),
        on=["kommunekode", "round"],
        how="left",
        validate="many_to_one",
    )


def generate(seed: int = SEED) -> tuple[pd.DataFrame, dict]:
    """The example panel (97 units x 2009-2015, integer columns) and its truth document. Pure: writes nothing."""
    rng = np.random.default_rng([seed, STREAM])
    units = _units()
    n = len(units)
    codes = units["kommunekode"].to_numpy()
    pop = usage.unit_population(YEARS).pivot(index="kommunekode", columns="year", values="population").loc[codes]
    models = (
        _models(units["kommunekode"], seed).pivot(index="kommunekode", columns="year", values="model_true").loc[codes]
    )
    targets = {**{k: v for k, v in NATIONAL.items()}, "loans": national_loans()}

    # persistent unit effects (visits and loans correlated) and unit trends; fixed draw order
    z = rng.standard_normal((n, 2))
    rho = VISITS_LOANS_CORRELATION
    u = {
        "visits": UNIT_EFFECT_SD["visits"] * z[:, 0],
        "loans": UNIT_EFFECT_SD["loans"] * (rho * z[:, 0] + np.sqrt(1 - rho**2) * z[:, 1]),
        "downloads": UNIT_EFFECT_SD["downloads"] * rng.standard_normal(n),
        "expenditure": UNIT_EFFECT_SD["expenditure"] * rng.standard_normal(n),
    }
    slope = {o: UNIT_TREND_SD[o] * rng.standard_normal(n) for o in ("visits", "loans", "downloads")}

    out = {o: {} for o in ("loans", "visits", "downloads", "service_points", "expenditure")}
    for o in ("visits", "loans", "downloads"):
        rr = RATE_RATIOS.get(o, {})
        alpha = DISPERSION[o]
        for y in YEARS:
            effect = models[y].map(rr).to_numpy(dtype=float) if rr else np.ones(n)
            w = pop[y].to_numpy() * np.exp(u[o] + slope[o] * (y - 2011.5)) * effect
            mu = targets[o][y] * w / w.sum()
            lam = mu * rng.gamma(shape=1 / alpha, scale=alpha, size=n)
            draw = rng.poisson(lam).astype(float)
            out[o][y] = _largest_remainder(draw, targets[o][y])

    # service points: 1 main library per unit + branches + bookmobiles
    area = units["areal_km2"].to_numpy()
    p0 = pop[YEARS[0]].to_numpy()
    wb = np.sqrt(p0) * np.sqrt(area) * np.exp(0.3 * rng.standard_normal(n))
    branches = {YEARS[0]: _largest_remainder(wb, targets["branches"][YEARS[0]])}
    rural = units["kommunegruppe"].isin([3, 4, 5]).to_numpy()
    wm = np.where(rural, area, 0.0)
    has = np.zeros(n, dtype=np.int64)
    has[rng.choice(n, size=targets["bookmobiles"][YEARS[0]], replace=False, p=wm / wm.sum())] = 1
    bookmobiles = {YEARS[0]: has}
    for prev, y in zip(YEARS[:-1], YEARS[1:], strict=False):
        b = branches[prev].copy()
        for _ in range(int(b.sum() - targets["branches"][y])):  # close branches one at a time, p ~ branches left
            b[rng.choice(n, p=b / b.sum())] -= 1
        branches[y] = b
        m = bookmobiles[prev].copy()
        for _ in range(int(m.sum() - targets["bookmobiles"][y])):
            m[rng.choice(np.flatnonzero(m))] -= 1
        bookmobiles[y] = m
    for y in YEARS:
        out["service_points"][y] = targets["main_libraries"][y] // n + branches[y] + bookmobiles[y]

    # expenditure (DKK, rounded to 1,000 as Statistics Denmark reports it)
    for y in YEARS:
        w = pop[y].to_numpy() ** EXPENDITURE_POPULATION_ELASTICITY * np.exp(u["expenditure"])
        w = w * (1 + EXPENDITURE_PER_SERVICE_POINT * (out["service_points"][y] - 1))
        w = w * rng.gamma(shape=1 / EXPENDITURE_CV**2, scale=EXPENDITURE_CV**2, size=n)
        out["expenditure"][y] = _largest_remainder(w, targets["expenditure"][y] // 1000) * 1000

    rows = []
    for y in YEARS:
        rows.append(pd.DataFrame({"kommunekode": codes, "year": y, **{o: out[o][y] for o in out}}))
    panel = pd.concat(rows).sort_values(["kommunekode", "year"]).reset_index(drop=True)
    panel = panel.astype({c: "int64" for c in panel.columns})

    totals = {
        o: {int(y): int(v) for y, v in targets[o].items()} for o in ("loans", "visits", "downloads", "expenditure")
    }
    totals["service_points"] = {
        int(y): int(targets["main_libraries"][y] + targets["branches"][y] + targets["bookmobiles"][y]) for y in YEARS
    }
    truth = {
        "description": "Ground truth of the SYNTHETIC example usage panel (example_usage_panel_2009-2015.csv). Not "
        "real data.",
        "synthetic": True,
        "generator": "helpers.data.synthetic.usage.write_examples",
        "seed": int(seed),
        "rng": f"numpy.random.default_rng([{int(seed)}, {STREAM}])",
        "unit": "library unit: 97 units, kommunekode 561 = Esbjerg + Fanø (563)",
        "model_column": "model_true of helpers.data.synthetic.truth.true_models() (1-4 cooperation models, 5 none)",
        "reference_model": REFERENCE_MODEL,
        "round_for_year": {int(y): int(r) for y, r in ROUND_FOR_YEAR.items()},
        "round_rule": "the latest survey round at or before the usage year",
        "rate_ratios": {o: {int(m): float(r) for m, r in rr.items()} for o, rr in RATE_RATIOS.items()},
        "rate_ratio_meaning": "multiplicative effect on the expected count per inhabitant, relative to model 5 in "
        "the same year",
        "outcomes_without_effect": ["downloads", "service_points", "expenditure"],
        "dispersion": {
            o: {"distribution": "negative binomial (gamma-Poisson)", "alpha": float(a), "variance": "mu + alpha * mu^2"}
            for o, a in DISPERSION.items()
        },
        "unit_effect_sd": {o: float(v) for o, v in UNIT_EFFECT_SD.items()},
        "visits_loans_unit_effect_correlation": float(VISITS_LOANS_CORRELATION),
        "unit_trend_sd_per_year": {o: float(v) for o, v in UNIT_TREND_SD.items()},
        "expenditure": {
            "unit": "DKK, gross operating expenditure, rounded to 1,000",
            "cv": float(EXPENDITURE_CV),
            "population_elasticity": float(EXPENDITURE_POPULATION_ELASTICITY),
            "per_extra_service_point": float(EXPENDITURE_PER_SERVICE_POINT),
        },
        "calibration": "national totals per year are hit exactly (one common factor per year, largest-remainder "
        "rounding)",
        "national_totals": totals,
        "service_points_parts": {
            p: {int(y): int(v) for y, v in NATIONAL[p].items()} for p in ("main_libraries", "branches", "bookmobiles")
        },
        "published": {o: {int(y): t for y, t in d.items()} for o, d in NATIONAL_PUBLISHED.items()},
        "assumptions": NATIONAL_ASSUMED,
    }
    return panel, truth


def write_examples(seed: int = SEED, *, record: bool = True) -> dict[str, Path]:
    """Write the example panel and its truth into ``paths.usage_raw()``; list both as synthetic in the manifest.

    Byte-for-byte reproducible for a given seed and the same real reference data.
    Returns {"panel": path, "truth": path}.
    """
    panel, truth = generate(seed)
    folder = paths.usage_raw()
    p_panel = files.write_csv(folder / usage.EXAMPLE_FILE, panel)
    p_truth = files.write_text(
        folder / usage.TRUTH_FILE,
        "# SYNTHETIC example data: the ground truth of example_usage_panel_2009-2015.csv\n"
        + yaml.safe_dump(truth, allow_unicode=True, sort_keys=False, width=100),
    )
    if record:
        src = f"synthetic: helpers.data.synthetic.usage.write_examples(seed={seed})"
        lic = "generated by this package (MIT); calibrated to published national figures"
        provenance.record(
            p_panel,
            source=src,
            licence=lic,
            synthetic=True,
            description="SYNTHETIC example usage panel: 97 library units x 2009-2015; loans, visits, downloads, "
            "service points, expenditure (DKK)",
            provenance="src/helpers/data/synthetic/usage.py",
        )
        provenance.record(
            p_truth,
            source=src,
            licence=lic,
            synthetic=True,
            description="ground truth of the example usage panel: rate ratios per cooperation model, round per "
            "year, dispersion, seed, calibration targets",
            provenance="src/helpers/data/synthetic/usage.py",
        )
    out = {"panel": p_panel, "truth": p_truth}
    out.update(write_adoption_examples(seed, record=record))
    return out


# --- panel mode: every year of the real loans series, with a known dynamic effect of adoption ----
# SYNTHETIC. Loans per library unit for 2010-2015 and 2018-2025 (the years of the real series),
# with a TRUE effect of first adopting cooperation (any model 1-4, by truth.true_models()'s
# model_true) that is zero before adoption, follows ADOPTION_PATH after it and is scaled per adoption
# cohort by COHORT_SCALE (effects differ across cohorts: the case in which naive two-way fixed
# effects is biased). The truth is written beside the data, per unit and year.
ADOPTION_FILE = "example_loans_adoption_2010-2025.csv"
ADOPTION_TRUTH_FILE = "example_adoption_truth.csv"
ADOPTION_TRUTH_DOC = "example_adoption_truth.yaml"
ADOPTION_YEARS = tuple(usage.REAL_LOANS_YEARS)
ADOPTION_STREAM = 4
ADOPTION_ROUNDS = (2009, 2011, 2014)
ADOPTION_TREATED_MODELS = (1, 2, 3, 4)  # "any cooperation"
ADOPTION_OFFSET = 1  # a round describes the following usage year (the pairing rule of notebook 03)
# log rate ratio of loans per inhabitant by years since first treated usage year (e = year - cohort);
# from e = 3 on it grows by ADOPTION_SLOPE a year. A stated ASSUMPTION, not an estimate.
ADOPTION_PATH = {0: 0.03, 1: 0.05, 2: 0.06, 3: 0.07}
ADOPTION_SLOPE = 0.004
# cohort = first treated usage year under the pairing rule (2010: cooperating already in 2009)
COHORT_SCALE = {2010: 1.8, 2012: 1.5, 2015: 0.6}
ADOPTION_TREND_SD = 0.003  # per-unit linear trend of log loans per inhabitant (sd per year), independent of adoption
ADOPTION_ASSUMPTIONS = [
    "adoption = the first round at which model_true is 1-4; it is absorbing (a later lower model does not undo the "
    "effect)",
    "cohort = round + 1 (the pairing rule of notebook 03); kommuner cooperating in 2009 form the 2010 cohort (always "
    "treated)",
    "no anticipation: the effect is exactly zero in every year before the cohort year",
    "national level per year = the real national loans per inhabitant (load_real_national), so 2020-2021 show the "
    "COVID dip",
    "population 2024-2025 = 2023 (no 1 January population after 2023 in data/raw/reference); only the rates of those "
    "years use it",
    "unit effects and trends are independent of adoption: parallel trends hold by construction",
    "unit 561 = Esbjerg + Fanø and takes Esbjerg's model",
]


def adoption_effect(cohort: int, year: int) -> float:
    """The TRUE log rate ratio of a unit of adoption ``cohort`` (0 = never) in ``year``."""
    if not cohort or year < cohort:
        return 0.0
    e = int(year) - int(cohort)
    base = ADOPTION_PATH.get(e, ADOPTION_PATH[max(ADOPTION_PATH)] + ADOPTION_SLOPE * (e - max(ADOPTION_PATH)))
    return float(COHORT_SCALE[int(cohort)] * base)


def adoption_cohorts(seed: int = SEED) -> pd.Series:
    """True first treated usage year per library unit (0 = never treated), from model_true of the rounds."""
    t = true_models(rounds=ADOPTION_ROUNDS, seed=seed)
    t = t[t["kommunekode"].isin(usage.unit_codes())].sort_values(["kommunekode", "year"])
    first = t[t["model_true"].isin(ADOPTION_TREATED_MODELS)].groupby("kommunekode")["year"].min() + ADOPTION_OFFSET
    return first.reindex(usage.unit_codes()).fillna(0).astype(int).rename("cohort")


def generate_adoption(seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Panel mode: (loans panel, truth per unit-year, truth document). Pure: writes nothing.

    ``mu_it = pop_it * r_t * exp(u_i + s_i * (t - 2017) + effect_it)`` with ``r_t`` the real national
    loans per inhabitant, ``u_i`` and ``s_i`` as in :func:`generate` (loans sd, ADOPTION_TREND_SD) and
    ``effect_it = adoption_effect(cohort_i, t)``; counts negative binomial with alpha DISPERSION["loans"].
    """
    rng = np.random.default_rng([seed, ADOPTION_STREAM])
    codes = np.array(usage.unit_codes())
    n = len(codes)
    pop = (
        usage.unit_population(range(2010, 2026))
        .pivot(index="kommunekode", columns="year", values="population")
        .loc[codes]
    )
    pop = pop.ffill(axis=1)  # 2024-2025: the 2023 population (ASSUMPTION, see ADOPTION_ASSUMPTIONS)
    nat = usage.load_real_national().set_index("year")["loans_per_capita"]
    cohort = adoption_cohorts(seed).loc[codes].to_numpy()
    u = UNIT_EFFECT_SD["loans"] * rng.standard_normal(n)
    u = u - u.mean()
    s = ADOPTION_TREND_SD * rng.standard_normal(n)
    alpha = DISPERSION["loans"]
    rows, truth_rows = [], []
    for y in ADOPTION_YEARS:
        effect = np.array([adoption_effect(c, y) for c in cohort])
        mu = pop[y].to_numpy() * float(nat[y]) * np.exp(u + s * (y - 2017) + effect)
        lam = mu * rng.gamma(shape=1 / alpha, scale=alpha, size=n)
        loans = rng.poisson(lam).astype(np.int64)
        rows.append(
            pd.DataFrame(
                {
                    "kommunekode": codes,
                    "year": y,
                    "loans": loans,
                    "loans_per_1000": np.round(loans / pop[y].to_numpy() * 1000, 3),
                }
            )
        )
        truth_rows.append(
            pd.DataFrame(
                {
                    "kommunekode": codes,
                    "year": y,
                    "cohort": cohort,
                    "event_time": np.where(cohort > 0, y - cohort, np.nan),
                    "log_effect": np.round(effect, 6),
                }
            )
        )
    panel = pd.concat(rows).sort_values(["kommunekode", "year"]).reset_index(drop=True)
    truth = pd.concat(truth_rows).sort_values(["kommunekode", "year"]).reset_index(drop=True)
    truth["event_time"] = truth["event_time"].astype("Int64")
    doc = {
        "description": f"Ground truth of the SYNTHETIC adoption panel ({ADOPTION_FILE}); per unit and year in "
        f"{ADOPTION_TRUTH_FILE}. "
        "Not real data.",
        "synthetic": True,
        "generator": "helpers.data.synthetic.usage.write_adoption_examples",
        "seed": int(seed),
        "rng": f"numpy.random.default_rng([{int(seed)}, {ADOPTION_STREAM}])",
        "years": [int(y) for y in ADOPTION_YEARS],
        "outcome": "loans (physical loans per library unit; loans_per_1000 per 1,000 inhabitants)",
        "treatment": "any cooperation (model_true 1-4 at a round of helpers.data.synthetic.truth), first round, "
        "absorbing",
        "rounds": list(ADOPTION_ROUNDS),
        "usage_year_offset": ADOPTION_OFFSET,
        "effect_scale": "log rate ratio of loans per inhabitant (exp(effect) - 1 = relative change)",
        "path": {int(e): float(v) for e, v in ADOPTION_PATH.items()},
        "slope_after": float(ADOPTION_SLOPE),
        "cohort_scale": {int(g): float(v) for g, v in COHORT_SCALE.items()},
        "cohort_sizes": {int(g): int((cohort == g).sum()) for g in sorted(set(cohort.tolist()))},
        "dispersion_alpha": float(alpha),
        "unit_effect_sd": float(UNIT_EFFECT_SD["loans"]),
        "unit_trend_sd_per_year": float(ADOPTION_TREND_SD),
        "assumptions": ADOPTION_ASSUMPTIONS,
    }
    return panel, truth, doc


def write_adoption_examples(seed: int = SEED, *, record: bool = True) -> dict[str, Path]:
    """Write the adoption panel, its per unit-year truth and the truth document; record all three as synthetic."""
    panel, truth, doc = generate_adoption(seed)
    folder = paths.usage_raw()
    out = {
        "adoption_panel": files.write_csv(folder / ADOPTION_FILE, panel, index=False),
        "adoption_truth": files.write_csv(folder / ADOPTION_TRUTH_FILE, truth, index=False),
        "adoption_truth_doc": files.write_text(
            folder / ADOPTION_TRUTH_DOC,
            f"# SYNTHETIC example data: the ground truth of {ADOPTION_FILE}\n"
            + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100),
        ),
    }
    if record:
        src = f"synthetic: helpers.data.synthetic.usage.write_adoption_examples(seed={seed})"
        lic = "generated by this package (MIT); national level = the real loans per inhabitant"
        what = {
            "adoption_panel": "SYNTHETIC loans per library unit (97) for every year of the real loans series, with a "
            "known "
            "dynamic effect of adopting cooperation",
            "adoption_truth": "TRUE adoption cohort, event time and log effect per unit and year of the synthetic "
            "adoption panel",
            "adoption_truth_doc": "ground truth of the synthetic adoption panel: effect path, cohort scales, seed, "
            "assumptions",
        }
        for key, p in out.items():
            provenance.record(
                p,
                source=src,
                licence=lic,
                synthetic=True,
                description=what[key],
                provenance="src/helpers/data/synthetic/usage.py",
            )
    return out
