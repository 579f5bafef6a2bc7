"""An unanswered round widens the adoption interval: the timing with the unanswered rounds imputed (issue 23).

Dating treats an unanswered round as unobserved (:mod:`.dating`): a kommune silent in 2011 that was
untreated in 2009 and treated in 2014 adopted somewhere in 2011-2015 (dated at 2015 by the round
rule), one first seen treated after silent rounds is left out (start unknown), and one untreated at
its last answer is censored there. The sensitivity here fills the gaps instead: the model answers
of the unanswered rounds are imputed by chained equations from the other rounds' answers and the
covariates (:func:`helpers.analysis.nonresponse.impute`, ``m`` data sets, seeded), the adoption panel
is rebuilt from each completed set of answers, the headline (jackknife se) and the naive TWFE effect (CRV1)
are fitted on each with the array versions of :mod:`.arrays` (equal to csdid and pyfixest), and the ``m``
estimates are pooled by Rubin's rules (:func:`helpers.analysis.nonresponse.pool`,
as ``mice::pool``; large-sample, so the pooled interval is t with Barnard-Rubin degrees of freedom
from an infinite complete-data df).

The imputation model assumes the silent kommuner answer like answering ones with the same other
answers and covariates (missing at random); it cannot know when, between two rounds, a kommune
adopted, so the round rule still dates each imputed answer at its round.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .arrays import aggregate, group_time_arrays, jackknife, ppml_arrays
from .estimators import EstimationSpec, cs_frame
from .inference import static_design
from .panel import AdoptionPanel, assemble
from .variants import COLUMNS, Sensitivity


@dataclass(frozen=True, eq=False)
class ImputedTiming:
    """The imputed-timing sensitivity.

    Fields:
        sensitivity: the table (:class:`~.variants.Sensitivity`): the specification as given, then the imputed
            timing pooled over ``m`` imputations (``avg_post`` and ``twfe_static`` pooled by Rubin's rules, their
            95 % intervals t with Barnard-Rubin df; ``units`` and ``adopters`` the mean over the imputations).
        pooled: the pooled headline and static TWFE (``helpers.results.nonresponse.Pooled``), by name.
        imputed_answers: unanswered round answers imputed per imputation (kommuner x rounds), summed.
        m, seed: of the imputation.
    """

    sensitivity: Sensitivity
    pooled: dict = field(repr=False)
    imputed_answers: int
    m: int
    seed: int


def _nonresponse_panel(panel: AdoptionPanel):
    """The panel's reported models (library units x used rounds) as ``analysis.nonresponse``'s panel."""
    from helpers.analysis import nonresponse as nr
    from helpers.data import reference

    models = panel.models[list(panel.spec.used_rounds)]
    long = models.stack(future_stack=True).rename("model").reset_index()
    long.columns = ["kommunekode", "year", "model"]
    long["model"] = long["model"].fillna(0).astype(int)
    long["synthetic"] = panel.synthetic_survey
    return nr.panel(long, reference.load_municipalities())


def _headline(sample: pd.DataFrame, spec: EstimationSpec) -> tuple[tuple[float, float], int]:
    """The headline (Callaway & Sant'Anna's average of event times 0 to the window's end) and its jackknife standard
    error on one sample, with the array versions (equal to csdid: tests/test_adoption_inference.py), and its units."""
    df = cs_frame(sample, spec.cs_weights)
    wide = df.pivot(index="id", columns="year", values="log_rate").sort_index(axis=1)
    units = df.groupby("id").agg(g=("g", "first"), w=("w", "first")).loc[wide.index]
    Y, g, years = wide.to_numpy(float)[None], units["g"].to_numpy(int), [int(y) for y in wide.columns]
    weights = None if spec.cs_weights == "units" else units["w"].to_numpy(float)
    kw = {"control_group": spec.control_group, "anticipation": spec.anticipation}
    dyn = aggregate(group_time_arrays(Y, g, years, weights=weights, **kw), "dynamic", spec.window)
    jk = jackknife(Y, g, years, window=spec.window, weights=weights, **kw)
    return (float(dyn.overall[0]), float(jk.overall_se[0])), len(g)


def imputed_timing(panel: AdoptionPanel, spec: EstimationSpec, *, m: int = 20, seed: int = 2023) -> ImputedTiming:
    """The headline and the static TWFE effect with the unanswered rounds imputed (``m`` >= 20 imputations, Rubin)."""
    from helpers.analysis import nonresponse as nr
    from helpers.results.nonresponse import Estimate

    base = _nonresponse_panel(panel)
    imps = nr.impute(base, m=m, seed=seed)
    rows, heads, statics = [], [], []
    for completed in imps.completed:
        models = panel.models.copy()
        for year in completed.columns:
            models[int(year)] = completed[year].reindex(models.index).astype("Int64")
        s = assemble(panel.spec, models, synthetic_survey=panel.synthetic_survey).sample
        head, n_cs = _headline(s, spec)
        heads.append(Estimate(value=head[0], se=head[1], low=None, high=None, interval="z", n=n_cs))
        d = static_design(s, spec.anticipation)
        fit = ppml_arrays(d.Y[None], d.X, d.offset, d.mask)
        j = d.column("treated_a")
        b, se = float(fit.beta[0, j]), float(fit.se()[0, j])
        statics.append(Estimate(value=b, se=se, low=None, high=None, interval="z", n=len(d.units)))
        rows.append(
            {
                "units": n_cs,
                "adopters": int(s.loc[s["g"] > 0, "kommunekode"].nunique()),
                "never_treated": int(s.loc[s["category"] == "never treated", "kommunekode"].nunique()),
            }
        )
    head, static = nr.pool(heads), nr.pool(statics)
    per = pd.DataFrame(rows)
    from .variants import _row

    table = pd.DataFrame.from_dict(
        {
            "as specified": _row(panel, spec),
            f"unanswered rounds imputed (m = {m}, Rubin's rules)": {
                "units": int(round(per["units"].mean())),
                "adopters": int(round(per["adopters"].mean())),
                "never_treated": int(round(per["never_treated"].mean())),
                "avg_post": head.value,
                "avg_low": head.low,
                "avg_high": head.high,
                "twfe_static": static.value,
                "twfe_low": static.low,
                "twfe_high": static.high,
                "pretrend_p": np.nan,
                "interval": f"Rubin's rules over {m} imputations of the jackknife (normal) headline: {head.interval}",
                "note": f"pooled over {m} imputations; intervals {head.interval} (headline), {static.interval} "
                "(TWFE); no pooled pre-trend test",
            },
        },
        orient="index",
    ).rename_axis("variant")
    return ImputedTiming(
        sensitivity=Sensitivity(table.reindex(columns=COLUMNS), spec.estimator, {"as specified": panel.spec}),
        pooled={"headline": head, "twfe_static": static},
        imputed_answers=int(imps.missing.to_numpy().sum()),
        m=int(m),
        seed=int(seed),
    )


@dataclass(frozen=True, eq=False)
class Robustness:
    """How the headline and the naive TWFE effect move with the data (notebook 04's section 9).

    Fields:
        sensitivity: each data choice turned the other way, one at a time (:func:`~.variants.sensitivity`).
        rounds: each survey round left out in turn (:func:`~.variants.leave_one_round_out`).
        imputation: the unanswered rounds imputed instead of left unobserved (:func:`imputed_timing`), whose table
            is :attr:`imputed`.
    """

    sensitivity: Sensitivity
    rounds: Sensitivity
    imputation: ImputedTiming

    @property
    def imputed(self) -> Sensitivity:
        """The imputed-timing table (``imputation.sensitivity``), as ``key_results`` takes it."""
        return self.imputation.sensitivity


def robustness(panel: AdoptionPanel, spec: EstimationSpec, *, m: int = 20, seed: int = 2023) -> Robustness:
    """The three refits of section 9 on the same panel: :func:`~.variants.sensitivity`,
    :func:`~.variants.leave_one_round_out` and :func:`imputed_timing` (``m`` imputations, ``seed``); each equals
    its function called on its own."""
    from .variants import leave_one_round_out, sensitivity

    return Robustness(
        sensitivity=sensitivity(panel, spec),
        rounds=leave_one_round_out(panel, spec),
        imputation=imputed_timing(panel, spec, m=m, seed=seed),
    )
