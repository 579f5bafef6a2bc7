"""Comparing survey rounds: model distributions, transitions, paired tests, non-response, change.

Pure functions: every input comes in as an argument (the rounds, the municipality table), nothing
is read or written here. The unit is always the 98 kommuner of the reference table; a kommune that
is absent from a round, or present with model 0, did not answer (model 0).

Model codes and the ordering come from :mod:`helpers.core.cooperation`. Only :func:`change` depends
on the ordering: the symmetry, homogeneity and McNemar tests treat the models as unordered
categories.

The paired tests (Bowker, Stuart-Maxwell, McNemar) compare the SAME kommuner in two rounds.
They are wrong for two independent samples; use a chi-square test of independence there.

Every result is a frozen dataclass whose docstring lists its fields: the tests are
:class:`PairedTest` (:class:`Bowker`, :class:`StuartMaxwell`, :class:`McNemar`, declared with the key
results in :mod:`helpers.results.compare`, since they are plain numbers), the tables around them
:class:`Distribution`, :class:`NonResponse` and, for a whole notebook-02 run, :class:`Comparison`
(:func:`compare_rounds`), from which :func:`key_results` builds the published
:class:`~helpers.results.compare.CompareResults`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

from helpers.analysis import multiplicity
from helpers.analysis import nonresponse as nr
from helpers.core import lazy
from helpers.core.cooperation import (
    COOPERATING,
    LABELS,
    NO_ANSWER,
    NO_COOPERATION,
    format_ordering,
    level_scores,
    model_labels,
    parse_ordering,
    swap,
)
from helpers.core.vocabulary import check_choice
from helpers.data.reference import KOMMUNEGRUPPER, REGION_ORDER, TOTAL_ROW
from helpers.results.compare import (
    BOWKER_DF_CONVENTION,
    BOWKER_DF_OTHER,
    AdjustedTest,
    Bowker,
    ChangeCounts,
    CompareResults,
    FamilyOfTests,
    McNemar,
    PairedTest,
    PairedTests,
    StuartMaxwell,
)

stats = lazy.module("scipy.stats")  # scipy.stats and statsmodels cost ~1 s to import: at first use
csgraph = lazy.module("scipy.sparse.csgraph")
contingency = lazy.module("statsmodels.stats.contingency_tables")

__all__ = [
    "BOWKER_DF_CONVENTION",
    "BOWKER_DF_OTHER",
    "EXACT_BELOW",
    "FAMILY",
    "TOTAL",
    "Bowker",
    "Comparison",
    "Distribution",
    "McNemar",
    "NonResponse",
    "PairedTest",
    "PairedTests",
    "Sensitivities",
    "StuartMaxwell",
    "align_rounds",
    "as_model_codes",
    "bowker",
    "change",
    "change_by_ordering",
    "change_summary",
    "compare_rounds",
    "cooperation_table",
    "distribution",
    "distribution_table",
    "interpret",
    "family_of_tests",
    "key_results",
    "key_statistics",
    "mcnemar_cooperation",
    "mcnemar_statistic",
    "mcnemar_test",
    "model_distribution",
    "model_share_statistics",
    "models_of",
    "nonresponse",
    "nonresponse_sensitivity",
    "paired_tests",
    "stuart_maxwell",
    "test_family",
    "tests_table",
    "transition_matrix",
    "wide_models",
]

EXACT_BELOW = 25  # McNemar: exact binomial test when fewer discordant pairs than this
TOTAL = TOTAL_ROW  # "Hele landet", the national row of the tables by region
GROUP_ORDERS = {"regionsnavn": REGION_ORDER, "kommunegruppe_navn": list(KOMMUNEGRUPPER.values())}


def as_model_codes(values: pd.Series) -> pd.Series:
    """Model answers as int codes 0-5 (missing becomes 0).

    Accepts ints, digit strings, categoricals and Danish names.
    """
    by_name = {v.casefold(): k for k, v in LABELS.items()}
    by_name.update({f"{k} {v}".casefold(): k for k, v in LABELS.items()})

    def one(v):
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return NO_ANSWER
        if isinstance(v, str):
            s = v.strip()
            if s.casefold() in by_name:
                return by_name[s.casefold()]
            v = s
        try:
            f = float(v)
        except (TypeError, ValueError):
            f = np.nan
        if f.is_integer() and int(f) in LABELS:
            return int(f)
        raise ValueError(
            f"{values.name or 'model'}: {v!r} is not a model; accepted: codes 0-5 or the names {list(LABELS.values())}"
        )

    out = pd.Series([one(v) for v in values.astype(object)], index=values.index, name=values.name, dtype="int64")
    return out


# --------------------------------------------------------------------------- aligning rounds


def align_rounds(rounds: Mapping[int, pd.DataFrame], municipalities: pd.DataFrame) -> pd.DataFrame:
    """One row per kommune (all of ``municipalities``, the 98) and round: model 0-5 with 0 for non-response.

    Each round needs ``kommunekode``, ``model`` and ``synthetic`` columns (a ``year`` column, if
    present, must equal the round's key). Kommuner absent from a round get model 0. Columns:
    year, kommunekode, navn, regionsnavn, kommunegruppe, kommunegruppe_navn, model, answered, synthetic.
    """
    keep = ["kommunekode", "navn", "regionsnavn", "kommunegruppe", "kommunegruppe_navn"]
    base = municipalities[keep].copy()
    if base["kommunekode"].duplicated().any():
        raise ValueError("municipality table has duplicate kommunekode")
    known = set(base["kommunekode"])
    frames = []
    for year in sorted(rounds):
        df = rounds[year]
        missing_cols = {"kommunekode", "model", "synthetic"} - set(df.columns)
        if missing_cols:
            raise ValueError(
                f"round {year}: missing column(s) {sorted(missing_cols)}; a processed survey round has kommunekode, "
                "model and synthetic"
            )
        if "year" in df.columns and not (df["year"].astype(int) == int(year)).all():
            raise ValueError(f"round {year}: its year column holds {sorted(df['year'].unique().tolist())}")
        codes = df["kommunekode"].astype(int)
        unknown = sorted(set(codes) - known)
        if unknown:
            raise ValueError(f"round {year}: kommunekode not among the {len(known)} kommuner: {unknown}")
        dup = sorted(codes[codes.duplicated()].unique().tolist())
        if dup:
            raise ValueError(f"round {year}: kommuner answering more than once: {dup}")
        answers = pd.DataFrame({"kommunekode": codes.to_numpy(), "model": as_model_codes(df["model"]).to_numpy()})
        out = base.merge(answers, on="kommunekode", how="left", validate="one_to_one")
        out["model"] = out["model"].fillna(NO_ANSWER).astype("int64")
        out.insert(0, "year", int(year))
        out["answered"] = out["model"] != NO_ANSWER
        out["synthetic"] = bool(df["synthetic"].astype(bool).any())
        frames.append(out)
    if not frames:
        raise ValueError("no rounds to align")
    return pd.concat(frames, ignore_index=True).sort_values(["year", "kommunekode"], ignore_index=True)


def models_of(aligned: pd.DataFrame, year: int) -> pd.Series:
    """The model codes (0-5) of one round as a Series indexed by kommunekode, named by the year."""
    check_choice("round", year, sorted(aligned["year"].unique().tolist()))
    part = aligned[aligned["year"] == year]
    return part.set_index("kommunekode")["model"].rename(year)


def wide_models(aligned: pd.DataFrame) -> pd.DataFrame:
    """kommunekode and one column ``model_<year>`` per round, non-response as missing (for maps)."""
    w = aligned.pivot(index="kommunekode", columns="year", values="model")
    w = w.where(w != NO_ANSWER).astype("Float64").astype(float)
    return w.rename(columns=lambda y: f"model_{y}").rename_axis(columns=None).reset_index()


# --------------------------------------------------------------------------- distributions


def distribution(aligned: pd.DataFrame, by: str | Sequence[str] | None = None, ordering=None) -> pd.DataFrame:
    """Counts and shares of each model (0 = did not answer included) per round, overall or by group.

    ``by``: None, "regionsnavn", "kommunegruppe_navn" (or a list). ``share`` is of all kommuner in
    the group (sums to 1 per round and group); ``share_answered`` is of those that answered (NaN for 0).
    Rows: group (regions and kommunegrupper in their usual order), round, then model in the order 0,
    ``ordering``; every model appears, with 0 where none chose it.
    """
    groups = [] if by is None else ([by] if isinstance(by, str) else list(by))
    order = [NO_ANSWER] + parse_ordering(ordering)
    keys = groups + ["year"]
    aligned = aligned.assign(
        **{
            g: pd.Categorical(aligned[g], categories=[c for c in GROUP_ORDERS[g] if c in set(aligned[g])], ordered=True)
            for g in groups
            if g in GROUP_ORDERS
        }
    )
    counts = aligned.groupby(keys + ["model"], observed=True).size().rename("n")
    full_index = pd.MultiIndex.from_tuples(
        [(*k, m) for k in aligned[keys].drop_duplicates().itertuples(index=False, name=None) for m in order],
        names=keys + ["model"],
    )
    out = counts.reindex(full_index, fill_value=0).reset_index()
    for g in groups:
        if isinstance(aligned[g].dtype, pd.CategoricalDtype):
            out[g] = out[g].astype(aligned[g].dtype)
    total = out.groupby(keys)["n"].transform("sum")
    answered = out["n"].where(out["model"] != NO_ANSWER, 0).groupby([out[k] for k in keys]).transform("sum")
    out["share"] = out["n"] / total
    out["share_answered"] = (out["n"] / answered).where(out["model"] != NO_ANSWER)
    out.insert(out.columns.get_loc("model") + 1, "label", out["model"].map(model_labels(with_code=True)).astype(str))
    out["model"] = out["model"].astype(pd.CategoricalDtype(order, ordered=True))
    return out.sort_values(keys + ["model"], ignore_index=True)


def distribution_table(dist: pd.DataFrame, value: str = "n") -> pd.DataFrame:
    """A :func:`distribution` result as a wide table: rows (group,) round, one column per model label."""
    index = [c for c in dist.columns if c not in ("model", "label", "n", "share", "share_answered")]
    labels = dist.drop_duplicates("model").sort_values("model")["label"].tolist()
    t = dist.pivot_table(index=index, columns="label", values=value, aggfunc="sum", observed=True)
    return t.reindex(columns=labels).rename_axis(columns=None)


@dataclass(frozen=True)
class Distribution:
    """The models reported per round, overall or by group (:func:`model_distribution`).

    Fields: ``by`` (the group column, or None for all kommuner); ``long`` (the :func:`distribution`
    table: [group,] year, model, label, n, share, share_answered); ``counts`` and ``shares`` (the same
    as wide tables, :func:`distribution_table`: rows [group,] round, one column per model label).
    """

    by: str | None
    long: pd.DataFrame
    counts: pd.DataFrame
    shares: pd.DataFrame


def model_distribution(aligned: pd.DataFrame, by: str | None = None, ordering=None) -> Distribution:
    """:func:`distribution` with its wide tables of counts and shares."""
    long = distribution(aligned, by=by, ordering=ordering)
    return Distribution(by, long, distribution_table(long), distribution_table(long, "share"))


# --------------------------------------------------------------------------- paired tables and tests


def _paired(a: pd.Series, b: pd.Series) -> pd.DataFrame:
    """Kommuner that answered in both rounds (model not 0 and not missing), with columns a and b."""
    a = as_model_codes(a)
    b = as_model_codes(b)
    both = pd.concat({"a": a, "b": b}, axis=1, join="inner")
    return both[(both["a"] != NO_ANSWER) & (both["b"] != NO_ANSWER)]


def transition_matrix(a: pd.Series, b: pd.Series, categories: Sequence[int] | str | None = None) -> pd.DataFrame:
    """Paired crosstab: rows = model in round ``a``, columns = model in round ``b``.

    ``a`` and ``b`` are model codes indexed by kommunekode (as :func:`models_of` gives); only
    kommuner that answered both rounds count. Every category appears, in the given order (an
    ordering such as "5<1<2<3<4"; default that one), with zeros kept.
    """
    cats = parse_ordering(categories)
    p = _paired(a, b)
    t = pd.crosstab(p["a"], p["b"]).reindex(index=cats, columns=cats, fill_value=0).astype("int64")
    t.index.name = str(a.name) if a.name is not None else "a"
    t.columns.name = str(b.name) if b.name is not None else "b"
    return t


def _square(table) -> pd.DataFrame:
    t = table.copy() if isinstance(table, pd.DataFrame) else pd.DataFrame(np.asarray(table))
    if t.shape[0] != t.shape[1]:
        raise ValueError(f"a square table is needed (the same categories in both rounds), got shape {t.shape}")
    if isinstance(table, pd.DataFrame) and list(t.index) != list(t.columns):
        raise ValueError(
            f"rows {list(t.index)} and columns {list(t.columns)} must be the same categories in the same order"
        )
    if (t.to_numpy() < 0).any():
        raise ValueError("a table of counts cannot hold negative values")
    return t


def _drop_categories(t: pd.DataFrame, keep: np.ndarray) -> tuple[pd.DataFrame, tuple]:
    dropped = tuple(_plain(c) for c, k in zip(t.index, keep, strict=False) if not k)
    return t.loc[keep, keep], dropped


def _plain(x):
    return x.item() if hasattr(x, "item") else x


def bowker(table) -> Bowker:
    """Bowker's test of symmetry (n_ij = n_ji) of a square PAIRED table (same kommuner, two rounds).

    Uses statsmodels SquareTable(table, shift_zeros=False).symmetry() after dropping categories whose
    row and column are both empty. The statistic is sum over i<j of (n_ij - n_ji)^2 / (n_ij + n_ji).

    The df is a convention where some pair (i, j) has n_ij + n_ji = 0. This package counts only the
    informative pairs (``df``, :data:`BOWKER_DF_CONVENTION`: an empty pair adds 0 to the statistic
    and carries no information); statsmodels counts all k(k-1)/2 pairs of the k models kept
    (``df_all_pairs`` and ``pvalue_all_pairs``, :data:`BOWKER_DF_OTHER`), and R's mcnemar.test
    counts them too but returns NaN, because an empty pair is 0/0 in its sum. The two conventions
    agree when no pair is empty. Returns a :class:`Bowker` (its docstring lists the fields).
    """
    t = _square(table)
    v = t.to_numpy(dtype=float)
    t, dropped = _drop_categories(t, (v.sum(axis=0) + v.sum(axis=1)) > 0)
    v = t.to_numpy(dtype=float)
    k = v.shape[0]
    upper = np.triu_indices(k, 1)
    informative = int(((v[upper] + v.T[upper]) > 0).sum())
    statistic = float(contingency.SquareTable(v, shift_zeros=False).symmetry().statistic) if k >= 2 else 0.0
    pvalue = float(stats.chi2.sf(statistic, informative)) if informative else 1.0
    all_pairs = k * (k - 1) // 2
    p_all = float(stats.chi2.sf(statistic, all_pairs)) if all_pairs else 1.0
    return Bowker(
        statistic=statistic,
        df=informative,
        pvalue=pvalue,
        n=int(v.sum()),
        categories=tuple(_plain(c) for c in t.index),
        dropped=dropped,
        df_convention=BOWKER_DF_CONVENTION,
        df_all_pairs=all_pairs,
        pvalue_all_pairs=p_all,
        empty_pairs=all_pairs - informative,
    )


def stuart_maxwell(table) -> StuartMaxwell:
    """Stuart-Maxwell test of marginal homogeneity (same model distribution in both rounds), PAIRED data.

    Uses statsmodels SquareTable(table, shift_zeros=False).homogeneity(). The statistic is d' S^-1 d
    over k-1 categories with d_i = n_i. - n_.i, S_ii = n_i. + n_.i - 2 n_ii, S_ij = -(n_ij + n_ji);
    it depends on the off-diagonal cells only. Categories with no off-diagonal counts (including
    empty ones) are dropped first, since they make S singular and add nothing; if the remaining
    categories fall into groups with no exchanges between them, the test is done per group and the
    statistics and df added. Returns a :class:`StuartMaxwell` (statistic, df, pvalue, n, categories,
    dropped).
    """
    t = _square(table)
    v = t.to_numpy(dtype=float)
    off = v - np.diag(np.diag(v))
    t, dropped = _drop_categories(t, (off.sum(axis=0) + off.sum(axis=1)) > 0)
    n = int(v.sum())
    w = t.to_numpy(dtype=float)
    statistic, df = 0.0, 0
    if len(w):
        n_groups, group = csgraph.connected_components((w + w.T) > 0, directed=False)
        for g in range(n_groups):
            idx = np.flatnonzero(group == g)
            res = contingency.SquareTable(w[np.ix_(idx, idx)], shift_zeros=False).homogeneity()
            statistic += float(res.statistic)
            df += int(res.df)
    pvalue = float(stats.chi2.sf(statistic, df)) if df else 1.0
    return StuartMaxwell(
        statistic=statistic,
        df=df,
        pvalue=pvalue,
        n=n,
        categories=tuple(_plain(c) for c in t.index),
        dropped=dropped,
    )


def mcnemar_test(table, exact: bool | None = None, correction: bool = False) -> McNemar:
    """McNemar's test on a paired 2x2 table (statsmodels ``mcnemar``).

    ``exact`` None: the exact binomial test when the discordant pairs b + c number fewer than 25,
    else the chi-square (b - c)^2 / (b + c), uncorrected unless ``correction``. For the exact test
    statsmodels reports min(b, c) as the statistic and there is no df; ``chi2`` always holds the
    uncorrected value. ``categories`` are the table's row labels (0, 1 for an array). Returns a
    :class:`McNemar` (its docstring lists the fields).
    """
    t = _square(table)
    v = t.to_numpy(dtype=float)
    if v.shape != (2, 2):
        raise ValueError(f"McNemar needs a 2x2 table, got {v.shape}; use bowker() for larger tables")
    b, c = v[0, 1], v[1, 0]
    use_exact = (b + c) < EXACT_BELOW if exact is None else bool(exact)
    res = contingency.mcnemar(v, exact=use_exact, correction=correction)
    chi2 = float((b - c) ** 2 / (b + c)) if b + c else 0.0
    method = "exact binomial" if use_exact else ("chi-square, continuity-corrected" if correction else "chi-square")
    counts = v.astype("int64")
    return McNemar(
        method=method,
        statistic=float(res.statistic),
        df=None if use_exact else 1,
        chi2=chi2,
        pvalue=float(res.pvalue),
        b=int(b),
        c=int(c),
        n=int(v.sum()),
        categories=tuple(_plain(x) for x in t.index),
        table=((int(counts[0, 0]), int(counts[0, 1])), (int(counts[1, 0]), int(counts[1, 1]))),
    )


def cooperation_table(a: pd.Series, b: pd.Series) -> pd.DataFrame:
    """2x2 paired table cooperation (models 1-4) / none (5) in round ``a`` (rows) against round ``b``."""
    p = _paired(a, b)
    names = ["cooperation", "no cooperation"]
    yes_a = p["a"].isin(COOPERATING).map({True: names[0], False: names[1]})
    yes_b = p["b"].isin(COOPERATING).map({True: names[0], False: names[1]})
    t = pd.crosstab(yes_a, yes_b).reindex(index=names, columns=names, fill_value=0).astype("int64")
    t.index.name = str(a.name) if a.name is not None else "a"
    t.columns.name = str(b.name) if b.name is not None else "b"
    return t


def mcnemar_cooperation(a: pd.Series, b: pd.Series, exact: bool | None = None, correction: bool = False) -> McNemar:
    """McNemar's test of cooperation yes (1-4) / no (5) for kommuner that answered both rounds.

    A :class:`McNemar` on :func:`cooperation_table`: ``b`` cooperated in round ``a`` only, ``c`` in round
    ``b`` only; ``table`` holds the 2x2 counts (rows round ``a``), ``categories`` its labels.
    """
    return mcnemar_test(cooperation_table(a, b), exact=exact, correction=correction)


def paired_tests(a: pd.Series, b: pd.Series, categories: Sequence[int] | str | None = None) -> PairedTests:
    """Bowker, Stuart-Maxwell and McNemar (cooperation yes/no) of two rounds' model codes (indexed by
    kommunekode; only kommuner that answered both count). None depends on a level ordering; ``categories``
    (an ordering) only sets the order of the models in the tests' ``categories``."""
    transitions = transition_matrix(a, b, categories)
    return PairedTests(bowker(transitions), stuart_maxwell(transitions), mcnemar_cooperation(a, b))


