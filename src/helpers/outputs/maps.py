"""Choropleth maps of the kommuner, with classes and legends under our control.

Bins are computed by the caller (``shared_bins``) so that maps meant to be compared share one
scale. The legend is drawn from explicit patches, so it does not depend on geopandas' legend
keywords (which changed between versions). Missing values get their own hatched class.

Every function that draws takes ``language`` ("en" or "da"): class names, the missing class,
inset titles and the legends' own texts come from ``helpers.outputs.labels`` in that language (titles and
category labels passed in are the caller's, looked up there too).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import Colormap
from matplotlib.patches import Patch, Rectangle

from helpers.core.cooperation import format_ordering, parse_ordering
from helpers.outputs import labels as texts
from helpers.outputs import style

if TYPE_CHECKING:
    import geopandas as gpd  # only in annotations: the frames come from helpers.data.reference

style.apply()

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


def _diverging(cmap: str | Colormap, n_below: int, n_above: int) -> list:
    """Colours for classes below and above a centre: the two halves of a diverging map, darker away from it."""
    cm = plt.get_cmap(cmap) if isinstance(cmap, str) else cmap
    below = [cm(x) for x in np.linspace(0.05, 0.42, n_below)] if n_below > 1 else [cm(0.3)] * n_below
    above = [cm(x) for x in np.linspace(0.62, 0.95, n_above)] if n_above > 1 else [cm(0.75)] * n_above
    return below + above


def _fmt(x: float, language: str = "en") -> str:
    text = f"{x:,.0f}" if abs(x) >= 10 else f"{x:,.2f}".rstrip("0").rstrip(".")
    return texts.number(text, language).replace("-", "\u2212")  # a typographic minus; Danish 1.000,5


def class_labels(
    bounds: Sequence[float], given: Sequence[float], vmin: float, vmax: float, language: str = "en"
) -> list[str]:
    """Legend labels of the classes (lower, upper] with upper bounds ``bounds``.

    The first class starts at the smallest value; a top class that :func:`classify` added beyond the
    ``given`` bounds is labelled as open ("above 0 (max 202)"), so an outlier it swallows shows its
    value instead of hiding in a "0 – 202" bin. Classes read "50 to 100": above 50, up to 100
    (in Danish "50 til 100", "over 0 (maks. 202)").
    """
    bounds = list(bounds)
    given_top = max(float(b) for b in given)
    labels = []
    for i, upper in enumerate(bounds):
        if i == 0:
            labels.append(
                texts.text("class.range", language, low=_fmt(vmin, language), high=_fmt(upper, language))
                if vmin <= upper
                else texts.text("class.up_to", language, high=_fmt(upper, language))
            )
        elif upper > given_top:
            labels.append(
                texts.text("class.open", language, low=_fmt(bounds[i - 1], language), high=_fmt(vmax, language))
            )
        else:
            labels.append(
                texts.text("class.range", language, low=_fmt(bounds[i - 1], language), high=_fmt(upper, language))
            )
    return labels


# --- layout: Denmark without the empty sea, Bornholm and the Copenhagen area as insets -------------

BORNHOLM = 400
# The capital-area kommuner (Statistics Denmark's kommunegruppe 1, "Hovedstadskommuner"), EPSG:25832,
# from reference.load_boundaries(): their polygons are too small to read at the scale of the country.
COPENHAGEN_BOX = (694_000.0, 6_155_000.0, 740_000.0, 6_203_000.0)
# Inset frames in the empty Kattegat north of Zealand (data coordinates, EPSG:25832).
COPENHAGEN_FRAME = (672_000.0, 6_300_000.0, 782_000.0, 6_402_000.0)
BORNHOLM_FRAME = (732_000.0, 6_232_000.0, 782_000.0, 6_282_000.0)


@contextlib.contextmanager
def _no_idle_draw(fig):
    """Keep geopandas from rendering the whole figure after every layer.

    ``GeoSeries.plot`` ends with ``ax.figure.canvas.draw_idle()``, and on the non-interactive
    canvases a pipeline uses (Agg, the inline backend) that renders the figure at once: a map with
    insets and a dozen class layers was drawn some 20 times before it was saved (about 1 s per map,
    85 % of the time of notebook 02's map cells). The figure is drawn when it is saved or shown, so
    the intermediate renders change nothing; the canvas's own method is restored afterwards.
    """
    canvas = fig.canvas
    own = vars(canvas).get("draw_idle")  # a backend may have set its own on the instance
    canvas.draw_idle = lambda *args, **kwargs: None
    try:
        yield
    finally:
        if own is None:
            del canvas.draw_idle  # the class's method is visible again
        else:
            canvas.draw_idle = own


def _draw(ax: plt.Axes, layers: list[tuple[gpd.GeoDataFrame, dict]]) -> None:
    with _no_idle_draw(ax.figure):
        for part, kw in layers:
            if not len(part):
                continue
            if kw.get("boundary"):
                part.boundary.plot(ax=ax, **{k: v for k, v in kw.items() if k != "boundary"})
            else:
                part.plot(ax=ax, **kw)


def _inset(ax: plt.Axes, layers, frame, extent, label: str) -> plt.Axes:
    x0, y0, x1, y1 = frame
    sub = ax.inset_axes((x0, y0, x1 - x0, y1 - y0), transform=ax.transData)
    _draw(sub, layers)
    ex0, ey0, ex1, ey1 = extent
    # keep the inset's aspect equal: widen the shorter side of the extent to the frame's shape
    want = (x1 - x0) / (y1 - y0)
    w, h = ex1 - ex0, ey1 - ey0
    if w / h < want:
        cx, w = (ex0 + ex1) / 2, h * want
        ex0, ex1 = cx - w / 2, cx + w / 2
    else:
        cy, h = (ey0 + ey1) / 2, w / want
        ey0, ey1 = cy - h / 2, cy + h / 2
    sub.set_xlim(ex0, ex1)
    sub.set_ylim(ey0, ey1)
    sub.set_aspect("equal")
    sub.set_xticks([])
    sub.set_yticks([])
    sub.set_xlabel("")
    sub.set_ylabel("")
    for spine in sub.spines.values():
        spine.set_visible(True)
        spine.set_edgecolor("#888888")
        spine.set_linewidth(0.6)
    sub.set_title(label, fontsize=7, fontweight="normal", color="#333333", pad=2)
    return sub


def denmark_layout(
    ax: plt.Axes,
    gdf: gpd.GeoDataFrame,
    layers: list[tuple[gpd.GeoDataFrame, dict]],
    *,
    insets: bool = True,
    language: str = "en",
) -> None:
    """Draw ``layers`` on ``ax`` cropped to Denmark, with Bornholm and the Copenhagen area as insets.

    Bornholm lies 140 km east of the rest; drawn in place it leaves a third of the map as empty
    sea. It moves to an inset at its true scale, and the small capital-area kommuner get an
    enlarged inset, both in the empty Kattegat; a dashed box marks the enlarged area.
    """
    codes = gdf["kommunekode"] if "kommunekode" in gdf else pd.Series(dtype=int)
    if not insets or not (codes == BORNHOLM).any():
        _draw(ax, layers)
        ax.set_aspect("equal")
        return
    main = [(part[part["kommunekode"] != BORNHOLM] if "kommunekode" in part else part, kw) for part, kw in layers]
    _draw(ax, main)
    rest = gdf[codes != BORNHOLM].total_bounds
    ax.set_xlim(rest[0] - 4_000, max(rest[2], COPENHAGEN_FRAME[2], BORNHOLM_FRAME[2]) + 2_000)
    ax.set_ylim(rest[1] - 4_000, max(rest[3], COPENHAGEN_FRAME[3]) + 4_000)
    ax.set_aspect("equal")
    x0, y0, x1, y1 = COPENHAGEN_BOX
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="#555555", linewidth=0.7, linestyle="--"))
    _inset(ax, layers, COPENHAGEN_FRAME, COPENHAGEN_BOX, texts.text("inset.copenhagen", language))
    bx = gdf[codes == BORNHOLM].total_bounds
    _inset(
        ax,
        layers,
        BORNHOLM_FRAME,
        (bx[0] - 2_000, bx[1] - 2_000, bx[2] + 2_000, bx[3] + 2_000),
        texts.text("inset.bornholm", language),
    )


def _classes(
    gdf: gpd.GeoDataFrame,
    column: str,
    *,
    cmap,
    bins,
    categories,
    labels,
    colours,
    center,
    missing_label,
    language: str = "en",
):
    """The layers (part of gdf, plot style) and legend handles of a choropleth."""
    if missing_label is None:
        missing_label = texts.text("no_data", language)
    values = gdf[column]
    missing = values.isna()
    layers, handles = [], []
    if categories is not None:
        colours = {c: (colours or {}).get(c) for c in categories}
        fallback = dict(zip(categories, _palette(cmap, len(categories)), strict=False))
        colours = {c: colours[c] if colours[c] is not None else fallback[c] for c in categories}
        unknown = set(values.dropna().unique()) - set(categories)
        if unknown:
            raise ValueError(f"{column} has values outside categories: {sorted(unknown)}")
        for cat in categories:
            part = gdf[values == cat]
            layers.append((part, {"color": colours[cat], "edgecolor": "white", "linewidth": 0.3}))
            handles.append(Patch(facecolor=colours[cat], label=f"{(labels or {}).get(cat, cat)} ({len(part)})"))
    else:
        present = values[~missing].astype(float)
        if bins is None:
            bins = shared_bins(present)
        bounds, yb = classify(present.to_numpy(), bins)
        if center is None:
            palette = _palette(cmap, len(bounds))
        else:
            n_below = sum(b <= center for b in bounds)
            palette = _diverging(cmap, n_below, len(bounds) - n_below)
        classes = pd.Series(yb, index=present.index)
        names = class_labels(bounds, bins, float(present.min()), float(present.max()), language)
        for i, name in enumerate(names):
            idx = classes.index[classes == i]
            layers.append((gdf.loc[idx], {"color": palette[i], "edgecolor": "white", "linewidth": 0.3}))
            handles.append(Patch(facecolor=palette[i], label=f"{name} ({len(idx)})"))
    if missing.any():
        layers.append((gdf[missing], dict(MISSING_STYLE)))
        handles.append(Patch(label=f"{missing_label} ({int(missing.sum())})", **MISSING_STYLE))
    return layers, handles


def _legend(ax: plt.Axes, handles, title: str) -> None:
    ax.legend(
        handles=handles,
        title=title or None,
        loc="lower left",
        bbox_to_anchor=(1.0, 0.0),
        fontsize=8,
        title_fontsize=9,
        frameon=False,
        alignment="left",
    )


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
    colours: dict | None = None,
    center: float | None = None,
    missing_label: str | None = None,
    insets: bool = True,
    language: str = "en",
) -> plt.Axes:
    """Draw ``column`` of ``gdf`` as a choropleth of Denmark (Bornholm and Copenhagen as insets).

    Numeric columns are classed by ``bins`` (upper bounds, see :func:`classify`; quantiles
    of the column when None); with ``center`` (say 0 for a change) classes below and above it take
    the two halves of a diverging ``cmap``. Pass ``categories`` (in display order) for a
    categorical column such as the cooperation model, with optional ``labels`` for the legend and
    ``colours`` per category (``style.MODEL_COLOURS`` for the model). The legend sits to the right
    of the map and counts the kommuner of each class. ``language`` is that of the texts the map
    draws itself (class names, the missing class, the insets; ``missing_label`` None: "no data").
    """
    texts.check_language(language)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 7))
    layers, handles = _classes(
        gdf,
        column,
        cmap=cmap,
        bins=bins,
        categories=categories,
        labels=labels,
        colours=colours,
        center=center,
        missing_label=missing_label,
        language=language,
    )
    denmark_layout(ax, gdf, layers, insets=insets, language=language)
    _legend(ax, handles, legend_title)
    ax.set_title(title)
    ax.set_axis_off()
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
    colours: dict | None = None,
    missing_label: str | None = None,
    figsize: tuple[float, float] | None = None,
    language: str = "en",
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
    fig, axes = plt.subplots(1, len(columns), figsize=figsize or (7.5 * len(columns), 6))
    for ax, column, title in zip(np.atleast_1d(axes), columns, titles or columns, strict=False):
        choropleth(
            gdf,
            column,
            ax,
            title=title,
            legend_title=legend_title,
            cmap=cmap,
            bins=bins,
            categories=categories,
            labels=labels,
            colours=colours,
            missing_label=missing_label,
            language=language,
        )
    # maps are about square and their legends sit beside them: fit the height to that, so a
    # figsize asked for by a caller does not leave bands of white above and below the maps
    width = fig.get_figwidth()
    fig.set_size_inches(width, width / len(columns) * 0.62 + (0.5 if suptitle else 0.2))
    if suptitle:
        fig.suptitle(suptitle, fontweight="bold")
    fig.tight_layout()
    return fig


def cooperation_rounds(
    boundaries: gpd.GeoDataFrame,
    models: pd.DataFrame,
    years: Sequence[int],
    *,
    ordering: Sequence[int] | str | None = None,
    language: str = "en",
) -> plt.Figure:
    """The cooperation model of each round side by side (notebook 02), on one legend.

    ``models`` is ``compare.wide_models``: kommunekode and ``model_<year>`` (non-response missing, drawn
    hatched as "did not answer"). The models take their colours from ``style.MODEL_COLOURS`` and appear in
    the legend in ``ordering`` (lowest level first), named in ``language``.
    """
    order = parse_ordering(ordering)
    g = boundaries.merge(models, on="kommunekode", validate="one_to_one")
    return rounds_side_by_side(
        g,
        [f"model_{y}" for y in years],
        titles=[str(y) for y in years],
        categories=order,
        labels=texts.model_names(order, language, with_code=True),
        colours=style.MODEL_COLOURS,
        legend_title=texts.text("maps_legend", language, ordering=format_ordering(order)),
        missing_label=texts.text("did_not_answer", language),
        suptitle=texts.text("maps_suptitle", language),
        figsize=(15, 8),
        language=language,
    )


def cooperation_change(
    boundaries: gpd.GeoDataFrame,
    change: pd.DataFrame,
    ax: plt.Axes,
    *,
    years: tuple[int, int],
    ordering: Sequence[int] | str | None = None,
    language: str = "en",
) -> plt.Axes:
    """The change in cooperation level per kommune between the two ``years`` (a, b; notebook 02).

    ``change`` is ``compare.change`` (kommunekode, change); every possible step from -4 to +4 levels is a
    class of a diverging palette, and kommuner that did not answer in one round or both are hatched.
    """
    order = parse_ordering(ordering)
    year_a, year_b = years
    g = boundaries.merge(change[["kommunekode", "change"]], on="kommunekode", validate="one_to_one")
    g["change"] = g["change"].astype("float64")
    steps = list(range(1 - len(order), len(order)))
    return choropleth(
        g,
        "change",
        ax,
        categories=steps,
        labels=texts.level_changes(steps, language),
        cmap=style.palette("change in level"),
        title=texts.text("change_title", language, year_a=year_a, year_b=year_b, ordering=format_ordering(order)),
        legend_title=texts.text("change_legend", language),
        missing_label=texts.text("did_not_answer_one_or_both", language),
        language=language,
    )


SERVED_STYLE = {"facecolor": "#fbe3c0", "edgecolor": "#8c6d31", "hatch": "..", "linewidth": 0.6}


def loans_change(
    change: pd.DataFrame,
    boundaries: gpd.GeoDataFrame,
    year_a: int,
    year_b: int,
    ax: plt.Axes,
    *,
    served_elsewhere: dict[int, str] | None = None,
    bins: Sequence[float] | None = None,
    language: str = "en",
) -> plt.Axes:
    """Map of the real change in loans per inhabitant per kommune (``usage.loans_change``).

    Drawn per kommune polygon (98). A kommune in ``served_elsewhere`` (Fanø, whose loans Statistics
    Denmark counts in Esbjerg) is its own class with the given label, not missing data; kommuner
    whose value in either year is flagged as suspicious (``usage.QUALITY_FLAGS``, from the source's
    notes) get a black outline. Falls and rises take the two halves of a diverging palette; rises
    beyond the last bound form an open class that names its maximum. The labels of
    ``served_elsewhere`` are the caller's (``labels.text("served_by", language, ...)``).
    """
    texts.check_language(language)
    g = boundaries.merge(change, on="kommunekode", how="left", validate="one_to_one")
    served = g["kommunekode"].isin(list(served_elsewhere or {}))
    layers, handles = _classes(
        g[~served],
        "change_pct",
        cmap=style.palette("loans change"),
        bins=bins if bins is not None else [-50, -40, -35, -30, -20, 0],
        categories=None,
        labels=None,
        colours=None,
        center=0,
        missing_label=None,
        language=language,
    )
    for code, label in (served_elsewhere or {}).items():
        layers.append((g[g["kommunekode"] == code], dict(SERVED_STYLE)))
        handles.append(Patch(label=label, **SERVED_STYLE))
    flagged = g[g["flagged"].fillna(False).astype(bool)]
    if len(flagged):
        layers.append((flagged, {"boundary": True, "color": "black", "linewidth": 1.3}))
        handles.append(
            Patch(
                facecolor="none",
                edgecolor="black",
                linewidth=1.3,
                label=texts.text("flagged_in_source", language, n=len(flagged)),
            )
        )
    denmark_layout(ax, g, layers, language=language)
    _legend(ax, handles, texts.text("loans_change_legend", language))
    ax.set_title(texts.text("loans_change_title", language, year_a=year_a, year_b=year_b))
    ax.set_axis_off()
    return ax
