"""Key results of notebook 03_model_usage (run names ``03_model_<outcome>_<rounds>``): cooperation level and usage.

Plain data only: built by :func:`helpers.analysis.models.key_results` from the typed fits and
simulation studies, written by ``reports.write_results``, read by the brief and the report site.
Rate ratios, intervals, parameters and coverages are rounded as the notebook has always published
them (4 decimals; the coverage table 5); dispersions, log-likelihoods and Monte Carlo errors are
kept at full precision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from helpers.core.vocabulary import IntervalKind
from helpers.results.base import KeyResults
from helpers.results.nonresponse import Sensitivity


@dataclass(frozen=True)
class Pairing:
    """How one survey round met its usage year.

    ``usage_year``: the usage year paired with the round; ``n``: kommuner in its models;
    ``dropped``: kommuner that answered but have no usage row (Fanø, 563, served by Esbjerg);
    ``reporting_failures``: kommuner whose value is flagged as a reporting failure; ``kept``:
    whether those stayed in the models (``keep_flagged``).
    """

    usage_year: int
    n: int
    dropped: tuple[int, ...]
    reporting_failures: tuple[int, ...]
    kept: bool


@dataclass(frozen=True)
class FlaggedValue:
    """A usage value the data's provenance flags as a reporting failure.

    ``survey_round``, ``kommunekode``, ``usage_year``; ``value``: the outcome's value; ``per_1000``:
    per 1,000 inhabitants; ``note``: the panel's note on it.
    """

    survey_round: int
    kommunekode: int
    usage_year: int
    value: float
    per_1000: float
    note: str | None


@dataclass(frozen=True)
class Flagged:
    """The flagged reporting failures among the values used: ``kept_in_models`` and the ``values``."""

    kept_in_models: bool
    values: tuple[FlaggedValue, ...]


@dataclass(frozen=True)
class TermTest:
    """One test of a family: the rate ratio ``irr`` with its 95 % interval ``low`` to ``high`` (the fit's reported
    interval), the raw ``p`` and the family's Holm (``p_holm``) and Benjamini-Hochberg (``p_bh``) adjusted p."""

    irr: float
    low: float
    high: float
    p: float
    p_holm: float
    p_bh: float


@dataclass(frozen=True)
class TestFamily:
    """The cooperation terms of one count model in one round, a family of tests (``helpers.analysis.multiplicity``).

    ``name``: which tests belong together, in words; ``interval``: what the intervals and p-values
    are (reference distribution, dispersion); ``tests``: by term.
    """

    name: str
    interval: str
    tests: dict[str, TermTest]


@dataclass(frozen=True)
class RoundFit:
    """The count models of one survey round.

    ``irr``: the negative binomial rate ratio of each cooperation model against none, by term;
    ``score_irr``: the rate ratio per level of cooperation (score model); ``alpha``, ``theta``: the
    negative binomial dispersion by maximum likelihood (theta = 1/alpha, as glm.nb);
    ``alpha_cox_reid``: the dispersion of the reported intervals (Cox-Reid adjusted profile
    likelihood); ``theta_converged``; ``loglik``: its log-likelihood; ``standard_errors``: what each
    fit's standard errors are, by fit name; ``families``: each fit's family of tests (its
    cooperation terms, raw and adjusted p-values), by fit name.
    """

    irr: dict[str, float]
    score_irr: float
    alpha: float
    theta: float
    theta_converged: bool
    loglik: float
    standard_errors: dict[str, str]
    alpha_cox_reid: float
    families: dict[str, TestFamily]


@dataclass(frozen=True)
class Change:
    """The first-difference model between the first and the last round.

    ``n``: kommuner in both; ``per_level``: change in log usage per inhabitant per level of
    cooperation; ``ci``: its 95 % interval (t with n - 2 df); ``standard_errors``: their kind.
    """

    n: int
    per_level: float
    ci: tuple[float, float]
    standard_errors: str


@dataclass(frozen=True)
class Ordinal:
    """The ordinal logit of the cooperation level in the last round.

    ``params``: statsmodels' parameters (coefficients, first threshold, log increments);
    ``cut_points``: the thresholds on MASS::polr's scale; ``converged``; ``max_abs_score``: the
    largest score component at the solution; ``loglik``.
    """

    params: dict[str, float]
    cut_points: dict[str, float]
    converged: bool
    max_abs_score: float
    loglik: float


@dataclass(frozen=True)
class SensitivityFit:
    """The score rate ratio of one round under one ordering and one sample.

    ``round``, ``ordering``, ``sample``, ``n``; ``irr`` with its 95 % interval ``irr_low`` to
    ``irr_high`` and ``p`` (the reported ones: Cox-Reid dispersion, t on n - p df). One score term
    per fit: these are the same hypothesis under other specifications, not a family of tests.
    """

    round: int
    ordering: str
    sample: str
    n: int
    irr: float
    irr_low: float
    irr_high: float
    p: float


@dataclass(frozen=True)
class IntervalVerdict:
    """Which interval covers closer to its level in a coverage study (``simulation.better_interval``).

    ``better``: the interval reported; ``clear``: whether the difference exceeds twice its Monte
    Carlo error (otherwise ``better`` is the profile interval, on other grounds);
    ``mean_abs_error``: mean |coverage - level| over the terms, per interval; ``difference``: Wald's
    error minus the profile's (positive: profile closer); ``difference_mc_se``: its paired Monte
    Carlo standard error.
    """

    better: IntervalKind
    clear: bool
    mean_abs_error: dict[IntervalKind, float]
    difference: float
    difference_mc_se: float


