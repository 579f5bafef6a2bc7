"""Figures other than maps: models per round, national loans, usage by cooperation level,
coefficients, residuals, power, interval coverage.

Every function takes ``language`` ("en" or "da"): each text it draws comes from ``helpers.outputs.labels``
in that language, so a figure is in one language.

seaborn and scipy are imported inside the two functions that use them (about 1 s), so notebooks
that draw only simple charts (01) do not pay for them in every kernel.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

from helpers.core import lazy
from helpers.core.cooperation import parse_ordering
from helpers.outputs import labels, style

if TYPE_CHECKING:  # notebooks 03's and 04's typed results (helpers.analysis imports nothing from here)
    from helpers.analysis.adoption import Estimates, Specification, TruthComparison
    from helpers.analysis.models import ChangeFit, CountFitsByRound, ModelInputs
    from helpers.analysis.simulation import CoverageStudy, PowerCurve

sns = lazy.module("seaborn")  # seaborn and scipy.stats cost ~1.5 s to import: at the first plot using them
stats = lazy.module("scipy.stats")

JITTER_SEED = 20091  # the jitter of usage_by_model's points: same figure on every run
style.apply()
MODEL_COLOURS = style.MODEL_COLOURS  # one palette for the cooperation model in every notebook


def model_counts(table: pd.DataFrame, year: int, ax: plt.Axes | None = None, *, language: str = "en") -> plt.Figure:
    """Bar chart of a ``survey.model_table`` table (kommuner per model, in level order); returns the figure.

    Bars are named by model code and its name in ``language`` (``labels.model_name``), not by the
    table's ``label`` column (the Danish names of the codebook)."""
    labels.check_language(language)
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 4.5))
    else:
        fig = ax.figure
    bars = ax.barh(
        [labels.model_name(m, language, with_code=True) for m in table["model"]],
        table["kommuner"],
        color=[MODEL_COLOURS[int(m)] for m in table["model"]],
        edgecolor="#333333",
    )
    ax.bar_label(bars, padding=3)
    ax.invert_yaxis()
    ax.set_xlabel(labels.text("kommuner", language))
    ax.set_title(labels.text("model_counts_title", language, year=year))
    labels.localize_ticks(ax, language)
    fig.tight_layout()
    return fig


def national_loans(national: pd.DataFrame, gaps, ax: plt.Axes, *, language: str = "en") -> plt.Axes:
    """Line chart of national physical loans per inhabitant (``year``, ``loans_per_capita``); the years
    in ``gaps`` (not published) are shaded and left open, not interpolated."""
    labels.check_language(language)
    nat = national.set_index("year")["loans_per_capita"]
    full = nat.reindex(range(int(nat.index.min()), int(nat.index.max()) + 1))
    ax.plot(full.index, full.to_numpy(), marker="o", color=style.ACCENT)
    shown = sorted(y for y in gaps if full.index.min() <= y <= full.index.max())
    for y in shown:
        ax.axvspan(y - 0.5, y + 0.5, color="#dddddd", zorder=0)
    if shown:
        years = (
            f"{shown[0]}-{shown[-1]}"
            if shown == list(range(shown[0], shown[-1] + 1)) and len(shown) > 1
            else ", ".join(map(str, shown))
        )
        ax.text(
            (shown[0] + shown[-1]) / 2,
            full.max() * 0.98,
            labels.text("not_published", language, years=years),
            ha="center",
            va="top",
            fontsize=8,
            color="#555555",
        )
    if 2021 in full.index and pd.notna(full.loc[2021]):
        ax.annotate(
            labels.text("covid_closures", language),
            xy=(2020.5, float(full.loc[2021])),
            xytext=(2021.5, full.max() * 0.8),
            fontsize=8,
            arrowprops={"arrowstyle": "->", "color": "#555555"},
            color="#555555",
        )
    ax.set_ylim(0, full.max() * 1.08)
    ax.set_xlabel(labels.text("year", language))
    ax.set_ylabel(labels.text("physical_loans_axis", language))
    ax.set_title(labels.text("national_loans_title", language, first=full.index.min(), last=full.index.max()))
    ax.grid(alpha=0.3)
    labels.localize_ticks(ax, language)
    return ax


