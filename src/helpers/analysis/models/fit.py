"""What every typed fit of this package offers, and the readers that work on any of them.

A fit is a frozen dataclass holding the statsmodels result as its ``result`` field beside what the
package computed for it (the dispersion of a negative binomial, the HC3 covariance of a Poisson
GLM, the exact covariance of the ordinal logit, ...). Nothing is set on, or reset in, the
statsmodels object. The fits read like a statsmodels result (``params``, ``bse``, ``pvalues``,
``conf_int()``, ``cov_params()``, ``llf``, ``nobs``), so the IRR tables, the regression tables and
the figures take any of them:

* :class:`Fit`: the standard errors are the statsmodels result's own (a model-based GLM
  covariance, or an OLS fitted with ``cov_type="HC3"``, which is the true HC3);
* :class:`OwnCovarianceFit`: the standard errors come from the covariance the package computed
  (field ``cov``), with the normal reference distribution, by statsmodels' own arithmetic
  (``bse = sqrt(diag(cov))``, ``p = 2 sf(|b / se|)``, interval ``b -/+ z se``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from helpers.analysis.models.design import term_label
from helpers.core import lazy

stats = lazy.module("scipy.stats")  # ~0.6 s to import: at the first interval

MODEL_BASED = "model-based (inverse information)"
HC3 = "HC3 (leverage-adjusted sandwich, as sandwich::vcovHC type='HC3')"
NORMAL = "normal (z)"


@dataclass(frozen=True)
class Fit:
    """A statsmodels fit read through its own covariance.

    ``result``: the statsmodels results object (never modified).
    """

    result: Any

    @property
    def model(self):
        return self.result.model

    @property
    def params(self) -> pd.Series:
        return self.result.params

    @property
    def bse(self) -> pd.Series:
        return self.result.bse

    @property
    def pvalues(self) -> pd.Series:
        return self.result.pvalues

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        return self.result.conf_int(alpha=alpha)

    def cov_params(self) -> pd.DataFrame:
        return self.result.cov_params()

    @property
    def nobs(self) -> float:
        return self.result.nobs

    @property
    def llf(self) -> float:
        return float(self.result.llf)

    @property
    def aic(self) -> float:
        return float(self.result.aic)

    @property
    def fittedvalues(self) -> pd.Series:
        return self.result.fittedvalues

    @property
    def covariance(self) -> str:
        """What the standard errors are, in words (:func:`covariance_label` of the result)."""
        return covariance_label(self.result)

    @property
    def reference(self) -> str:
        """The reference distribution of the tests and intervals, in words (:func:`interval_label` of the result)."""
        return interval_label(self.result)


@dataclass(frozen=True)
class OwnCovarianceFit(Fit):
    """A statsmodels fit whose standard errors come from a covariance the package computed.

    ``result``: the statsmodels results object (never modified; its own ``bse`` are not these);
    ``cov``: the covariance of ``result.params``, indexed by their names. Tests and intervals use
    the normal distribution.
    """

    cov: pd.DataFrame

    def cov_params(self) -> pd.DataFrame:
        return self.cov

    @property
    def bse(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.cov.to_numpy())), index=self.params.index)

    @property
    def tvalues(self) -> pd.Series:
        return self.params / self.bse

    def _distribution(self):
        """The reference distribution of the tests and intervals (scipy.stats; the normal here)."""
        return stats.norm

    @property
    def pvalues(self) -> pd.Series:
        return pd.Series(2 * self._distribution().sf(np.abs(self.tvalues)), index=self.params.index)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        q = self._distribution().ppf(1 - alpha / 2)
        return pd.DataFrame({0: self.params - q * self.bse, 1: self.params + q * self.bse})

    @property
    def reference(self) -> str:
        return NORMAL


def covariance_label(fit) -> str:
    """What a fit's standard errors really are (statsmodels' own label can be wrong: GLM "HC3" is HC0).

    A typed fit of this package says it itself (``fit.covariance``); a bare statsmodels result is
    read from its ``cov_type``.
    """
    if isinstance(fit, Fit):
        return fit.covariance
    kind = getattr(fit, "cov_type", "nonrobust")
    if kind == "nonrobust":
        return MODEL_BASED
    if kind == "HC3":  # an OLS fit with cov_type="HC3" (statsmodels' OLS HC3 is the true HC3)
        return HC3
    return str(kind)


def interval_label(fit) -> str:
    """The reference distribution of a fit's tests and intervals: a typed fit's own, or a statsmodels result's
    (t on its residual df when it uses t, as OLS does; otherwise normal)."""
    if isinstance(fit, Fit):
        return fit.reference
    if getattr(fit, "use_t", False):
        return f"t on {fit.df_resid:g} df"
    return NORMAL


def irr_table(fit, *, pattern: str = "model|score") -> pd.DataFrame:
    """Coefficients of the cooperation terms as incidence-rate ratios with 95 % intervals."""
    ci = fit.conf_int()
    t = pd.DataFrame({"coef": fit.params, "se": fit.bse, "p": fit.pvalues, "low": ci[0], "high": ci[1]})
    t = t[t.index.str.contains(pattern)]
    out = t.assign(irr=np.exp(t["coef"]), irr_low=np.exp(t["low"]), irr_high=np.exp(t["high"]))
    out.index = [term_label(i) for i in out.index]
    return out.rename_axis("term")


def irr_in_words(row: pd.Series, outcome: str, synthetic: bool) -> str:
    """One sentence stating an incidence-rate ratio (a row of :func:`irr_table`) in plain words."""
    pct = (row["irr"] - 1) * 100
    lo, hi = (row["irr_low"] - 1) * 100, (row["irr_high"] - 1) * 100
    direction = "more" if pct >= 0 else "fewer"
    what = (
        "per level of cooperation"
        if "score" in row.name
        else f"in {row.name} than in municipalities without cooperation"
    )
    text = (
        f"{abs(pct):.1f} % {direction} {outcome} per inhabitant {what} "
        f"(95 % interval {lo:+.1f} % to {hi:+.1f} %), holding kommunegruppe and the 2007 merger fixed."
    )
    return ("[synthetic example, not a finding] " + text) if synthetic else text
