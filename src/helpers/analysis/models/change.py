"""The change model between two rounds: first differences, i.e. municipality fixed effects with two periods."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.analysis.models.design import score
from helpers.analysis.models.fit import Fit
from helpers.analysis.models.inputs import ModelInputs
from helpers.core import lazy
from helpers.core.cooperation import DEFAULT_ORDERING

smf = lazy.module("statsmodels.formula.api")  # ~0.9 s to import: at the first fit


@dataclass(frozen=True)
class ChangeFit(Fit):
    """The first-difference model of :func:`fit_change`.

    ``result``: statsmodels' OLS result, fitted with ``cov_type="HC3"`` and ``use_t=True`` (the
    true HC3; t with n - 2 df); ``changes``: the frame it was fitted on (:func:`change_frame`);
    ``term``: the cooperation change regressor; ``first``, ``last``: the two survey rounds (None
    when not given).
    """

    changes: pd.DataFrame
    term: str = "d_score"
    first: int | None = None
    last: int | None = None

    @property
    def per_level(self) -> float:
        """The change in log usage per inhabitant with one level more cooperation."""
        return float(self.params[self.term])

    @property
    def interval(self) -> tuple[float, float]:
        """The 95 % interval of :attr:`per_level` (t with n - 2 df)."""
        low, high = self.conf_int().loc[self.term]
        return float(low), float(high)

    def coefficients(self) -> pd.DataFrame:
        """The coefficient table (estimate, HC3 standard error, t, p, interval), as statsmodels' summary2 shows it."""
        return self.result.summary2().tables[1]


def change_frame(
    a: pd.DataFrame, b: pd.DataFrame, ordering=DEFAULT_ORDERING, outcome: str = "rate_per_1000"
) -> pd.DataFrame:
    """Kommuner in both analysis frames: change in cooperation score and in log usage per inhabitant."""
    cols = ["kommunekode", "model", outcome]
    m = a[cols].merge(
        b[cols + ["kommunegruppe", "merged_2007"]], on="kommunekode", suffixes=("_a", "_b"), validate="one_to_one"
    )
    m = m[(m[f"{outcome}_a"] > 0) & (m[f"{outcome}_b"] > 0)].copy()
    m["d_score"] = score(m["model_b"], ordering) - score(m["model_a"], ordering)
    m["d_log_rate"] = np.log(m[f"{outcome}_b"]) - np.log(m[f"{outcome}_a"])
    m["started"] = ((m["model_a"] == 5) & (m["model_b"] != 5)).astype(int)
    return m


def fit_change(
    changes: pd.DataFrame, term: str = "d_score", *, first: int | None = None, last: int | None = None
) -> ChangeFit:
    """First-difference (two-period fixed-effects) model with HC3 errors; the intercept is the common trend.

    OLS HC3 in statsmodels is the true HC3 (residuals / (1 - h)^2). Tests and intervals use the t
    distribution with n - 2 df, as lmtest::coeftest(fit, vcovHC(fit, "HC3")) on an lm in R.
    """
    result = smf.ols(f"d_log_rate ~ {term}", data=changes).fit(cov_type="HC3", use_t=True)
    return ChangeFit(result, changes, term, first, last)


def change_between(inputs: ModelInputs, ordering=DEFAULT_ORDERING) -> ChangeFit:
    """:func:`fit_change` between the first and the last round of ``inputs`` (notebook 03's change model)."""
    changes = change_frame(inputs.frames[inputs.first], inputs.frames[inputs.last], ordering)
    return fit_change(changes, first=inputs.first, last=inputs.last)