def usage_by_model(
    df: pd.DataFrame,
    ordering,
    ax: plt.Axes,
    *,
    outcome: str = "usage",
    value="rate_per_1000",
    scale: float = style.RATE_SCALE,
    ylabel: str | None = None,
    title: str = "",
    language: str = "en",
) -> plt.Axes:
    """Box plot with the kommuner as points, models in the order of ``ordering`` (lowest first).

    ``value`` (the panel's rate per 1,000) is divided by ``scale``, so the axis shows the rate in
    the package's one unit, ``style.RATE_UNIT`` (per inhabitant), as every other usage figure.
    ``outcome`` is a key of the outcomes in ``helpers.outputs.labels`` ("loans", "visits", ...).
    """
    labels.check_language(language)
    order = [m for m in parse_ordering(ordering) if (df["model"] == m).any()]
    ticks = [
        f"{m}\n{textwrap.fill(labels.model_name(m, language, short=True), 12)}\n(n={int((df['model'] == m).sum())})"
        for m in order
    ]
    data = df.assign(level=pd.Categorical(df["model"], categories=order, ordered=True), shown=df[value] / scale)
    sns.boxplot(
        data=data,
        x="level",
        y="shown",
        order=order,
        hue="level",
        hue_order=order,
        legend=False,
        palette={m: MODEL_COLOURS[m] for m in order},
        dodge=False,
        showfliers=False,
        ax=ax,
        linecolor="#333333",
        width=0.6,
    )
    state = (
        np.random.get_state()
    )  # seaborn jitters with numpy's global generator: seed it, so the figure is reproducible
    np.random.seed(JITTER_SEED)
    try:
        sns.stripplot(data=data, x="level", y="shown", order=order, color=style.ACCENT, size=3.5, alpha=0.7, ax=ax)
    finally:
        np.random.set_state(state)
    ax.set_xticks(range(len(order)), ticks, fontsize=8)
    ax.set_xlabel(labels.text("models_axis", language))
    ax.set_ylabel(ylabel or labels.text("usage_axis", language, outcome=outcome_name(outcome, language)))
    ax.set_title(title)
    labels.localize_ticks(ax, language)
    return ax


def usage_by_round(inputs: ModelInputs, ordering, *, language: str = "en") -> plt.Figure:
    """Notebook 03's descriptive figure: :func:`usage_by_model` of every round of ``inputs``, side by side."""
    rounds = inputs.rounds
    fig, axes = plt.subplots(1, len(rounds), figsize=(6 * len(rounds), 4.5), sharey=True, squeeze=False)
    for ax, year in zip(axes[0], rounds, strict=True):
        title = labels.text(
            "descriptive_title",
            language,
            year=year,
            outcome=outcome_name(inputs.outcome, language),
            usage_year=inputs.pairing[year].usage_year,
        )
        usage_by_model(inputs.frames[year], ordering, ax, outcome=inputs.outcome, language=language, title=title)
    fig.tight_layout()
    return fig


def outcome_name(outcome: str, language: str = "en") -> str:
    """An outcome ("loans", "visits", ...) in words in ``language``; an unknown one unchanged."""
    return labels.text(f"outcome.{outcome}", language) if labels.has(f"outcome.{outcome}") else outcome


_STEPS = np.round(np.arange(0.5, 2.0001, 0.05), 2).tolist()
RATIO_TIERS = (  # finest first; each a set of round ratios evenly readable on a log axis
    _STEPS,
    np.round(np.arange(0.5, 2.0001, 0.1), 2).tolist() + [2.5, 3.0],
    [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0],
    [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0],
)


