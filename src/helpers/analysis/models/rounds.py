"""The count models of each survey round as notebook 03 fits and shows them, and the intervals it reports."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.analysis import multiplicity
from helpers.analysis.models.count import (
    NegBinFit,
    PoissonHC3Fit,
    dispersion,
    fit_count,
    pearson_residuals,
    profile_irr_table,
)
from helpers.analysis.models.fit import covariance_label, interval_label, irr_in_words, irr_table
from helpers.analysis.models.inputs import ModelInputs, usage_year
from helpers.core.cooperation import DEFAULT_ORDERING, format_ordering
from helpers.core.vocabulary import IntervalKind

NEGBIN, NEGBIN_SCORE, POISSON_HC3 = "negative binomial", "negative binomial, score", "Poisson, HC3"  # as published
FAMILY_IN_WORDS = (
    "A family of tests is the cooperation terms of one count model fitted to one survey round: in a model with "
    "cooperation as categories, the four models against no cooperation (4 tests); in the score model, the score alone "
    "(1 test, nothing to adjust). The controls and the constant are adjustments, not tests of interest, and are not "
    "members. Holm's adjustment keeps the chance of any false rejection in the family at 5 %; Benjamini-Hochberg's "
    "keeps the expected share of false rejections among the rejections at 5 %."
)


@dataclass(frozen=True)
class RoundCountFits:
    """The count models of one survey round (:func:`round_models`).

    ``negbin``: negative binomial with cooperation as categories; ``negbin_score``: the same with
    the level score; ``poisson``: Poisson with HC3 errors, categories (the check); ``table``: the
    rate ratios of the cooperation terms of all three, indexed by (model, term) with the fit names
    of :attr:`fits`, with each fit's Holm and Benjamini-Hochberg adjusted p-values (its cooperation
    terms are one family: :data:`FAMILY_IN_WORDS`); ``outcome``; ``year``, ``usage_year``: the
    round and its usage year (None when not given).
    """

    negbin: NegBinFit
    negbin_score: NegBinFit
    poisson: PoissonHC3Fit
    table: pd.DataFrame
    outcome: str
    year: int | None = None
    usage_year: int | None = None

    @property
    def fits(self) -> dict[str, NegBinFit | PoissonHC3Fit]:
        """The fits by their published names (the regression table's columns)."""
        return {NEGBIN: self.negbin, NEGBIN_SCORE: self.negbin_score, POISSON_HC3: self.poisson}

    @property
    def categories(self) -> pd.DataFrame:
        """The rate ratio of each cooperation model against none (negative binomial)."""
        return self.table.loc[NEGBIN]

    @property
    def per_level(self) -> pd.Series:
        """The rate ratio per level of cooperation (negative binomial, score)."""
        return self.table.loc[NEGBIN_SCORE].iloc[0]

    def summary(self) -> pd.DataFrame:
        """:func:`fit_summary` of the three fits."""
        return fit_summary(self.fits)

    def in_words(self, synthetic: bool) -> list[str]:
        """Each rate ratio of the negative binomial fits as a sentence."""
        rows = [row for _, row in self.categories.iterrows()] + [self.per_level]
        return [irr_in_words(row, self.outcome, synthetic) for row in rows]


def round_models(
    df: pd.DataFrame, outcome: str, ordering=DEFAULT_ORDERING, *, year: int | None = None, offset: int = 1
) -> RoundCountFits:
    """Negative binomial (categories, score) and Poisson-HC3 (categories) fits of one round, with their IRR table."""
    fits = {
        NEGBIN: fit_count(df, outcome, ordering=ordering),
        NEGBIN_SCORE: fit_count(df, outcome, spec="score", ordering=ordering),
        POISSON_HC3: fit_count(df, outcome, family="poisson", ordering=ordering),
    }
    where = f"survey {year}" if year is not None else "this round"
    table = pd.concat(
        {
            name: adjusted_irr_table(res, f"the cooperation terms of the {name} model, {where}")
            for name, res in fits.items()
        },
        names=["model", "term"],
    )
    uy = None if year is None else usage_year(year, offset)
    return RoundCountFits(*fits.values(), table, outcome, year, uy)


def family_name(fit: str, year: int | None) -> str:
    """The family of tests of one fit in one round, in words (:data:`FAMILY_IN_WORDS`)."""
    return f"the cooperation terms of the {fit} model, " + (f"survey {year}" if year is not None else "this round")


def adjusted_irr_table(fit, family: str) -> pd.DataFrame:
    """:func:`~helpers.analysis.models.fit.irr_table` of ``fit`` with the Holm (``p_holm``) and Benjamini-Hochberg
    (``p_bh``) adjusted p-values of its cooperation terms, one family named ``family`` (:data:`FAMILY_IN_WORDS`)."""
    table = irr_table(fit)
    adjusted = multiplicity.adjust(table["p"], family).table
    return table.assign(p_holm=adjusted["p_holm"], p_bh=adjusted["p_bh"])


@dataclass(frozen=True)
class CountFitsByRound:
    """The count models of every round of a run (:func:`fit_rounds`).

    ``rounds``: :class:`RoundCountFits` by survey round; ``outcome``; ``ordering`` ("5<1<2<3<4").
    ``fits[year]`` is the round's fits.
    """

    rounds: dict[int, RoundCountFits]
    outcome: str
    ordering: str

    def __getitem__(self, year: int) -> RoundCountFits:
        return self.rounds[year]

    def irr(self) -> pd.DataFrame:
        """Every round's IRR table, indexed by (round, model, term)."""
        return pd.concat({year: r.table for year, r in self.rounds.items()}, names=["round"])

    def rate_ratios(self) -> pd.DataFrame:
        """Every round's rate ratios with their 95 % intervals, raw p-values and the Holm and Benjamini-Hochberg
        adjusted ones within each family (:meth:`irr`, those columns)."""
        return self.irr()[["irr", "irr_low", "irr_high", "p", "p_holm", "p_bh"]]

    def summary(self) -> pd.DataFrame:
        """Every fit's summary, indexed by (round, fit)."""
        return pd.concat({year: r.summary() for year, r in self.rounds.items()}, names=["round", "fit"])

    def warnings(self) -> list[str]:
        """A warning (Markdown) for each round whose negative binomial dispersion did not converge."""
        return [
            f"**Warning: the negative binomial dispersion of round {year} did not converge** "
            f"(θ = {r.negbin.theta:.4g}); its standard errors are those of a Poisson limit."
            for year, r in self.rounds.items()
            if not r.negbin.theta_converged
        ]

    def versus_truth(self, truth: dict[str, float]) -> pd.DataFrame:
        """:func:`estimates_vs_truth` of every round's negative binomial fit, indexed by (round, term)."""
        return pd.concat({y: estimates_vs_truth(r.categories, truth) for y, r in self.rounds.items()}, names=["round"])

    def in_words(self, synthetic: bool) -> list[str]:
        """The rate ratios of every round in sentences, under a line naming the round."""
        return [
            line
            for y, r in self.rounds.items()
            for line in [f"Survey {y}:", *(f"  - {s}" for s in r.in_words(synthetic))]
        ]


def fit_rounds(inputs: ModelInputs, ordering=DEFAULT_ORDERING) -> CountFitsByRound:
    """:func:`round_models` of every round of ``inputs``."""
    fits = {
        year: round_models(inputs.frames[year], inputs.outcome, ordering, year=year, offset=inputs.offset)
        for year in inputs.rounds
    }
    return CountFitsByRound(fits, inputs.outcome, format_ordering(ordering))


def fit_summary(fits: dict) -> pd.DataFrame:
    """Each fit's n, dispersion (alpha, and theta = 1/alpha as glm.nb reports it; the Cox-Reid alpha of the
    reported intervals), log-likelihood, Pearson dispersion, covariance type and the intervals' reference."""
    return pd.DataFrame(
        {
            name: {
                "n": int(res.nobs),
                "alpha (NB)": res.alpha if isinstance(res, NegBinFit) else np.nan,
                "theta (glm.nb)": res.theta if isinstance(res, NegBinFit) else np.nan,
                "alpha (Cox-Reid)": res.alpha_cox_reid if isinstance(res, NegBinFit) else np.nan,
                "log-likelihood": float(res.llf),
                "Pearson chi2/df": dispersion(res),
                "standard errors": covariance_label(res),
                "intervals": interval_label(res),
            }
            for name, res in fits.items()
        }
    ).T


def estimates_vs_truth(table: pd.DataFrame, truth: dict[str, float]) -> pd.DataFrame:
    """Estimated and true rate ratios side by side, and whether the 95 % interval covers the truth."""
    t = table[["irr", "irr_low", "irr_high"]].copy()
    t["true"] = [truth.get(term, np.nan) for term in t.index]
    t["covered"] = (t["irr_low"] <= t["true"]) & (t["true"] <= t["irr_high"])
    return t


ML_INTERVALS = {  # the two intervals at the maximum-likelihood dispersion, in words
    "wald": "normal (z) at the maximum-likelihood dispersion, as glm.nb's Wald interval",
    "profile": "profile likelihood at the maximum-likelihood dispersion, as R's confint on glm.nb",
}
INTERVAL_COLUMNS = [
    "irr",
    "low",
    "high",
    "wald_low",
    "wald_high",
    "profile_low",
    "profile_high",
    "cox_reid_t_low",
    "cox_reid_t_high",
]


@dataclass(frozen=True)
class ReportedIntervals:
    """The three intervals of each round's negative binomial fit, and which is reported.

    ``reported``: the kind reported (the fit's own, ``NegBinFit.conf_int``: Cox-Reid t, chosen by the
    coverage study); ``table``: indexed by (round, term): irr, wald_low/high, profile_low/high,
    profile_converged, cox_reid_t_low/high, and the reported ``low``, ``high`` and ``interval`` (its
    kind); ``description``: what the reported interval is, in words, per round (its df differ).
    """

    reported: IntervalKind
    table: pd.DataFrame
    description: dict[int, str]

    def shown(self) -> pd.DataFrame:
        """The rate ratios with the reported interval and every kind beside it."""
        return self.table[INTERVAL_COLUMNS]


def reported_intervals(fits: CountFitsByRound, kind: IntervalKind = "cox_reid_t") -> ReportedIntervals:
    """:func:`~helpers.analysis.models.count.profile_irr_table` of every round, reporting the ``kind`` interval."""
    t = pd.concat({y: profile_irr_table(r.negbin) for y, r in fits.rounds.items()}, names=["round"])
    words = {y: r.negbin.reference if kind == "cox_reid_t" else ML_INTERVALS[kind] for y, r in fits.rounds.items()}
    return ReportedIntervals(kind, t.assign(low=t[f"{kind}_low"], high=t[f"{kind}_high"], interval=kind), words)


def large_residuals(
    frame: pd.DataFrame, fit: NegBinFit, municipalities: pd.DataFrame, *, outcome: str, threshold: float = 2.0
) -> pd.DataFrame:
    """Kommuner whose Pearson residual in ``fit`` (fitted on ``frame``) exceeds ``threshold`` in size, with their
    names (from ``municipalities``: kommunekode, navn)."""
    names = municipalities[["kommunekode", "navn"]]
    return (
        frame.assign(pearson=pearson_residuals(fit)["pearson"].to_numpy())
        .loc[lambda d: d["pearson"].abs() > threshold, ["kommunekode", "model", outcome, "pearson"]]
        .merge(names, on="kommunekode")
        .set_index(["kommunekode", "navn"])
        .round({"pearson": 2})
    )