TEST_COLUMNS = {  # the columns of tests_table, named as the saved table shows them
    "test": "test",
    "statistic": "statistic",
    "df": "df",
    "pvalue": "pvalue",
    "df_convention": "df convention",
    "df_all_pairs": "df (all pairs)",
    "pvalue_all_pairs": "pvalue (all pairs)",
    "n": "n",
    "dropped": "dropped",
    "method": "method",
}


def tests_table(
    tests: PairedTests, nonresponse: McNemar | None = None, family: multiplicity.Family | None = None
) -> pd.DataFrame:
    """The paired tests as one table, a row each (bowker, stuart_maxwell, mcnemar_cooperation, and
    mcnemar_nonresponse when ``nonresponse`` is given): test, statistic, df, pvalue, the Bowker df under both
    conventions, n, the categories dropped, McNemar's method; with ``family`` (:func:`test_family`) also the
    Holm and Benjamini-Hochberg adjusted p-values. A field a test does not have is empty."""
    rows = {}
    named = [(f.name, getattr(tests, f.name)) for f in fields(tests)]
    if nonresponse is not None:
        named.append(("mcnemar_nonresponse", nonresponse))
    for key, test in named:
        values = asdict(test)
        row = {column: values.get(column) for column in TEST_COLUMNS}
        row["dropped"] = None if isinstance(test, McNemar) else list(test.dropped)  # a 2x2 table drops nothing
        if family is not None:
            row["p_holm"], row["p_bh"] = family.table.loc[key, "p_holm"], family.table.loc[key, "p_bh"]
        rows[key] = row
    columns = {**TEST_COLUMNS, "p_holm": "pvalue (Holm)", "p_bh": "pvalue (BH)"}
    table = pd.DataFrame.from_dict(rows, orient="index").rename(columns=columns)
    if family is not None:  # the adjusted p-values beside the raw one
        order = list(table.columns)
        for c in ("pvalue (BH)", "pvalue (Holm)"):
            order.remove(c)
            order.insert(order.index("pvalue") + 1, c)
        table = table[order]
    return table


