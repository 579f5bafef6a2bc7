"""Notebook 04 as a sequence of typed steps: its parameters, every estimator on one panel, its key results.

:class:`Specification` reads the notebook's parameters by name and checks them against the
vocabulary; it splits into the panel's data choices (:class:`~.panel.PanelSpec`) and the
estimation choices (:class:`~.estimators.EstimationSpec`). :func:`estimate` fits every estimator
on the panel's sample (:class:`Estimates`), and :func:`key_results` turns the typed results into
the notebook family's results JSON (:class:`helpers.results.adoption.AdoptionResults`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from helpers.core import vocabulary
from helpers.core.vocabulary import (
    AdoptionOutcome,
    AdoptionSource,
    ControlGroup,
    Covid,
    Estimator,
    Reversals,
    TimingRule,
)
from helpers.results import adoption as keys

from .estimators import CSEventStudy, EstimationSpec, EventStudy, StaticFit, fit_cs, fit_twfe_event, fit_twfe_static
from .panel import AdoptionPanel, PanelSpec
from .simulation import SimulationStudy
from .truth import TruthComparison
from .variants import Sensitivity


@dataclass(frozen=True)
class Specification:
    """The parameters of notebook 04_adoption_panel (its parameters cell declares exactly these names).

    Fields: ``rounds``, ``treatment``, ``ordering``, ``outcome`` (loans only), ``usage_source``, ``estimator``,
    ``event_window``, ``anticipation``, ``control_group``, ``timing``, ``reversals``, ``covid``,
    ``exclude_flagged``, ``exclude``, ``usage_year_offset``, ``simulation_reps``; what each means is the comment
    beside it in the notebook. Making one checks every value (:attr:`panel` and :attr:`estimation` check theirs).

    ``rounds`` empty (the default) means every round of the pipeline config. The panel always holds every round
    of the config: a round not named in ``rounds`` is *unobserved* (:attr:`PanelSpec.left_out
    <helpers.analysis.adoption.panel.PanelSpec>`), never "not treated".
    """

    rounds: tuple[int, ...] = ()
    treatment: str = "any"
    ordering: str = "5<1<2<3<4"
    outcome: AdoptionOutcome = "loans"
    usage_source: AdoptionSource = "real"
    estimator: Estimator = "cs"
    event_window: tuple[int, int] = (-4, 8)
    anticipation: int = 0
    control_group: ControlGroup = "notyettreated"
    timing: TimingRule = "round"
    reversals: Reversals = "absorbing"
    covid: Covid = "include"
    exclude_flagged: tuple[str, ...] = ("reporting_failure",)
    exclude: tuple[int, ...] = ()
    usage_year_offset: int = 1
    simulation_reps: int = 200

    def __post_init__(self):
        for name in ("rounds", "event_window", "exclude_flagged", "exclude"):  # lists from papermill, kept as given
            object.__setattr__(self, name, tuple(getattr(self, name)))
        vocabulary.check_choice("outcome", self.outcome, AdoptionOutcome)
        _ = self.panel, self.estimation  # both check their values now, not at first use

    @classmethod
    def from_parameters(cls, namespace: Mapping[str, Any]) -> Specification:
        """The specification from a namespace holding the notebook's parameters by name (e.g. its ``globals()``);
        an error names every parameter missing."""
        names = [f.name for f in dataclasses.fields(cls)]
        missing = [n for n in names if n not in namespace]
        if missing:
            raise ValueError(f"notebook parameters missing: {', '.join(missing)}; expected: {', '.join(names)}")
        return cls(**{n: namespace[n] for n in names})

    @property
    def config_rounds(self) -> tuple[int, ...]:
        """The survey rounds of the pipeline config (``helpers.running.pipeline.load_rounds``)."""
        from helpers.running.pipeline import load_rounds

        return tuple(sorted(load_rounds()))

    @property
    def panel(self) -> PanelSpec:
        """The data choices of the adoption panel: every round of the config, those not in ``rounds`` left out."""
        config = self.config_rounds
        chosen = tuple(int(r) for r in self.rounds) or config
        return PanelSpec(
            rounds=tuple(sorted(set(config) | set(chosen))),
            left_out=tuple(r for r in config if r not in chosen),
            treatment=self.treatment,
            ordering=self.ordering,
            source=self.usage_source,
            offset=self.usage_year_offset,
            timing_rule=self.timing,
            covid=self.covid,
            exclude_flags=self.exclude_flagged,
            exclude=self.exclude,
            reversals=self.reversals,
        )

    @property
    def estimation(self) -> EstimationSpec:
        """How the effects are estimated."""
        return EstimationSpec(self.estimator, self.event_window, self.anticipation, self.control_group)

    @property
    def tag(self) -> str:
        """Source and rounds, as output names carry them (``real_2009_2011_2014``)."""
        return self.panel.tag

    def parameters(self) -> dict[str, Any]:
        """The parameters as the results JSON records them (lists where the notebook gives lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


@dataclass(frozen=True, eq=False)
class Estimates:
    """Every estimator on one panel's sample.

    Fields: ``cs`` (Callaway & Sant'Anna, :class:`~.estimators.CSEventStudy`), ``twfe`` (the PPML event study,
    :class:`~.estimators.EventStudy`), ``static`` (the naive one-effect PPML, :class:`~.estimators.StaticFit`),
    ``headline`` (the estimator the notebook leads with).
    """

    cs: CSEventStudy
    twfe: EventStudy
    static: StaticFit
    headline: Estimator

    def __post_init__(self):
        vocabulary.check_choice("estimator", self.headline, Estimator)

    @property
    def studies(self) -> dict[Estimator, EventStudy]:
        """The event studies by estimator (Callaway & Sant'Anna first)."""
        return {"cs": self.cs, "twfe": self.twfe}

    @property
    def headline_study(self) -> EventStudy:
        return self.studies[self.headline]

    def tables(self) -> dict[str, pd.DataFrame]:
        """The event-time tables by label, the headline first (as :func:`helpers.outputs.plots.event_study` draws)."""
        order = [self.headline] + [e for e in self.studies if e != self.headline]
        return {self.studies[e].label: self.studies[e].table for e in order}

    def side_by_side(self) -> pd.DataFrame:
        """The event-time tables side by side (Callaway & Sant'Anna, TWFE Poisson)."""
        return pd.concat({s.label: s.table for s in self.studies.values()}, axis=1)

    def pretrend(self) -> pd.DataFrame:
        """The pre-trend tests, one row per estimator: statistic, df, p, test."""
        return pd.DataFrame({s.label: dataclasses.asdict(s.pretrend) for s in self.studies.values()}).T.rename_axis(
            "estimator"
        )


def estimate(panel: AdoptionPanel, spec: EstimationSpec) -> Estimates:
    """Callaway & Sant'Anna, the PPML event study and the static PPML on the panel's sample."""
    s = panel.sample
    # in notebook 04's order. pyfixest's demeaning stops at its default tolerance (1e-6), so the PPML standard
    # errors are exact to ~1e-7 relative only, and their last digits vary with what ran before in the process
    twfe = fit_twfe_event(s, spec.window, spec.anticipation)
    static = fit_twfe_static(s, spec.anticipation)
    cs = fit_cs(s, spec.control_group, spec.anticipation, spec.window)
    return Estimates(cs=cs, twfe=twfe, static=static, headline=spec.estimator)


# --- key results --------------------------------------------------------------------------------
def _num(x) -> float | None:
    """A float, or None where the value does not exist (NaN / NA)."""
    return None if x is None or pd.isna(x) else float(x)


def _records(df: pd.DataFrame) -> list[dict]:
    return df.reset_index().to_dict("records")


def _effects(table: pd.DataFrame) -> tuple[keys.EventTimeEffect, ...]:
    return tuple(
        keys.EventTimeEffect(
            event_time=int(r["event_time"]),
            estimate=_num(r["estimate"]),
            se=_num(r["se"]),
            low=_num(r["low"]),
            high=_num(r["high"]),
            p=_num(r["p"]),
            reference=bool(r["reference"]),
        )
        for r in _records(table)
    )


def _study(s: EventStudy) -> keys.EventStudyResult:
    pre = s.pretrend
    return keys.EventStudyResult(
        estimator=s.estimator,
        label=s.label,
        units=s.n_units,
        observations=s.n_obs,
        effects=_effects(s.table),
        pretrend=keys.PretrendTest(_num(pre.statistic), pre.df, _num(pre.p), pre.test),
    )


def key_results(
    panel: AdoptionPanel,
    estimates: Estimates,
    sensitivity: Sensitivity,
    simulation: SimulationStudy,
    truth: TruthComparison | None = None,
) -> keys.AdoptionResults:
    """The key results of a notebook-04 run from its typed results (every number its results JSON holds)."""
    spec = panel.spec
    st = estimates.static
    return keys.AdoptionResults(
        rounds=spec.rounds,
        treatment=spec.treatment,
        source=spec.source,
        synthetic_usage=panel.synthetic_usage,
        synthetic_survey=panel.synthetic_survey,
        years=tuple(
            keys.YearUse(**{k: (int(v) if k == "year" else v) for k, v in r.items()}) for r in _records(panel.years)
        ),
        left_out={str(k): int(v) for k, v in panel.left_out().items()},
        timing=tuple(
            keys.TimingGroup(
                category=str(r["category"]),
                g_round=int(r["g_round"]),
                g_earliest=int(r["g_earliest"]),
                units=int(r["units"]),
                included=int(r["included"]),
                reversals=int(r["reversals"]),
            )
            for r in panel.timing_summary().to_dict("records")
        ),
        cohorts={int(g): int(n) for g, n in panel.cohorts()["units"].items()},
        reversals=keys.ReversalRule(
            rule=spec.reversals,
            units=tuple(
                keys.ReversalUnit(
                    kommunekode=int(r["kommunekode"]),
                    history=str(r["history"]),
                    first_treated_round=None if pd.isna(r["first_treated_round"]) else int(r["first_treated_round"]),
                    g_round=int(r["g_round"]),
                    category=str(r["category"]),
                    rule=str(r["rule"]),
                )
                for r in _records(panel.reversals())
            ),
        ),
        event_studies={e: _study(s) for e, s in estimates.studies.items()},
        headline=estimates.headline,
        twfe_static=keys.StaticEffect(st.estimate, st.se, st.low, st.high, st.p, st.n),
        sensitivity=tuple(
            keys.SensitivityRow(
                variant=str(r["variant"]),
                units=int(r["units"]),
                adopters=int(r["adopters"]),
                avg_post=_num(r["avg_post"]),
                twfe_static=float(r["twfe_static"]),
                twfe_low=float(r["twfe_low"]),
                twfe_high=float(r["twfe_high"]),
                pretrend_p=_num(r["pretrend_p"]),
            )
            for r in _records(sensitivity.table)
        ),
        simulation=keys.SimulationResult(
            reps=simulation.reps,
            event=tuple(
                keys.CoverageRow(
                    event_time=int(r["event_time"]),
                    true=float(r["true"]),
                    mean_estimate=float(r["mean_estimate"]),
                    bias=float(r["bias"]),
                    coverage=float(r["coverage"]),
                    mc_se=float(r["mc_se"]),
                )
                for r in _records(simulation.event)
            ),
            twfe=keys.TwfeBias(**dataclasses.asdict(simulation.twfe)),
        ),
        vs_truth=()
        if truth is None
        else tuple(
            keys.TruthRow(
                event_time=int(r["event_time"]),
                estimate=_num(r["estimate"]),
                low=_num(r["low"]),
                high=_num(r["high"]),
                true=_num(r["true"]),
                covered=None if pd.isna(r["covered"]) else bool(r["covered"]),
            )
            for r in _records(truth.table)
        ),
    )
