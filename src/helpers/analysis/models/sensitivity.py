"""Sensitivity of the score rate ratio: the ordering of models 2 and 3, exclusions, flagged values kept."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from helpers.analysis.models.count import fit_count
from helpers.analysis.models.design import CONTROLS
from helpers.analysis.models.fit import irr_table
from helpers.analysis.models.inputs import ModelInputs

ORDERINGS = {"5<1<2<3<4": (5, 1, 2, 3, 4), "5<1<3<2<4": (5, 1, 3, 2, 4)}
EXCLUSIONS = {
    "all kommuner": (),
    "without København and Frederiksberg": (101, 147),
    "without Esbjerg/Fanø": (561, 563),
}


def sensitivity(
    df: pd.DataFrame,
    outcome: str,
    orderings=ORDERINGS,
    exclusions=EXCLUSIONS,
    controls: Sequence[str] = CONTROLS,
    with_flagged: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The cooperation-score rate ratio under each ordering of models 2 and 3 and each exclusion.

    ``with_flagged``: the same round with its flagged reporting failures kept
    (``model_inputs(...).frames_with_flagged``); when it has rows that ``df`` lacks, a sample
    "with the flagged reporting failures" is added, fitted on it. One row per ordering and sample:
    n, the rate ratio with its 95 % Wald interval, and p.
    """
    samples = dict(exclusions)
    extra = None
    if with_flagged is not None and len(with_flagged) > len(df):
        added = sorted(set(with_flagged["kommunekode"]) - set(df["kommunekode"]))
        extra = f"with the flagged reporting failures ({', '.join(map(str, added))})"
    rows = []
    for oname, ordering in orderings.items():
        for ename in list(samples) + ([extra] if extra else []):
            sub = with_flagged if ename == extra else df[~df["kommunekode"].isin(samples[ename])]
            t = irr_table(fit_count(sub, outcome, spec="score", ordering=ordering, controls=controls)).iloc[0]
            rows.append(
                {
                    "ordering": oname,
                    "sample": ename,
                    "n": len(sub),
                    "irr": t["irr"],
                    "irr_low": t["irr_low"],
                    "irr_high": t["irr_high"],
                    "p": t["p"],
                }
            )
    return pd.DataFrame(rows)


def sensitivity_by_round(inputs: ModelInputs) -> pd.DataFrame:
    """:func:`sensitivity` of every round of ``inputs``, indexed by round; the flagged values are refitted
    as a sample of their own when they left the models."""
    with_flagged = None if inputs.keep_flagged else inputs.frames_with_flagged
    parts = {
        year: sensitivity(
            inputs.frames[year], inputs.outcome, with_flagged=None if with_flagged is None else with_flagged[year]
        )
        for year in inputs.rounds
    }
    return pd.concat(parts, names=["round"]).droplevel(1)
