"""One look for every figure: a palette per variable, the figure style, rate units and source lines.

Every notebook takes its colours from here, so the same cooperation model has the same colour in
a bar chart of notebook 01, the stacked shares and maps of 02 and the box plots of 03. A colour
belongs to the *model code*, not to its position in an ``ordering`` parameter: swapping models 2
and 3 in the ordering reorders the legend but never recolours a model.
"""

from __future__ import annotations

import matplotlib as mpl
from matplotlib.colors import to_hex

PNG_DPI = 300  # paper-ready raster beside the SVG

# Cooperation model, by code: no answer grey, no cooperation palest, then darker with more
# cooperation in the default level order 5 < 1 < 2 < 3 < 4 (YlGnBu, sampled at 0.1..0.95).
_YLGNBU = mpl.colormaps["YlGnBu"]
MODEL_COLOURS: dict[int, str] = {
    0: "#d9d9d9",
    **{m: to_hex(_YLGNBU(x)) for m, x in zip((5, 1, 2, 3, 4), (0.1, 0.3, 0.5, 0.72, 0.95), strict=False)},
}

# Continuous and diverging variables: one colour map each, used by every notebook.
PALETTES: dict[str, str] = {
    "population density": "YlGnBu",  # inhabitants per km²
    "loans change": "RdYlBu",  # per cent change in loans per inhabitant (diverging at 0)
    "change in level": "RdBu",  # change in cooperation level between rounds (diverging at 0)
    "transitions": "Blues",  # kommuner per cell of a transition table
}
ACCENT = "#1f4e79"  # estimates, lines, points
TRUTH = "#c0392b"  # known true values, flags, warnings
GREY = "#555555"  # annotations and source lines

# One unit for a usage rate in every figure and sentence: per inhabitant (Statistics Denmark's unit
# for loans, BIB3A). Panel columns hold the rate per 1,000; figures divide by RATE_SCALE.
RATE_UNIT = "per inhabitant"  # in figures: labels.text("per_inhabitant", language)
RATE_SCALE = 1000

SOURCES = {
    "loans": "Source: Statistics Denmark, Statistikbanken (BIB1, BIB3A; population FOLK1A)",
    "population": "Source: Statistics Denmark, Statistikbanken (FOLK1A, BEF1A07)",
    "boundaries": "Boundaries: DAGI, Geodatastyrelsen 2014",
    "survey": "Survey of the libraries' cooperation with borgerservice",
}


def usage_source_line(usage_source: str, synthetic: bool, language: str = "en") -> str:
    """The source line of a figure of usage by cooperation model (notebooks 03 and 04), in ``language``."""
    from helpers.outputs import labels

    keys = {"real": "source.loans", "statbank": "source.statbank", "synthetic": "source.synthetic_usage"}
    usage = (
        labels.text(keys[usage_source], language)
        if usage_source in keys
        else labels.text("source.other_usage", language, source=usage_source)
    )
    survey = labels.text("source.rounds_synthetic" if synthetic else "source.rounds_real", language)
    return f"{usage}; {survey}"


def palette(variable: str) -> str:
    """The colour map registered for a continuous ``variable`` (a KeyError lists the known ones)."""
    try:
        return PALETTES[variable]
    except KeyError:
        raise KeyError(f"no palette for {variable!r}; registered: {sorted(PALETTES)}") from None


def model_colours(models) -> list[str]:
    """Colours of the given model codes, in the given order (for bar segments and legends)."""
    return [MODEL_COLOURS[int(m)] for m in models]


RC = {
    "figure.dpi": 100,
    "savefig.dpi": PNG_DPI,
    "svg.fonttype": "none",  # text stays text in the SVG (editable, searchable)
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8,
    "legend.title_fontsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
}


def apply() -> None:
    """Set the package's figure style (called when plots or maps is imported)."""
    mpl.rcParams.update(RC)
