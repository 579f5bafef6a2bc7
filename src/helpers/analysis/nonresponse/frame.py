"""The kommuner x rounds frame every non-response method works on: answers with gaps, and covariates.

A :class:`Panel` holds, for every kommune of the reference table (the 98), its model in each round
(1-5, missing where it did not answer) and the covariates the weights and the imputations use:
kommunegruppe, region and the population in each round's year. It is built from
:func:`helpers.analysis.compare.align_rounds` (model 0 = did not answer) by :func:`panel`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.core.cooperation import COOPERATING, NO_ANSWER
from helpers.data.reference import POPULATION_YEARS

PREVIOUS_LEVELS = ("cooperating", "not cooperating", "did not answer")  # the previous round's answer, coarsened


@dataclass(frozen=True)
class Panel:
    """Kommuner x survey rounds: the answers with their gaps, and the covariates.

    Fields:

    * ``answers``: index kommunekode (every kommune of the reference table), one column per round
      (the year, an int, in order), values the model codes 1-5 as nullable ``Int64``; ``<NA>`` = did
      not answer (absent from the round's file, or the model question left blank);
    * ``covariates``: index kommunekode: ``kommunegruppe`` (1-5, Statistics Denmark's groups),
      ``regionsnavn`` and ``population_<year>`` for each round (the population of the round's year,
      or of the nearest year the reference table has);
    * ``synthetic``: whether any round is synthetic example data.
    """

    answers: pd.DataFrame
    covariates: pd.DataFrame
    synthetic: bool

    @property
    def years(self) -> tuple[int, ...]:
        """The rounds, in order."""
        return tuple(int(y) for y in self.answers.columns)

    @property
    def n(self) -> int:
        """The number of kommuner (every kommune, answered or not)."""
        return len(self.answers)

    def answered(self, rounds: Sequence[int]) -> pd.Series:
        """True for kommuner that answered every round of ``rounds`` (the complete cases of a statistic)."""
        return self.answers[list(rounds)].notna().all(axis=1)

    def previous(self, year: int) -> int | None:
        """The round before ``year`` in the panel, or None for the first."""
        earlier = [y for y in self.years if y < year]
        return earlier[-1] if earlier else None

    def covariates_of(self, year: int) -> pd.DataFrame:
        """kommunegruppe, regionsnavn and log_population (natural log, the population of ``year``)."""
        c = self.covariates
        return pd.DataFrame(
            {
                "kommunegruppe": c["kommunegruppe"].astype(int),
                "regionsnavn": c["regionsnavn"].astype(str),
                "log_population": np.log(c[f"population_{year}"].astype(float)),
            },
            index=c.index,
        )

    def previous_answer(self, year: int) -> pd.Series | None:
        """The answer in the round before ``year`` as one of :data:`PREVIOUS_LEVELS` (None for the first round).

        Coarsened to cooperating (models 1-4), not cooperating (5) and did not answer: with about 98
        kommuner the five models and non-response make cells where every kommune answered, which no
        weighting can use (see :mod:`.weighting`).
        """
        before = self.previous(year)
        return None if before is None else cooperation_level(self.answers[before])

    def restrict(self, rounds: Sequence[int]) -> Panel:
        """The same kommuner with only the rounds in ``rounds``."""
        rounds = sorted(int(y) for y in rounds)
        cols = ["kommunegruppe", "regionsnavn"] + [f"population_{y}" for y in rounds]
        return Panel(self.answers[rounds].copy(), self.covariates[cols].copy(), self.synthetic)


def cooperation_level(answers: pd.Series) -> pd.Series:
    """Model codes (nullable) as "cooperating" (1-4), "not cooperating" (5) or "did not answer"."""
    a = answers.astype("Int64")
    out = np.where(a.isna(), PREVIOUS_LEVELS[2], np.where(a.isin(COOPERATING).fillna(False), *PREVIOUS_LEVELS[:2]))
    return pd.Series(out, index=answers.index, name=answers.name)


def _population_year(year: int) -> int:
    return min(max(int(year), POPULATION_YEARS.start), POPULATION_YEARS.stop - 1)


def panel(aligned: pd.DataFrame, municipalities: pd.DataFrame) -> Panel:
    """A :class:`Panel` from :func:`helpers.analysis.compare.align_rounds` (one row per kommune and round,
    model 0 = did not answer) and the reference table of the kommuner (``reference.load_municipalities``).

    Population: the column ``population_<year>`` of the round's year; a round outside the reference
    table's years (2005-2023) takes the nearest one.
    """
    models = aligned.pivot(index="kommunekode", columns="year", values="model")
    models = models.where(models != NO_ANSWER).astype("Int64").rename_axis(columns=None)
    models.columns = [int(y) for y in models.columns]
    m = municipalities.set_index("kommunekode")
    missing = sorted(set(models.index) - set(m.index))
    if missing:
        raise ValueError(f"kommunekode not in the municipality table: {missing}")
    cov = m.loc[models.index, ["kommunegruppe", "regionsnavn"]].copy()
    for y in models.columns:
        cov[f"population_{y}"] = m.loc[models.index, f"population_{_population_year(y)}"].astype(int)
    synthetic = bool(aligned["synthetic"].astype(bool).any()) if "synthetic" in aligned else False
    return Panel(models.sort_index(), cov.sort_index(), synthetic)