FAMILY = (
    "the four tests of one pair of rounds: Bowker (symmetry of the moves between models), Stuart-Maxwell "
    "(the same distribution of models), McNemar on cooperation yes/no and McNemar on answered or not"
)
TEST_NAMES = {
    "bowker": "Bowker (symmetry)",
    "stuart_maxwell": "Stuart-Maxwell (marginal homogeneity)",
    "mcnemar_cooperation": "McNemar (cooperation yes/no)",
    "mcnemar_nonresponse": "McNemar (answered or not)",
}


def test_family(tests: PairedTests, nonresponse_test: McNemar) -> multiplicity.Family:
    """The family of one pair of rounds (:data:`FAMILY`): the three paired tests of the answers and the
    non-response test, with Holm and Benjamini-Hochberg adjusted p-values (:mod:`helpers.analysis.multiplicity`).

    They are one family because a reader of notebook 02 looks at the four together and would single out
    whichever is small; the adjustment is over these four only (each pair of rounds is its own family).
    """
    p = {
        "bowker": tests.bowker.pvalue,
        "stuart_maxwell": tests.stuart_maxwell.pvalue,
        "mcnemar_cooperation": tests.mcnemar_cooperation.pvalue,
        "mcnemar_nonresponse": nonresponse_test.pvalue,
    }
    return multiplicity.adjust(p, FAMILY)


