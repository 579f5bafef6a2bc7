"""The adoption panel: every unit-year of the loans series, its first treated year, and why a row is left out.

:func:`build` (or :func:`build_panel` from a :class:`PanelSpec`) reads the survey rounds and the
loans, dates adoption (:mod:`.dating`) and returns an :class:`AdoptionPanel`: the full panel with
the reason each left-out row is left out, the estimation sample, the timing table, the year table
and the flagged values met. Its data choices are one frozen :class:`PanelSpec`, so a sensitivity
variant is the same spec with one choice turned (:meth:`AdoptionPanel.variant`), built from the
same survey answers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.core import paths, vocabulary
from helpers.core.errors import DataError, Problem
from helpers.core.vocabulary import AdoptionSource, Covid, QualityFlagKind, Reversals, TimingRule, Treatment
from helpers.data import usage

from .dating import parse_treatment, reversal_table, round_models, timing, timing_summary

COVID_YEARS = (2020, 2021)
PANEL_COLUMNS = ["kommunekode", "year", "population", "loans", "loans_per_1000", "quality_flag"]


@dataclass(frozen=True)
class PanelSpec:
    """The data choices of an adoption panel (checked against the vocabulary when made).

    Fields: ``rounds`` of the survey (every round of the config, sorted); ``treatment`` (canonical, e.g. "level3+");
    ``ordering`` of the cooperation levels (used by a minimum level); ``source`` of the loans ("real" |
    "synthetic"); ``offset`` years between a round and the usage year it describes; ``timing_rule``
    ("round" | "earliest"); ``covid`` ("include" | "exclude" 2020-2021); ``exclude_flags`` (quality flags
    whose values are left out); ``exclude`` (kommunekoder left out); ``reversals`` ("absorbing" | "exclude");
    ``left_out`` (rounds of ``rounds`` whose answers are not used: they are *unobserved*, as if nobody had answered
    them, never "not treated"; the leave-one-round-out sensitivity and a specification of fewer rounds).
    """

    rounds: tuple[int, ...]
    treatment: Treatment = "any"
    ordering: str | None = None
    source: AdoptionSource = "real"
    offset: int = 1
    timing_rule: TimingRule = "round"
    covid: Covid = "include"
    exclude_flags: tuple[QualityFlagKind, ...] = ("reporting_failure",)
    exclude: tuple[int, ...] = ()
    reversals: Reversals = "absorbing"
    left_out: tuple[int, ...] = ()

    def __post_init__(self):
        # canonical forms of what was given (own fields of this frozen dataclass, set once here)
        object.__setattr__(self, "rounds", tuple(sorted(int(r) for r in self.rounds)))
        object.__setattr__(self, "left_out", tuple(sorted(int(r) for r in self.left_out)))
        unknown = sorted(set(self.left_out) - set(self.rounds))
        if unknown:
            raise ValueError(f"rounds left out {unknown} are not rounds of the panel; accepted: {list(self.rounds)}")
        if len(self.used_rounds) < 2:
            raise ValueError(
                f"an adoption panel needs at least two rounds with answers; got {list(self.used_rounds)} "
                f"(rounds {list(self.rounds)}, left out {list(self.left_out)})"
            )
        object.__setattr__(self, "treatment", parse_treatment(self.treatment))
        object.__setattr__(self, "exclude_flags", tuple(self.exclude_flags))
        object.__setattr__(self, "exclude", tuple(int(k) for k in self.exclude))
        vocabulary.check_choice("usage source", self.source, AdoptionSource)
        vocabulary.check_choice("timing", self.timing_rule, TimingRule)
        vocabulary.check_choice("covid", self.covid, Covid)
        vocabulary.check_choice("reversals", self.reversals, Reversals)
        for flag in self.exclude_flags:
            vocabulary.check_choice("quality flag", flag, QualityFlagKind)

    @property
    def used_rounds(self) -> tuple[int, ...]:
        """The rounds whose answers date adoption (``rounds`` less ``left_out``)."""
        return tuple(r for r in self.rounds if r not in self.left_out)

    @property
    def tag(self) -> str:
        """The run's tag in output names: source and the rounds used, e.g. ``real_2009_2011_2014``."""
        return f"{self.source}_{'_'.join(map(str, self.used_rounds))}"


