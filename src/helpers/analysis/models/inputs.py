"""What the models are fitted on: survey rounds joined to usage years, with the flagged values named.

Values that the usage data's provenance flags as reporting failures (:func:`reporting_failures`,
e.g. the real loans of Gribskov 2012 = 0) leave the frames by default (:func:`model_inputs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args

import numpy as np
import pandas as pd

from helpers.analysis.models.design import truth_by_term
from helpers.core import vocabulary
from helpers.core.cooperation import format_ordering
from helpers.core.errors import NotCovered, Problem
from helpers.core.vocabulary import ModelOutcome, QualityFlagKind, UsageSource
from helpers.results.models import FlaggedValue, Pairing

REPORTING_FAILURE: QualityFlagKind = "reporting_failure"  # the quality flag of a value that is not real usage
FLAGGED_OUTCOMES: tuple[ModelOutcome, ...] = ("loans",)  # usage.QUALITY_FLAGS describe the real loans series only
FLAGGED_COLUMNS = ("survey round", "kommunekode", "usage year", "per 1,000", "note")  # the outcome after usage year


@dataclass(frozen=True)
class AnalysisFrame:
    """One survey round joined to one usage year (:func:`analysis_frame`).

    ``frame``: one row per kommune that answered (models 1-5) and has a usage value, with
    ``rate_per_1000``, ``log_population`` and ``reporting_failure``; ``dropped``: kommuner that
    answered but have no usage row or value (Fanø, 563, is served by Esbjerg's unit 561).
    """

    frame: pd.DataFrame
    dropped: list[int]


@dataclass(frozen=True)
class ModelInputs:
    """The analysis frames of notebook 03 (:func:`model_inputs`).

    ``outcome``, ``usage_source``, ``rounds``, ``offset`` (usage year = round + offset),
    ``exclude`` (kommuner left out of every model): what was asked; ``frames``: per round, the
    frame the count models use (flagged reporting failures left out unless ``keep_flagged``);
    ``frames_with_flagged``: per round, every row (for the sensitivity fit with them, and for the
    ordinal logit, which does not use the outcome); ``flagged``: the flagged values (survey round,
    kommunekode, usage year, the outcome, per 1,000, note); ``keep_flagged``; ``panel``: the usage
    panel; ``synthetic``: whether any input is synthetic; ``pairing``: per round, its usage year,
    n, dropped and flagged kommuner.
    """

    outcome: ModelOutcome
    usage_source: UsageSource
    rounds: tuple[int, ...]
    offset: int
    exclude: tuple[int, ...]
    frames: dict[int, pd.DataFrame]
    frames_with_flagged: dict[int, pd.DataFrame]
    flagged: pd.DataFrame
    keep_flagged: bool
    panel: pd.DataFrame
    synthetic: bool
    pairing: dict[int, Pairing]

    @property
    def first(self) -> int:
        return self.rounds[0]

    @property
    def last(self) -> int:
        return self.rounds[-1]

    def pairing_table(self) -> pd.DataFrame:
        """The pairing as a table, one row per survey round."""
        rows = {
            year: {
                "usage_year": p.usage_year,
                "n": p.n,
                "dropped": list(p.dropped),
                "reporting failures": list(p.reporting_failures),
                "kept": p.kept,
            }
            for year, p in self.pairing.items()
        }
        return pd.DataFrame(rows).T.rename_axis("survey round")

    def flagged_values(self) -> tuple[FlaggedValue, ...]:
        """The flagged values as records."""
        return tuple(
            FlaggedValue(
                int(r["survey round"]),
                int(r["kommunekode"]),
                int(r["usage year"]),
                float(r[self.outcome]),
                float(r["per 1,000"]),
                None if pd.isna(r["note"]) else str(r["note"]),
            )
            for _, r in self.flagged.iterrows()
        )

    def truth(self) -> dict[str, float] | None:
        """The synthetic panel's true rate ratios of the outcome by IRR-table term; None for other sources
        (real usage has no truth to show)."""
        if self.usage_source != "synthetic":
            return None
        from helpers.data import usage

        return truth_by_term(usage.load_truth()["rate_ratios"][self.outcome])

    def parameters(self, ordering) -> dict:
        """The run's parameters as the results file records them (with the level ``ordering``)."""
        return {
            "rounds": list(self.rounds),
            "outcome": self.outcome,
            "usage_source": self.usage_source,
            "ordering": format_ordering(ordering),
            "usage_year_offset": self.offset,
            "exclude": list(self.exclude),
            "keep_flagged": self.keep_flagged,
        }

    def flagged_note(self) -> str:
        """A sentence for the notebook: how many values are flagged and whether they stayed in the models."""
        if self.flagged.empty:
            return "No value used here is flagged as a reporting failure."
        verb = "kept in the models (keep_flagged = True)" if self.keep_flagged else "left out of the models"
        return f"**{len(self.flagged)} value(s) flagged as reporting failures, {verb}:**"


def usage_year(survey_year: int, offset: int = 1) -> int:
    """The usage year paired with a survey round.

    The rounds were answered in the autumn (September 2011) and describe the organisation in
    place from then on, so the default pairs a round with the following calendar year. It also
    makes the real loans series usable for 2009 (it starts in 2010).
    """
    return int(survey_year) + int(offset)


def reporting_failures(df: pd.DataFrame, outcome: str) -> pd.Series:
    """True where the outcome's value is flagged as a reporting failure in the data's provenance.

    The flags (``quality_flag`` from :data:`helpers.data.usage.QUALITY_FLAGS`, listed in
    data/raw/usage/PROVENANCE.md) describe the real loans values, so they mark rows only when the
    outcome is loans; a level shift is not a reporting failure and stays in (see the sensitivity table).
    """
    if outcome not in FLAGGED_OUTCOMES or "quality_flag" not in df:
        return pd.Series(False, index=df.index)
    return df["quality_flag"].astype("object").eq(REPORTING_FAILURE).fillna(False).astype(bool)


def analysis_frame(survey: pd.DataFrame, panel: pd.DataFrame, usage_year: int, outcome: str) -> AnalysisFrame:
    """Survey answers of one round joined 1:1 to one usage year; only kommuner that answered.

    ``survey`` needs kommunekode and model; ``panel`` one row per library unit and year with
    ``<outcome>``, population and the controls. Fanø (563) is served by Esbjerg (561): the
    panel's unit 561 covers both, so a survey row for 563 is dropped here (named in ``dropped``).
    """
    vocabulary.check_choice(
        "outcome (a column of the usage panel)", outcome, [o for o in get_args(ModelOutcome) if o in panel]
    )
    year = panel[panel["year"] == usage_year]
    # a usage year the source does not reach is not a data error: the pipeline skips such a run (NotCovered)
    if year.empty:
        raise NotCovered(
            "usage panel", f"no usage data for {usage_year}; years present: {sorted(panel['year'].unique())}"
        )
    if year[outcome].isna().all():
        with_values = sorted(int(y) for y in panel.loc[panel[outcome].notna(), "year"].unique())
        source = f" (source: {year[f'{outcome}_source'].iat[0]})" if f"{outcome}_source" in year else ""
        raise NotCovered(
            "usage panel",
            Problem(
                f"no {outcome} values for usage year {usage_year}{source}",
                column=outcome,
                accepted=f"a round whose usage year has {outcome}: {with_values}",
            ),
        )
    s = survey[["kommunekode", "model"]].copy()
    s["model"] = pd.to_numeric(s["model"].astype("object"), errors="coerce").astype("Int64")
    s = s[s["model"].between(1, 5)]
    cols = ["kommunekode", "population", outcome, "kommunegruppe", "regionsnavn", "merged_2007"]
    cols += [c for c in ("outlier", "quality_flag") if c in year]
    df = s.merge(year[cols], on="kommunekode", how="inner", validate="one_to_one")
    df = df[df[outcome].notna() & (df["population"] > 0)].copy()
    dropped = sorted(set(s["kommunekode"]) - set(df["kommunekode"]))
    df["model"] = df["model"].astype(int)
    df["rate_per_1000"] = df[outcome] / df["population"] * 1000
    df["log_population"] = np.log(df["population"])
    df["reporting_failure"] = reporting_failures(df, outcome)
    return AnalysisFrame(df.reset_index(drop=True), dropped)


def model_inputs(
    rounds: Sequence[int],
    outcome: ModelOutcome,
    usage_source: UsageSource,
    offset: int = 1,
    exclude: Sequence[int] = (),
    keep_flagged: bool = False,
) -> ModelInputs:
    """Analysis frames per round, the usage panel, and whether anything used is synthetic.

    Values the provenance flags as reporting failures (:func:`reporting_failures`, e.g. the real
    loans of Gribskov 2012 = 0) leave ``frames`` unless ``keep_flagged``; ``flagged`` lists them
    (round, kommunekode, usage year, value, note) and ``frames_with_flagged`` keeps every row, for
    the sensitivity fit with them and for models that do not use the outcome (the ordinal logit).
    """
    from helpers.data import survey, usage

    vocabulary.check_choice("usage_source", usage_source, UsageSource)
    vocabulary.check_choice("outcome", outcome, ModelOutcome)
    if usage_source == "real" and outcome != "loans":
        raise ValueError("the real series holds physical loans only: use outcome='loans' with usage_source='real'")
    panel = usage.build_panel(sources={outcome: usage_source})
    frames, synthetic, pairing, everything, flagged = {}, bool(panel[f"{outcome}_synthetic"].any()), {}, {}, []
    notes = panel.set_index(["kommunekode", "year"])["notes"]
    for year in map(int, rounds):
        s = survey.load_clean(year)
        synthetic |= bool(s["synthetic"].any())
        uy = usage_year(year, offset)
        joined = analysis_frame(s, panel, uy, outcome)
        frame = joined.frame[~joined.frame["kommunekode"].isin(exclude)].reset_index(drop=True)
        everything[year] = frame
        bad = frame[frame["reporting_failure"]]
        flagged += [
            {
                "survey round": year,
                "kommunekode": int(r.kommunekode),
                "usage year": uy,
                outcome: float(getattr(r, outcome)),
                "per 1,000": float(r.rate_per_1000),
                "note": notes.get((int(r.kommunekode), uy)),
            }
            for r in bad.itertuples()
        ]
        frames[year] = frame if keep_flagged else frame[~frame["reporting_failure"]].reset_index(drop=True)
        pairing[year] = Pairing(
            usage_year=uy,
            n=len(frames[year]),
            dropped=tuple(joined.dropped),
            reporting_failures=tuple(sorted(bad["kommunekode"].tolist())),
            kept=bool(keep_flagged),
        )
    columns = [*FLAGGED_COLUMNS[:3], outcome, *FLAGGED_COLUMNS[3:]]
    return ModelInputs(
        outcome=outcome,
        usage_source=usage_source,
        rounds=tuple(int(y) for y in rounds),
        offset=int(offset),
        exclude=tuple(int(k) for k in exclude),
        frames=frames,
        frames_with_flagged=everything,
        flagged=pd.DataFrame(flagged, columns=columns),
        keep_flagged=bool(keep_flagged),
        panel=panel,
        synthetic=synthetic,
        pairing=pairing,
    )
