"""Outputs of notebooks: figures (PNG + SVG), tables (CSV), results (JSON), and synthetic-data marks.

Each goes to the folder of the run that writes it (``paths.figures()`` etc.: ``reports/figures/<run id>/``,
see helpers.core.paths), so runs with other parameters, or work in JupyterLab (run id ``scratch``), never
overwrite one another.

Whatever is computed from any synthetic input is synthetic. Every function here takes
``synthetic`` explicitly so that no figure, table or result can be written without deciding it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import pandas as pd

from helpers.core import files, paths
from helpers.outputs import labels, style
from helpers.results import KeyResults, family

if TYPE_CHECKING:
    from helpers.outputs.tables import RegressionTable

SYNTHETIC_MARK = labels.TEXTS["synthetic_mark"][
    "en"
]  # "SYNTHETIC EXAMPLE DATA - not a finding"; figures: in their language


class OutputPath(type(Path())):
    """A written file's path that shows itself relative to the project (a notebook cell ending in a
    write displays ``reports/results/x.json``, never the machine's absolute path)."""

    def __repr__(self) -> str:
        return f"OutputPath({paths.relative(self)!r})"

    def _repr_pretty_(self, p, cycle) -> None:  # IPython's display of a cell's last value
        p.text(paths.relative(self))


def _shown(path: Path) -> OutputPath:
    return OutputPath(path)


SYNTHETIC_BANNER = (
    "**Synthetic example data.** At least one input of this notebook is synthetic example data made "
    "by `helpers.data.synthetic` (flagged in `data/raw/*/MANIFEST.yaml`). Numbers below show how the "
    "method works; they are **not findings** about Danish libraries. Replace the example files with "
    "real exports to get real results."
)
REAL_BANNER = "All inputs of this notebook are real data (see `data/raw/*/MANIFEST.yaml` and the PROVENANCE files)."


def banner(synthetic: bool):
    """A Markdown banner for the top of a notebook saying whether its inputs are synthetic."""
    from IPython.display import Markdown

    text = SYNTHETIC_BANNER if synthetic else REAL_BANNER
    style = (
        "background:#fde2e1;border:2px solid #c0392b" if synthetic else "background:#e8f4ea;border:1px solid #2e7d32"
    )
    return Markdown(f'<div style="{style};padding:8px 12px;border-radius:4px">\n\n{text}\n\n</div>')


def _footer_position(fig: plt.Figure) -> tuple[float, float, float]:
    """Left, right and bottom of what is drawn, in figure coordinates: a footer goes just below the
    content, not below the figure's empty margin."""
    bb = fig.get_tightbbox(fig.canvas.get_renderer())
    w, h = fig.get_size_inches()
    return max(bb.x0 / w, 0.0), min(bb.x1 / w, 1.0), bb.y0 / h - 0.01


def output_stem(name: str, *, synthetic: bool, language: str | None = None) -> str:
    """The file stem of an output: ``name``, then ``_synthetic`` when it is synthetic (unless the name already has
    the word, as in ``adoption_event_study_synthetic_2009_2011``: no word twice), then the figure's language
    (``_en``, ``_da``), so that the figures of both languages sit side by side."""
    stem = f"{name}_synthetic" if synthetic and "synthetic" not in name.split("_") else name
    return f"{stem}_{labels.check_language(language)}" if language is not None else stem


def mark_synthetic(fig: plt.Figure, footer: tuple[float, float, float] | None = None, language: str = "en") -> plt.Text:
    """Stamp a figure visibly as synthetic (diagonal watermark plus a footer line), in ``language``; returns the
    footer line."""
    left, _, bottom = footer or _footer_position(fig)
    fig.text(
        0.5,
        0.5,
        labels.text("synthetic_watermark", language),
        fontsize=60,
        color="#c0392b",
        alpha=0.12,
        ha="center",
        va="center",
        rotation=30,
        zorder=100,
    )
    return fig.text(
        left,
        bottom,
        labels.text("synthetic_mark", language),
        fontsize=8,
        color="#c0392b",
        ha="left",
        va="top",
        weight="bold",
    )


