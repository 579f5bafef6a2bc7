"""Map classes: shared quantile bounds and 'value <= upper bound' classing, as mapclassify does it."""

import numpy as np
import pytest

from helpers import maps


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