def ratio_ticks(low: float, high: float, most: int = 8) -> list[float]:
    """Readable ticks for a log axis of ratios between ``low`` and ``high``: round ratios, always 1.

    Matplotlib's LogLocator puts major ticks at powers of ten only, so a forest plot of ratios
    between 0.8 and 1.3 gets a single "1.00". This takes the finest of ``RATIO_TIERS`` (steps of
    0.05, 0.1, 0.25, then 1-2-5) that puts at least 3 and at most ``most`` ticks in the range.
    """
    low, high = min(low, 1.0), max(high, 1.0)
    for tier in RATIO_TIERS:
        inside = [t for t in tier if low - 1e-9 <= t <= high + 1e-9]
        if len(inside) < 3 and tier is RATIO_TIERS[0]:  # a very narrow range: widen to the neighbouring steps
            below = [t for t in tier if t < low][-1:]
            above = [t for t in tier if t > high][:1]
            return below + inside + above
        if len(inside) <= most:
            return inside
    return inside


def _ratio_label(x: float, _pos=None, language: str = "en") -> str:
    return labels.number(f"{x:.2f}".rstrip("0").rstrip(".") if x < 10 else f"{x:.0f}", language)


def model_shares(
    dist: pd.DataFrame, ax: plt.Axes, *, by: str | None = None, what: str = "kommuner", language: str = "en"
) -> plt.Axes:
    """Stacked horizontal bars of model shares per round (and group), each bar labelled with its n.

    ``dist`` is a ``compare.distribution`` table (columns [by,] year, model, label, n, share);
    segments take the cooperation model's colours (``style.MODEL_COLOURS``) in the table's order and
    are named in ``language`` (as are the groups: regions, kommunegrupper). The title names the
    grouping ``by`` ("regionsnavn", "kommunegruppe_navn") or the rounds.
    """
    labels.check_language(language)
    keys = ([by] if by else []) + ["year"]
    d = dist.assign(model=dist["model"].astype(int))
    order = list(dict.fromkeys(d["model"]))
    rows = list(dict.fromkeys(d[keys].itertuples(index=False, name=None)))
    names = labels.model_names(order, language, with_code=True)
    totals = d.groupby(keys, observed=True)["n"].sum()
    left = np.zeros(len(rows))
    y = np.arange(len(rows))
    for m in order:
        part = d[d["model"] == m].set_index(keys)["share"]
        width = np.array([float(part.get(r if by else r[0], 0.0)) * 100 for r in rows])
        ax.barh(
            y, width, left=left, color=MODEL_COLOURS[m], edgecolor="white", linewidth=0.5, height=0.75, label=names[m]
        )
        left += width
    rows_shown = [
        " ".join(labels.category(v, language) for v in r) + f"  (n={int(totals.loc[r if by else r[0]])})" for r in rows
    ]
    ax.set_yticks(y, rows_shown)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    whom = labels.text(f"shares_what.{what}", language) if labels.has(f"shares_what.{what}") else what
    ax.set_xlabel(labels.text("shares_axis_by" if by else "shares_axis", language, what=whom))
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        fontsize=8,
        title=labels.text("shares_legend", language),
        frameon=False,
    )
    if by:
        group = labels.text(f"group.{by}", language) if labels.has(f"group.{by}") else by
        ax.set_title(labels.text("shares_title_by", language, group=group))
    else:
        ax.set_ylabel(labels.text("round", language))
        ax.set_title(labels.text("shares_title", language))
    labels.localize_ticks(ax, language)
    return ax


def transitions(table: pd.DataFrame, year_a: int, year_b: int, ax: plt.Axes, *, language: str = "en") -> plt.Axes:
    """Heat map of a ``compare.transition_matrix`` (rows: model in ``year_a``, columns: in ``year_b``)."""
    labels.check_language(language)
    wrapped = {
        k: textwrap.fill(v, 16)
        for k, v in labels.model_names(list(table.index) + list(table.columns), language, with_code=True).items()
    }
    sns.heatmap(
        table.rename(index=wrapped, columns=wrapped),
        annot=True,
        fmt="d",
        cmap=style.palette("transitions"),
        linewidths=0.5,
        cbar_kws={"label": labels.text("kommuner", language)},
        ax=ax,
    )
    ax.set(
        xlabel=labels.text("model_in", language, year=year_b),
        ylabel=labels.text("model_in", language, year=year_a),
        title=labels.text("transitions_title", language, year_a=year_a, year_b=year_b, n=int(table.to_numpy().sum())),
    )
    ax.tick_params(labelsize=8)
    ax.tick_params(axis="x", labelrotation=0)
    return ax