FOOTER_GAP_PT = 6  # the least space between the synthetic mark and the source line when they share a line


def _place_footer(fig: plt.Figure, mark, source) -> None:
    """The synthetic mark (left) and the source line (right) share the line below the content when they fit on it
    with a gap; otherwise the source line goes on the next line, so the two never overlap (in Danish the texts are
    longer: the coverage and power figures, and two more, had them on top of each other)."""
    if mark is None or source is None:
        return
    renderer = fig.canvas.get_renderer()
    m, s = mark.get_window_extent(renderer), source.get_window_extent(renderer)
    gap = FOOTER_GAP_PT * fig.dpi / 72
    if m.x1 + gap <= s.x0:
        return
    x, y = source.get_position()
    source.set_position((x, y - (m.height + gap / 2) / (fig.get_size_inches()[1] * fig.dpi)))


def save_figure(fig: plt.Figure, name: str, *, synthetic: bool, source: str = "", language: str = "en") -> list[Path]:
    """Write ``reports/figures/<run id>/<name>[_synthetic]_<language>.png`` (300 dpi) and ``.svg`` atomically
    (:func:`output_stem`); synthetic figures are stamped in ``language``, the figure's language. ``source`` is
    printed as the figure's source line, beside the mark or below it when both do not fit on one line."""
    labels.check_language(language)
    footer = _footer_position(fig)  # the mark and the source share one line below the content
    mark = mark_synthetic(fig, footer, language) if synthetic else None
    name = output_stem(name, synthetic=synthetic, language=language)
    line = None
    if source:
        _, right, bottom = footer
        line = fig.text(right, bottom, source, fontsize=7, color=style.GREY, ha="right", va="top")
    _place_footer(fig, mark, line)
    # What bbox_inches="tight" computes (lay the figure out without rendering it, measure what is drawn,
    # pad), done once for both formats: each "tight" save did it again, a fifth to a third of the time of
    # writing a 300 dpi PNG and an SVG.
    fig.draw_without_rendering()
    bbox = fig.get_tightbbox(fig.canvas.get_renderer()).padded(plt.rcParams["savefig.pad_inches"])
    out = []
    for ext in ("png", "svg"):
        target = paths.figures() / f"{name}.{ext}"
        # reproducible bytes: no date in the SVG metadata, SVG element ids salted by the name, not random
        with files.atomic_path(target) as tmp, plt.rc_context({"svg.hashsalt": name}):
            fig.savefig(
                tmp,
                format=ext,
                dpi=style.PNG_DPI if ext == "png" else None,
                bbox_inches=bbox,
                metadata={"Date": None} if ext == "svg" else None,
            )
        out.append(_shown(target))
    return out


def save_figures(
    draw, name: str, *, synthetic: bool, source: str | Callable[[str], str] = "", languages=("en",)
) -> list[Path]:
    """Draw a figure in every language of ``languages`` and save each (:func:`save_figure`): ``draw(language)``
    returns the figure in that language, ``source`` is the source line or a function of the language giving it.

    One notebook run draws its figures in English and Danish side by side (``_en``, ``_da``) from the same results,
    so a second language never needs a second run. The figure of the first language stays open (a notebook shows
    it); the others are closed. Returns the files written, PNG and SVG per language."""
    languages = check_languages(languages)
    written: list[Path] = []
    for i, language in enumerate(languages):
        fig = draw(language)
        line = source(language) if callable(source) else source
        written += save_figure(fig, name, synthetic=synthetic, source=line, language=language)
        if i:
            plt.close(fig)
    return written


