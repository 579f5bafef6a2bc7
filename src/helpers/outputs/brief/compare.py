"""Results in brief of 02_compare_rounds: the paired comparison of two survey rounds."""

from __future__ import annotations

from helpers.outputs.brief.registry import writes
from helpers.outputs.brief.words import evidence, p_value


@writes("02_compare")
def write(doc) -> list[str]:
    r, prm = doc["results"], doc["parameters"]
    a, b = str(prm["year_a"]), str(prm["year_b"])
    tests = r["tests"]
    mc, sm = tests["mcnemar_cooperation"], tests["stuart_maxwell"]
    ch = r["change_by_ordering"].get(prm.get("ordering"), next(iter(r["change_by_ordering"].values())))
    direction = (
        "more"
        if r["cooperating"][b] > r["cooperating"][a]
        else "fewer"
        if r["cooperating"][b] < r["cooperating"][a]
        else "as many"
    )
    return [
        f"{r['cooperating'][b]} kommuner reported cooperation in {b} against {r['cooperating'][a]} in {a} "
        f"({direction}); "
        f"{r['answered'][a]} and {r['answered'][b]} of the {r['n_kommuner']} answered.",
        f"Of the {r['paired_n']} kommuner that answered both rounds, {mc['c']} started and {mc['b']} stopped "
        "cooperating "
        f"(McNemar {mc['method']}, {p_value(mc['pvalue'])}): {evidence(mc['pvalue'])} of a change in whether they "
        "cooperate.",
        f"{ch['up']} moved up a level, {ch['same']} stayed and {ch['down']} moved down; the distribution of models "
        f"{'differs' if sm['pvalue'] < 0.05 else 'does not clearly differ'} between the rounds (Stuart-Maxwell "
        f"{p_value(sm['pvalue'])}).",
        f"Non-response changed with {p_value(r['nonresponse_test']['pvalue'])} (paired), so "
        + (
            "who answered differs and may bias the comparison."
            if r["nonresponse_test"]["pvalue"] < 0.05
            else "non-response is unlikely to drive the comparison."
        ),
    ]