def family_of_tests(family: multiplicity.Family) -> FamilyOfTests:
    """A :func:`test_family` as plain data for the key results."""
    tests = tuple(
        AdjustedTest(key=str(k), test=TEST_NAMES[k], p=float(r["p"]), p_holm=float(r["p_holm"]), p_bh=float(r["p_bh"]))
        for k, r in family.table.iterrows()
    )
    return FamilyOfTests(name=family.name, size=family.size, tests=tests)


# --------------------------------------------------------------------------- non-response


@dataclass(frozen=True)
class NonResponse:
    """Non-response in two rounds and the paired test of its change (:func:`nonresponse`).

    Fields: ``year_a``, ``year_b``: the rounds; ``table``: per region (and "Hele landet" first) the
    number of kommuner and, per round, how many did not answer (``no_answer_<year>``) and the share
    (``share_no_answer_<year>``); ``paired``: answered / did not answer in ``year_a`` (rows) against
    ``year_b`` for the same kommuner; ``test``: McNemar's test on it (:class:`McNemar`, exact when fewer
    than 25 discordant; ``b`` answered in ``year_a`` only, ``c`` in ``year_b`` only).
    """

    year_a: int
    year_b: int
    table: pd.DataFrame
    paired: pd.DataFrame
    test: McNemar

    def summary(self) -> str:
        """One line: the test, who answered in one round only, and the p-value."""
        t = self.test
        return (
            f"McNemar ({t.method}): {t.b} answered only in {self.year_a}, {t.c} only in {self.year_b}; "
            f"p = {t.pvalue:.3g}"
        )


