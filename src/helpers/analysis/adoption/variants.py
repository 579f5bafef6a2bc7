"""How much do the data choices matter? The headline and the naive TWFE effect with each choice turned.

:func:`sensitivity_variants` turns each data choice of a :class:`~.panel.PanelSpec` the other way,
one at a time (timing at the earlier bound or at the round, the COVID years, the flagged values,
the reversing units); :func:`sensitivity` rebuilds the panel for each from the same survey answers
and refits the headline estimator and the static TWFE.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pandas as pd

from helpers.core.vocabulary import Estimator

from .estimators import EstimationSpec, fit_cs, fit_twfe_event, fit_twfe_static
from .panel import AdoptionPanel, PanelSpec


@dataclass(frozen=True, eq=False)
class Sensitivity:
    """The sensitivity table.

    Fields:
        table: one row per variant (index ``variant``; the first is the specification as given): units and
            adopters in the headline estimator's sample, ``avg_post`` (its mean effect over event times 0 to the
            window's end), ``twfe_static`` with ``twfe_low``/``twfe_high`` (95 %), ``pretrend_p`` (headline).
        estimator: the headline estimator whose effect the table shows.
        variants: each variant's data choices.
    """

    table: pd.DataFrame = field(repr=False)
    estimator: Estimator
    variants: dict[str, PanelSpec]


def sensitivity_variants(spec: PanelSpec) -> dict[str, PanelSpec]:
    """The specification as given, then each data choice turned the other way (one at a time)."""
    other_timing = "earliest" if spec.timing_rule == "round" else "round"
    other_covid = "exclude" if spec.covid == "include" else "include"
    other_reversals = "exclude" if spec.reversals == "absorbing" else "absorbing"
    return {
        "as specified": spec,
        f"timing at the {'earlier bound' if other_timing == 'earliest' else 'round'}": dataclasses.replace(
            spec, timing_rule=other_timing
        ),
        f"COVID years {'excluded' if spec.covid == 'include' else 'included'}": dataclasses.replace(
            spec, covid=other_covid
        ),
        ("flagged values kept" if spec.exclude_flags else "reporting failures left out"): dataclasses.replace(
            spec, exclude_flags=() if spec.exclude_flags else ("reporting_failure",)
        ),
        f"reversals {'excluded' if spec.reversals == 'absorbing' else 'absorbing'}": dataclasses.replace(
            spec, reversals=other_reversals
        ),
    }


def sensitivity(panel: AdoptionPanel, spec: EstimationSpec) -> Sensitivity:
    """The headline average post-adoption effect and the naive TWFE effect under :func:`sensitivity_variants`."""
    variants = sensitivity_variants(panel.spec)
    rows = {}
    for name, variant in variants.items():
        s = (panel if variant == panel.spec else panel.rebuild(variant)).sample
        if spec.estimator == "cs":
            study = fit_cs(s, spec.control_group, spec.anticipation, spec.window)
        else:
            study = fit_twfe_event(s, spec.window, spec.anticipation)
        static = fit_twfe_static(s, spec.anticipation)
        rows[name] = {
            "units": study.n_units,
            "adopters": int(s.loc[s["g"] > 0, "kommunekode"].nunique()),
            "avg_post": study.average_post(),
            "twfe_static": static.estimate,
            "twfe_low": static.low,
            "twfe_high": static.high,
            "pretrend_p": study.pretrend.p,
        }
    return Sensitivity(pd.DataFrame.from_dict(rows, orient="index").rename_axis("variant"), spec.estimator, variants)
