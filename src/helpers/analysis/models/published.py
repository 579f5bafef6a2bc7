"""What notebook 03 publishes: its key results, built from the typed fits and simulation studies."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from helpers.analysis.models.change import ChangeFit
from helpers.analysis.models.fit import covariance_label, interval_label
from helpers.analysis.models.inputs import ModelInputs
from helpers.analysis.models.ordinal import OrdinalFit
from helpers.analysis.models.response import ResponseSensitivity
from helpers.analysis.models.rounds import (
    INTERVAL_COLUMNS,
    CountFitsByRound,
    ReportedIntervals,
    RoundCountFits,
    family_name,
)
from helpers.results.models import (
    Change,
    Coverage,
    CoverageTerm,
    Flagged,
    Interval,
    Intervals,
    ModelResults,
    Ordinal,
    Power,
    PowerPoint,
    RoundFit,
    SensitivityFit,
    TermTest,
    TestFamily,
)

if TYPE_CHECKING:  # simulation imports this package
    from helpers.analysis.simulation import CoverageStudy, PowerCurve

CHANGE_STANDARD_ERRORS = "HC3 (OLS), t on n - 2 df"


def _family(r: RoundCountFits, name: str, year: int) -> TestFamily:
    """The family of tests of fit ``name`` of one round: its cooperation terms, raw and adjusted p-values."""
    t = r.table.loc[name]
    return TestFamily(
        name=family_name(name, year),
        interval=interval_label(r.fits[name]),
        tests={
            term: TermTest(
                irr=round(float(row["irr"]), 4),
                low=round(float(row["irr_low"]), 4),
                high=round(float(row["irr_high"]), 4),
                p=float(row["p"]),
                p_holm=float(row["p_holm"]),
                p_bh=float(row["p_bh"]),
            )
            for term, row in t.iterrows()
        },
    )


def run_name(outcome: str, rounds) -> str:
    """The run's name stem: ``<outcome>_<round>_<round>...``; figures, tables and results carry it."""
    return f"{outcome}_{'_'.join(map(str, rounds))}"


def key_results(
    inputs: ModelInputs,
    fits: CountFitsByRound,
    change: ChangeFit,
    ordinal: OrdinalFit,
    sensitivity: pd.DataFrame,
    coverage: CoverageStudy,
    intervals: ReportedIntervals,
    power: PowerCurve,
    response: ResponseSensitivity | None = None,
) -> ModelResults:
    """The key results of one run of notebook 03, rounded as the notebook publishes them.

    ``sensitivity`` is :func:`~helpers.analysis.models.sensitivity.sensitivity_by_round`'s table;
    ``response`` the non-response sensitivity (:func:`~helpers.analysis.models.response.response_sensitivity`).
    """
    rounds = {
        year: RoundFit(
            irr=r.categories["irr"].round(4).to_dict(),
            score_irr=round(float(r.per_level["irr"]), 4),
            alpha=r.negbin.alpha,
            theta=r.negbin.theta,
            theta_converged=bool(r.negbin.theta_converged),
            loglik=r.negbin.llf,
            standard_errors={name: covariance_label(f) for name, f in r.fits.items()},
            alpha_cox_reid=r.negbin.alpha_cox_reid,
            families={name: _family(r, name, year) for name in r.fits},
        )
        for year, r in fits.rounds.items()
    }
    low, high = change.interval
    return ModelResults(
        outcome=inputs.outcome,
        ordering=fits.ordering,
        pairing=dict(inputs.pairing),
        flagged_reporting_failures=Flagged(inputs.keep_flagged, inputs.flagged_values()),
        rounds=rounds,
        change=Change(int(change.nobs), change.per_level, (low, high), CHANGE_STANDARD_ERRORS),
        ordinal=Ordinal(
            params=ordinal.params.round(4).to_dict(),
            cut_points=ordinal.cut_points["cut point"].round(4).to_dict(),
            converged=ordinal.converged,
            max_abs_score=ordinal.max_abs_score,
            loglik=ordinal.llf,
        ),
        sensitivity=tuple(SensitivityFit(**row) for row in sensitivity.reset_index().round(4).to_dict("records")),
        coverage=Coverage(
            reps=coverage.reps,
            not_converged=coverage.not_converged,
            better_interval=coverage.verdict,
            check=coverage.check,
            dispersion_ratio=coverage.dispersion_ratio,
            terms=tuple(CoverageTerm(**row) for row in coverage.terms.round(5).reset_index().to_dict("records")),
        ),
        intervals=Intervals(
            intervals.reported,
            dict(intervals.description),
            {
                year: {
                    term: Interval(**values)
                    for term, values in intervals.table.loc[year, INTERVAL_COLUMNS].round(4).to_dict("index").items()
                }
                for year in fits.rounds
            },
        ),
        power=Power(
            minimal_detectable_irr=power.minimal_detectable,
            minimal_detectable_mc_se=power.minimal_detectable_mc_se,
            reps=power.reps,
            alpha=power.alpha,
            n=power.n,
            not_converged=power.not_converged,
            curve=tuple(PowerPoint(**row) for row in power.curve.to_dict("records")),
        ),
        nonresponse=() if response is None else response.rows,
    )