def response_weights(weights: pd.DataFrame, ax: plt.Axes, *, language: str = "en") -> plt.Axes:
    """Strip plot of non-response weights, one row per response pattern (notebook 02).

    ``weights``: one row per respondent and pattern, columns ``rounds`` (a tuple of the rounds answered,
    e.g. (2009,) or (2009, 2011)) and ``weight``. Each weight is a dot (spread vertically so that equal
    weights stay visible, with a fixed seed); the line at 1 marks a kommune that counts for itself."""
    labels.check_language(language)
    patterns = list(dict.fromkeys(weights["rounds"]))
    rng = np.random.default_rng(JITTER_SEED)
    names = []
    for i, pattern in enumerate(patterns):
        w = weights.loc[weights["rounds"] == pattern, "weight"].to_numpy()
        ax.scatter(w, i + rng.uniform(-0.2, 0.2, len(w)), s=14, color=style.ACCENT, alpha=0.6, linewidths=0)
        ax.plot([np.median(w)] * 2, [i - 0.3, i + 0.3], color="#333333", lw=2)
        if len(pattern) == 1:
            names.append(labels.text("answered_one", language, year=pattern[0], n=len(w)))
        else:
            names.append(labels.text("answered_both", language, year_a=pattern[0], year_b=pattern[-1], n=len(w)))
    ax.axvline(1, color="#999999", lw=1, ls="--")
    ax.set_yticks(range(len(patterns)), names)
    ax.invert_yaxis()
    ax.set_xlabel(labels.text("weights_axis", language))
    ax.set_title(labels.text("weights_title", language), fontsize=10)
    labels.localize_ticks(ax, language)
    return ax


def coefficients(
    table: pd.DataFrame, ax: plt.Axes, *, truth: dict[str, float] | None = None, title: str = "", language: str = "en"
) -> plt.Axes:
    """Incidence-rate ratios with 95 % intervals on a log axis; optional true values as red marks.

    The terms (``table``'s index, as ``models.irr_table`` names them) are shown in ``language``."""
    labels.check_language(language)
    y = np.arange(len(table))[::-1]
    ax.errorbar(
        table["irr"],
        y,
        xerr=[table["irr"] - table["irr_low"], table["irr_high"] - table["irr"]],
        fmt="o",
        color=style.ACCENT,
        capsize=3,
        label=labels.text("estimate_interval", language),
    )
    if truth:
        tv = [truth.get(term, np.nan) for term in table.index]
        ax.scatter(tv, y, marker="x", color=style.TRUTH, s=60, zorder=5, label=labels.text("true_value", language))
    ax.axvline(1, color="grey", lw=0.8, ls="--")
    ax.set_xscale("log")
    values = pd.concat(
        [table["irr_low"], table["irr_high"], pd.Series([v for v in (truth or {}).values()], dtype=float)]
    ).dropna()
    low, high = float(values.min()), float(values.max())
    pad = (np.log(high) - np.log(low)) * 0.08 or 0.02
    ax.set_xlim(np.exp(np.log(min(low, 1.0)) - pad), np.exp(np.log(max(high, 1.0)) + pad))
    ax.xaxis.set_major_locator(FixedLocator(ratio_ticks(*ax.get_xlim())))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, pos: _ratio_label(x, pos, language)))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.grid(axis="x", alpha=0.3)
    ax.set_yticks(y, [labels.term(t, language) for t in table.index])
    ax.set_ylim(-0.7, len(table) - 0.3)
    ax.set_xlabel(labels.text("irr_axis", language))
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False)
    return ax