@dataclass(frozen=True)
class OutcomeSeries:
    """Loans per library unit and year (``frame``: kommunekode, year, population, loans, loans_per_1000,
    quality_flag) and whether its source file is synthetic (from the manifest)."""

    frame: pd.DataFrame = field(repr=False)
    synthetic: bool


@dataclass(frozen=True, eq=False)
class AdoptionPanel:
    """An adoption panel and everything said about it.

    Fields:
        spec: the data choices (:class:`PanelSpec`).
        panel: every unit-year of the series with ``g`` (first treated year used, 0 = never), ``event_time``,
            ``treated``, ``in_sample`` and ``why_out`` (every reason a row is left out, "; "-joined).
        sample: the rows used by the estimators.
        timing: :func:`~helpers.analysis.adoption.timing.timing`'s table (one row per unit).
        years: :func:`year_table` (every calendar year of the series and its use).
        flags: the flagged values met (kommunekode, year, loans_per_1000, quality_flag, in_sample).
        models: the reported model per unit and round (the survey answers the timing comes from).
        synthetic: any input synthetic (``synthetic_usage or synthetic_survey``).
        synthetic_usage: the loans are synthetic.
        synthetic_survey: a survey round is synthetic.
    """

    spec: PanelSpec
    panel: pd.DataFrame = field(repr=False)
    sample: pd.DataFrame = field(repr=False)
    timing: pd.DataFrame = field(repr=False)
    years: pd.DataFrame = field(repr=False)
    flags: pd.DataFrame = field(repr=False)
    models: pd.DataFrame = field(repr=False)
    synthetic: bool
    synthetic_usage: bool
    synthetic_survey: bool

    @property
    def tag(self) -> str:
        return self.spec.tag

    @property
    def units(self) -> int:
        """Units (kommuner) in the estimation sample."""
        return int(self.sample["kommunekode"].nunique())

    def left_out(self) -> pd.Series:
        """Unit-years left out, by reason (a row left out for two reasons counts under both)."""
        why = self.panel.loc[~self.panel["in_sample"], "why_out"]
        return why.str.split("; ").explode().value_counts()

    def timing_summary(self) -> pd.DataFrame:
        """Units per timing category and first treated year."""
        return timing_summary(self.timing)

    def cohorts(self) -> pd.DataFrame:
        """Units and unit-years per first treated year in the estimation sample (0 = never treated)."""
        return cohort_table(self.sample)

    def reversals(self) -> pd.DataFrame:
        """Units reporting a lower level after a treated one, with the rule applied to them."""
        return reversal_table(self.timing)

    def balanced(self) -> pd.DataFrame:
        """The sample's units observed in every year of the sample (the Callaway & Sant'Anna panel)."""
        return balanced(self.sample)

    def rebuild(self, spec: PanelSpec) -> AdoptionPanel:
        """The panel of other data choices ``spec``, from the same survey answers (its rounds among this panel's);
        a round ``spec`` leaves out is unobserved."""
        return assemble(spec, self.models, synthetic_survey=self.synthetic_survey)

    def variant(self, **changes) -> AdoptionPanel:
        """The panel with some data choices changed (fields of :class:`PanelSpec`), from the same survey answers."""
        return self.rebuild(dataclasses.replace(self.spec, **changes))


# --- outcome and years -------------------------------------------------------------------------
def outcome_panel(source: str = "real") -> OutcomeSeries:
    """Loans per library unit and year of the real series, from the real loans or the synthetic adoption panel."""
    from helpers.data import provenance
    from helpers.data.synthetic import usage as synth

    vocabulary.check_choice("usage source", source, AdoptionSource)
    if source == "real":
        df = usage.real_loans()
        return OutcomeSeries(
            df[PANEL_COLUMNS].copy(), provenance.is_synthetic(paths.usage_raw() / usage.REAL_KOMMUNE_FILE)
        )
    f = provenance.raw_file(
        paths.usage_raw() / synth.ADOPTION_FILE,
        "synthetic adoption panel missing; regenerate it with `borgerservice examples`",
    )
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
    return OutcomeSeries(df[PANEL_COLUMNS], provenance.is_synthetic(f))


def year_table(years: Sequence[int], covid: str = "include", population_years: Sequence[int] = ()) -> pd.DataFrame:
    """Every calendar year from the first to the last of the series: in the series, exposure, COVID, used, why."""
    vocabulary.check_choice("covid", covid, Covid)
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
            kept = (
                "kept; the year effect absorbs the national shock"
                if covid == "include"
                else "left out (covid='exclude')"
            )
            why.append("COVID-19 closures: " + kept)
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


