"""reports.Outputs: a notebook's tables and figures saved in one line each, under the names save_table and
save_figures give them (synthetic outputs marked), the table returned for display, every figure language written."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from helpers.core import paths
from helpers.data import reference, usage
from helpers.outputs import labels, plots, reports


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _regions() -> pd.DataFrame:
    """The real kommuner per region (98 in all)."""
    return reference.load_municipalities().groupby("regionsnavn").size().rename("kommuner").to_frame()


def test_table_writes_the_csv_under_its_synthetic_name_and_returns_the_frame(outputs):
    frame = _regions()
    assert frame["kommuner"].sum() == 98 and len(frame) == 5
    synthetic = reports.Outputs(synthetic=True)
    assert synthetic.table(frame, "x_regions") is frame  # a cell ending in it shows the table
    written = paths.tables() / "x_regions_synthetic.csv"
    assert written.is_file() and not (paths.tables() / "x_regions.csv").exists()
    pd.testing.assert_frame_equal(pd.read_csv(written, index_col="regionsnavn"), frame)
    real = reports.Outputs(synthetic=False)
    real.table(frame.reset_index(), "x_regions_long", index=False)
    assert list(pd.read_csv(paths.tables() / "x_regions_long.csv").columns) == ["regionsnavn", "kommuner"]


def test_plot_saves_every_language_with_its_source_line_and_keeps_the_first_open(outputs):
    out = reports.Outputs(True, ["en", "da"], source=lambda language: labels.text("source.loans", language))
    assert out.languages == ("en", "da")
    shown = out.plot("x_loans", plots.national_loans, usage.load_real_national(), usage.REAL_LOANS_GAPS, figsize=(8, 4))
    assert shown is None  # a cell ending in it shows the figure, not a list of paths
    names = sorted(f.name for f in paths.figures().iterdir())
    assert names == [f"x_loans_synthetic_{lang}.{ext}" for lang in ("da", "en") for ext in ("png", "svg")]
    for language in ("en", "da"):
        svg = (paths.figures() / f"x_loans_synthetic_{language}.svg").read_text()
        assert labels.text("source.loans", language) in svg and labels.text("synthetic_mark", language) in svg
    assert len(plt.get_fignums()) == 1  # the English figure stays open for the notebook to show, the Danish is closed


def test_figure_takes_a_drawing_and_a_real_one_is_not_marked(outputs):
    def draw(language):
        fig, ax = plt.subplots()
        plots.national_loans(usage.load_real_national(), usage.REAL_LOANS_GAPS, ax, language=language)
        return fig

    reports.Outputs(False, "da", source="Kilde: test").figure(draw, "x_national")
    svg = paths.figures() / "x_national_da.svg"
    assert svg.is_file() and "Kilde: test" in svg.read_text()
    assert labels.text("synthetic_mark", "da") not in svg.read_text()


def test_outputs_refuse_an_unknown_language_naming_the_accepted_ones():
    with pytest.raises(ValueError, match="'en' \\(English\\), 'da' \\(Danish\\)"):
        reports.Outputs(False, ["de"])
    with pytest.raises(ValueError, match="at least one"):
        reports.Outputs(False, [])


def test_outputs_shows_the_banner_and_returns_the_outputs(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs: shown.extend(objs))
    out = reports.outputs(1, ["da", "da"])
    assert out == reports.Outputs(True, ("da",))
    assert [o.data for o in shown] == [reports.banner(True).data]
    assert reports.SYNTHETIC_BANNER in shown[0].data
