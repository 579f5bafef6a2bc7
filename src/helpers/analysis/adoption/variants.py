"""How much do the data choices matter? The headline and the naive TWFE effect with each choice turned.

:func:`sensitivity_variants` turns each data choice of a :class:`~.panel.PanelSpec` the other way,
one at a time (timing at the earlier bound or at the round, the COVID years, the flagged values,
the reversing units); :func:`round_variants` leaves each survey round out in turn (the round is then
unobserved: a kommune untreated at its last answered round is censored there, never "never
treated"); :func:`sensitivity` rebuilds the panel for each from the same survey answers and refits
the headline estimator and the static TWFE.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.core.vocabulary import Estimator

from .estimators import EstimationSpec, fit_cs, fit_twfe_event, fit_twfe_static
from .panel import AdoptionPanel, PanelSpec


@dataclass(frozen=True, eq=False)
class Sensitivity:
    """A sensitivity table.

    Fields:
        table: one row per variant (index ``variant``; the first is the specification as given): units, adopters and
            never_treated (category "never treated", not censored) in the headline estimator's sample, ``avg_post``
            (its average of the event-time effects 0 to the window's end) with ``avg_low``/``avg_high`` (its 95 %
            interval: jackknife for Callaway & Sant'Anna, CRV1 for TWFE, normal), ``twfe_static`` with
            ``twfe_low``/``twfe_high`` (95 %, CRV1, normal), ``pretrend_p`` (headline), ``note`` (why a variant could
            not be estimated; empty otherwise), ``interval`` (what the headline's interval is, in words).
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


def round_variants(spec: PanelSpec) -> dict[str, PanelSpec]:
    """Every round used, then each used round left out in turn (unobserved, never "not treated"): one variant per
    round, so the work grows linearly with the rounds. No round can be left out of a panel of two rounds."""
    used = spec.used_rounds
    out = {f"rounds {', '.join(map(str, used))}": spec}
    if len(used) >= 3:
        for r in used:
            out[f"without {r}"] = dataclasses.replace(spec, left_out=tuple(sorted((*spec.left_out, r))))
    return out


def _row(panel: AdoptionPanel, spec: EstimationSpec) -> dict:
    from helpers.core.errors import DataError

    s = panel.sample
    row = {
        "units": int(s["kommunekode"].nunique()),
        "adopters": int(s.loc[s["g"] > 0, "kommunekode"].nunique()),
        "never_treated": int(s.loc[s["category"] == "never treated", "kommunekode"].nunique()),
    }
    try:
        if spec.estimator == "cs":
            study = fit_cs(
                s,
                spec.control_group,
                spec.anticipation,
                spec.window,
                weights=spec.cs_weights,
                draws=spec.draws,
                seed=spec.seed,
            )
        else:
            study = fit_twfe_event(s, spec.window, spec.anticipation, draws=spec.draws, seed=spec.seed)
        o = study.overall
        row |= {
            "units": study.n_units,
            "avg_post": study.average_post(),
            "avg_low": o.low,
            "avg_high": o.high,
            "pretrend_p": study.pretrend.p,
            "interval": o.interval,
        }
    except (DataError, ValueError, np.linalg.LinAlgError) as exc:
        row |= {"avg_post": np.nan, "avg_low": np.nan, "avg_high": np.nan, "pretrend_p": np.nan, "note": str(exc)}
    try:
        static = fit_twfe_static(s, spec.anticipation)
        row |= {"twfe_static": static.estimate, "twfe_low": static.low, "twfe_high": static.high}
    except Exception as exc:  # pyfixest raises its own errors for a design without variation  # noqa: BLE001
        row |= {"twfe_static": np.nan, "twfe_low": np.nan, "twfe_high": np.nan}
        row["note"] = "; ".join(x for x in (row.get("note", ""), f"TWFE: {exc}") if x)
    row.setdefault("note", "")
    return row


COLUMNS = [
    "units",
    "adopters",
    "never_treated",
    "avg_post",
    "avg_low",
    "avg_high",
    "twfe_static",
    "twfe_low",
    "twfe_high",
    "pretrend_p",
    "note",
    "interval",
]


def sensitivity(
    panel: AdoptionPanel, spec: EstimationSpec, variants: dict[str, PanelSpec] | None = None
) -> Sensitivity:
    """The headline average post-adoption effect and the naive TWFE effect under ``variants`` (default
    :func:`sensitivity_variants`), each rebuilt from the same survey answers; a variant that cannot be estimated
    keeps its row with the reason in ``note``."""
    variants = sensitivity_variants(panel.spec) if variants is None else variants
    rows = {}
    for name, variant in variants.items():
        rows[name] = _row(panel if variant == panel.spec else panel.rebuild(variant), spec)
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("variant")
    return Sensitivity(table.reindex(columns=COLUMNS), spec.estimator, variants)


def leave_one_round_out(panel: AdoptionPanel, spec: EstimationSpec) -> Sensitivity:
    """The leave-one-round-out table (:func:`round_variants`): every used round, then each left out in turn."""
    return sensitivity(panel, spec, round_variants(panel.spec))