def nonresponse(aligned: pd.DataFrame, year_a: int | None = None, year_b: int | None = None) -> NonResponse:
    """Non-response per round, overall and by region, and a paired test of its change.

    McNemar's test is right here because the two rounds are the same 98 kommuner, not independent
    samples. Years default to the first and last round. Returns a :class:`NonResponse`.
    """
    years = sorted(aligned["year"].unique().tolist())
    year_a = years[0] if year_a is None else year_a
    year_b = years[-1] if year_b is None else year_b
    rows = []
    for region, part in [(TOTAL, aligned)] + list(aligned.groupby("regionsnavn", sort=False)):
        row = {"region": region, "kommuner": int(part.loc[part["year"] == years[0]].shape[0])}
        for y in years:
            r = part[part["year"] == y]
            row[f"no_answer_{y}"] = int((~r["answered"]).sum())
            row[f"share_no_answer_{y}"] = float((~r["answered"]).mean())
        rows.append(row)
    table = pd.DataFrame(rows).set_index("region")
    order = (
        [TOTAL]
        + [r for r in REGION_ORDER if r in table.index]
        + [r for r in table.index if r not in REGION_ORDER + [TOTAL]]
    )
    table = table.loc[order]
    ans_a = models_of(aligned, year_a) != NO_ANSWER
    ans_b = models_of(aligned, year_b) != NO_ANSWER
    names = ["answered", "did not answer"]
    paired = pd.crosstab(ans_a.map({True: names[0], False: names[1]}), ans_b.map({True: names[0], False: names[1]}))
    paired = paired.reindex(index=names, columns=names, fill_value=0).astype("int64")
    paired.index.name, paired.columns.name = str(year_a), str(year_b)
    return NonResponse(int(year_a), int(year_b), table, paired, mcnemar_test(paired))


# --------------------------------------------------------------------------- non-response, four ways


def key_statistics(year_a: int, year_b: int) -> tuple[nr.Statistic, ...]:
    """The key quantities of a pair of rounds, each a share of *all* kommuner (:mod:`helpers.analysis.nonresponse`):

    ``cooperating_a``, ``cooperating_b``: cooperating (models 1-4) in each round; ``started``: no cooperation
    (model 5) in ``year_a``, cooperation in ``year_b``; ``stopped``: the reverse; ``net_change``: started minus
    stopped, the paired change in the share that cooperates (what McNemar's test on cooperation tests)."""
    c, none = COOPERATING, [NO_COOPERATION]
    return (
        nr.share("cooperating_a", year_a, c, f"cooperating in {year_a}"),
        nr.share("cooperating_b", year_b, c, f"cooperating in {year_b}"),
        nr.moved("started", year_a, year_b, none, c, f"started cooperating ({year_a} -> {year_b})"),
        nr.moved("stopped", year_a, year_b, c, none, f"stopped cooperating ({year_a} -> {year_b})"),
        nr.net_change("net_change", year_a, year_b, c, "net change: started minus stopped (paired)"),
    )


def model_share_statistics(years: Sequence[int], ordering=None) -> dict[int, dict[int, nr.Statistic]]:
    """Per round and model (in ``ordering``), the share of all kommuner that answered that model."""
    names = model_labels(with_code=True, include_no_answer=False)
    return {
        int(y): {m: nr.share(f"model_{m}_{y}", y, [m], f"{y}: {names[m]}") for m in parse_ordering(ordering)}
        for y in years
    }


