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
class RoundFit:
    """The count models of one survey round.

    ``irr``: the negative binomial rate ratio of each cooperation model against none, by term;
    ``score_irr``: the rate ratio per level of cooperation (score model); ``alpha``, ``theta``: the
    negative binomial dispersion (theta = 1/alpha, as glm.nb); ``theta_converged``; ``loglik``: its
    log-likelihood; ``standard_errors``: what each fit's standard errors are, by fit name.
    """

    irr: dict[str, float]
    score_irr: float
    alpha: float
    theta: float
    theta_converged: bool
    loglik: float
    standard_errors: dict[str, str]


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
    ``irr_high`` (Wald, model-based) and ``p``.
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
class CoverageTerm:
    """Coverage and bias of one model term over the simulated datasets.

    ``model``: the cooperation model (against 5); ``true_log_irr``; ``mean_est``, ``sd_est`` of the
    estimates; ``bias`` and ``bias_mc_se``; ``coverage_wald``, ``coverage_profile`` with their Monte
    Carlo standard errors; ``profile_minus_wald`` (paired) with its own; ``reps`` simulated,
    ``used`` (converged) and ``not_converged``.
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
    profile_minus_wald: float
    profile_minus_wald_mc_se: float
    reps: int
    used: int
    not_converged: int


@dataclass(frozen=True)
class Coverage:
    """The coverage study: ``reps``, the most ``not_converged`` of any term, the ``better_interval`` and the
    ``terms``."""

    reps: int
    not_converged: int
    better_interval: IntervalVerdict
    terms: tuple[CoverageTerm, ...]


@dataclass(frozen=True)
class Interval:
    """A rate ratio (``irr``) with the reported interval (``low``, ``high``) and both kinds beside it."""

    irr: float
    low: float
    high: float
    wald_low: float
    wald_high: float
    profile_low: float
    profile_high: float


@dataclass(frozen=True)
class Intervals:
    """The intervals of each round's negative binomial fit: which kind is ``reported``, and per round and term."""

    reported: IntervalKind
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
    """The power curve: the smallest rate ratio detected with 80 % power and its Monte Carlo SE (None when
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
    simulation of interval coverage; ``intervals``: the reported intervals per round; ``power``.
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
