"""Figures drawn from real values: what the reader sees matches the data (counts, gaps, classes)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from helpers.data import reference, usage
from helpers.outputs import maps, plots


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_model_counts_bars_show_the_table_in_its_order():
    table = pd.DataFrame(
        {
            "model": [5, 1, 2, 3, 4, 0],
            "label": ["none", "a", "b", "c", "d", "no answer"],
            "kommuner": [8, 20, 30, 25, 7, 8],
        }
    )
    fig = plots.model_counts(table, 2014)
    ax = fig.axes[0]
    assert [round(p.get_width()) for p in ax.patches] == [8, 20, 30, 25, 7, 8]
    # bars are named in the figure's language (helpers.outputs.labels), not by the table's Danish codebook labels
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "5 no cooperation",
        "1 Den spæde start",
        "2 Vi flytter sammen",
        "3 Vi arbejder sammen",
        "4 Vi er borgernes fælles indgang til kommunen",
        "0 did not answer",
    ]
    assert [t.get_text() for t in ax.texts] == ["8", "20", "30", "25", "7", "8"]
    assert "2014" in ax.get_title()


def test_national_loans_leave_unpublished_years_open():
    national = usage.load_real_national()
    _, ax = plt.subplots()
    plots.national_loans(national, usage.REAL_LOANS_GAPS, ax)
    x, y = ax.lines[0].get_data()
    shown = dict(zip(x.tolist(), y.tolist(), strict=False))
    assert np.isnan(shown[2016]) and np.isnan(shown[2017])  # gaps are not interpolated
    assert shown[2010] == pytest.approx(national.set_index("year").loc[2010, "loans_per_capita"])
    spans = [p for p in ax.patches if p.get_facecolor()[:3] == pytest.approx((0xDD / 255,) * 3)]
    assert len(spans) == 2  # 2016 and 2017; 2009 is outside the series
    assert any("2016-2017" in t.get_text() for t in ax.texts)
    assert ax.get_title().endswith(f"{int(x.min())}-{int(x.max())}")


def test_loans_change_map_counts_every_kommune_once():
    change = usage.loans_change(2010, 2019)
    _, ax = plt.subplots()
    maps.loans_change(
        change, reference.load_boundaries(with_attributes=True), 2010, 2019, ax, served_elsewhere=usage.SERVED_LABELS
    )
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert usage.SERVED_LABELS[usage.FANOE] in labels
    assert not any(label.startswith("no data") for label in labels)  # Fanø is its own class, not missing
    classes = [label for label in labels if label != usage.SERVED_LABELS[usage.FANOE] and "flagged" not in label]
    assert (
        sum(int(label.rsplit("(", 1)[1].rstrip(")")) for label in classes) == len(change) == 97
    )  # every library unit once
    n_flagged = int(change["flagged"].sum())
    assert n_flagged > 0  # the real series has flagged values (usage.QUALITY_FLAGS)
    assert [label for label in labels if "flagged" in label] == [
        f"value flagged as suspicious in the source ({n_flagged})"
    ]
    assert not any("QUALITY_FLAGS" in label or "_" in label for label in labels)  # no internal names
    top = round(float(change["change_pct"].max()))
    assert f"above 0 (max {top})" in labels[len(classes) - 1]  # Gribskov's +202 % is an open class that says so
    assert not ax.get_title().startswith("REAL")


def test_maps_crop_denmark_and_show_bornholm_and_copenhagen_as_insets():
    b = reference.load_boundaries()
    b["density"] = b["population_2011"] / b["areal_km2"]
    _, ax = plt.subplots()
    maps.choropleth(b, "density", ax=ax, bins=[50, 100, 200, 500, 1000])
    bornholm = b[b["kommunekode"] == maps.BORNHOLM].total_bounds
    assert ax.get_xlim()[1] < bornholm[0]  # Bornholm is not drawn in place: no sea between it and Zealand
    titles = sorted(sub.get_title() for sub in ax.child_axes)
    assert titles == ["Bornholm", "Copenhagen area (enlarged)"]
    born = next(sub for sub in ax.child_axes if sub.get_title() == "Bornholm")
    assert born.get_xlim()[0] <= bornholm[0] and born.get_xlim()[1] >= bornholm[2]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    big = round(float(b["density"].max()))
    assert labels[0].startswith(f"{b['density'].min():.0f} to 50") and labels[-1].startswith(
        f"above 1,000 (max {big:,})"
    )
    assert sum(int(x.rsplit("(", 1)[1].rstrip(")")) for x in labels) == 98


def test_class_labels_name_an_added_top_class_as_open():
    bounds, _ = maps.classify(np.array([-55.0, -12.0, 3.0, 202.0]), [-40, 0])
    assert maps.class_labels(bounds, [-40, 0], -55.0, 202.0) == [
        "\u221255 to \u221240",
        "\u221240 to 0",
        "above 0 (max 202)",
    ]


def test_ratio_ticks_are_several_round_ratios_including_one():
    assert plots.ratio_ticks(0.85, 1.3) == [0.9, 1.0, 1.1, 1.2, 1.3]
    assert plots.ratio_ticks(0.9, 1.2) == [0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2]
    assert plots.ratio_ticks(0.98, 1.02) == [0.95, 1.0, 1.05]  # narrow: widened to the neighbours
    t = pd.DataFrame({"irr": [1.05, 0.93], "irr_low": [0.95, 0.85], "irr_high": [1.16, 1.02]}, index=["a", "b"])
    _, ax = plt.subplots()
    plots.coefficients(t, ax)
    shown = [x.get_text() for x in ax.get_xticklabels()]
    assert len(shown) >= 4 and "1" in shown


def test_one_palette_for_the_cooperation_model():
    from helpers.outputs import style

    table = pd.DataFrame({"model": [5, 1, 2], "label": ["none", "a", "b"], "kommuner": [8, 20, 30]})
    fig = plots.model_counts(table, 2014)
    assert [matplotlib.colors.to_hex(p.get_facecolor()) for p in fig.axes[0].patches] == style.model_colours([5, 1, 2])
    gdf = reference.load_boundaries().assign(model=lambda d: np.where(d["kommunekode"] < 400, 1, 5))
    _, ax = plt.subplots()
    maps.choropleth(gdf, "model", ax=ax, categories=[5, 1], colours=style.MODEL_COLOURS)
    legend = ax.get_legend().legend_handles
    assert [matplotlib.colors.to_hex(h.get_facecolor()) for h in legend] == style.model_colours([5, 1])


def test_model_shares_label_each_bar_with_its_n():
    dist = pd.DataFrame(
        {
            "year": [2009] * 3 + [2011] * 3,
            "model": [0, 5, 1] * 2,
            "label": ["0 none", "5 no", "1 a"] * 2,
            "n": [10, 40, 48, 2, 30, 66],
        }
    )
    dist["share"] = dist["n"] / dist.groupby("year")["n"].transform("sum")
    _, ax = plt.subplots()
    plots.model_shares(dist, ax)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2009  (n=98)", "2011  (n=98)"]
    assert [round(p.get_width(), 1) for p in ax.patches[:2]] == [round(1000 / 98, 1), round(200 / 98, 1)]


def test_figures_are_written_at_300_dpi(tmp_path, monkeypatch):
    from PIL import Image

    from helpers.outputs import reports

    monkeypatch.setenv("BORGERSERVICE_REPORTS", str(tmp_path))
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    png, svg = reports.save_figure(fig, "tiny", synthetic=False, source="Source: Statistics Denmark")
    assert svg.suffix == ".svg" and svg.read_text().count("Statistics Denmark") == 1  # text stays text in the SVG
    assert Image.open(png).info["dpi"][0] == pytest.approx(300, abs=0.5)


def test_event_study_marks_pre_periods_reference_and_95_intervals():
    """Issue 14: 95 % intervals as error bars, pre-periods shaded up to the reference period, the
    reference period (0 by construction) an open symbol, the truth dashed; anticipation moves it."""
    events = range(-3, 4)
    t = pd.DataFrame(
        {"estimate": [0.01, -0.02, 0.0, 0.05, 0.07, 0.08, 0.06], "reference": [e == -1 for e in events]},
        index=pd.Index(list(events), name="event_time"),
    )
    t["low"], t["high"] = t["estimate"] - 0.03, t["estimate"] + 0.04
    truth = pd.Series([0.0, 0.0, 0.0, 0.05, 0.07, 0.08, 0.06], index=list(events))
    _, ax = plt.subplots()
    plots.event_study({"CS": t}, ax, truth=truth)
    shaded = [p for p in ax.patches if p.get_label().startswith("pre-periods")]
    assert len(shaded) == 1
    x0, x1 = shaded[0].get_x(), shaded[0].get_x() + shaded[0].get_width()
    assert (x0, x1) == (-3.5, -0.5)  # every pre-period, the reference year included, nothing after
    bars = ax.containers[0]
    assert bars.get_label() == "CS (95 % interval)"
    points = bars.lines[0]
    assert list(points.get_xdata()) == [-3, -2, 0, 1, 2, 3]  # the reference period is not an estimate
    segs = bars.lines[2][0].get_segments()
    est = t.loc[~t["reference"]]
    assert [round(s[0][1], 6) for s in segs] == list(est["low"].round(6))
    assert [round(s[1][1], 6) for s in segs] == list(est["high"].round(6))
    ref = [ln for ln in ax.lines if ln.get_marker() == "o" and ln.get_markerfacecolor() == "white"]
    assert len(ref) == 1 and list(ref[0].get_xdata()) == [-1] and list(ref[0].get_ydata()) == [0.0]
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(dashed) == 1 and list(dashed[0].get_ydata()) == list(truth)
    assert any("reference period" in a.get_text() for a in ax.texts)
    _, ax2 = plt.subplots()
    t2 = t.assign(reference=[e == -2 for e in events])
    plots.event_study({"CS": t2}, ax2, anticipation=1)
    labels = {p.get_label(): (p.get_x(), p.get_x() + p.get_width()) for p in ax2.patches}
    assert labels["pre-periods (before adoption)"] == (-3.5, -1.5)
    assert labels["anticipation (1 year)"] == (-1.5, -0.5)