# --- the panel ---------------------------------------------------------------------------------
def build(rounds: Sequence[int], *, surveys: dict | None = None, **choices) -> AdoptionPanel:
    """The adoption panel of ``rounds`` with the data choices of :class:`PanelSpec` given by keyword.

    ``surveys`` maps a round to a frame with kommunekode, model (and synthetic); default the cleaned rounds.
    """
    return build_panel(PanelSpec(tuple(rounds), **choices), surveys=surveys)


def build_panel(spec: PanelSpec, *, surveys: dict | None = None) -> AdoptionPanel:
    """The adoption panel of ``spec``, reading the survey rounds (or ``surveys``) and the loans."""
    models = round_models(spec.rounds, surveys)
    if surveys is None:
        from helpers.data import survey

        synthetic_survey = any(bool(survey.load_clean(int(r))["synthetic"].any()) for r in spec.rounds)
    else:
        synthetic_survey = any(bool(df["synthetic"].any()) for df in surveys.values() if "synthetic" in df)
    return assemble(spec, models, synthetic_survey=synthetic_survey)


def assemble(spec: PanelSpec, models: pd.DataFrame, *, synthetic_survey: bool) -> AdoptionPanel:
    """The panel of ``spec`` from the reported ``models`` per unit and round (columns include ``spec.rounds``);
    the rounds ``spec`` leaves out are unobserved (<NA>), so a unit untreated at its last used round is censored
    there, never "never treated" (:func:`~.dating.timing`)."""
    models = models[list(spec.rounds)].copy()
    for r in spec.left_out:
        models[r] = pd.array([pd.NA] * len(models), dtype="Int64")
    first = min(usage.REAL_LOANS_YEARS)
    t = timing(models, spec.treatment, spec.ordering, offset=spec.offset, first_year=first, reversals=spec.reversals)
    loans = outcome_panel(spec.source)
    df = loans.frame[loans.frame["year"].isin(usage.REAL_LOANS_YEARS)].copy()
    gcol = "g_round" if spec.timing_rule == "round" else "g_earliest"
    df = df.merge(
        t[[gcol, "category", "included", "untreated_until"]].rename(columns={gcol: "g"}),
        left_on="kommunekode",
        right_index=True,
        how="left",
        validate="many_to_one",
    )
    df["event_time"] = np.where(df["g"] > 0, df["year"] - df["g"], np.nan)
    df["treated"] = (df["g"] > 0) & (df["year"] >= df["g"])
    years = year_table(usage.REAL_LOANS_YEARS, spec.covid, sorted(df.loc[df["population"].notna(), "year"].unique()))
    why = pd.Series("", index=df.index)

    def _out(mask, text):  # every reason a row is left out, in this order
        nonlocal why
        text = pd.Series(text, index=df.index) if isinstance(text, str) else text
        why = why.mask(mask & (why == ""), text).mask(mask & (why != "") & (why != text), why + "; " + text)

    _out(~df["included"], "unit: " + df["category"].astype(str))
    _out(df["kommunekode"].isin(list(spec.exclude)), "unit excluded by parameter")
    _out(~df["year"].map(years["used"]).astype(bool), "year: " + df["year"].map(years["note"]).astype(str))
    unknown = (df["untreated_until"] > 0) & (df["year"] > df["untreated_until"])
    _out(unknown, "unit-year: treatment status unknown (after the unit's last answered round, untreated)")
    flagged = df["quality_flag"].isin(list(spec.exclude_flags))
    _out(flagged, "value flagged: " + df["quality_flag"].astype(str))
    _out(df["loans"].isna() | ~(df["loans"] > 0), "no positive loans count")
    # a timing that is now always-treated in the data (earliest bound at the first year) has no pre-period
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
    return AdoptionPanel(
        spec=spec,
        panel=df.reset_index(drop=True),
        sample=df[df["in_sample"]].reset_index(drop=True),
        timing=t,
        years=years,
        flags=flags.reset_index(drop=True),
        models=models,
        synthetic=bool(loans.synthetic or synthetic_survey),
        synthetic_usage=bool(loans.synthetic),
        synthetic_survey=bool(synthetic_survey),
    )


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
