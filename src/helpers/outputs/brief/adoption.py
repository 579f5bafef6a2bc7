"""Results in brief of 04_adoption_panel: the event study around adoption."""

from __future__ import annotations

from helpers.outputs.brief.registry import writes
from helpers.outputs.brief.words import evidence, p_value


def treatment_words(treatment) -> str:
    """The treatment parameter of 04 in words ('any', 'staff', 'level3+' are parameter values, not prose)."""
    t = str(treatment)
    words = {"any": "any cooperation (models 1-4)", "staff": "library staff doing the tasks (models 3-4)"}
    if t in words:
        return words[t]
    if t.startswith("level") and t[5:].rstrip("+").isdigit():
        return f"cooperation level {t[5:].rstrip('+')} or higher"
    return t


@writes("04_adoption")
def write(doc) -> list[str]:
    """04_adoption_panel: who adopted when, the headline event-time effects, the pre-trend test, naive TWFE, truth."""
    r, prm = doc["results"], doc["parameters"]
    cohorts = {int(g): int(n) for g, n in r["cohorts"].items()}  # units in the estimation sample by first treated year
    always = sum(int(row["units"]) for row in r["timing"] if row["category"] == "always treated")
    adopters = ", ".join(f"{n} first treated in {g}" for g, n in sorted(cohorts.items()) if g)
    name = r["headline"]
    rows = [e for e in r["event_study"][name] if not e["reference"] and e["estimate"] == e["estimate"]]
    post = [e for e in rows if e["event_time"] >= 0]
    out = [
        f"Adoption of {treatment_words(prm.get('treatment'))}, dated by the rounds "
        f"{', '.join(map(str, prm.get('rounds', [])))}: {adopters}; "
        f"{cohorts.get(0, 0)} never treated; {always} already treated at the first round are left out (their effect "
        "is not identified)."
    ]
    if post:
        e0 = post[0]
        avg = sum(e["estimate"] for e in post) / len(post)
        out.append(
            f"{name}: in the first treated year loans per inhabitant differ by {e0['estimate'] * 100:+.1f} % "
            f"(95 % interval {e0['low'] * 100:+.1f} to {e0['high'] * 100:+.1f} %); averaged over event times "
            f"{post[0]['event_time']}-{post[-1]['event_time']}, {avg * 100:+.1f} % (log scale)."
        )
    pre = r["pretrend"].get(name, {})
    if pre.get("p") == pre.get("p") and pre.get("p") is not None:
        out.append(
            f"Pre-trend test ({name}): {p_value(pre['p'])}, {evidence(pre['p'])} against parallel trends before "
            "adoption (a large p-value does not prove them)."
        )
    st = r["twfe_static"]
    out.append(
        f"Naive two-way fixed effects (one effect for all): {st['estimate'] * 100:+.1f} % ({st['low'] * 100:+.1f} to "
        f"{st['high'] * 100:+.1f} %), biased when effects differ across adoption cohorts."
    )
    if r.get("vs_truth"):
        cov = [row["covered"] for row in r["vs_truth"] if row.get("covered") is not None]
        out.append(
            f"Against the known (synthetic) truth the 95 % intervals cover {sum(bool(c) for c in cov)} of {len(cov)} "
            "event times."
        )
    out.append(
        "Identified only under parallel trends, no anticipation and no spill-over between kommuner; adoption is "
        "dated to an "
        "interval between rounds."
    )
    return out
