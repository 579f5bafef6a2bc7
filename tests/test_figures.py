"""Figures drawn from real values: what the reader sees matches the data (counts, gaps, classes)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from helpers import maps, plots, reference, usage


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_model_counts_bars_show_the_table_in_its_order():
    table = pd.DataFrame({"model": [5, 1, 2, 3, 4, 0], "label": ["none", "a", "b", "c", "d", "no answer"],
                          "kommuner": [8, 20, 30, 25, 7, 8]})
    fig = plots.model_counts(table, 2014)
    ax = fig.axes[0]
    assert [round(p.get_width()) for p in ax.patches] == [8, 20, 30, 25, 7, 8]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["5 none", "1 a", "2 b", "3 c", "4 d", "0 no answer"]
    assert [t.get_text() for t in ax.texts] == ["8", "20", "30", "25", "7", "8"]
    assert "2014" in ax.get_title()


def test_national_loans_leave_unpublished_years_open():
    national = usage.load_real_national()
    _, ax = plt.subplots()
    plots.national_loans(national, usage.REAL_LOANS_GAPS, ax)
    x, y = ax.lines[0].get_data()
    shown = dict(zip(x.tolist(), y.tolist()))
    assert np.isnan(shown[2016]) and np.isnan(shown[2017])  # gaps are not interpolated
    assert shown[2010] == pytest.approx(national.set_index("year").loc[2010, "loans_per_capita"])
    spans = [p for p in ax.patches if p.get_facecolor()[:3] == pytest.approx((0xdd / 255,) * 3)]
    assert len(spans) == 2  # 2016 and 2017; 2009 is outside the series
    assert any("2016-2017" in t.get_text() for t in ax.texts)
    assert ax.get_title().endswith(f"{int(x.min())}-{int(x.max())}")


def test_loans_change_map_counts_every_kommune_once():
    change = usage.loans_change(2010, 2019)
    _, ax = plt.subplots()
    maps.loans_change(change, reference.load_boundaries(with_attributes=True), 2010, 2019, ax,
                      served_elsewhere=usage.SERVED_LABELS)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert usage.SERVED_LABELS[usage.FANOE] in labels
    assert not any(label.startswith("no data") for label in labels)  # Fanø is its own class, not missing
    classes = [label for label in labels if label != usage.SERVED_LABELS[usage.FANOE] and "QUALITY_FLAGS" not in label]
    assert sum(int(label.rsplit("(", 1)[1].rstrip(")")) for label in classes) == len(change) == 97  # every library unit once
    n_flagged = int(change["flagged"].sum())
    assert n_flagged > 0  # the real series has flagged values (usage.QUALITY_FLAGS)
    assert [label for label in labels if "QUALITY_FLAGS" in label] == [f"value flagged in QUALITY_FLAGS ({n_flagged})"]