def coefficients_by_round(
    fits: CountFitsByRound, *, truth: dict[str, float] | None = None, language: str = "en"
) -> plt.Figure:
    """Notebook 03's rate ratios: :func:`coefficients` of every round's negative binomial fit, side by side."""
    fig, axes = plt.subplots(1, len(fits.rounds), figsize=(6.5 * len(fits.rounds), 3.8), squeeze=False)
    for ax, (year, r) in zip(axes[0], fits.rounds.items(), strict=True):
        title = labels.text("irr_title", language, year=year)
        coefficients(r.categories, ax, truth=truth, title=title, language=language)
    fig.tight_layout()
    return fig


def residuals(resid: pd.DataFrame, axes=None, *, language: str = "en") -> plt.Figure:
    """Pearson residuals against fitted values (log scale) and a normal Q-Q plot, on two ``axes`` (a new
    figure when None); returns the figure."""
    labels.check_language(language)
    new = axes is None
    if new:
        _, axes = plt.subplots(1, 2, figsize=(11, 4))
    ax1, ax2 = axes
    ax1.scatter(resid["fitted"], resid["pearson"], s=12, color=style.ACCENT, alpha=0.7)
    ax1.axhline(0, color="grey", lw=0.8)
    for bound in (-2, 2):
        ax1.axhline(bound, color="grey", lw=0.6, ls=":")
    ax1.set_xscale("log")
    ax1.set_xlabel(labels.text("fitted_count", language))
    ax1.set_ylabel(labels.text("pearson_residual", language))
    stats.probplot(resid["pearson"], dist="norm", plot=ax2)
    points, line = ax2.get_lines()[:2]  # probplot draws in matplotlib's default blue and red: the package's colours
    points.set(
        color=style.ACCENT, markerfacecolor=style.ACCENT, markeredgecolor=style.ACCENT, markersize=3.5, alpha=0.7
    )
    line.set(color=style.TRUTH, lw=1)
    ax2.set_title(labels.text("qq_title", language))  # probplot's own texts are English: replace all three
    ax2.set_xlabel(labels.text("qq_x", language))
    ax2.set_ylabel(labels.text("qq_y", language))
    for ax in axes:
        labels.localize_ticks(ax, language)
    if new:
        ax1.figure.tight_layout()
    return ax1.figure


def change(fit: ChangeFit, ax: plt.Axes | None = None, *, outcome: str = "usage", language: str = "en") -> plt.Figure:
    """The change model of notebook 03: change in log usage per inhabitant against the change in
    cooperation score per kommune (jittered sideways by code, so equal scores stay readable), with the fitted line.

    ``fit``: :func:`helpers.analysis.models.fit_change` with its rounds (``first``, ``last``) and frame
    (``changes``); ``ax``: a new 6 x 4 in figure when None. Returns the figure."""
    labels.check_language(language)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    changes, first, last = fit.changes, fit.first, fit.last
    ax.scatter(
        changes["d_score"] + (changes["kommunekode"] % 7 - 3) * 0.03,
        changes["d_log_rate"],
        s=14,
        color=style.ACCENT,
        label=labels.text("change_points", language),
    )
    ax.axline(
        (0, fit.params["Intercept"]),
        slope=fit.params["d_score"],
        color=style.TRUTH,
        label=labels.text("change_line", language),
    )
    ax.set(
        xlabel=labels.text("change_score_axis", language, first=first, last=last),
        ylabel=labels.text("change_usage_axis", language, outcome=outcome_name(outcome, language)),
    )
    ax.legend(fontsize=8, frameon=False)
    labels.localize_ticks(ax, language)
    return ax.figure


