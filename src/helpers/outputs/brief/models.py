"""Results in brief of 03_model_usage: cooperation level and library usage."""

from __future__ import annotations

from helpers.outputs.brief.registry import writes
from helpers.outputs.brief.words import pct
from helpers.results import Document
from helpers.results.models import ModelResults

ALL_KOMMUNER = "all kommuner"  # the sensitivity table's full sample (helpers.analysis.models.EXCLUSIONS)


@writes("03_model")
def write(doc: Document) -> list[str]:
    r: ModelResults = doc.results
    outcome = r.outcome
    out = []
    rows = {(s.round, s.ordering, s.sample): s for s in r.sensitivity}
    for year, fit in r.rounds.items():
        s = rows.get((year, r.ordering, ALL_KOMMUNER))
        n = r.pairing[year].n
        if s:
            covers = s.irr_low <= 1 <= s.irr_high
            out.append(
                f"Survey {year} (n = {int(n)}): {outcome} per inhabitant were {pct(s.irr)} per level of "
                "cooperation "
                f"(rate ratio {s.irr:.3f}, 95 % interval {s.irr_low:.3f} to {s.irr_high:.3f}); "
                + ("the interval includes 1 (no difference)." if covers else "the interval excludes 1 (no difference).")
            )
        else:
            out.append(f"Survey {year} (n = {int(n)}): rate ratio per level of cooperation {fit.score_irr:.3f}.")
    ch = r.change
    lo, hi = ch.ci
    out.append(
        f"Within kommuner, one level more cooperation went with a change of {ch.per_level * 100:+.1f} % in "
        f"{outcome} per inhabitant "
        f"(95 % interval {lo * 100:+.1f} % to {hi * 100:+.1f} %, {ch.n} kommuner in both rounds)."
    )
    power = r.power
    if power.minimal_detectable_irr:
        out.append(
            f"With {power.n} kommuner, only a rate ratio of about {power.minimal_detectable_irr:.2f} between "
            "cooperating and "
            "other kommuner is detected with 80 % power: smaller effects can hide in these data."
        )
    elif power.curve:
        top = max(c.irr for c in power.curve)
        out.append(
            f"With {power.n} kommuner, even a rate ratio of {top:.2f} between cooperating and other kommuner is "
            "not detected "
            "with 80 % power: these data cannot rule out effects of that size."
        )
    out.append("These are associations across and within kommuner, not causal effects: kommuner chose their model.")
    return out