def figure_of(plot, *args, figsize: tuple[float, float] | None = None, rect=None, **kwargs):
    """A drawing for :func:`save_figures` from a plot function of :mod:`~helpers.outputs.plots` or
    :mod:`~helpers.outputs.maps`: ``figure_of(plots.transitions, table, 2009, 2011, figsize=(8.5, 7))(language)`` draws
    ``plot(table, 2009, 2011, ax=<a new axes of figsize>, language=language)`` and returns its figure, laid out tight
    within ``rect`` (room for the footer) when given. Without ``figsize`` the function makes its own figure."""

    def draw(language: str) -> plt.Figure:
        if figsize is None:
            return plot(*args, language=language, **kwargs)
        fig, ax = plt.subplots(figsize=figsize)
        plot(*args, ax=ax, language=language, **kwargs)
        if rect is not None:
            fig.tight_layout(rect=rect)
        return fig

    return draw


@dataclasses.dataclass(frozen=True)
class Outputs:
    """Where a notebook run's tables and figures go, decided once: whether they are ``synthetic``, the figures'
    ``languages`` (checked) and their ``source`` line (a text, or a function of the language giving it).

    ``table`` saves a table (:func:`save_table`) and returns it, so a cell can save and show it in one line
    (``regression_table`` the same for a regression table); ``figure`` saves a drawing in every language
    (:func:`save_figures`) and shows the first; ``plot`` does the same for a plot function and its arguments
    (:func:`figure_of`). Made by :func:`outputs`, which also shows the notebook's banner."""

    synthetic: bool
    languages: tuple[str, ...] = ("en",)
    source: str | Callable[[str], str] = ""

    def __post_init__(self):
        object.__setattr__(self, "languages", check_languages(self.languages))

    def table(self, frame: pd.DataFrame, name: str, *, index: bool = True) -> pd.DataFrame:
        """Write ``frame`` as ``reports/tables/<run id>/<name>[_synthetic].csv`` (:func:`save_table`); returns
        ``frame`` itself, for display."""
        save_table(frame, name, synthetic=self.synthetic, index=index)
        return frame

    def regression_table(self, table: RegressionTable, name: str) -> RegressionTable:
        """Write a regression table as ``reports/tables/<run id>/<name>[_synthetic]`` .csv, .html, .tex and .docx
        (:func:`helpers.outputs.tables.save`); returns it as written (with the synthetic mark when synthetic), for
        display."""
        from helpers.outputs import tables

        tables.save(table, name, synthetic=self.synthetic)
        return tables.mark(table, self.synthetic)

    def figure(self, draw: Callable[[str], plt.Figure], name: str) -> None:
        """Save ``draw(language)`` in every language as PNG and SVG (:func:`save_figures`, marked when synthetic,
        with the source line) and show the first language's figure. Returns nothing: a cell ending in it shows
        the figure, not a list of paths."""
        save_figures(draw, name, synthetic=self.synthetic, source=self.source, languages=self.languages)
        plt.show()

    def plot(self, name: str, plot: Callable[..., object], /, *args, figsize=None, rect=None, **kwargs) -> None:
        """:meth:`figure` of ``plot(*args, **kwargs)`` drawn in each language (:func:`figure_of`: on a new axes of
        ``figsize`` laid out within ``rect`` when given, else the plot function makes its own figure)."""
        self.figure(figure_of(plot, *args, figsize=figsize, rect=rect, **kwargs), name)


def outputs(synthetic: bool, languages=("en",), source: str | Callable[[str], str] = "") -> Outputs:
    """Show the notebook's :func:`banner` (synthetic or real) and return its :class:`Outputs`."""
    from IPython.display import display

    out = Outputs(bool(synthetic), languages, source)
    display(banner(out.synthetic))
    return out


def check_languages(languages) -> tuple[str, ...]:
    """``languages`` (one language or a list of them) as a tuple of languages, each checked, none twice."""
    given = [languages] if isinstance(languages, str) else list(languages or [])
    if not given:
        raise ValueError(f"languages {languages!r}: give at least one of {', '.join(labels.LANGUAGES)}")
    for language in given:
        labels.check_language(language)
    return tuple(dict.fromkeys(given))