def power(study: PowerCurve, ax: plt.Axes | None = None, *, language: str = "en") -> plt.Figure:
    """Power against the true rate ratio, with the target (80 %) line and the minimal detectable effect.

    ``study``: :func:`helpers.analysis.simulation.power_curve`; ``ax``: a new 6 x 4 in figure when
    None. Returns the figure."""
    labels.check_language(language)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    curve, mde, n, target = study.curve, study.minimal_detectable, study.n, study.target
    ax.plot(curve["irr"], curve["power"], "o-", color=style.ACCENT)
    # the Monte Carlo error of each point, +/- 2 SE
    ax.errorbar(
        curve["irr"], curve["power"], yerr=2 * curve["mc_se"], fmt="none", ecolor=style.ACCENT, capsize=2, lw=0.8
    )
    ax.axhline(target, color="grey", ls="--", lw=0.8)
    if mde is not None:
        ax.axvline(mde, color=style.TRUTH, ls=":", lw=1)
        ax.annotate(
            labels.text(
                "power_mde",
                language,
                target=labels.percent(target, language),
                mde=labels.number(f"{mde:.3f}", language),
            ),
            (mde, target),
            xytext=(8, -28),
            textcoords="offset points",
            fontsize=8,
            color=style.TRUTH,
        )
    ax.set_xlabel(labels.text("power_x", language))
    ax.set_ylabel(labels.text("power_y", language, alpha=labels.number(f"{study.level:g}", language)))
    ax.set_ylim(0, 1.02)
    reps = labels.number(f"{study.reps:,}", language)
    ax.set_title(labels.text("power_title_reps", language, n=n, reps=reps), fontsize=9)
    labels.localize_ticks(ax, language)
    return ax.figure


def coverage(study: CoverageStudy, ax: plt.Axes | None = None, *, language: str = "en") -> plt.Figure:
    """Coverage of the three intervals per model term, ±2 Monte Carlo SE, with the target band shaded.

    Wald and profile likelihood at the ML dispersion (glm.nb's) in greys, the reported interval
    (Cox-Reid dispersion, t on n - p df) in the accent colour.
    ``study``: :func:`helpers.analysis.simulation.coverage_study` (its ``terms`` at its ``level``, its
    ``check.target``); ``ax``: a new 6.5 x 4.2 in figure when None (laid out tight). Returns the figure.
    """
    labels.check_language(language)
    new = ax is None
    if new:
        _, ax = plt.subplots(figsize=(6.5, 4.2))
    level, target, study = study.level, study.check.target, study.terms
    kinds = {
        "wald": (labels.text("wald", language), "#999999", "s"),
        "profile": (labels.text("profile_likelihood", language), style.GREY, "D"),
        "cox_reid_t": (labels.text("cox_reid_t", language), style.ACCENT, "o"),
    }
    low, high = (labels.percent(v, language) for v in target)
    ax.axvspan(
        *target,
        color=style.ACCENT,
        alpha=0.08,
        lw=0,
        label=labels.text("coverage_target", language, low=low, high=high),
    )
    y = np.arange(len(study))
    for i, (kind, (label, colour, marker)) in enumerate(kinds.items()):
        ax.errorbar(
            study[f"coverage_{kind}"],
            y + (i - 1) * 0.22,
            xerr=2 * study[f"coverage_{kind}_mc_se"],
            fmt=marker,
            color=colour,
            capsize=3,
            label=label,
        )
    ax.axvline(level, color="grey", ls="--", lw=0.8)
    ax.set_yticks(
        y,
        [
            labels.text("model_term", language, code=int(m), name=labels.model_name(m, language, short=True))
            for m in study.index
        ],
    )
    ax.set_ylim(len(study) - 0.5, -0.5)
    ax.set_xlabel(labels.text("coverage_x", language, level=labels.percent(level, language)))
    reps, used = int(study["reps"].iloc[0]), int(study["used"].min())
    fitted = labels.text("coverage_datasets", language, reps=labels.number(f"{reps:,}", language))
    if used != reps:
        k = labels.number(f"{reps - used:,}", language)
        fitted += labels.plural("coverage_not_converged", reps - used, language, k=k)
    ax.set_title(labels.text("coverage_title", language, fitted=fitted), fontsize=9)
    labels.localize_ticks(ax, language)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    if new:
        ax.figure.tight_layout()
    return ax.figure


