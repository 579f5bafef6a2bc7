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

import numpy as np
import pandas as pd

from helpers.core import vocabulary
from helpers.core.vocabulary import (
    AdoptionOutcome,
    AdoptionSource,
    ControlGroup,
    Covid,
    CsWeights,
    Estimator,
    Reversals,
    TimingRule,
)
from helpers.results import adoption as keys

from .estimators import (
    CS_WEIGHTS_WORDS,
    ESTIMANDS,
    EVENT_COLUMNS,
    TWFE_INTERVAL,
    CSEventStudy,
    Effect,
    EstimationSpec,
    EventStudy,
    StaticFit,
    fit_cs,
    fit_twfe_event,
    fit_twfe_static,
)
from .panel import AdoptionPanel, PanelSpec, balanced
from .simulation import SimulationStudy
from .truth import TruthComparison
from .variants import Sensitivity


@dataclass(frozen=True)
class Specification:
    """The parameters of notebook 04_adoption_panel (its parameters cell declares exactly these names).

    Fields: ``rounds``, ``treatment``, ``ordering``, ``outcome`` (loans only), ``usage_source``, ``estimator``,
    ``event_window``, ``anticipation``, ``control_group``, ``timing``, ``reversals``, ``covid``,
    ``exclude_flagged``, ``exclude``, ``usage_year_offset``, ``simulation_reps``, ``cs_weights``,
    ``bootstrap_draws``, ``seed``, ``honest_points``; what each means is the comment beside it in the notebook.
    Making one checks every value (:attr:`panel` and :attr:`estimation` check theirs).

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
    simulation_reps: int = 2000
    cs_weights: CsWeights = "units"
    bootstrap_draws: int = 999
    seed: int = 1
    honest_points: int = 60

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
        return EstimationSpec(
            self.estimator,
            self.event_window,
            self.anticipation,
            self.control_group,
            self.cs_weights,
            self.bootstrap_draws,
            self.seed,
        )

    @property
    def rounds_words(self) -> str:
        """The rounds used, as a figure title names them ("2009, 2011, 2014")."""
        return ", ".join(map(str, self.panel.used_rounds))

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

    Fields: ``cs`` (Callaway & Sant'Anna with the specified weights, :class:`~.estimators.CSEventStudy`), ``twfe``
    (the PPML event study, :class:`~.estimators.EventStudy`), ``static`` (the naive one-effect PPML,
    :class:`~.estimators.StaticFit`), ``headline`` (the estimator the notebook leads with); for the like-for-like
    comparison: ``cs_other`` (Callaway & Sant'Anna with the other weighting: by population if the specified one
    counts each kommune once, and the reverse) and ``twfe_balanced`` (the PPML event study on Callaway &
    Sant'Anna's balanced sample).
    """

    cs: CSEventStudy
    twfe: EventStudy
    static: StaticFit
    headline: Estimator
    cs_other: CSEventStudy | None = None
    twfe_balanced: EventStudy | None = None

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

    def methods(self) -> dict[str, tuple[str, str]]:
        """What the event-study figure draws, by label: the label keys (``helpers.outputs.labels``) of the pointwise
        interval (Callaway & Sant'Anna: the jackknife one, normal; TWFE: CRV1, normal) and of the simultaneous band
        (did's multiplier bootstrap; sup-t of CRV1)."""
        return {
            self.cs.label: ("interval_jackknife", "band_multiplier"),
            self.twfe.label: ("interval_crv1", "band_sup_t"),
        }

    def side_by_side(self) -> pd.DataFrame:
        """The event-time tables side by side (Callaway & Sant'Anna, TWFE Poisson): estimate, the quoted interval
        and p-value, the adjusted p-values and the simultaneous band."""
        cols = ["estimate", "low", "high", "p", "low_jk", "high_jk", "p_jk", "p_holm", "p_bh", "band_low", "band_high"]
        return pd.concat({s.label: s.table[cols].dropna(axis=1, how="all") for s in self.studies.values()}, axis=1)

    def pretrend(self) -> pd.DataFrame:
        """The pre-trend tests, one row per estimator: statistic, df, p, test."""
        return pd.DataFrame({s.label: dataclasses.asdict(s.pretrend) for s in self.studies.values()}).T.rename_axis(
            "estimator"
        )

    def aggregations(self) -> pd.DataFrame:
        """did::aggte's four aggregations of the Callaway & Sant'Anna fit, one block per kind (analytic, normal)."""
        return pd.concat(
            {k: t.rename_axis("label").reset_index().astype({"label": str}) for k, t in self.cs.aggregates.items()}
        ).droplevel(1)

    def like_for_like(self) -> pd.DataFrame:
        """The estimators on one sample and scale, each with its estimand in words: Callaway & Sant'Anna counting each
        kommune once and weighted by population (log loans per 1,000, balanced sample), TWFE Poisson on that balanced
        sample and on its own (all unit-years): the average of the event-time effects 0 to the window's end with
        its 95 % interval."""
        rows = []
        for study in (self.cs, self.cs_other):
            if study is None:
                continue
            rows.append(
                {
                    "estimator": study.label,
                    "weights": CS_WEIGHTS_WORDS[study.weights],
                    "sample": "balanced panel (units observed every year)",
                    "units": study.n_units,
                    "estimate": study.overall.estimate,
                    "low": study.overall.low,
                    "high": study.overall.high,
                    "interval": study.overall.interval,
                    "estimand": ESTIMANDS["cs" if study.weights == "units" else "cs_population"],
                }
            )
        for study, sample in (
            (self.twfe_balanced, "balanced panel (as Callaway & Sant'Anna)"),
            (self.twfe, "all unit-years"),
        ):
            if study is None:
                continue
            rows.append(
                {
                    "estimator": study.label,
                    "weights": "each kommune by its loan volume (Poisson)",
                    "sample": sample,
                    "units": study.n_units,
                    "estimate": study.overall.estimate,
                    "low": study.overall.low,
                    "high": study.overall.high,
                    "interval": study.overall.interval,
                    "estimand": ESTIMANDS["twfe"],
                }
            )
        return pd.DataFrame(rows)


