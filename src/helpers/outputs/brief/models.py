"""Results in brief of 03_model_usage: cooperation level and library usage.

Every sentence follows its own numbers (tests/test_brief.py runs the writer on results whose
intervals include and exclude 1 and checks each sentence against the numbers it gives):

* a round's rate ratio per level of cooperation, with its 95 % interval and whether that interval
  includes or excludes 1, the value of no difference (the score is a family of one test: nothing to
  adjust);
* a term of the four cooperation models against none is singled out only by its Holm-adjusted
  p-value within that family, the unadjusted p beside it (``ModelResults.rounds[year].families``);
* what the reported intervals are and how they covered in the run's own simulation;
* each round's rate ratio under the four treatments of non-response (the bounds are of the estimate itself);
* the change model, the power, and the caveat that these are associations.
"""

from __future__ import annotations

import math

from helpers.outputs.brief.registry import writes
from helpers.outputs.brief.words import p_value, pct
from helpers.results import Document
from helpers.results.models import ModelResults, RoundFit
from helpers.results.nonresponse import Sensitivity

ALL_KOMMUNER = "all kommuner"  # the sensitivity table's full sample (helpers.analysis.models.EXCLUSIONS)
CATEGORIES = "negative binomial"  # the fit whose cooperation terms are the family singled out from
FAMILY_LEVEL = 0.05  # a term is said to differ from no cooperation when its Holm-adjusted p is below this


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
                + (
                    "the interval includes 1 (no difference)."
                    if covers
                    else "the interval excludes 1, the value of no difference (the score is one test: no "
                    "adjustment for multiplicity applies)."
                )
            )
        else:
            out.append(f"Survey {year} (n = {int(n)}): rate ratio per level of cooperation {fit.score_irr:.3f}.")
        out.extend(_family_sentences(fit, year))
    ch = r.change
    lo, hi = ch.ci
    out.append(
        f"Within kommuner, one level more cooperation went with a change of {ch.per_level * 100:+.1f} % in "
        f"{outcome} per inhabitant "
        f"(95 % interval {lo * 100:+.1f} % to {hi * 100:+.1f} %, {ch.n} kommuner in both rounds; standard errors "
        f"{ch.standard_errors})."
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
    out.extend(_coverage_sentence(r))
    out.extend(_nonresponse_sentence(s) for s in r.nonresponse)
    out.append("These are associations across and within kommuner, not causal effects: kommuner chose their model.")
    return out


def _family_sentences(fit: RoundFit, year: int) -> list[str]:
    """The cooperation models that differ from no cooperation by their Holm-adjusted p, or the closest one."""
    family = fit.families.get(CATEGORIES)
    if family is None or not family.tests:
        return []
    size = len(family.tests)
    which = f"one family: the {size} cooperation models against none in this round's negative binomial model"
    differ = {term: t for term, t in family.tests.items() if t.p_holm < FAMILY_LEVEL}
    if differ:
        return [
            f"In survey {year}, {term} differs from no cooperation: rate ratio {t.irr:.3f} (Holm-adjusted "
            f"{p_value(t.p_holm)}, unadjusted {p_value(t.p)}; {which})."
            for term, t in differ.items()
        ]
    term, t = min(family.tests.items(), key=lambda kv: kv[1].p_holm)
    return [
        f"In survey {year}, no cooperation model stands out from no cooperation once its {size} tests are taken "
        f"together: even the closest, {term} with rate ratio {t.irr:.3f}, does not clearly differ (Holm-adjusted "
        f"{p_value(t.p_holm)}, unadjusted {p_value(t.p)}; {which})."
    ]


def _coverage_sentence(r: ModelResults) -> list[str]:
    """What the reported intervals are, and how they covered in this run's simulation, beside glm.nb's own."""
    terms, check = r.coverage.terms, r.coverage.check
    if not terms:
        return []
    lo, hi = check.coverage_range
    wald = [t.coverage_wald for t in terms]
    band = f"target {check.target[0] * 100:.0f}-{check.target[1] * 100:.0f} %"
    if check.outside_target:
        band += ", " + "; ".join(
            f"model {m} {abs(g) * 100:.1f} points {'below' if g < 0 else 'above'} it"
            for m, g in check.outside_target.items()
        )
    return [
        "The 95 % intervals are t intervals on n − p df with the dispersion by Cox-Reid adjusted profile "
        f"likelihood: in {r.coverage.reps:,} datasets simulated at this design they covered the true rate ratios "
        f"{lo * 100:.1f}-{hi * 100:.1f} % of the time ({band}; Monte Carlo SE about "
        f"{max(t.coverage_cox_reid_t_mc_se for t in terms) * 100:.1f} points), where glm.nb's z intervals covered "
        f"{min(wald) * 100:.1f}-{max(wald) * 100:.1f} %."
    ]


def _nonresponse_sentence(s: Sensitivity) -> str:
    """A round's rate ratio per level on the complete cases, weighted, imputed, and its bounds (log scale inside)."""
    cc, w, imp, b = s.complete_case, s.weighted, s.imputed, s.bounds
    e = math.exp
    year = s.rounds[0]
    if not b.incomplete:
        return f"Every kommune with usage data answered survey {year}: non-response does not touch its estimates."
    return (
        f"Non-response in survey {year} ({b.incomplete} kommuner did not answer): the rate ratio per level of "
        f"cooperation is {e(cc.value):.3f} on the complete cases, {e(w.value):.3f} with raking weights and "
        f"{e(imp.value):.3f} imputed ({imp.m} data sets; 95 % interval {e(imp.low):.3f} to {e(imp.high):.3f}, "
        f"{imp.interval} by Rubin's rules); "
        "if the kommuner that did not answer could have answered any model, the estimate itself (before sampling "
        f"error) lies between {e(b.low):.3f} and {e(b.high):.3f}."
    )
