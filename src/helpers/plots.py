"""Figures other than maps: models per round, national loans, usage by cooperation level,
coefficients, residuals, power.

seaborn and scipy are imported inside the two functions that use them (about 1 s), so notebooks
that draw only simple charts (01) do not pay for them in every kernel.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FormatStrFormatter, NullFormatter
import pandas as pd

from .cooperation import SHORT_NAMES, parse_ordering

MODEL_COLOURS = {0: "#bbbbbb", 5: "#f1eef6", 1: "#bdc9e1", 2: "#74a9cf", 3: "#2b8cbe", 4: "#045a8d"}


def model_counts(table: pd.DataFrame, year: int, ax: plt.Axes | None = None) -> plt.Figure:
    """Bar chart of a ``survey.summary`` table (kommuner per model, in level order); returns the figure."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 4.5))
    else:
        fig = ax.figure
    bars = ax.barh([f"{m} {lab}" for m, lab in zip(table["model"], table["label"])], table["kommuner"],
                   color=[MODEL_COLOURS[int(m)] for m in table["model"]], edgecolor="#333333")
    ax.bar_label(bars, padding=3)
    ax.invert_yaxis()
    ax.set_xlabel("kommuner")
    ax.set_title(f"Cooperation model reported by the kommuner, survey {year}")
    fig.tight_layout()
    return fig


def national_loans(national: pd.DataFrame, gaps, ax: plt.Axes) -> plt.Axes:
    """Line chart of national physical loans per inhabitant (``year``, ``loans_per_capita``); the years
    in ``gaps`` (not published) are shaded and left open, not interpolated."""
    nat = national.set_index("year")["loans_per_capita"]
    full = nat.reindex(range(int(nat.index.min()), int(nat.index.max()) + 1))
    ax.plot(full.index, full.to_numpy(), marker="o", color="#1f4e79")
    shown = sorted(y for y in gaps if full.index.min() <= y <= full.index.max())
    for y in shown:
        ax.axvspan(y - 0.5, y + 0.5, color="#dddddd", zorder=0)
    if shown:
        years = f"{shown[0]}-{shown[-1]}" if shown == list(range(shown[0], shown[-1] + 1)) and len(shown) > 1 else ", ".join(map(str, shown))
        ax.text((shown[0] + shown[-1]) / 2, full.max() * 0.98, f"{years}\nnot published", ha="center", va="top", fontsize=8, color="#555555")
    if 2021 in full.index and pd.notna(full.loc[2021]):
        ax.annotate("COVID-19\nclosures", xy=(2020.5, float(full.loc[2021])), xytext=(2021.5, full.max() * 0.8), fontsize=8,
                    arrowprops={"arrowstyle": "->", "color": "#555555"}, color="#555555")
    ax.set_ylim(0, full.max() * 1.08)
    ax.set_xlabel("year")
    ax.set_ylabel("physical loans per inhabitant")
    ax.set_title(f"REAL: physical library loans per inhabitant, Denmark {full.index.min()}-{full.index.max()}")
    ax.grid(alpha=0.3)
    return ax


def usage_by_model(df: pd.DataFrame, ordering, ax: plt.Axes, *, value="rate_per_1000", ylabel="per 1,000 inhabitants") -> plt.Axes:
    """Box plot with the kommuner as points, models in the order of ``ordering`` (lowest first)."""
    order = [m for m in parse_ordering(ordering) if (df["model"] == m).any()]
    labels = [f"{m}\n{textwrap.fill(SHORT_NAMES[m], 12)}\n(n={int((df['model'] == m).sum())})" for m in order]
    import seaborn as sns

    data = df.assign(level=pd.Categorical(df["model"], categories=order, ordered=True))
    sns.boxplot(data=data, x="level", y=value, order=order, color="#d9e6f2", showfliers=False, ax=ax)
    sns.stripplot(data=data, x="level", y=value, order=order, color="#1f4e79", size=3.5, alpha=0.7, ax=ax)
    ax.set_xticks(range(len(order)), labels, fontsize=8)
    ax.set_xlabel("cooperation model (lowest level first)")
    ax.set_ylabel(ylabel)
    return ax


def coefficients(table: pd.DataFrame, ax: plt.Axes, *, truth: dict[str, float] | None = None, title: str = "") -> plt.Axes:
    """Incidence-rate ratios with 95 % intervals on a log axis; optional true values as red marks."""
    y = np.arange(len(table))[::-1]
    ax.errorbar(table["irr"], y, xerr=[table["irr"] - table["irr_low"], table["irr_high"] - table["irr"]],
                fmt="o", color="#1f4e79", capsize=3, label="estimate, 95 % interval")
    if truth:
        tv = [truth.get(term, np.nan) for term in table.index]
        ax.scatter(tv, y, marker="x", color="#c0392b", s=60, zorder=5, label="true value (generator)")
    ax.axvline(1, color="grey", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FormatStrFormatter("%.2f"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(y, table.index)
    ax.set_ylim(-0.7, len(table) - 0.3)
    ax.set_xlabel("incidence-rate ratio (log scale; 1 = no difference)")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False)
    return ax


def residuals(resid: pd.DataFrame, axes) -> None:
    """Pearson residuals against fitted values (log scale) and a normal Q-Q plot."""
    from scipy import stats

    ax1, ax2 = axes
    ax1.scatter(resid["fitted"], resid["pearson"], s=12, color="#1f4e79", alpha=0.7)
    ax1.axhline(0, color="grey", lw=0.8)
    for bound in (-2, 2):
        ax1.axhline(bound, color="grey", lw=0.6, ls=":")
    ax1.set_xscale("log")
    ax1.set_xlabel("fitted count")
    ax1.set_ylabel("Pearson residual")
    stats.probplot(resid["pearson"], dist="norm", plot=ax2)
    ax2.set_title("normal Q-Q of Pearson residuals")


def power(curve: pd.DataFrame, mde: float | None, ax: plt.Axes, *, n: int, target: float = 0.8) -> plt.Axes:
    """Power against the true rate ratio, with the 80 % line and the minimal detectable effect."""
    ax.plot(curve["irr"], curve["power"], "o-", color="#1f4e79")
    ax.axhline(target, color="grey", ls="--", lw=0.8)
    if mde is not None:
        ax.axvline(mde, color="#c0392b", ls=":", lw=1)
        ax.annotate(f"smallest effect at {target:.0%} power: {mde:.3f}", (mde, target), xytext=(8, -28),
                    textcoords="offset points", fontsize=8, color="#c0392b")
    ax.set_xlabel("true rate ratio, cooperating vs not")
    ax.set_ylabel("power (p < 0.05)")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"Power with {n} municipalities")
    return ax
