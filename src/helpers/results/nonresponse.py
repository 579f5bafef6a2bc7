"""Plain results of the non-response analyses: estimates, bounds, pooled imputations, weight summaries.

:mod:`helpers.analysis.nonresponse` returns these very objects and the key results of notebooks 02
and 03 hold them unchanged (as :mod:`helpers.results.compare` does with the paired tests), so an
estimate has one declaration whether it was just computed or read back from a results file. Nothing
here imports more than the standard library; no family is registered (there is no prefix).

Every estimate is of the same estimand: a quantity over *all* kommuner of the reference table (the
98), as if every kommune had answered. The four treatments of non-response differ only in what they
assume about the kommuner that did not answer:

* complete case (:class:`Estimate`): they answer like those that did (missing completely at random);
* bounds (:class:`Bounds`): nothing at all; each could have answered any model (Manski);
* weighted (:class:`Estimate`): they answer like respondents of the same kommunegruppe, region,
  population and previous answer (missing at random given those), by raking weights;
* imputed (:class:`Pooled`): the same assumption, by chained equations, pooled with Rubin's rules.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """One estimate with its standard error and its 95 % interval.

    Fields:

    * ``value``: the estimate;
    * ``se``: its standard error (None when the statistic gives none);
    * ``low``, ``high``: the 95 % interval (None without a standard error); Wald, ``value`` +- quantile x ``se``,
      except for a share (a mean of a 0/1 score): the Wilson score interval in complete cases, a Wilson-type
      interval by Rubin's rules when pooled (``helpers.analysis.nonresponse.pooling.wilson_pooled``);
    * ``interval``: what the interval is, in words (``"z"``; ``"Wilson score"``; ``"t, df 23.4"`` for pooled
      imputations; ``"Wilson score by Rubin's rules, t, df 23.4"`` for a pooled share);
    * ``n``: the kommuner the estimate used (the complete cases; every kommune for imputed data);
    * ``df``: the statistic's complete-data degrees of freedom (n - 1 for a mean; None: large-sample).
    """

    value: float
    se: float | None
    low: float | None
    high: float | None
    interval: str
    n: int
    df: float | None = None


@dataclass(frozen=True, kw_only=True)
class Pooled(Estimate):
    """An estimate pooled over m imputed data sets by Rubin's rules (= R ``mice::pool``).

    Fields of :class:`Estimate` (``value`` is the mean of the m estimates; ``se`` = sqrt(``total``);
    the interval is t with ``df_pooled``), and:

    * ``m``: imputations;
    * ``within``: the mean of the m squared standard errors (U-bar);
    * ``between``: the variance of the m estimates (B, divisor m - 1);
    * ``total``: U-bar + (1 + 1/m) B;
    * ``df_pooled``: Barnard and Rubin's (1999) degrees of freedom, from ``df`` (the complete-data df);
    * ``riv``: the relative increase in variance due to non-response, (1 + 1/m) B / U-bar;
    * ``fmi``: the fraction of missing information, as ``mice::pool`` computes it;
    * ``mc_se``: the Monte Carlo standard error of ``value``, sqrt(B / m): how far another seed may move it.
    """

    m: int
    within: float
    between: float
    total: float
    df_pooled: float
    riv: float
    fmi: float
    mc_se: float


@dataclass(frozen=True, kw_only=True)
class Bounds:
    """The worst and the best case of a statistic when the kommuner that did not answer could have
    answered anything (Manski-type bounds over every completion of the missing answers).

    Fields:

    * ``low``, ``high``: the smallest and the largest value over the completions searched;
    * ``incomplete``: kommuner with at least one missing answer among the rounds the statistic reads;
    * ``method``: how the extremes were found, in words (exact for additive statistics, exhaustive
      enumeration, or a coordinate search with its starts and evaluations);
    * ``exact``: True when ``low`` and ``high`` are the true extremes; False after a search, whose
      values are attained by real completions, so the true bounds are at least this wide.
    """

    low: float
    high: float
    incomplete: int
    method: str
    exact: bool


@dataclass(frozen=True, kw_only=True)
class Sensitivity:
    """One key quantity under the four treatments of non-response, side by side.

    Fields: ``quantity`` (its key, e.g. ``"started"``); ``description`` (in words); ``rounds`` (the
    rounds whose answers it reads: its complete cases answered all of them); ``complete_case``,
    ``weighted`` (:class:`Estimate`), ``bounds`` (:class:`Bounds`) and ``imputed`` (:class:`Pooled`).
    """

    quantity: str
    description: str
    rounds: tuple[int, ...]
    complete_case: Estimate
    bounds: Bounds
    weighted: Estimate
    imputed: Pooled


@dataclass(frozen=True, kw_only=True)
class WeightSummary:
    """The raking weights of one response pattern (the kommuner that answered every round of ``rounds``).

    Fields:

    * ``rounds``: the rounds the respondents answered;
    * ``respondents``: their number; ``kommuner``: all kommuner, whose totals the weights reproduce;
    * ``total``: the sum of the weights (= ``kommuner``);
    * ``minimum``, ``median``, ``maximum``: of the weights;
    * ``effective_n``: Kish's effective sample size, (sum w)^2 / sum w^2;
    * ``trim``: the cap on the weights (None: not trimmed), ``trimmed``: weights cut to it;
    * ``variables``: the calibration variables (columns of the raking design, the intercept first);
    * ``collapsed``: categories merged into their variable's reference because no kommune of theirs
      answered (raking cannot give them weight).
    """

    rounds: tuple[int, ...]
    respondents: int
    kommuner: int
    total: float
    minimum: float
    median: float
    maximum: float
    effective_n: float
    trim: float | None
    trimmed: int
    variables: tuple[str, ...]
    collapsed: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ImputationSettings:
    """How the answers were imputed: ``m`` data sets, ``iterations`` of the chained equations per data
    set, the ``seed``, the ``method`` in words and the ``predictors`` of each round's answer."""

    m: int
    iterations: int
    seed: int
    method: str
    predictors: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class IntervalCoverage:
    """How often one reported 95 % interval covered in a simulation (:class:`CoverageCheck`).

    Fields:

    * ``quantity``: the key quantity (``cooperating_a``, ``cooperating_b``, ``started``, ``stopped``, ``net_change``);
    * ``treatment``: ``"complete case"`` or ``"imputed"``; ``interval``: what the interval is, in words;
    * ``truth``: the simulated true share (the superpopulation share of a kommune of this design);
    * ``coverage``: the fraction of the repetitions whose interval covered ``truth``; ``mc_se``: its Monte
      Carlo SE, sqrt(c (1 - c) / used);
    * ``coverage_realised``, ``mc_se_realised``: the same for the share of the simulated kommuner themselves
      (a finite-population target, for which the intervals, without a finite-population correction, are
      conservative);
    * ``mean_width``: the mean width of the interval;
    * ``gap``: how far ``coverage`` lies outside the target band (negative: below its low end; positive: above
      its high end; 0 inside);
    * ``used``: repetitions with a finite interval (all, unless a round had no respondent).
    """

    quantity: str
    treatment: str
    interval: str
    truth: float
    coverage: float
    mc_se: float
    coverage_realised: float
    mc_se_realised: float
    mean_width: float
    gap: float
    used: int


