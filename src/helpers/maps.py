"""Choropleth maps of the kommuner, with classes and legends under our control.

Bins are computed by the caller (``shared_bins``) so that maps meant to be compared share one
scale. The legend is drawn from explicit patches, so it does not depend on geopandas' legend
keywords (which changed between versions). Missing values get their own hatched class.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import Colormap
from matplotlib.patches import Patch

MISSING_STYLE = {"facecolor": "#f0f0f0", "edgecolor": "#999999", "hatch": "///", "linewidth": 0.3}


def shared_bins(*series: pd.Series, k: int = 5) -> list[float]:
    """Upper class bounds from the quantiles of all series pooled, so several maps share one scale."""
    pooled = pd.concat([pd.Series(s, dtype=float) for s in series]).dropna()
    if pooled.empty:
        raise ValueError("no values to classify")
    k = min(k, pooled.nunique())
    bounds = np.quantile(pooled.to_numpy(), np.linspace(0, 1, k + 1)[1:])
    return [float(b) for b in np.unique(bounds)]


def classify(values: np.ndarray, bins: Sequence[float]) -> tuple[list[float], np.ndarray]:
    """Class index of each value for upper bounds ``bins`` (a value equal to a bound belongs to it).

    When the largest value exceeds the last bound, a top class up to that value is added, so no
    value is left unclassed. (The semantics of mapclassify.UserDefined, without importing it:
    mapclassify pulls in scikit-learn, about a second per notebook kernel.)
    """
    bounds = sorted(float(b) for b in bins)
    if len(values) and float(np.max(values)) > bounds[-1]:
        bounds.append(float(np.max(values)))
    return bounds, np.searchsorted(bounds, values, side="left")


def _palette(cmap: str | Colormap, n: int) -> list:
    cm = plt.get_cmap(cmap) if isinstance(cmap, str) else cmap
    return [cm(x) for x in np.linspace(0.1, 0.95, n)] if n > 1 else [cm(0.6)]


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}".rstrip("0").rstrip(".")


def choropleth(
    gdf: gpd.GeoDataFrame,
    column: str,
    ax: plt.Axes | None = None,
    *,
    title: str = "",
    legend_title: str = "",
    cmap: str | Colormap = "viridis",
    bins: Sequence[float] | None = None,
    categories: Sequence | None = None,
    labels: dict | None = None,
    missing_label: str = "no data",
) -> plt.Axes:
    """Draw ``column`` of ``gdf`` as a choropleth.

    Numeric columns are classed by ``bins`` (upper bounds, see :func:`classify`; quantiles
    of the column when None). Pass ``categories`` (in display order) for a categorical column
    such as the cooperation model, with optional ``labels`` for the legend.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 7))
    values = gdf[column]
    missing = values.isna()
    handles = []
    if categories is not None:
        colours = dict(zip(categories, _palette(cmap, len(categories))))
        unknown = set(values.dropna().unique()) - set(categories)
        if unknown:
            raise ValueError(f"{column} has values outside categories: {sorted(unknown)}")
        for cat in categories:
            part = gdf[values == cat]
            if len(part):
                part.plot(ax=ax, color=colours[cat], edgecolor="white", linewidth=0.3)
            handles.append(Patch(facecolor=colours[cat], label=f"{(labels or {}).get(cat, cat)} ({len(part)})"))
    else:
        present = values[~missing].astype(float)
        if bins is None:
            bins = shared_bins(present)
        bounds, yb = classify(present.to_numpy(), bins)
        colours = _palette(cmap, len(bounds))
        classes = pd.Series(yb, index=present.index)
        lower = [present.min()] + bounds[:-1]
        for i, upper in enumerate(bounds):
            idx = classes.index[classes == i]
            if len(idx):
                gdf.loc[idx].plot(ax=ax, color=colours[i], edgecolor="white", linewidth=0.3)
            handles.append(Patch(facecolor=colours[i], label=f"{_fmt(lower[i])} – {_fmt(upper)} ({len(idx)})"))
    if missing.any():
        gdf[missing].plot(ax=ax, **MISSING_STYLE)
        handles.append(Patch(label=f"{missing_label} ({int(missing.sum())})", **MISSING_STYLE))
    ax.legend(handles=handles, title=legend_title or None, loc="upper right", fontsize=8, title_fontsize=9, frameon=True)
    ax.set_title(title)
    ax.set_axis_off()
    ax.set_aspect("equal")
    return ax