@dataclass(frozen=True)
class IntervalCheck:
    """How the reported interval covers in a coverage study (``simulation.check_reported``).

    ``reported``: its kind; ``target``: the band its coverage should fall in; ``coverage_range``:
    its lowest and highest coverage over the terms; ``outside_target``: by model, how far a term's
    coverage falls outside the band (negative: below), empty when all are inside;
    ``mean_abs_error``: mean |coverage - level| over the terms, per interval kind; ``advantage``: per
    other kind, its mean error minus the reported one's (positive: the reported interval is closer);
    ``advantage_mc_se``: its paired Monte Carlo standard error; ``closest``: the kind closest to the level.
    """

    reported: IntervalKind
    target: tuple[float, float]
    coverage_range: tuple[float, float]
    outside_target: dict[int, float]
    mean_abs_error: dict[IntervalKind, float]
    advantage: dict[IntervalKind, float]
    advantage_mc_se: dict[IntervalKind, float]
    closest: IntervalKind


@dataclass(frozen=True)
class CoverageTerm:
    """Coverage and bias of one model term over the simulated datasets.

    ``model``: the cooperation model (against 5); ``true_log_irr``; ``mean_est``, ``sd_est`` of the
    estimates; ``bias`` and ``bias_mc_se``; ``coverage_wald``, ``coverage_profile`` (both at the ML
    dispersion, as glm.nb) and ``coverage_cox_reid_t`` (the reported interval) with their Monte Carlo
    standard errors; ``profile_minus_wald`` and ``cox_reid_t_minus_profile`` (paired) with their
    own; ``reps`` simulated, ``used`` (converged) and ``not_converged``.
    """

    model: int
    true_log_irr: float
    mean_est: float
    sd_est: float
    bias: float
    bias_mc_se: float
    coverage_wald: float
    coverage_wald_mc_se: float
    coverage_profile: float
    coverage_profile_mc_se: float
    coverage_cox_reid_t: float
    coverage_cox_reid_t_mc_se: float
    profile_minus_wald: float
    profile_minus_wald_mc_se: float
    cox_reid_t_minus_profile: float
    cox_reid_t_minus_profile_mc_se: float
    reps: int
    used: int
    not_converged: int


@dataclass(frozen=True)
class Coverage:
    """The coverage study: ``reps``, the most ``not_converged`` of any term, the ``better_interval`` of the two
    ML-dispersion intervals, the ``check`` of the reported interval, the mean ratio of the Cox-Reid to the ML
    dispersion over the datasets (``dispersion_ratio``) and the ``terms``."""

    reps: int
    not_converged: int
    better_interval: IntervalVerdict
    check: IntervalCheck
    dispersion_ratio: float
    terms: tuple[CoverageTerm, ...]


@dataclass(frozen=True)
class Interval:
    """A rate ratio (``irr``) with the reported interval (``low``, ``high``) and every kind beside it."""

    irr: float
    low: float
    high: float
    wald_low: float
    wald_high: float
    profile_low: float
    profile_high: float
    cox_reid_t_low: float
    cox_reid_t_high: float


@dataclass(frozen=True)
class Intervals:
    """The intervals of each round's negative binomial fit: which kind is ``reported`` and what it is in words per
    round (``description``; the df of the t reference differ), and per round and term."""

    reported: IntervalKind
    description: dict[int, str]
    rounds: dict[int, dict[str, Interval]]


@dataclass(frozen=True)
class PowerPoint:
    """One effect size of the power curve: ``irr``, ``power`` and its ``mc_se``, ``reps``, ``used``,
    ``not_converged``."""

    irr: float
    power: float
    mc_se: float
    reps: int
    used: int
    not_converged: int


@dataclass(frozen=True)
class Power:
    """The power curve of the reported test (Cox-Reid standard error, t on n - p df): the smallest rate ratio detected
    with 80 % power and its Monte Carlo SE (None when
    not reached), ``reps`` per effect, the dispersion ``alpha`` simulated, ``n`` kommuner, fits
    ``not_converged`` in all, and the ``curve``."""

    minimal_detectable_irr: float | None
    minimal_detectable_mc_se: float | None
    reps: int
    alpha: float
    n: int
    not_converged: int
    curve: tuple[PowerPoint, ...]


@dataclass(frozen=True)
class ModelResults(KeyResults):
    """Key results of one run of notebook 03.

    ``outcome``, ``ordering``: what was modelled and the level ordering; ``pairing`` per round;
    ``flagged_reporting_failures``; ``rounds``: the count models per round; ``change``; ``ordinal``;
    ``sensitivity``: the score rate ratio per round, ordering and sample; ``coverage``: the
    simulation of interval coverage; ``intervals``: the reported intervals per round; ``power``;
    ``nonresponse``: each round's log rate ratio per level of cooperation under the four treatments of
    non-response (complete case, bounds, weighted, imputed; ``helpers.results.nonresponse``), empty when
    not computed.
    """

    prefix: ClassVar[str] = "03_model"

    outcome: str
    ordering: str
    pairing: dict[int, Pairing]
    flagged_reporting_failures: Flagged
    rounds: dict[int, RoundFit]
    change: Change
    ordinal: Ordinal
    sensitivity: tuple[SensitivityFit, ...]
    coverage: Coverage
    intervals: Intervals
    power: Power
    nonresponse: tuple[Sensitivity, ...] = ()