def _mcnemar_p(year_a: int, year_b: int):
    def compute(answers: pd.DataFrame, covariates: pd.DataFrame, weights) -> nr.Estimate:
        a = np.isin(answers[year_a].to_numpy(dtype=int), COOPERATING)
        b = np.isin(answers[year_b].to_numpy(dtype=int), COOPERATING)
        table = np.array([[(a & b).sum(), (a & ~b).sum()], [(~a & b).sum(), (~a & ~b).sum()]])
        return nr.Estimate(**nr.wald(mcnemar_test(table).pvalue, None, len(answers)))

    return compute


def mcnemar_statistic(year_a: int, year_b: int) -> nr.Statistic:
    """The p-value of McNemar's test on cooperation, as a statistic of the answers (for its bounds)."""
    return nr.statistic(
        "mcnemar_cooperation_p", "McNemar p-value, cooperation yes/no", (year_a, year_b), _mcnemar_p(year_a, year_b)
    )


@dataclass(frozen=True)
class Sensitivities:
    """Non-response in a pair of rounds handled four ways (:func:`nonresponse_sensitivity`).

    Fields:

    * ``panel``: the kommuner x the two rounds, answers with gaps and covariates (:class:`nr.Panel`);
    * ``treatments``: the raking weights (each round; both rounds) and the imputed data sets (:class:`nr.Treatments`);
    * ``key``: :func:`key_statistics` four ways (:class:`~helpers.results.nonresponse.Sensitivity`, in order);
    * ``model_shares``: per round and model, the share of all kommuner four ways;
    * ``transition_low``, ``transition_high``: per cell of the transition table (rows ``year_a``), the fewest
      and the most kommuner over every completion of the missing answers (each cell on its own);
    * ``mcnemar``: the smallest and largest p-value of McNemar's test on cooperation over completions
      (:class:`nr.BoundsResult`, found by :func:`nr.search`).
    """

    panel: nr.Panel
    treatments: nr.Treatments
    key: tuple[nr.Sensitivity, ...]
    model_shares: dict[int, dict[int, nr.Sensitivity]]
    transition_low: pd.DataFrame
    transition_high: pd.DataFrame
    mcnemar: nr.BoundsResult

    def table(self, scale: float = 100.0) -> pd.DataFrame:
        """The key quantities four ways, in percent of all kommuner (:func:`nr.sensitivity_table`)."""
        return nr.sensitivity_table(self.key, scale)

    def model_share_table(self, scale: float = 100.0) -> pd.DataFrame:
        """The model shares of each round four ways, in percent of all kommuner."""
        return nr.sensitivity_table([s for by_model in self.model_shares.values() for s in by_model.values()], scale)

    def weights_table(self) -> pd.DataFrame:
        """The raking weights of each response pattern (each round; both rounds), summarised: respondents,
        sum, minimum, median, maximum, Kish's effective n, trimmed, collapsed categories."""
        return nr.summary_table(list(self.treatments.weights.values()))

    def weights_long(self) -> pd.DataFrame:
        """Every respondent's weight per response pattern: kommunekode, rounds (a tuple of years), weight and
        the implied probability of answering those rounds (1 / weight)."""
        return pd.concat(
            [
                pd.DataFrame(
                    {"kommunekode": w.weights.index, "rounds": [pattern] * len(w.weights), "weight": w.weights.values}
                ).assign(propensity=lambda d: 1 / d["weight"])
                for pattern, w in self.treatments.weights.items()
            ],
            ignore_index=True,
        )

    def transition_bounds_table(self) -> pd.DataFrame:
        """The transition table's bounds as text, "fewest-most" kommuner per cell."""
        return self.transition_low.astype(str) + "-" + self.transition_high.astype(str)


def nonresponse_sensitivity(
    aligned: pd.DataFrame,
    municipalities: pd.DataFrame,
    year_a: int,
    year_b: int,
    ordering=None,
    *,
    imputations: int = nr.imputation.M,
    seed: int = nr.imputation.SEED,
    trim: float | None = None,
) -> Sensitivities:
    """The key quantities, the model shares, the transitions and McNemar's p-value of two rounds under the
    treatments of non-response: complete case, bounds, raking weights (``trim``) and ``imputations`` imputed
    data sets (``seed``). See :mod:`helpers.analysis.nonresponse` for what each assumes."""
    order = parse_ordering(ordering)
    panel = nr.panel(aligned[aligned["year"].isin([year_a, year_b])], municipalities).restrict([year_a, year_b])
    treatments = nr.prepare(panel, m=imputations, seed=seed, trim=trim)
    key = tuple(nr.four_ways(s, treatments) for s in key_statistics(year_a, year_b))
    shares = {
        y: {m: nr.four_ways(s, treatments) for m, s in by_model.items()}
        for y, by_model in model_share_statistics((year_a, year_b), order).items()
    }
    cells = {
        (i, j): nr.bounds(nr.moved(f"cell_{i}_{j}", year_a, year_b, [i], [j]), panel).bounds
        for i in order
        for j in order
    }
    frame = lambda side: pd.DataFrame(  # noqa: E731
        [[round(getattr(cells[i, j], side) * panel.n) for j in order] for i in order],
        index=pd.Index(order, name=str(year_a)),
        columns=pd.Index(order, name=str(year_b)),
    ).astype("int64")
    mc = nr.bounds(mcnemar_statistic(year_a, year_b), panel, seed=seed)
    return Sensitivities(panel, treatments, key, shares, frame("low"), frame("high"), mc)


# --------------------------------------------------------------------------- change per kommune