def event_study(
    tables: dict[str, pd.DataFrame],
    ax: plt.Axes,
    *,
    anticipation: int = 0,
    truth: pd.Series | None = None,
    title: str = "",
    ylabel: str | None = None,
    language: str = "en",
    methods: dict[str, tuple[str, str]] | None = None,
    draws: int | None = None,
) -> plt.Axes:
    """Event-study plot: one series per estimator (``tables``: name -> table indexed by event time with
    estimate, low, high, reference), 95 % intervals as error bars (the jackknife ones, ``low_jk``/``high_jk``,
    where a table has them), pre-periods shaded, the reference period marked with an open symbol at 0, the
    true effects (synthetic data) as a dashed line. The first table's simultaneous 95 % band (``band_low``,
    ``band_high``), where it has one, is drawn behind its intervals as a light bar. ``methods`` (name -> label
    keys of the pointwise interval and of the band, e.g. ("interval_jackknife", "band_multiplier"); the
    ``adoption.Estimates.methods()``) and the bootstrap ``draws`` put what each interval is in the legend."""
    labels.check_language(language)
    colours = ["#1f4e79", "#c0392b", "#2e7d32", "#8e44ad"]
    width = 0.18 * (len(tables) - 1)
    start = -1 - anticipation
    all_e = sorted({int(e) for t in tables.values() for e in t.index})
    if all_e:
        ax.axvspan(min(all_e) - 0.5, start + 0.5, color="#eeeeee", zorder=0, label=labels.text("pre_periods", language))
    if anticipation:
        ax.axvspan(
            start + 0.5,
            -0.5,
            color="#fff3cd",
            zorder=0,
            label=labels.plural("anticipation", anticipation, language, k=anticipation),
        )
    ax.axhline(0, color="#555555", lw=0.8)
    ax.axvline(-0.5, color="#555555", lw=0.8, ls=":")
    for i, (name, t) in enumerate(tables.items()):
        x = t.index.to_numpy(dtype=float) + (i * 0.18 - width / 2 if len(tables) > 1 else 0)
        est = t.loc[~t["reference"]]
        xe = est.index.to_numpy(dtype=float) + (i * 0.18 - width / 2 if len(tables) > 1 else 0)
        if i == 0 and {"band_low", "band_high"} <= set(t.columns) and est["band_low"].notna().any():
            ax.bar(
                xe,
                est["band_high"] - est["band_low"],
                bottom=est["band_low"],
                width=0.16,
                color=colours[0],
                alpha=0.18,
                zorder=1,
                label=labels.text("simultaneous_band", language, name=name)
                if not methods or name not in methods
                else labels.text(
                    "simultaneous_band_method",
                    language,
                    name=name,
                    method=labels.text(methods[name][1], language, draws=draws),
                ),
            )
        lo, hi = ("low_jk", "high_jk") if "low_jk" in t.columns and est["low_jk"].notna().any() else ("low", "high")
        ax.errorbar(
            xe,
            est["estimate"],
            yerr=[est["estimate"] - est[lo], est[hi] - est["estimate"]],
            fmt="o",
            ms=4,
            capsize=2,
            color=colours[i % len(colours)],
            label=labels.text("series_interval", language, name=name)
            if not methods or name not in methods
            else labels.text(
                "series_interval_method", language, name=name, method=labels.text(methods[name][0], language)
            ),
        )
        ref = t.loc[t["reference"]]
        if len(ref):
            ax.plot(
                x[t["reference"].to_numpy()],
                [0.0] * len(ref),
                marker="o",
                mfc="white",
                color=colours[i % len(colours)],
                ls="none",
            )
    low, high = ax.get_ylim()
    ax.annotate(
        labels.text("reference_period", language),
        xy=(start, 0),
        xytext=(start, low + 0.12 * (high - low)),
        ha="center",
        fontsize=8,
        color="#555555",
        arrowprops={"arrowstyle": "->", "color": "#555555"},
    )
    if truth is not None and len(truth):
        ax.plot(
            truth.index, truth.to_numpy(), ls="--", color="#333333", lw=1.2, label=labels.text("true_effect", language)
        )
    ax.set_xticks(all_e)
    ax.set_xlabel(labels.text("event_time_axis", language))
    ax.set_ylabel(ylabel or labels.text("event_effect_axis", language))
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left", framealpha=0.9)
    ax.set_ylim(low, high + 0.25 * (high - low))  # room for the legend above the estimates
    ax.grid(alpha=0.3)
    labels.localize_ticks(ax, language)
    return ax