def rounds_side_by_side(
    gdf: gpd.GeoDataFrame,
    columns: Sequence[str],
    *,
    titles: Sequence[str] | None = None,
    suptitle: str = "",
    legend_title: str = "",
    cmap: str | Colormap = "viridis",
    bins: Sequence[float] | None = None,
    categories: Sequence | None = None,
    labels: dict | None = None,
    missing_label: str = "no data",
    figsize: tuple[float, float] | None = None,
) -> plt.Figure:
    """Several columns of ``gdf`` (one per survey round, say) as choropleths side by side on ONE scale.

    Every panel gets the same classes, colours and missing style: the given ``categories`` (for
    the cooperation model) or ``bins``; for a numeric column without ``bins``, quantile bins of all
    columns pooled (``shared_bins``). Each legend counts the kommuner of its own panel.
    """
    columns = list(columns)
    if not columns:
        raise ValueError("no columns to map")
    if titles is not None and len(titles) != len(columns):
        raise ValueError(f"{len(titles)} titles for {len(columns)} columns")
    if categories is None and bins is None:
        bins = shared_bins(*(gdf[c] for c in columns))
    fig, axes = plt.subplots(1, len(columns), figsize=figsize or (6.5 * len(columns), 7))
    for ax, column, title in zip(np.atleast_1d(axes), columns, titles or columns):
        choropleth(gdf, column, ax, title=title, legend_title=legend_title, cmap=cmap, bins=bins,
                   categories=categories, labels=labels, missing_label=missing_label)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


SERVED_STYLE = {"facecolor": "#fbe3c0", "edgecolor": "#8c6d31", "hatch": "..", "linewidth": 0.6}


def loans_change(change: pd.DataFrame, boundaries: gpd.GeoDataFrame, year_a: int, year_b: int, ax: plt.Axes, *,
                 served_elsewhere: dict[int, str] | None = None, bins: Sequence[float] | None = None) -> plt.Axes:
    """Map of the REAL change in loans per inhabitant per kommune (``usage.loans_change``).

    Drawn per kommune polygon (98). A kommune in ``served_elsewhere`` (Fanø, whose loans Statistics
    Denmark counts in Esbjerg) is its own class with the given label, not missing data; kommuner
    whose value in either year is flagged (``usage.QUALITY_FLAGS``) get a red outline.
    """
    g = boundaries.merge(change, on="kommunekode", how="left", validate="one_to_one")
    served = g["kommunekode"].isin(list(served_elsewhere or {}))
    top = float(np.ceil(max(g["change_pct"].max(), 1)))
    choropleth(g[~served], "change_pct", ax=ax, bins=bins if bins is not None else [-50, -40, -30, -20, -10, 0, top],
               cmap="YlGnBu_r", title=f"REAL: change in physical loans per inhabitant, {year_a}-{year_b}",
               legend_title="change, per cent", missing_label="no data")
    handles = list(ax.get_legend().legend_handles)
    for code, label in (served_elsewhere or {}).items():
        g[g["kommunekode"] == code].plot(ax=ax, **SERVED_STYLE)
        handles.append(Patch(label=label, **SERVED_STYLE))
    flagged = g[g["flagged"].fillna(False).astype(bool)]
    if len(flagged):
        flagged.boundary.plot(ax=ax, color="#c0392b", linewidth=1.2)
        handles.append(Patch(facecolor="none", edgecolor="#c0392b", linewidth=1.2, label=f"value flagged in QUALITY_FLAGS ({len(flagged)})"))
    ax.legend(handles=handles, title="change, per cent", loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8,
              title_fontsize=9, frameon=True)
    return ax
