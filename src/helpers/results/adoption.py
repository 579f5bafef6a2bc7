"""Key results of notebook 04_adoption_panel: the event study of library loans around adoption.

Built by :func:`helpers.analysis.adoption.key_results` from the typed analysis results (the panel,
the event studies, the static TWFE fit, the sensitivity table, the simulation study and, with the
synthetic panel, the comparison with the truth); read back by the brief and the report site.
All effects are on the log scale (log rate ratio of loans per inhabitant). A value that does not
exist (the reference period's standard error, a p-value pyfixest could not compute) is ``None``
(JSON ``null``), never NaN.

Plain data only: this module imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.core.vocabulary import AdoptionSource, Estimator, Reversals, Treatment
from helpers.results.base import KeyResults

TREATMENT_WORDS: dict[str, str] = {
    "any": "any cooperation (models 1-4)",
    "staff": "library staff doing the tasks (models 3-4)",
    **{f"level{k}+": f"cooperation level {k} or higher" for k in (1, 2, 3, 4)},
}
"""Each :data:`~helpers.core.vocabulary.Treatment` in words (tests check it names exactly the alias's values)."""

ESTIMATOR_LABELS: dict[str, str] = {"cs": "Callaway & Sant'Anna", "twfe": "TWFE Poisson"}
"""The short name of each :data:`~helpers.core.vocabulary.Estimator`, as tables, figures and the brief show it."""


@dataclass(frozen=True)
class YearUse:
    """One calendar year of the loans series: in the series, with exposure, a COVID year, used, and why not."""

    year: int
    in_series: bool
    has_population: bool
    covid: bool
    used: bool
    note: str


@dataclass(frozen=True)
class TimingGroup:
    """Units of one timing category and first treated year (``g_round``; earliest bound ``g_earliest``; 0 = never):
    ``units`` in all, ``included`` in the estimators, ``reversals`` reporting a lower level later."""

    category: str
    g_round: int
    g_earliest: int
    units: int
    included: int
    reversals: int


@dataclass(frozen=True)
class ReversalUnit:
    """A unit reporting a lower level after a treated one: its answers, first treated round and year, the rule."""

    kommunekode: int
    history: str
    first_treated_round: int | None
    g_round: int
    category: str
    rule: str


@dataclass(frozen=True)
class ReversalRule:
    """The rule for units reporting a lower level later (``rule``) and the units it applies to."""

    rule: Reversals
    units: tuple[ReversalUnit, ...]


@dataclass(frozen=True)
class EventTimeEffect:
    """One event time: estimate, standard error, pointwise 95 % interval, p-value (as the library computes them:
    analytic influence function for Callaway & Sant'Anna, CRV1 for TWFE; normal); the reference period is 0
    by construction, with no standard error, interval or p-value (``None``). Then: the jackknife standard error,
    interval and p (Callaway & Sant'Anna; None for TWFE), the Holm and Benjamini-Hochberg adjusted p-values within
    the event study's family, the simultaneous 95 % band (``band_*``: did's multiplier bootstrap for Callaway &
    Sant'Anna, sup-t of CRV1 for TWFE) and the jackknife sup-t band (``band_jk_*``)."""

    event_time: int
    estimate: float | None
    se: float | None
    low: float | None
    high: float | None
    p: float | None
    reference: bool
    se_jk: float | None = None
    low_jk: float | None = None
    high_jk: float | None = None
    p_jk: float | None = None
    p_holm: float | None = None
    p_bh: float | None = None
    band_low: float | None = None
    band_high: float | None = None
    band_jk_low: float | None = None
    band_jk_high: float | None = None

    @property
    def quoted(self) -> tuple[float | None, float | None, float | None]:
        """(low, high, p) of the interval a sentence quotes: the jackknife one where it exists, else the library's."""
        if self.low_jk is not None:
            return self.low_jk, self.high_jk, self.p_jk
        return self.low, self.high, self.p


@dataclass(frozen=True)
class EffectResult:
    """One effect with its uncertainty: ``estimate`` (log scale), ``se``, 95 % interval ``low``-``high``, ``p`` (of
    effect = 0) and ``interval`` (what the interval is, in words)."""

    estimate: float
    se: float | None
    low: float | None
    high: float | None
    p: float | None
    interval: str


@dataclass(frozen=True)
class AggregateRow:
    """One row of a did::aggte aggregation: ``label`` (event time, cohort or year; 0 for the simple ATT), estimate,
    se, 95 % interval, p (analytic influence function, normal); ``p_holm``, ``p_bh``: p adjusted within the
    aggregation's effects (one family of tests)."""

    label: int
    estimate: float | None
    se: float | None
    low: float | None
    high: float | None
    p: float | None
    p_holm: float | None = None
    p_bh: float | None = None


@dataclass(frozen=True)
class Aggregation:
    """One did::aggte aggregation (``kind``: dynamic | simple | group | calendar): its ``rows`` and its ``overall``
    effect (analytic influence function)."""

    kind: str
    rows: tuple[AggregateRow, ...]
    overall: EffectResult


@dataclass(frozen=True)
class PretrendTest:
    """The test that every pre-period effect is 0: Wald ``statistic``, its ``df`` (None when the library does not
    report it), ``p`` and the test in words."""

    statistic: float | None
    df: int | None
    p: float | None
    test: str


@dataclass(frozen=True)
class EventStudyResult:
    """One estimator's event study: ``estimator`` code and ``label``; ``units`` (kommuner) and ``observations``
    (unit-years) it used; the ``effects`` by event time; the ``pretrend`` test; ``overall`` (the average of the
    event-time effects 0 to the window's end, with the interval that covers at the real design); ``interval``,
    ``band`` and ``band_jk`` (what the pointwise intervals and the bands are, in words); ``family`` (the family of
    tests the adjusted p-values are adjusted in, in words) and ``family_size``; ``estimand`` in words."""

    estimator: Estimator
    label: str
    units: int
    observations: int
    effects: tuple[EventTimeEffect, ...]
    pretrend: PretrendTest
    overall: EffectResult | None = None
    interval: str = ""
    band: str = ""
    band_jk: str = ""
    family: str = ""
    family_size: int = 0
    estimand: str = ""


@dataclass(frozen=True)
class StaticEffect:
    """The naive two-way fixed-effects Poisson effect (one effect for all): estimate, se, 95 % interval, p, and
    ``n`` unit-years; ``interval``: what the interval is, in words."""

    estimate: float
    se: float
    low: float
    high: float
    p: float
    n: int
    interval: str = ""


@dataclass(frozen=True)
class SensitivityRow:
    """One variant of the data choices: units and adopters in the headline estimator's sample, its average
    post-adoption effect (``avg_post``), the naive TWFE effect with its 95 % interval, the headline pre-trend p;
    then the headline's interval (``avg_low``, ``avg_high``), never-treated units, ``note`` (why a variant could
    not be estimated) and ``interval`` (what the headline's interval is, in words)."""

    variant: str
    units: int
    adopters: int
    avg_post: float | None
    twfe_static: float | None
    twfe_low: float | None
    twfe_high: float | None
    pretrend_p: float | None
    avg_low: float | None = None
    avg_high: float | None = None
    never_treated: int | None = None
    note: str = ""
    interval: str = ""


@dataclass(frozen=True)
class TruthRow:
    """The headline estimate at one event time beside the true effect (synthetic panel), and whether the 95 %
    interval covers it (``None`` for the reference period or where no truth exists)."""

    event_time: int
    estimate: float | None
    low: float | None
    high: float | None
    true: float | None
    covered: bool | None


@dataclass(frozen=True)
class CoverageRow:
    """Simulated panels, one event time: the true effect, mean estimate, bias, coverage of the 95 % intervals and
    the Monte Carlo standard error of that coverage."""

    event_time: int
    true: float
    mean_estimate: float
    bias: float
    coverage: float
    mc_se: float


@dataclass(frozen=True)
class TwfeBias:
    """Simulated panels: the true average effect over treated unit-years, the mean naive TWFE estimate, its bias
    and its standard deviation across panels."""

    true_att: float
    mean: float
    bias: float
    sd: float


@dataclass(frozen=True)
class IntervalCoverage:
    """Simulated panels: the coverage of one interval (``estimator``, ``interval`` in words, ``target``: an event
    time, "all event times" for a band, or an aggregate) around its ``true`` value (TWFE: its pseudo-true value),
    with the Monte Carlo standard error ``mc_se`` and whether it is below the 0.93 floor."""

    estimator: str
    interval: str
    target: str
    true: float | None
    mean_estimate: float | None
    coverage: float
    mc_se: float
    below_floor: bool


@dataclass(frozen=True)
class NoiseResult:
    """The simulation's noise, calibrated to the real panel: two-way residual sd and lag-1 autocorrelation of log
    loans per 1,000 (balanced sample: ``units``, ``observations``), and the AR(1) (``ar_sd``, ``ar_rho``) with both."""

    residual_sd: float
    lag1: float
    units: int
    observations: int
    ar_sd: float
    ar_rho: float


@dataclass(frozen=True)
class SimulationResult:
    """The simulation study: ``reps`` panels, coverage per event time (``event``), the naive TWFE bias (``twfe``);
    ``coverage`` of every interval checked, ``cs_simple`` (the bias of Callaway & Sant'Anna's simple ATT against the
    same true average), ``noise`` (its calibration), ``cohorts`` of the design (0 = never treated), ``draws``."""

    reps: int
    event: tuple[CoverageRow, ...]
    twfe: TwfeBias
    coverage: tuple[IntervalCoverage, ...] = ()
    cs_simple: TwfeBias | None = None
    noise: NoiseResult | None = None
    cohorts: dict[int, int] | None = None
    draws: int = 0

    def covered(self, estimator: str, interval: str, target: str) -> IntervalCoverage | None:
        """The coverage row of one interval (by its words' start), or None."""
        return next(
            (
                c
                for c in self.coverage
                if c.estimator == estimator and c.interval.startswith(interval) and c.target == target
            ),
            None,
        )


@dataclass(frozen=True)
class LikeForLike:
    """One estimator on one sample and scale: ``estimator`` (label), ``weights``, ``sample`` in words, ``units``,
    its average of event-time effects 0 to the window's end with its 95 % interval, and its ``estimand`` in words."""

    estimator: str
    weights: str
    sample: str
    units: int
    estimate: float | None
    low: float | None
    high: float | None
    interval: str
    estimand: str


@dataclass(frozen=True)
class WildRow:
    """One coefficient of a TWFE Poisson fit: ``term``, estimate, CRV1 se, CRV1 95 % interval and p (normal, z),
    and the wild score bootstrap's p (``p_wild``) and 95 % interval by test inversion (``low_wild``, ``high_wild``);
    ``p_wild_holm``, ``p_wild_bh``: the bootstrap p adjusted (Holm, Benjamini-Hochberg) within the fit's coefficients
    (one family of tests: the event times of the event study)."""

    term: str
    estimate: float
    se: float
    low: float
    high: float
    p: float
    p_wild: float
    low_wild: float | None
    high_wild: float | None
    p_wild_holm: float | None = None
    p_wild_bh: float | None = None


@dataclass(frozen=True)
class WildBootstrapResult:
    """The wild score bootstrap beside CRV1 for one TWFE Poisson fit (``model``): its ``rows``, ``method`` in words,
    ``draws``, ``seed`` and ``clusters``."""

    model: str
    rows: tuple[WildRow, ...]
    method: str
    draws: int
    seed: int
    clusters: int


@dataclass(frozen=True)
class HonestRow:
    """The Rambachan & Roth robust 95 % set at one bound ``m`` (Mbar or M): ``lb`` to ``ub``."""

    m: float
    lb: float
    ub: float


@dataclass(frozen=True)
class HonestResult:
    """The Rambachan & Roth sensitivity of the headline: ``target`` in words, its ``estimate`` and ``original``
    interval (exact parallel trends), the robust sets by relative magnitudes (Mbar) and smoothness (M), and the
    breakdown values (None: not significant under exact parallel trends; with ``rm_at_least`` / ``sd_at_least``:
    significant at every bound tried, the value is the largest tried), ``points`` of the test inversion grid."""

    target: str
    estimate: float
    original_low: float
    original_high: float
    relative_magnitudes: tuple[HonestRow, ...]
    smoothness: tuple[HonestRow, ...]
    breakdown_rm: float | None
    breakdown_sd: float | None
    points: int
    rm_at_least: bool = False
    sd_at_least: bool = False


@dataclass(frozen=True)
class ClusteringTests:
    """The two tests of spatial clustering of adoption: ``early`` of ``answered`` kommuner cooperating at
    ``early_round``, the neighbour pairs both cooperating (``bb_joins``) against ``bb_expected`` at random with the
    one-sided permutation ``p_bb``, and Moran's I of the first treated round (``moran_i``) against
    ``moran_expected`` with the two-sided permutation ``p_moran``."""

    early_round: int
    early: int
    answered: int
    bb_joins: float
    bb_expected: float
    p_bb: float
    moran_i: float
    moran_expected: float
    p_moran: float


@dataclass(frozen=True)
class SpilloverResult(ClusteringTests):
    """Spatial clustering of adoption and the estimates without neighbours of earlier adopters as controls.

    ``early_round``, ``early`` of ``answered``: kommuner cooperating at the second round; ``bb_joins`` (neighbour pairs
    both cooperating) against ``bb_expected``, one-sided permutation ``p_bb``; Moran's I of the first treated round
    (``moran_i``, ``moran_expected``, two-sided ``p_moran``); ``permutations``; ``dropped`` kommuner; and the headline
    and static TWFE without them (``units_left``, ``overall``, interval, ``note`` when not estimable); ``interval``:
    what the headline's interval is, in words."""

    permutations: int
    dropped: int
    units_left: int
    never_treated_left: int
    overall: float | None
    overall_low: float | None
    overall_high: float | None
    note: str
    interval: str = ""


@dataclass(frozen=True)
class AdoptionResults(KeyResults):
    """Key results of one 04_adoption_panel run.

    Fields: ``rounds`` dating adoption, ``treatment`` (canonical), ``source`` of the loans and whether the loans
    (``synthetic_usage``) and the survey rounds (``synthetic_survey``) are synthetic; ``years`` (every calendar
    year and its use), ``left_out`` (unit-years left out, by reason), ``timing`` (units per category and first
    treated year), ``cohorts`` (units in the estimation sample per first treated year, 0 = never), ``reversals``;
    ``event_studies`` by estimator (Callaway & Sant'Anna, TWFE Poisson) and the ``headline`` estimator;
    ``twfe_static`` (the naive one-effect fit); ``sensitivity`` (one row per variant of the data choices);
    ``simulation`` (coverage and TWFE bias on simulated panels of this sample's design); ``vs_truth``
    (synthetic panel only: the headline estimates against the truth, else empty); ``left_out_rounds`` (rounds of
    the config not used: unobserved); ``overall`` (the headline: the average of the event-time effects 0 to the
    window's end, with the interval that covers at the real design) and ``simple`` (did's simple ATT, jackknife);
    ``aggregations`` (did::aggte's four, analytic); ``like_for_like`` (the estimators on one sample and scale, with
    their estimands); ``wild`` (the wild score bootstrap beside CRV1, by model); ``honest`` (Rambachan & Roth);
    ``leave_one_round_out``; ``spillover``; ``imputed_timing`` (the timing with imputed unanswered rounds, when run).
    """

    prefix = "04_adoption"

    rounds: tuple[int, ...]
    treatment: Treatment
    source: AdoptionSource
    synthetic_usage: bool
    synthetic_survey: bool
    years: tuple[YearUse, ...]
    left_out: dict[str, int]
    timing: tuple[TimingGroup, ...]
    cohorts: dict[int, int]
    reversals: ReversalRule
    event_studies: dict[Estimator, EventStudyResult]
    headline: Estimator
    twfe_static: StaticEffect
    sensitivity: tuple[SensitivityRow, ...]
    simulation: SimulationResult
    vs_truth: tuple[TruthRow, ...] = ()
    left_out_rounds: tuple[int, ...] = ()
    overall: EffectResult | None = None
    simple: EffectResult | None = None
    aggregations: dict[str, Aggregation] | None = None
    like_for_like: tuple[LikeForLike, ...] = ()
    wild: dict[str, WildBootstrapResult] | None = None
    honest: HonestResult | None = None
    leave_one_round_out: tuple[SensitivityRow, ...] = ()
    spillover: SpilloverResult | None = None
    imputed_timing: tuple[SensitivityRow, ...] = ()

    @property
    def headline_study(self) -> EventStudyResult:
        """The event study of the headline estimator."""
        return self.event_studies[self.headline]