def estimate(panel: AdoptionPanel, spec: EstimationSpec) -> Estimates:
    """Callaway & Sant'Anna (both weightings), the PPML event study (on the sample and on the balanced sample) and
    the static PPML, on the panel's sample."""
    s = panel.sample
    boot = {"draws": spec.draws, "seed": spec.seed}
    twfe = fit_twfe_event(s, spec.window, spec.anticipation, **boot)
    static = fit_twfe_static(s, spec.anticipation)
    cs = fit_cs(s, spec.control_group, spec.anticipation, spec.window, weights=spec.cs_weights, **boot)
    other = "population" if spec.cs_weights == "units" else "units"
    cs_other = fit_cs(s, spec.control_group, spec.anticipation, spec.window, weights=other, **boot)
    twfe_balanced = fit_twfe_event(balanced(s), spec.window, spec.anticipation, **boot)
    return Estimates(
        cs=cs, twfe=twfe, static=static, headline=spec.estimator, cs_other=cs_other, twfe_balanced=twfe_balanced
    )


# --- key results --------------------------------------------------------------------------------
def _num(x) -> float | None:
    """A float, or None where the value does not exist (NaN / NA / infinite)."""
    return None if x is None or pd.isna(x) or not np.isfinite(float(x)) else float(x)


def _records(df: pd.DataFrame) -> list[dict]:
    return df.reset_index().to_dict("records")


def _effects(table: pd.DataFrame) -> tuple[keys.EventTimeEffect, ...]:
    """One effect per event time of an event table (its columns: :data:`~.estimators.EVENT_COLUMNS`)."""
    numbers = [c for c in EVENT_COLUMNS if c != "reference"]
    return tuple(
        keys.EventTimeEffect(
            event_time=int(r["event_time"]),
            reference=bool(r["reference"]),
            **{c: _num(r.get(c)) for c in numbers},
        )
        for r in _records(table)
    )


def _effect(e: Effect | None) -> keys.EffectResult | None:
    if e is None:
        return None
    return keys.EffectResult(float(e.estimate), _num(e.se), _num(e.low), _num(e.high), _num(e.p), e.interval)


