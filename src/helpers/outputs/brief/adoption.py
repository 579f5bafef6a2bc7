"""Results in brief of 04_adoption_panel: the event study around adoption.

Reads only the declared fields of :class:`helpers.results.adoption.AdoptionResults`.
"""

from __future__ import annotations

from helpers.outputs.brief.registry import writes
from helpers.outputs.brief.words import evidence, p_value
from helpers.results import Document
from helpers.results.adoption import TREATMENT_WORDS, AdoptionResults


def treatment_words(treatment) -> str:
    """The treatment parameter of 04 in words ('any', 'staff', 'level3+' are parameter values, not prose)."""
    t = str(treatment).strip().replace(" ", "").replace("level>=", "level")
    return TREATMENT_WORDS.get(t if t in TREATMENT_WORDS else f"{t}+", str(treatment))


@writes("04_adoption")
def write(doc: Document) -> list[str]:
    """04_adoption_panel: who adopted when, the headline event-time effects, the pre-trend test, naive TWFE, truth."""
    r: AdoptionResults = doc.results
    always = sum(g.units for g in r.timing if g.category == "always treated")
    adopters = ", ".join(f"{n} first treated in {g}" for g, n in sorted(r.cohorts.items()) if g)
    study = r.headline_study
    post = [e for e in study.effects if not e.reference and e.estimate is not None and e.event_time >= 0]
    out = [
        f"Adoption of {treatment_words(r.treatment)}, dated by the rounds {', '.join(map(str, r.rounds))}: "
        f"{adopters}; {r.cohorts.get(0, 0)} never treated; {always} already treated at the first round are left "
        "out (their effect is not identified)."
    ]
    if post:
        e0 = post[0]
        avg = sum(e.estimate for e in post) / len(post)
        out.append(
            f"{study.label}: in the first treated year loans per inhabitant differ by {e0.estimate * 100:+.1f} % "
            f"(95 % interval {e0.low * 100:+.1f} to {e0.high * 100:+.1f} %); averaged over event times "
            f"{post[0].event_time}-{post[-1].event_time}, {avg * 100:+.1f} % (log scale)."
        )
    p = study.pretrend.p
    if p is not None:
        out.append(
            f"Pre-trend test ({study.label}): {p_value(p)}, {evidence(p)} against parallel trends before "
            "adoption (a large p-value does not prove them)."
        )
    st = r.twfe_static
    out.append(
        f"Naive two-way fixed effects (one effect for all): {st.estimate * 100:+.1f} % ({st.low * 100:+.1f} to "
        f"{st.high * 100:+.1f} %), biased when effects differ across adoption cohorts."
    )
    if r.vs_truth:
        covered = [row.covered for row in r.vs_truth if row.covered is not None]
        out.append(
            f"Against the known (synthetic) truth the 95 % intervals cover {sum(covered)} of {len(covered)} "
            "event times."
        )
    out.append(
        "Identified only under parallel trends, no anticipation and no spill-over between kommuner; adoption is "
        "dated to an interval between rounds."
    )
    return out