def change(a: pd.Series, b: pd.Series, ordering: str | Sequence[int] | None = None) -> pd.DataFrame:
    """Per-kommune change in cooperation level from round ``a`` to round ``b`` under ``ordering``.

    ``a`` and ``b``: model codes indexed by kommunekode. Columns: kommunekode, model_a, model_b,
    level_a, level_b (0 lowest ... 4 highest, missing for non-response), change = level_b - level_a
    (nullable Int64; missing unless the kommune answered both rounds) and direction
    ("up", "same", "down", or missing).
    """
    scores = level_scores(ordering)
    a = as_model_codes(a)
    b = as_model_codes(b).reindex(a.index.union(b.index), fill_value=NO_ANSWER)
    a = a.reindex(b.index, fill_value=NO_ANSWER)
    out = pd.DataFrame({"kommunekode": a.index.to_numpy(), "model_a": a.to_numpy(), "model_b": b.to_numpy()})
    out["level_a"] = out["model_a"].map(scores).astype("Int64")
    out["level_b"] = out["model_b"].map(scores).astype("Int64")
    out["change"] = out["level_b"] - out["level_a"]
    sign = np.sign(out["change"].astype("float64"))
    out["direction"] = sign.map({1.0: "up", 0.0: "same", -1.0: "down"}).astype("str")
    return out.sort_values("kommunekode", ignore_index=True)


CHANGE_ROWS = ["up", "same", "down", "not comparable"]


def change_summary(ch: pd.DataFrame) -> pd.Series:
    """Number of kommuner moving up, staying, moving down, or not comparable (non-response in a round)."""
    d = ch["direction"].astype(object).where(ch["direction"].notna(), "not comparable")
    return d.value_counts().reindex(CHANGE_ROWS, fill_value=0).rename("kommuner")


def change_by_ordering(a: pd.Series, b: pd.Series, orderings: Iterable) -> pd.DataFrame:
    """:func:`change_summary` under each ordering: rows up, same, down, not comparable; a column per
    ordering ("5<1<2<3<4"), in the order given."""
    return pd.DataFrame({format_ordering(o): change_summary(change(a, b, o)) for o in orderings})


# --------------------------------------------------------------------------- one comparison of two rounds


@dataclass(frozen=True)
class Comparison:
    """Two survey rounds of the same kommuner compared: everything notebook 02 shows (:func:`compare_rounds`).

    Fields:

    * ``year_a``, ``year_b``: the rounds; ``ordering``: the level ordering, lowest first (model codes);
    * ``synthetic``: whether either round is synthetic example data;
    * ``aligned``: :func:`align_rounds` of the two rounds (every kommune in both, 0 = did not answer);
    * ``distribution``: the models reported per round (:class:`Distribution`, all kommuner);
    * ``transitions``: :func:`transition_matrix` (kommuner that answered both rounds);
    * ``cooperation_table``: :func:`cooperation_table`, the 2x2 table of ``tests.mcnemar_cooperation``;
    * ``tests``: Bowker, Stuart-Maxwell and McNemar (:class:`PairedTests`);
    * ``nonresponse``: :class:`NonResponse`;
    * ``change``: :func:`change` per kommune under ``ordering``;
    * ``change_by_ordering``: :func:`change_by_ordering` under ``ordering`` and with models 2 and 3 swapped;
    * ``family``: the four tests of the pair with Holm and Benjamini-Hochberg p-values (:func:`test_family`);
    * ``sensitivity``: non-response handled four ways (:class:`Sensitivities`);
    * ``coverage``: how often the complete-case and imputed 95 % intervals of the key quantities cover,
      simulated at this pair's design (:func:`nr.key_coverage`, a :class:`~helpers.results.nonresponse.CoverageCheck`).
    """

    year_a: int
    year_b: int
    ordering: tuple[int, ...]
    synthetic: bool
    aligned: pd.DataFrame
    distribution: Distribution
    transitions: pd.DataFrame
    cooperation_table: pd.DataFrame
    tests: PairedTests
    nonresponse: NonResponse
    change: pd.DataFrame
    change_by_ordering: pd.DataFrame
    family: multiplicity.Family
    sensitivity: Sensitivities
    coverage: nr.CoverageCheck


def compare_rounds(
    rounds: Mapping[int, pd.DataFrame],
    municipalities: pd.DataFrame,
    year_a: int,
    year_b: int,
    ordering=None,
    *,
    imputations: int = nr.imputation.M,
    seed: int = nr.imputation.SEED,
    trim: float | None = None,
    coverage_reps: int = nr.coverage.REPS,
) -> Comparison:
    """Compare round ``year_a`` with round ``year_b`` (both in ``rounds``, processed survey tables) over the
    kommuner of ``municipalities``: the distribution of models, the transitions, the paired tests and their
    family's adjusted p-values, non-response (its change, and the key quantities under four treatments of it:
    ``imputations`` data sets from ``seed``, weights capped at ``trim``), the change in level under
    ``ordering`` (default 5<1<2<3<4) and with 2 and 3 swapped, and the coverage of the key quantities'
    intervals over ``coverage_reps`` pairs of rounds simulated at this design (``imputations`` each, ``seed``;
    a few seconds)."""
    if year_a == year_b:
        raise ValueError(f"year_a and year_b are both {year_a}; compare two different rounds")
    order = parse_ordering(ordering)
    aligned = align_rounds({y: rounds[y] for y in (year_a, year_b)}, municipalities)
    a, b = models_of(aligned, year_a), models_of(aligned, year_b)
    transitions = transition_matrix(a, b, order)
    tests, nonresp = paired_tests(a, b, order), nonresponse(aligned, year_a, year_b)
    sensitivity = nonresponse_sensitivity(
        aligned, municipalities, year_a, year_b, order, imputations=imputations, seed=seed, trim=trim
    )
    coverage = nr.key_coverage(
        sensitivity.panel, year_a, year_b, COOPERATING, reps=coverage_reps, m=imputations, seed=seed
    )
    return Comparison(
        year_a=int(year_a),
        year_b=int(year_b),
        ordering=tuple(order),
        synthetic=bool(aligned["synthetic"].any()),
        aligned=aligned,
        distribution=model_distribution(aligned, ordering=order),
        transitions=transitions,
        cooperation_table=cooperation_table(a, b),
        tests=tests,
        nonresponse=nonresp,
        change=change(a, b, order),
        change_by_ordering=change_by_ordering(a, b, (order, swap(order, 2, 3))),
        family=test_family(tests, nonresp.test),
        sensitivity=sensitivity,
        coverage=coverage,
    )