def adoption_event_study(
    estimates: Estimates,
    spec: Specification,
    truth: TruthComparison | None = None,
    ax: plt.Axes | None = None,
    *,
    language: str = "en",
) -> plt.Figure:
    """Notebook 04's event-study figure: :func:`event_study` of every estimator of ``estimates`` (the headline
    first), titled with the ``spec``'s treatment and rounds, its ``anticipation`` years shaded, each interval's
    method and the spec's bootstrap draws in the legend and, with the synthetic loans, the ``truth``'s true effects
    (None with the real loans: no line). Without ``ax`` a 9 x 5 inch figure is made and laid out; returns the
    figure."""
    words = labels.treatment(spec.treatment, language)
    title = labels.text("event_title", language, treatment=words, rounds=spec.rounds_words)
    made = ax is None
    if made:
        _, ax = plt.subplots(figsize=(9, 5))
    event_study(
        estimates.tables(),
        ax,
        anticipation=spec.anticipation,
        truth=None if truth is None else truth.true,
        title=title,
        language=language,
        methods=estimates.methods(),
        draws=spec.bootstrap_draws,
    )
    if made:
        ax.figure.tight_layout()
    return ax.figure


def honest(sensitivity, axes=None, *, language: str = "en") -> plt.Figure:
    """The Rambachan & Roth sensitivity (``adoption.HonestSensitivity``) on two axes: the robust 95 % sets by
    relative magnitude Mbar (left) and by smoothness M (right), each beside the original interval under exact
    parallel trends, with 0 marked and the breakdown value (where there is one) as a dotted line. Without
    ``axes`` a figure of two panels is made and laid out; returns the figure."""
    labels.check_language(language)
    made = axes is None
    if made:
        _, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    panels = (
        (sensitivity.relative_magnitudes, "Mbar", sensitivity.breakdown_rm, "honest_rm"),
        (sensitivity.smoothness, "M", sensitivity.breakdown_sd, "honest_sd"),
    )
    for ax, (table, _name, breakdown, key) in zip(axes, panels, strict=True):
        xs = list(range(len(table) + 1))
        ticks = [labels.text("honest_original", language)] + [labels.number(f"{m:g}", language) for m in table.index]
        lows = [sensitivity.original[0], *table["lb"]]
        highs = [sensitivity.original[1], *table["ub"]]
        for x, lo, hi in zip(xs, lows, highs, strict=True):
            ax.plot([x, x], [lo, hi], color="#555555" if x == 0 else "#1f4e79", lw=3, solid_capstyle="butt")
        ax.axhline(0, color="#c0392b", lw=0.8, ls="--")
        if breakdown is not None and np.isfinite(breakdown):
            pos = float(np.interp(breakdown, list(table.index), xs[1:]))
            ax.axvline(
                pos,
                color="#333333",
                lw=0.8,
                ls=":",
                label=labels.text("honest_breakdown", language, value=labels.number(f"{breakdown:.2g}", language)),
            )
            ax.legend(fontsize=8, loc="upper left")
        ax.set_xticks(xs)
        ax.set_xticklabels(ticks, fontsize=8)
        ax.set_xlabel(labels.text(key, language))
        ax.set_ylabel(labels.text("honest_axis", language))
        ax.grid(alpha=0.3)
        labels.localize_ticks(ax, language)
    fig = axes[0].figure
    if made:
        fig.tight_layout()
    return fig