def _study(s: EventStudy) -> keys.EventStudyResult:
    pre = s.pretrend
    estimand = ESTIMANDS["cs" if getattr(s, "weights", "units") == "units" else "cs_population"]
    return keys.EventStudyResult(
        estimator=s.estimator,
        label=s.label,
        units=s.n_units,
        observations=s.n_obs,
        effects=_effects(s.table),
        pretrend=keys.PretrendTest(_num(pre.statistic), pre.df, _num(pre.p), pre.test),
        overall=_effect(s.overall),
        interval=s.interval,
        band=s.band,
        band_jk=getattr(s, "band_jk", ""),
        family=s.family.name,
        family_size=s.family.size,
        estimand=estimand if s.estimator == "cs" else ESTIMANDS["twfe"],
    )


def _sensitivity_rows(table: pd.DataFrame) -> tuple[keys.SensitivityRow, ...]:
    return tuple(
        keys.SensitivityRow(
            variant=str(r["variant"]),
            units=int(r["units"]),
            adopters=int(r["adopters"]),
            avg_post=_num(r["avg_post"]),
            twfe_static=_num(r["twfe_static"]),
            twfe_low=_num(r["twfe_low"]),
            twfe_high=_num(r["twfe_high"]),
            pretrend_p=_num(r["pretrend_p"]),
            avg_low=_num(r.get("avg_low")),
            avg_high=_num(r.get("avg_high")),
            never_treated=None if pd.isna(r.get("never_treated", np.nan)) else int(r["never_treated"]),
            note="" if pd.isna(r.get("note", "")) else str(r.get("note", "")),
            interval="" if pd.isna(r.get("interval", "")) else str(r.get("interval", "")),
        )
        for r in _records(table)
    )


def _aggregations(cs: CSEventStudy) -> dict[str, keys.Aggregation]:
    out = {}
    for kind, t in cs.aggregates.items():
        rows = tuple(
            keys.AggregateRow(
                label=0 if kind == "simple" else int(label),
                estimate=_num(r["estimate"]),
                se=_num(r["se"]),
                low=_num(r["low"]),
                high=_num(r["high"]),
                p=_num(r["p"]),
                p_holm=_num(r.get("p_holm")),
                p_bh=_num(r.get("p_bh")),
            )
            for label, r in t.iterrows()
        )
        out[kind] = keys.Aggregation(kind, rows, _effect(cs.overall_by[kind]))
    return out


def _wild(w) -> keys.WildBootstrapResult:
    return keys.WildBootstrapResult(
        model=w.model,
        rows=tuple(
            keys.WildRow(
                term=str(term),
                estimate=float(r["estimate"]),
                se=float(r["se"]),
                low=float(r["low"]),
                high=float(r["high"]),
                p=float(r["p"]),
                p_wild=float(r["p_wild"]),
                low_wild=_num(r["low_wild"]),
                high_wild=_num(r["high_wild"]),
                p_wild_holm=_num(r["p_wild_holm"]),
                p_wild_bh=_num(r["p_wild_bh"]),
            )
            for term, r in w.table.iterrows()
        ),
        method=w.method,
        draws=w.draws,
        seed=w.seed,
        clusters=w.clusters,
    )


def _honest(h) -> keys.HonestResult:
    def rows(t):
        return tuple(keys.HonestRow(float(m), float(r["lb"]), float(r["ub"])) for m, r in t.iterrows())

    def breakdown(v, grid_max):
        if v is None:
            return None, False
        return (float(grid_max), True) if np.isinf(v) else (float(v), False)

    rm, rm_at_least = breakdown(h.breakdown_rm, h.relative_magnitudes.index.max())
    sd, sd_at_least = breakdown(h.breakdown_sd, h.smoothness.index.max())
    return keys.HonestResult(
        target=h.target,
        estimate=h.estimate,
        original_low=h.original[0],
        original_high=h.original[1],
        relative_magnitudes=rows(h.relative_magnitudes),
        smoothness=rows(h.smoothness),
        breakdown_rm=rm,
        breakdown_sd=sd,
        points=h.points,
        rm_at_least=rm_at_least,
        sd_at_least=sd_at_least,
    )


def _shared(part: type, result) -> dict[str, Any]:
    """The values of the fields of the results class ``part`` in the analysis ``result`` that extends it."""
    return {f.name: getattr(result, f.name) for f in dataclasses.fields(part)}