@dataclass(frozen=True, kw_only=True)
class CoverageCheck:
    """The coverage of notebook 02's reported intervals, simulated at the design of the pair of rounds
    (``helpers.analysis.nonresponse.coverage.key_coverage``; its docstring says what is simulated and how).

    Fields: ``reps`` (simulated pairs of rounds), ``m`` and ``iterations`` (of each repetition's imputation),
    ``seed``; ``level`` (the intervals' nominal level) and ``target`` (the band its coverage should fall in);
    ``design`` (in words); ``cells`` (the true cooperation probabilities, rows round a no/yes, columns round
    b no/yes); ``response_patterns`` (the shares answering both rounds, only a, only b, neither);
    ``imputation_model`` (in words); ``not_simulated`` (which reported intervals the check leaves out);
    ``rows`` (:class:`IntervalCoverage`, complete case then imputed, each in the order of the key quantities).
    """

    reps: int
    m: int
    iterations: int
    seed: int
    level: float
    target: tuple[float, float]
    design: str
    cells: tuple[tuple[float, float], tuple[float, float]]
    response_patterns: tuple[float, float, float, float]
    imputation_model: str
    not_simulated: str
    rows: tuple[IntervalCoverage, ...]

    def of(self, quantity: str, treatment: str) -> IntervalCoverage:
        """The row of ``quantity`` under ``treatment``."""
        for r in self.rows:
            if r.quantity == quantity and r.treatment == treatment:
                return r
        raise KeyError(
            f"no coverage of {quantity!r} ({treatment}); rows: {[(r.quantity, r.treatment) for r in self.rows]}"
        )

    @property
    def outside_target(self) -> tuple[IntervalCoverage, ...]:
        """The rows whose coverage lies outside ``target``."""
        return tuple(r for r in self.rows if r.gap != 0)
