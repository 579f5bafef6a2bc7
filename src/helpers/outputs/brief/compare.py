"""Results in brief of 02_compare_rounds: the paired comparison of two survey rounds."""

from __future__ import annotations

from helpers.outputs.brief.registry import writes
from helpers.outputs.brief.words import evidence, p_value
from helpers.results import Document
from helpers.results.compare import CompareResults


@writes("02_compare")
def write(doc: Document) -> list[str]:
    r: CompareResults = doc.results
    a, b = r.year_a, r.year_b
    mc, sm, nr = r.tests.mcnemar_cooperation, r.tests.stuart_maxwell, r.nonresponse_test
    ch = r.change_by_ordering[r.ordering]
    coop_a, coop_b = r.cooperating[a], r.cooperating[b]
    direction = "more" if coop_b > coop_a else "fewer" if coop_b < coop_a else "as many"
    return [
        f"{coop_b} kommuner reported cooperation in {b} against {coop_a} in {a} ({direction}); "
        f"{r.answered[a]} and {r.answered[b]} of the {r.n_kommuner} answered.",
        f"Of the {r.paired_n} kommuner that answered both rounds, {mc.c} started and {mc.b} stopped cooperating "
        f"(McNemar {mc.method}, {p_value(mc.pvalue)}): {evidence(mc.pvalue)} of a change in whether they cooperate.",
        f"{ch.up} moved up a level, {ch.same} stayed and {ch.down} moved down; the distribution of models "
        f"{'differs' if sm.pvalue < 0.05 else 'does not clearly differ'} between the rounds (Stuart-Maxwell "
        f"{p_value(sm.pvalue)}).",
        f"Non-response changed with {p_value(nr.pvalue)} (paired), so "
        + (
            "who answered differs and may bias the comparison."
            if nr.pvalue < 0.05
            else "non-response is unlikely to drive the comparison."
        ),
    ]
