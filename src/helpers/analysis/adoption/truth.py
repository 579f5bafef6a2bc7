"""The truth of the synthetic adoption panel, and the estimates beside it. SYNTHETIC.

The synthetic loans (``helpers.data.synthetic.usage``) carry a known dynamic effect of adoption,
different per cohort. :func:`true_event_effects` gives the estimand of Callaway & Sant'Anna on the
units *as the panel classifies them*, so misdating by unanswered rounds shows up as a difference;
:func:`compare_with_truth` sets the headline estimates beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from helpers.core import paths

from .estimators import DEFAULT_WINDOW, EventStudy
from .panel import AdoptionPanel, balanced


@dataclass(frozen=True, eq=False)
class TruthComparison:
    """Estimates against the truth of the synthetic panel.

    Fields:
        true: the true effect per event time (:func:`true_event_effects`).
        table: by event time: estimate, low, high, true, covered (the 95 % interval covers the truth; <NA> for
            the reference period and where no truth exists).
    """

    true: pd.Series = field(repr=False)
    table: pd.DataFrame = field(repr=False)

    def covered(self) -> tuple[int, int]:
        """(event times whose interval covers the truth, event times compared)."""
        c = self.table["covered"].dropna()
        return int(c.sum()), len(c)


def load_adoption_truth() -> pd.DataFrame:
    """The synthetic adoption panel's truth per unit and year (cohort, event_time, log_effect). SYNTHETIC."""
    from helpers.data import provenance
    from helpers.data.synthetic import usage as synth

    return pd.read_csv(
        provenance.raw_file(
            paths.usage_raw() / synth.ADOPTION_TRUTH_FILE,
            "truth of the synthetic adoption panel missing; regenerate it with `borgerservice examples`",
        )
    )


def true_event_effects(sample: pd.DataFrame, truth: pd.DataFrame, window=DEFAULT_WINDOW) -> pd.Series:
    """The estimand of :func:`~helpers.analysis.adoption.estimators.fit_cs` on this sample: per event time, the
    cohort-size weighted mean of the true log effects of the units as classified (their true effect in year g + e,
    minus that in the base year)."""
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


def estimates_vs_truth(table: pd.DataFrame, truth: pd.Series) -> pd.DataFrame:
    """Event-time estimates beside the true effects, and whether the 95 % interval covers it."""
    t = table[["estimate", "low", "high"]].join(truth, how="left")
    covered = ((t["low"] <= t["true"]) & (t["true"] <= t["high"])).astype("boolean")
    t["covered"] = covered.mask(table["reference"].to_numpy() | t["true"].isna().to_numpy())
    return t


def compare_with_truth(panel: AdoptionPanel, study: EventStudy) -> TruthComparison | None:
    """The study's estimates against the truth when the panel's loans are the synthetic panel; None for real loans."""
    if panel.spec.source != "synthetic":
        return None
    true = true_event_effects(panel.sample, load_adoption_truth(), study.window)
    return TruthComparison(true, estimates_vs_truth(study.table, true))


def synthetic_effect(cohort: int, year: int) -> float:
    """The synthetic generator's true effect path (cohort-heterogeneous), for simulations on any sample."""
    from helpers.data.synthetic import usage as synth

    cohort = int(cohort)
    if not cohort or cohort in synth.COHORT_SCALE:
        return synth.adoption_effect(cohort, year)
    # other cohorts (other rounds): the scale of the nearest earlier one
    like = (
        max(g for g in synth.COHORT_SCALE if g <= cohort)
        if cohort >= min(synth.COHORT_SCALE)
        else min(synth.COHORT_SCALE)
    )
    return synth.adoption_effect(like, int(year) - cohort + like)
