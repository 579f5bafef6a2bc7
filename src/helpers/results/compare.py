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
    * ``change_by_ordering``: the change in level per ordering (the chosen one, then 2 and 3 swapped).
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