def key_results(comparison: Comparison) -> CompareResults:
    """The key results of a notebook-02 run (:class:`~helpers.results.compare.CompareResults`), plain data."""
    c = comparison
    by_year = dict(tuple(c.aligned.groupby("year")))
    long = c.distribution.long
    return CompareResults(
        year_a=c.year_a,
        year_b=c.year_b,
        ordering=format_ordering(c.ordering),
        n_kommuner=int(len(by_year[c.year_a])),
        answered={int(y): int(g["answered"].sum()) for y, g in by_year.items()},
        cooperating={int(y): int(g["model"].isin(COOPERATING).sum()) for y, g in by_year.items()},
        model_counts={
            int(y): {int(m): int(n) for m, n in zip(g["model"], g["n"], strict=True)} for y, g in long.groupby("year")
        },
        paired_n=int(c.transitions.to_numpy().sum()),
        transitions={int(i): {int(j): int(v) for j, v in row.items()} for i, row in c.transitions.iterrows()},
        tests=c.tests,
        nonresponse_test=c.nonresponse.test,
        change_by_ordering={
            str(o): ChangeCounts(
                up=int(col["up"]),
                same=int(col["same"]),
                down=int(col["down"]),
                not_comparable=int(col["not comparable"]),
            )
            for o, col in c.change_by_ordering.items()
        },
        family=family_of_tests(c.family),
        sensitivity={s.quantity: s for s in c.sensitivity.key},
        model_shares={int(y): {int(m): s for m, s in by.items()} for y, by in c.sensitivity.model_shares.items()},
        transition_bounds={
            int(i): {
                int(j): (int(c.sensitivity.transition_low.at[i, j]), int(c.sensitivity.transition_high.at[i, j]))
                for j in c.sensitivity.transition_low.columns
            }
            for i in c.sensitivity.transition_low.index
        },
        mcnemar_bounds=c.sensitivity.mcnemar.bounds,
        weights=tuple(w.summary for w in c.sensitivity.treatments.weights.values()),
        imputation=c.sensitivity.treatments.imputations.settings,
        coverage=c.coverage,
    )


# --------------------------------------------------------------------------- plain words

_WORDS: tuple[tuple[type[PairedTest], str, str, str], ...] = (
    (
        Bowker,
        "Bowker (symmetry)",
        "as many kommuner moved from one model to another as moved back",
        "moves between models are not balanced in both directions",
    ),
    (
        StuartMaxwell,
        "Stuart-Maxwell (marginal homogeneity)",
        "the distribution of models is the same in both rounds",
        "the distribution of models differs between the rounds",
    ),
    (
        McNemar,
        "McNemar (cooperation yes/no)",
        "as many kommuner started cooperating as stopped",
        "the share of kommuner that cooperate differs between the rounds",
    ),
)


_KEYS = ((Bowker, "bowker"), (StuartMaxwell, "stuart_maxwell"), (McNemar, "mcnemar_cooperation"))


def interpret(
    tests: Iterable[PairedTest], synthetic: bool, alpha: float = 0.05, family: multiplicity.Family | None = None
) -> str:
    """Plain-words Markdown reading of paired tests: :class:`PairedTests`, or any of :class:`Bowker`,
    :class:`StuartMaxwell` and :class:`McNemar` (on cooperation yes/no), told apart by their type.

    Says what each test asks and whether its p-value is below ``alpha``; never more. With ``family``
    (:func:`test_family`) the verdict reads the Holm-adjusted p-value (familywise over the tests of the pair)
    and says so; without it, it says that the p-value is unadjusted. With synthetic input it opens with a
    warning and speaks of "the example data", so nothing reads as a finding.
    """
    where = "the synthetic example data" if synthetic else "the survey answers"
    lines = []
    if synthetic:
        lines.append(
            "**Synthetic example data: the sentences below describe how the method behaves on made-up "
            "answers. They are not findings about Danish kommuner.**\n"
        )
    for r in tests:
        kind = next((w for w in _WORDS if isinstance(r, w[0])), None)
        if kind is None:
            raise TypeError(f"not a paired test: {type(r).__name__}; accepted: Bowker, StuartMaxwell, McNemar")
        _, name, null, alternative = kind
        if isinstance(r, McNemar):  # b = cooperated in the first round only, c = in the second only
            stat = f"{r.c} started and {r.b} stopped cooperating, {r.method}, p = {r.pvalue:.3g}"
        else:
            stat = f"statistic {r.statistic:.2f}, df {r.df}, p = {r.pvalue:.3g}"
            if isinstance(r, Bowker) and r.empty_pairs:
                stat += (
                    f" (df counts the {r.df} pairs of models with moves; counting all {r.df_all_pairs} pairs "
                    f"as statsmodels does: p = {r.pvalue_all_pairs:.3g})"
                )
        if family is None:
            p, which = r.pvalue, "p (unadjusted for the other tests of this pair)"
        else:
            key = next(k for cls, k in _KEYS if isinstance(r, cls))
            p = family.adjusted(key)[1]
            which = f"the Holm-adjusted p ({p:.3g}, over the {family.size} tests of this pair)"
        if p < alpha:
            verdict = (
                f"in {where}, {which} is below {alpha}: the data are hard to reconcile with "
                f'"{null}"; read as: {alternative}.'
            )
        else:
            verdict = (
                f'in {where}, {which} is not below {alpha}: no clear sign against "{null}". This is not proof '
                f"that nothing changed; with {r.n} paired kommuner only sizeable shifts can be detected."
            )
        lines.append(f"- **{name}** ({stat}; {r.n} kommuner that answered both rounds): {verdict}")
    lines.append(
        "\nAll three tests use only kommuner that answered both rounds; kommuner that did not answer in one "
        "round are left out, which can bias the comparison if non-response is related to cooperation (section 4 "
        "shows how far)."
    )
    return "\n".join(lines)
