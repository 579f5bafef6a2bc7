"""Key results of 02_compare_rounds, and the paired tests they hold.

The paired tests (:class:`PairedTest` and its kinds :class:`Bowker`, :class:`StuartMaxwell` and
:class:`McNemar`) are declared here, not in :mod:`helpers.analysis.compare`, because a test's result
is plain numbers: the analysis returns these very objects and :class:`CompareResults` holds them
unchanged, so a test has one declaration whether it was just computed or read back from a results
file (``compare.interpret`` reads either). Nothing here imports more than the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.core.vocabulary import McNemarMethod
from helpers.results.base import KeyResults
from helpers.results.nonresponse import Bounds, CoverageCheck, ImputationSettings, Sensitivity, WeightSummary

BOWKER_DF_CONVENTION = "informative pairs"  # df = pairs of models with at least one move between them
BOWKER_DF_OTHER = "all pairs"  # df = k(k-1)/2 over the models reported in either round (statsmodels; R's mcnemar.test)

Category = int | str  # a model code (5, 1, ...) or the label of a 2x2 row ("cooperation", "answered")


@dataclass(frozen=True, kw_only=True)
class PairedTest:
    """A test of the same kommuner in two rounds (paired data, never two independent samples).

    Fields:

    * ``test``: the test's name ("Bowker symmetry", "Stuart-Maxwell marginal homogeneity", "McNemar");
    * ``statistic``: the test statistic (for McNemar's exact test, min(b, c) as statsmodels reports it);
    * ``df``: its chi-square degrees of freedom (None for an exact test, which has none);
    * ``pvalue``: the p-value;
    * ``n``: the pairs in the table: kommuner that answered both rounds (for the non-response test,
      every kommune of both rounds);
    * ``categories``: the categories the test used, in table order (model codes, or a 2x2 table's labels);
    * ``dropped``: categories left out because nobody reported them (or, for Stuart-Maxwell, nobody moved
      in or out of them).
    """

    test: str
    statistic: float
    df: int | None
    pvalue: float
    n: int
    categories: tuple[Category, ...] = ()
    dropped: tuple[Category, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Bowker(PairedTest):
    """Bowker's test of symmetry (n_ij = n_ji), with both conventions for its df.

    Fields of :class:`PairedTest` (``df`` counts the informative pairs), and:

    * ``df_convention``: ``"informative pairs"`` (:data:`BOWKER_DF_CONVENTION`): pairs of models with at
      least one move between them;
    * ``df_all_pairs``: the other convention, all k(k-1)/2 pairs of the k models kept (statsmodels; R's
      ``mcnemar.test`` counts them too but returns NaN when a pair is empty);
    * ``pvalue_all_pairs``: the p-value with ``df_all_pairs``;
    * ``empty_pairs``: pairs with no move in either direction (the two conventions agree when 0).
    """

    test: str = "Bowker symmetry"
    df: int
    df_convention: str = BOWKER_DF_CONVENTION
    df_all_pairs: int
    pvalue_all_pairs: float
    empty_pairs: int


@dataclass(frozen=True, kw_only=True)
class StuartMaxwell(PairedTest):
    """The Stuart-Maxwell test of marginal homogeneity (the same distribution of models in both rounds).

    Fields of :class:`PairedTest`; ``df`` adds up over groups of models with no exchange between them.
    """

    test: str = "Stuart-Maxwell marginal homogeneity"
    df: int


@dataclass(frozen=True, kw_only=True)
class McNemar(PairedTest):
    """McNemar's test on a paired 2x2 table.

    Fields of :class:`PairedTest` (``df`` is 1 for the chi-square and None for the exact test), and:

    * ``method``: ``"exact binomial"``, ``"chi-square"`` or ``"chi-square, continuity-corrected"``;
    * ``chi2``: the uncorrected chi-square (b - c)^2 / (b + c), whatever the method;
    * ``b``: pairs in the first row's category in round a and the second in round b (cooperating only in
      round a; answered only in round a);
    * ``c``: the other way round;
    * ``table``: the 2x2 counts, rows = round a, columns = round b, in the order of ``categories``.
    """

    test: str = "McNemar"
    method: McNemarMethod
    chi2: float
    b: int
    c: int
    table: tuple[tuple[int, int], tuple[int, int]]


@dataclass(frozen=True)
class PairedTests:
    """The three paired tests of two rounds: ``bowker`` (:class:`Bowker`), ``stuart_maxwell``
    (:class:`StuartMaxwell`) and ``mcnemar_cooperation`` (:class:`McNemar` on cooperation yes (models 1-4)
    / no (5))."""

    bowker: Bowker
    stuart_maxwell: StuartMaxwell
    mcnemar_cooperation: McNemar

    def __iter__(self):
        return iter((self.bowker, self.stuart_maxwell, self.mcnemar_cooperation))


@dataclass(frozen=True)
class ChangeCounts:
    """Kommuner by their change in cooperation level under one ordering: ``up``, ``same``, ``down``, and
    ``not_comparable`` (did not answer in one round or both)."""

    up: int
    same: int
    down: int
    not_comparable: int


@dataclass(frozen=True)
class AdjustedTest:
    """One test of a family with its raw and adjusted p-values.

    Fields: ``key`` (``"bowker"``, ``"stuart_maxwell"``, ``"mcnemar_cooperation"``, ``"mcnemar_nonresponse"``);
    ``test`` (its name in words); ``p`` (raw); ``p_holm`` (Holm, familywise error rate); ``p_bh``
    (Benjamini-Hochberg, false discovery rate); both as R's ``p.adjust`` over the family.
    """

    key: str
    test: str
    p: float
    p_holm: float
    p_bh: float


@dataclass(frozen=True)
class FamilyOfTests:
    """The family of tests a reader looks at together: ``name`` (which tests, in words), ``size`` (m of
    the adjustment) and ``tests`` (:class:`AdjustedTest`, in table order)."""

    name: str
    size: int
    tests: tuple[AdjustedTest, ...]

    def of(self, key: str) -> AdjustedTest:
        """The test with ``key``."""
        for t in self.tests:
            if t.key == key:
                return t
        raise KeyError(f"no test {key!r} in the family; tests: {[t.key for t in self.tests]}")


@dataclass(frozen=True)
class CompareResults(KeyResults):
    """What notebook 02_compare_rounds publishes about two rounds (``02_compare_<year_a>_<year_b>.json``).

    Fields:

    * ``year_a``, ``year_b``: the two rounds compared; ``ordering``: the level ordering of the change
      counts, lowest first ("5<1<2<3<4"), so the results say what they are about without the parameters;
    * ``n_kommuner``: kommuner in each round (the 98 of the reference table);
    * ``answered``, ``cooperating``: per round, kommuner that answered the model question, and that
      reported cooperation (models 1-4);
    * ``model_counts``: per round, kommuner per model code (0 = did not answer), in the order 0, ordering;
    * ``paired_n``: kommuner that answered both rounds (the n of the paired tests);
    * ``transitions``: model in ``year_a`` -> model in ``year_b`` -> kommuner (those that answered both);
    * ``tests``: the paired tests (:class:`PairedTests`);
    * ``nonresponse_test``: McNemar's test of answered / did not answer in both rounds (all kommuner);
    * ``change_by_ordering``: the change in level per ordering (the chosen one, then 2 and 3 swapped);
    * ``family``: the four tests of this pair of rounds (Bowker, Stuart-Maxwell, McNemar on cooperation,
      McNemar on non-response) with Holm and Benjamini-Hochberg adjusted p-values (:class:`FamilyOfTests`);
    * ``sensitivity``: the key quantities under the four treatments of non-response (complete case,
      bounds, weighted, imputed; :class:`~helpers.results.nonresponse.Sensitivity`), by key:
      ``cooperating_a``, ``cooperating_b`` (the share of all kommuner that cooperate in each round),
      ``started``, ``stopped`` (the share that moved from no cooperation to cooperation, and back) and
      ``net_change`` (started minus stopped: the paired change in the share that cooperates);
    * ``model_shares``: per round and model, the share of all kommuner with that model, four ways;
    * ``transition_bounds``: model in ``year_a`` -> model in ``year_b`` -> (fewest, most) kommuner over
      every completion of the missing answers (each cell on its own: the cells' extremes are not
      reached by one completion together);
    * ``mcnemar_bounds``: the smallest and largest p-value of McNemar's test on cooperation over the
      completions (:class:`~helpers.results.nonresponse.Bounds`);
    * ``weights``: the raking weights of each response pattern (each round; both rounds), summarised;
    * ``imputation``: how the answers were imputed (m, iterations, seed, method);
    * ``coverage``: how often the complete-case and imputed 95 % intervals of the key quantities covered the
      truth in pairs of rounds simulated at this design, each with its Monte Carlo SE and its gap to the
      target band 0.94-0.96 (:class:`~helpers.results.nonresponse.CoverageCheck`).
    """

    prefix = "02_compare"

    year_a: int
    year_b: int
    ordering: str
    n_kommuner: int
    answered: dict[int, int]
    cooperating: dict[int, int]
    model_counts: dict[int, dict[int, int]]
    paired_n: int
    transitions: dict[int, dict[int, int]]
    tests: PairedTests
    nonresponse_test: McNemar
    change_by_ordering: dict[str, ChangeCounts]
    family: FamilyOfTests
    sensitivity: dict[str, Sensitivity]
    model_shares: dict[int, dict[int, Sensitivity]]
    transition_bounds: dict[int, dict[int, tuple[int, int]]]
    mcnemar_bounds: Bounds
    weights: tuple[WeightSummary, ...]
    imputation: ImputationSettings
    coverage: CoverageCheck