def save_table(df: pd.DataFrame, name: str, *, synthetic: bool, index: bool = True) -> Path:
    """Write ``reports/tables/<run id>/<name>.csv``; synthetic tables get a ``_synthetic`` suffix in the name
    (:func:`output_stem`)."""
    stem = output_stem(name, synthetic=synthetic)
    return _shown(files.write_csv(paths.tables() / f"{stem}.csv", df, index=index))


def write_results(name: str, results: KeyResults, *, synthetic: bool, parameters: dict | None = None) -> Path:
    """Write ``reports/results/<run id>/<name>.json`` with the synthetic flag and the parameters that made it.

    ``results`` is the family's typed key results (``helpers.results``): its class must be the one
    declared for ``name``, and what is written is read back into it before the file is replaced.
    ``inputs`` lists the raw files this process read (``helpers.data.provenance.read_files``: directly,
    or through the processed data of the runs it reads), each with its synthetic flag from the manifest.

    No time stamp: the same inputs give the same bytes (the run manifest records when each run ran)."""
    from helpers.data import provenance

    doc = {
        "name": name,
        "synthetic": bool(synthetic),
        "note": SYNTHETIC_MARK if synthetic else "computed from real data",
        "parameters": parameters or {},
        "inputs": [{"file": f"data/raw/{rel}", "synthetic": flag} for rel, flag in provenance.read_files()],
        "results": _results_json(name, results),
    }
    return _shown(files.write_json(paths.results() / f"{name}.json", doc))


def _results_json(name: str, results: KeyResults) -> dict:
    expected = family(name)
    if type(results) is not expected:
        raise TypeError(f"{name}: results of type {type(results).__name__}; declared: {expected.__name__}")
    return results.to_json()


def written(run: str | None = None):
    """The files this run has written (its figures, tables, results and processed data), as Markdown: a notebook's
    "Outputs" from the run's real paths (``paths.figures()`` etc. of its run id), never typed by hand. Figures list
    each drawing once with its formats and languages."""
    from IPython.display import Markdown

    run = run or paths.run_id()
    folders = [
        ("figures", paths.figures(run)),
        ("tables", paths.tables(run)),
        ("results", paths.results(run)),
        ("processed data", paths.processed_root() / run),
    ]
    lines = [f"**Outputs of this run** (run id `{run}`):", ""]
    for label, folder in folders:
        found = (
            sorted(f for f in folder.rglob("*") if f.is_file() and not f.name.startswith("."))
            if folder.is_dir()
            else []
        )
        if not found:
            continue
        stems: dict[str, list[str]] = {}
        for f in found:
            stems.setdefault(f.relative_to(folder).with_suffix("").as_posix(), []).append(f.suffix.lstrip("."))
        names = ", ".join(f"`{stem}` ({', '.join(exts)})" for stem, exts in stems.items())
        lines.append(f"- {label}, `{paths.relative(folder)}/`: {names}")
    return Markdown("\n".join(lines))


def key_values(values, *, name: str = "value", percent: tuple[str, ...] = ()) -> pd.DataFrame:
    """A flat dict (or a flat dataclass) of results as a readable two-column table (not a raw dict): whole
    numbers stay whole (no ``85.0``), keys in ``percent`` are shown as per cent, names lose their underscores."""
    if dataclasses.is_dataclass(values) and not isinstance(values, type):
        values = {f.name: getattr(values, f.name) for f in dataclasses.fields(values)}

    def text(key, v):
        if key in percent and isinstance(v, (int, float)):
            return f"{v:.1%}"
        if isinstance(v, bool) or v is None:
            return str(v)
        if isinstance(v, (int, float)) and float(v).is_integer():
            return f"{int(v):,}"
        if isinstance(v, float):
            return f"{v:,.3f}"
        return str(v)

    return pd.DataFrame(
        {name: [text(k, v) for k, v in values.items()]},
        index=pd.Index([str(k).replace("_", " ") for k in values], name="measure"),
    )