def _spillover(sp) -> keys.SpilloverResult:
    c, t = sp.clustering, sp.neighbours.table
    left = t.loc["neighbour controls dropped"]
    return keys.SpilloverResult(
        **_shared(keys.ClusteringTests, c),
        permutations=c.permutations,
        dropped=len(sp.neighbours.dropped),
        units_left=int(left["units"]),
        never_treated_left=int(left["never_treated"]),
        overall=_num(left.get("overall")),
        overall_low=_num(left.get("overall_low")),
        overall_high=_num(left.get("overall_high")),
        note="" if pd.isna(left.get("note", "")) else str(left.get("note", "")),
        interval="" if pd.isna(left.get("interval", "")) else str(left.get("interval", "")),
    )


def _simulation(simulation: SimulationStudy) -> keys.SimulationResult:
    nz = simulation.noise
    return keys.SimulationResult(
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
        twfe=keys.TwfeBias(**{k: float(v) for k, v in dataclasses.asdict(simulation.twfe).items()}),
        coverage=tuple(
            keys.IntervalCoverage(
                estimator=str(r["estimator"]),
                interval=str(r["interval"]),
                target=str(r["target"]),
                true=_num(r["true"]),
                mean_estimate=_num(r["mean_estimate"]),
                coverage=float(r["coverage"]),
                mc_se=float(r["mc_se"]),
                below_floor=bool(r["below_floor"]),
            )
            for r in simulation.coverage.to_dict("records")
        ),
        cs_simple=keys.TwfeBias(**{k: float(v) for k, v in dataclasses.asdict(simulation.cs_simple).items()}),
        noise=None if nz is None else keys.NoiseResult(**_shared(keys.NoiseResult, nz)),
        cohorts=dict(simulation.cohorts),
        draws=simulation.draws,
    )


def key_results(
    panel: AdoptionPanel,
    estimates: Estimates,
    sensitivity: Sensitivity,
    simulation: SimulationStudy,
    truth: TruthComparison | None = None,
    *,
    rounds: Sensitivity | None = None,
    wild: dict | None = None,
    honest=None,
    spillovers=None,
    imputed: Sensitivity | None = None,
) -> keys.AdoptionResults:
    """The key results of a notebook-04 run from its typed results (every number its results JSON holds): the panel,
    the estimates, the data-choice ``sensitivity``, the ``simulation``, with the synthetic panel the ``truth``, and
    (when run) the leave-one-round-out table ``rounds``, the ``wild`` score bootstraps by model, the ``honest``
    (Rambachan & Roth) sensitivity, the ``spillovers`` and the ``imputed`` timing sensitivity."""
    spec = panel.spec
    st = estimates.static
    lfl = estimates.like_for_like()
    return keys.AdoptionResults(
        rounds=spec.used_rounds,
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
        twfe_static=keys.StaticEffect(st.estimate, st.se, st.low, st.high, st.p, st.n, f"95 %, {TWFE_INTERVAL}"),
        sensitivity=_sensitivity_rows(sensitivity.table) if len(sensitivity.table) else (),
        simulation=_simulation(simulation),
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
        left_out_rounds=spec.left_out,
        overall=_effect(estimates.headline_study.overall),
        simple=_effect(estimates.cs.simple),
        aggregations=_aggregations(estimates.cs),
        like_for_like=tuple(
            keys.LikeForLike(
                estimator=str(r["estimator"]),
                weights=str(r["weights"]),
                sample=str(r["sample"]),
                units=int(r["units"]),
                estimate=_num(r["estimate"]),
                low=_num(r["low"]),
                high=_num(r["high"]),
                interval=str(r["interval"]),
                estimand=str(r["estimand"]),
            )
            for r in lfl.to_dict("records")
        ),
        wild=None if wild is None else {k: _wild(w) for k, w in wild.items()},
        honest=None if honest is None else _honest(honest),
        leave_one_round_out=() if rounds is None else _sensitivity_rows(rounds.table),
        spillover=None if spillovers is None else _spillover(spillovers),
        imputed_timing=() if imputed is None else _sensitivity_rows(imputed.table),
    )
