"""Results in brief of 02_compare_rounds: the paired comparison of two survey rounds, and what non-response
does to it.

The sentences lead with the paired comparison (the same kommuner in both rounds), single out a test only by
its Holm-adjusted p-value over the four tests of the pair (or say that a p-value is unadjusted), and say what
the kommuner that did not answer could do to the conclusion: the bounds, the weighted and the imputed
estimates. The counts over each round's respondents come after, named as what they are: different
respondents. ``tests/brief_check.py`` checks that no sentence contradicts its own numbers.
"""

from __future__ import annotations

from helpers.outputs.brief.registry import writes
from helpers.outputs.brief.words import evidence, interval, p_value, points
from helpers.results import Document
from helpers.results.compare import CompareResults


def _kind(e, how: str = "") -> str:
    """ ", z" / ", t, df 86.3 by Rubin's rules": what an estimate's interval is (its declared ``interval`` words)."""
    words = getattr(e, "interval", "") or ""
    return f", {words}{how}" if words and words != "none" and e.low is not None else ""


def _coverage(r: CompareResults) -> str:
    """How often the net change's intervals covered at this design, with the Monte Carlo SE, the gap to the
    target band when outside it, and the other key quantities' intervals that fall outside it."""
    c = r.coverage
    low, high = c.target
    rows = [c.of("net_change", t) for t in ("complete case", "imputed")]
    said = " and ".join(f"{x.coverage * 100:.1f} % ({x.treatment})" for x in rows)
    gaps = [
        f"the {x.treatment} one {abs(x.gap) * 100:.1f} points {'below' if x.gap < 0 else 'above'} the "
        f"{low * 100:.0f}-{high * 100:.0f} % target"
        for x in rows
        if x.gap
    ]
    text = (
        f"In {c.reps:,} pairs of rounds simulated at this design (the observed shares, non-response at random), "
        f"the 95 % intervals of the net change ({rows[0].interval}; {rows[1].interval}) covered the true share in "
        f"{said} of them (Monte Carlo SE "
        f"{max(x.mc_se for x in rows) * 100:.1f} points){'; ' + ', '.join(gaps) if gaps else ''}"
    )
    others = [x for x in c.outside_target if x.quantity != "net_change"]
    if others:
        worst = min(others, key=lambda x: x.coverage)
        text += (
            f"; {len(others)} of the other {len(c.rows) - len(rows)} intervals of the sensitivity table cover "
            f"outside {low * 100:.0f}-{high * 100:.0f} %, lowest the {worst.treatment} interval ({worst.interval}) "
            f'of "{worst.quantity.replace("_", " ")}" at {worst.coverage * 100:.1f} % (Monte Carlo SE '
            f"{worst.mc_se * 100:.1f} points; a true share of {worst.truth * 100:.1f} %)"
        )
    return text + "."


@writes("02_compare")
def write(doc: Document) -> list[str]:
    r: CompareResults = doc.results
    a, b, n = r.year_a, r.year_b, r.n_kommuner
    mc, sm, nr = r.tests.mcnemar_cooperation, r.tests.stuart_maxwell, r.nonresponse_test
    holm = {t.key: t.p_holm for t in r.family.tests}
    size = r.family.size
    ch = r.change_by_ordering[r.ordering]
    net = r.sensitivity["net_change"]
    cc, w, imp, bounds = net.complete_case, net.weighted, net.imputed, net.bounds
    coop_a, coop_b = r.cooperating[a], r.cooperating[b]
    direction = "more" if coop_b > coop_a else "fewer" if coop_b < coop_a else "as many"
    out = [
        f"Of the {r.paired_n} kommuner that answered both {a} and {b}, {mc.c} started and {mc.b} stopped cooperating "
        f"(McNemar {mc.method}, Holm-adjusted {p_value(holm['mcnemar_cooperation'])} over the {size} tests of this "
        f"pair): {evidence(holm['mcnemar_cooperation'])} of a change in whether the same kommuner cooperate.",
        f"As a share of all {n} kommuner, the net change (started minus stopped) is {points(cc.value)} estimated "
        f"from those that answered both ({interval(cc.low, cc.high)}{_kind(cc)}); weighted for kommunegruppe, region, "
        f"population and the previous answer {points(w.value)} ({interval(w.low, w.high)}{_kind(w)}); imputed from the "
        f"other round and the same covariates ({imp.m} data sets) {points(imp.value)} ({interval(imp.low, imp.high)}"
        f"{_kind(imp, ' by Rubin' + chr(39) + 's rules')}).",
    ]
    out.append(_coverage(r))
    excludes = bounds.low > 0 or bounds.high < 0
    worst = (
        f"so more kommuner started than stopped cooperating even in the worst case (over every completion, "
        f"McNemar's unadjusted {p_value(r.mcnemar_bounds.high)} or less)"
        if bounds.low > 0
        else "so fewer kommuner started than stopped cooperating even in the best case"
        if bounds.high < 0
        else "so the direction of the change depends on what they would have answered; the weighted and imputed "
        "estimates assume they answered like similar kommuner that did"
    )
    if bounds.incomplete == 0:
        out.append(f"Every kommune answered both {a} and {b}: non-response cannot change these numbers.")
    else:
        out.append(
            f"Whatever the {bounds.incomplete} kommuner that missed a round would have answered, the net change lies "
            f"between {points(bounds.low)} and {points(bounds.high)} (bounds, before sampling error): the bounds "
            f"{'exclude' if excludes else 'include'} 0, {worst}."
        )
    out.append(
        f"{ch.up} moved up a level, {ch.same} stayed and {ch.down} moved down; the distribution of models "
        f"{'differs' if holm['stuart_maxwell'] < 0.05 else 'does not clearly differ'} between the rounds "
        f"(Stuart-Maxwell, Holm-adjusted {p_value(holm['stuart_maxwell'])}; unadjusted {p_value(sm.pvalue)})."
    )
    out.append(
        f"{coop_b} kommuner reported cooperation in {b} against {coop_a} in {a} ({direction}), but over different "
        f"respondents ({r.answered[a]} and {r.answered[b]} of the {n} answered): the paired comparison above is the "
        "one that compares like with like."
    )
    p_nr = holm["mcnemar_nonresponse"]
    out.append(
        f"Whether a kommune answered at all changed between the rounds with Holm-adjusted {p_value(p_nr)} "
        f"(McNemar, paired: {nr.b} answered only in {a}, {nr.c} only in {b})."
    )
    return out
