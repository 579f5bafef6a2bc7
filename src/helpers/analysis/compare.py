"""Comparing survey rounds: model distributions, transitions, paired tests, non-response, change.

Pure functions: every input comes in as an argument (the rounds, the municipality table), nothing
is read or written here. The unit is always the 98 kommuner of the reference table; a kommune that
is absent from a round, or present with model 0, did not answer (model 0).

Model codes and the ordering come from :mod:`helpers.core.cooperation`. Only :func:`change` depends
on the ordering: the symmetry, homogeneity and McNemar tests treat the models as unordered
categories.

The paired tests (Bowker, Stuart-Maxwell, McNemar) compare the SAME kommuner in two rounds.
They are wrong for two independent samples; use a chi-square test of independence there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from scipy.sparse.csgraph import connected_components
from statsmodels.stats.contingency_tables import SquareTable, mcnemar

from helpers.core.cooperation import (
    COOPERATING,
    LABELS,
    NO_ANSWER,
    level_scores,
    model_labels,
    parse_ordering,
)
from helpers.data.reference import KOMMUNEGRUPPER, REGION_ORDER

EXACT_BELOW = 25  # McNemar: exact binomial test when fewer discordant pairs than this
TOTAL = "Hele landet"
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
    part = aligned[aligned["year"] == year]
    if part.empty:
        raise ValueError(f"no round {year}; accepted: {sorted(aligned['year'].unique().tolist())}")
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


def _drop_categories(t: pd.DataFrame, keep: np.ndarray) -> tuple[pd.DataFrame, list]:
    dropped = [_plain(c) for c, k in zip(t.index, keep, strict=False) if not k]
    return t.loc[keep, keep], dropped


def _plain(x):
    return x.item() if hasattr(x, "item") else x


BOWKER_DF_CONVENTION = "informative pairs"  # df = pairs of models with at least one move between them
BOWKER_DF_OTHER = "all pairs"  # df = k(k-1)/2 over the models reported in either round (statsmodels; R's mcnemar.test)


def bowker(table) -> dict:
    """Bowker's test of symmetry (n_ij = n_ji) of a square PAIRED table (same kommuner, two rounds).

    Uses statsmodels SquareTable(table, shift_zeros=False).symmetry() after dropping categories whose
    row and column are both empty. The statistic is sum over i<j of (n_ij - n_ji)^2 / (n_ij + n_ji).

    The df is a convention where some pair (i, j) has n_ij + n_ji = 0. This package counts only the
    informative pairs (``df``, :data:`BOWKER_DF_CONVENTION`: an empty pair adds 0 to the statistic
    and carries no information); statsmodels counts all k(k-1)/2 pairs of the k models kept
    (``df_all_pairs`` and ``pvalue_all_pairs``, :data:`BOWKER_DF_OTHER`), and R's mcnemar.test
    counts them too but returns NaN, because an empty pair is 0/0 in its sum. The two conventions
    agree when no pair is empty. Returns test, statistic, df, pvalue, df_convention, df_all_pairs,
    pvalue_all_pairs, empty_pairs, n, categories, dropped.
    """
    t = _square(table)
    v = t.to_numpy(dtype=float)
    t, dropped = _drop_categories(t, (v.sum(axis=0) + v.sum(axis=1)) > 0)
    v = t.to_numpy(dtype=float)
    k = v.shape[0]
    upper = np.triu_indices(k, 1)
    informative = int(((v[upper] + v.T[upper]) > 0).sum())
    statistic = float(SquareTable(v, shift_zeros=False).symmetry().statistic) if k >= 2 else 0.0
    pvalue = float(stats.chi2.sf(statistic, informative)) if informative else 1.0
    all_pairs = k * (k - 1) // 2
    p_all = float(stats.chi2.sf(statistic, all_pairs)) if all_pairs else 1.0
    return {
        "test": "Bowker symmetry",
        "statistic": statistic,
        "df": informative,
        "pvalue": pvalue,
        "df_convention": BOWKER_DF_CONVENTION,
        "df_all_pairs": all_pairs,
        "pvalue_all_pairs": p_all,
        "empty_pairs": all_pairs - informative,
        "n": int(v.sum()),
        "categories": [_plain(c) for c in t.index],
        "dropped": dropped,
    }


def stuart_maxwell(table) -> dict:
    """Stuart-Maxwell test of marginal homogeneity (same model distribution in both rounds), PAIRED data.

    Uses statsmodels SquareTable(table, shift_zeros=False).homogeneity(). The statistic is d' S^-1 d
    over k-1 categories with d_i = n_i. - n_.i, S_ii = n_i. + n_.i - 2 n_ii, S_ij = -(n_ij + n_ji);
    it depends on the off-diagonal cells only. Categories with no off-diagonal counts (including
    empty ones) are dropped first, since they make S singular and add nothing; if the remaining
    categories fall into groups with no exchanges between them, the test is done per group and the
    statistics and df added. Returns statistic, df, pvalue, n, categories, dropped.
    """
    t = _square(table)
    v = t.to_numpy(dtype=float)
    off = v - np.diag(np.diag(v))
    t, dropped = _drop_categories(t, (off.sum(axis=0) + off.sum(axis=1)) > 0)
    n = int(v.sum())
    w = t.to_numpy(dtype=float)
    statistic, df = 0.0, 0
    if len(w):
        n_groups, group = connected_components((w + w.T) > 0, directed=False)
        for g in range(n_groups):
            idx = np.flatnonzero(group == g)
            res = SquareTable(w[np.ix_(idx, idx)], shift_zeros=False).homogeneity()
            statistic += float(res.statistic)
            df += int(res.df)
    pvalue = float(stats.chi2.sf(statistic, df)) if df else 1.0
    return {
        "test": "Stuart-Maxwell marginal homogeneity",
        "statistic": statistic,
        "df": df,
        "pvalue": pvalue,
        "n": n,
        "categories": [_plain(c) for c in t.index],
        "dropped": dropped,
    }


def mcnemar_test(table, exact: bool | None = None, correction: bool = False) -> dict:
    """McNemar's test on a paired 2x2 table (statsmodels ``mcnemar``).

    ``exact`` None: the exact binomial test when the discordant pairs b + c number fewer than 25,
    else the chi-square (b - c)^2 / (b + c), uncorrected unless ``correction``. For the exact test
    statsmodels reports min(b, c) as the statistic; ``chi2`` always holds the uncorrected value.
    """
    t = _square(table)
    v = t.to_numpy(dtype=float)
    if v.shape != (2, 2):
        raise ValueError(f"McNemar needs a 2x2 table, got {v.shape}; use bowker() for larger tables")
    b, c = v[0, 1], v[1, 0]
    use_exact = (b + c) < EXACT_BELOW if exact is None else bool(exact)
    res = mcnemar(v, exact=use_exact, correction=correction)
    chi2 = float((b - c) ** 2 / (b + c)) if b + c else 0.0
    method = "exact binomial" if use_exact else ("chi-square, continuity-corrected" if correction else "chi-square")
    return {
        "test": "McNemar",
        "method": method,
        "statistic": float(res.statistic),
        "chi2": chi2,
        "pvalue": float(res.pvalue),
        "b": int(b),
        "c": int(c),
        "n": int(v.sum()),
    }


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


def mcnemar_cooperation(a: pd.Series, b: pd.Series, exact: bool | None = None, correction: bool = False) -> dict:
    """McNemar's test of cooperation yes (1-4) / no (5) for kommuner that answered both rounds.

    Returns the 2x2 ``table`` (a DataFrame), ``statistic``, ``chi2``, ``pvalue``, ``method`` and counts.
    """
    table = cooperation_table(a, b)
    return {"table": table, **mcnemar_test(table, exact=exact, correction=correction)}


# --------------------------------------------------------------------------- non-response


def nonresponse(aligned: pd.DataFrame, year_a: int | None = None, year_b: int | None = None) -> dict:
    """Non-response per round, overall and by region, and a paired test of its change.

    ``table``: per region (and "Hele landet") the number of kommuner and, per round, how many did
    not answer and the share. ``paired``: answered / not answered in ``year_a`` (rows) against
    ``year_b`` for the same kommuner; ``test``: McNemar's test on it (exact when < 25 discordant),
    which is right here because the two rounds are the same 98 kommuner, not independent samples.
    Years default to the first and last round.
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
    return {"table": table, "paired": paired, "test": mcnemar_test(paired)}


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


