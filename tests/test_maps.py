"""Map classes: shared quantile bounds and 'value <= upper bound' classing, as mapclassify does it."""

import numpy as np
import pytest

from helpers.outputs import maps


def test_classify_puts_values_equal_to_a_bound_in_that_class():
    bounds, yb = maps.classify(np.array([1.0, 2.0, 2.5, 5.0, 10.0]), [2, 5])
    assert bounds == [2.0, 5.0, 10.0]  # a top class up to the maximum is added
    assert yb.tolist() == [0, 0, 1, 1, 2]


def test_classify_keeps_bounds_when_the_maximum_fits():
    bounds, yb = maps.classify(np.array([0.5, 3.0]), [1, 3, 9])
    assert bounds == [1.0, 3.0, 9.0] and yb.tolist() == [0, 1]


def test_shared_bins_pool_all_series():
    a, b = np.arange(1, 51), np.arange(51, 101)
    assert maps.shared_bins(a, b, k=4) == pytest.approx([25.75, 50.5, 75.25, 100.0])
    assert maps.shared_bins([1, 1, 1, 2], k=5) == [1.0, 2.0]  # duplicate bounds collapse
    with pytest.raises(ValueError, match="no values"):
        maps.shared_bins([np.nan])


def test_a_map_is_not_rendered_while_its_layers_are_drawn(monkeypatch):
    """geopandas renders the whole figure after every layer (draw_idle); a map with insets did so
    ~20 times before it was saved. The layers are drawn without rendering, and the canvas keeps its
    own draw_idle afterwards, so a later plt.draw() still works."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from helpers.data import reference

    renders = []
    real_draw = FigureCanvasAgg.draw
    monkeypatch.setattr(FigureCanvasAgg, "draw", lambda self, *a, **k: (renders.append(1), real_draw(self, *a, **k))[1])
    g = reference.load_boundaries()
    g["v"] = (g["kommunekode"] % 37).astype(float)
    fig, ax = plt.subplots(figsize=(6, 6))
    maps.choropleth(g, "v", ax=ax, bins=[5, 10, 20, 30])
    assert renders == []  # nothing rendered while drawing 5 classes on the map and two insets
    assert "draw_idle" not in vars(fig.canvas) and fig.canvas.draw_idle.__func__ is FigureCanvasAgg.draw_idle
    assert len(fig.axes[0].child_axes) == 2  # Copenhagen and Bornholm insets are there
    fig.savefig(io.BytesIO(), format="png")
    assert renders == [1]  # the save renders it, once
    plt.close(fig)