def change_summary(ch: pd.DataFrame) -> pd.Series:
    """Number of kommuner moving up, staying, moving down, or not comparable (non-response in a round)."""
    d = ch["direction"].astype(object).where(ch["direction"].notna(), "not comparable")
    return d.value_counts().reindex(["up", "same", "down", "not comparable"], fill_value=0).rename("kommuner")


# --------------------------------------------------------------------------- plain words


def interpret(tests: Mapping[str, dict], synthetic: bool, alpha: float = 0.05) -> str:
    """Plain-words Markdown reading of the ``bowker``, ``stuart_maxwell`` and ``mcnemar_cooperation`` results.

    Says what each test asks and whether its p-value is below ``alpha``; never more. With synthetic
    input it opens with a warning and speaks of "the example data", so nothing reads as a finding.
    """
    where = "the synthetic example data" if synthetic else "the survey answers"
    lines = []
    if synthetic:
        lines.append(
            "**Synthetic example data: the sentences below describe how the method behaves on made-up "
            "answers. They are not findings about Danish kommuner.**\n"
        )
    what = {
        "bowker": (
            "Bowker (symmetry)",
            "as many kommuner moved from one model to another as moved back",
            "moves between models are not balanced in both directions",
        ),
        "stuart_maxwell": (
            "Stuart-Maxwell (marginal homogeneity)",
            "the distribution of models is the same in both rounds",
            "the distribution of models differs between the rounds",
        ),
        "mcnemar_cooperation": (
            "McNemar (cooperation yes/no)",
            "as many kommuner started cooperating as stopped",
            "the share of kommuner that cooperate differs between the rounds",
        ),
    }
    for key, (name, null, alternative) in what.items():
        r = tests.get(key)
        if r is None:
            continue
        if "b" in r:  # McNemar: b = cooperated in the first round only, c = in the second only
            stat = f"{r['c']} started and {r['b']} stopped cooperating, {r['method']}, p = {r['pvalue']:.3g}"
        else:
            stat = f"statistic {r['statistic']:.2f}, df {r['df']}, p = {r['pvalue']:.3g}"
            if r.get("empty_pairs"):
                stat += (
                    f" (df counts the {r['df']} pairs of models with moves; counting all {r['df_all_pairs']} pairs "
                    f"as statsmodels does: p = {r['pvalue_all_pairs']:.3g})"
                )
        if r["pvalue"] < alpha:
            verdict = (
                f'in {where}, p is below {alpha}: the data are hard to reconcile with "{null}"; read as: {alternative}.'
            )
        else:
            verdict = (
                f'in {where}, p is not below {alpha}: no clear sign against "{null}". This is not proof that '
                f"nothing changed; with {r['n']} paired kommuner only sizeable shifts can be detected."
            )
        lines.append(f"- **{name}** ({stat}; {r['n']} kommuner that answered both rounds): {verdict}")
    lines.append(
        "\nAll three tests use only kommuner that answered both rounds; kommuner that did not answer in one "
        "round are left out, which can bias the comparison if non-response is related to cooperation."
    )
    return "\n".join(lines)
