""""Results in brief": a few sentences written from a notebook's own results JSON.

Each notebook ends with ``brief.show(name)``; the report site's index reads the same sentences.
They state the numbers, their direction, their uncertainty (interval or p-value) and the caveat
that applies, so they change with the data. Synthetic input always leads with the caveat and is
never phrased as a finding.
"""

from __future__ import annotations

import json

from . import paths
from .cooperation import COOPERATING, SHORT_NAMES

SYNTHETIC_CAVEAT = ("These numbers come from synthetic example data: they show how the method works and are "
                    "not findings about Danish libraries.")


def load(name: str) -> dict:
    """The results document ``reports/results/<name>.json``."""
    f = paths.results() / f"{name}.json"
    if not f.is_file():
        raise FileNotFoundError(f"{paths.relative(f)}: no results; run the notebook that writes {name!r} first")
    return json.loads(f.read_text(encoding="utf-8"))


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def _pct(ratio: float) -> str:
    return f"{abs(ratio - 1) * 100:.1f} % {'higher' if ratio >= 1 else 'lower'}"


def _evidence(p: float) -> str:
    return "clear evidence" if p < 0.01 else "some evidence" if p < 0.05 else "no clear evidence"


def _reference(doc: dict) -> list[str]:
    r, year = doc["results"], doc["parameters"].get("year")
    regions = r["kommuner_per_region"]
    small, large = min(regions, key=regions.get), max(regions, key=regions.get)
    diff = r["population_national_dst"] - r["population_sum_of_kommuner"]
    return [
        f"The study units are the {r['n_kommuner']} kommuner of the 2007 reform in {len(regions)} regions, from "
        f"{regions[small]} in {small} to {regions[large]} in {large}.",
        f"On 1 January {year} they had {r['population_sum_of_kommuner']:,} inhabitants; Statistics Denmark's national "
        f"figure is {r['population_national_dst']:,}, {diff:,} more, the people who live outside any kommune (Christiansø).",
    ]


def _clean_survey(doc: dict) -> list[str]:
    r, year = doc["results"], doc["parameters"].get("year")
    models = {int(k): int(v) for k, v in r["models"].items()}
    answered = sum(v for k, v in models.items() if k != 0)
    coop = sum(models.get(m, 0) for m in COOPERATING)
    top = max((m for m in models if m != 0), key=lambda m: models[m])
    changes = r.get("changes_by_rule", {})
    rules = sorted(changes.items(), key=lambda kv: -kv[1])[:3]
    out = [
        f"In the {year} round {r['rows']} kommuner submitted a response and {answered} answered the model question "
        f"(response rate {r['response_rate']:.0%} of 98).",
        f"{coop} of the {answered} that answered ({coop / answered:.0%}) reported some cooperation (models 1-4); the most "
        f"frequent answer was model {top}, {SHORT_NAMES[top]} ({models[top]} kommuner).",
    ]
    if rules:
        out.append(f"Cleaning made {sum(changes.values())} logged changes, most often "
                   + ", ".join(f"{rule.replace('_', ' ')} ({n})" for rule, n in rules) + ".")
    return out


def _usage_panel(doc: dict) -> list[str]:
    r = doc["results"]
    loans = {int(y): v for y, v in r["real_national_loans_million"].items()}
    first, last = min(loans), max(loans)
    pre = max(y for y in loans if y < 2020) if any(y < 2020 for y in loans) else last
    (period, median), = r["real_median_change_pct"].items()
    out = [
        f"Physical library loans in Denmark fell from {loans[first]:.1f} million in {first} to {loans[pre]:.1f} million in {pre} "
        f"({(loans[pre] / loans[first] - 1) * 100:+.0f} %), and were {loans[last]:.1f} million in {last} after the COVID-19 closures "
        "(real data, Statistics Denmark; the notebook's loans source does not change this series).",
        f"The median kommune's loans per inhabitant changed by {median:+.1f} % over {period}, leaving out values flagged as "
        f"suspicious; {r['flagged_unit_years']} unit-years of the panel carry such a flag.",
        f"The panel has {r['rows']:,} rows for {r['units']} library units.",
    ]
    if r.get("synthetic_outcomes"):
        out.append("Its " + ", ".join(o.replace("_", " ") for o in r["synthetic_outcomes"])
                   + " are synthetic example data, not measurements.")
    return out


def _compare(doc: dict) -> list[str]:
    r, prm = doc["results"], doc["parameters"]
    a, b = str(prm["year_a"]), str(prm["year_b"])
    tests = r["tests"]
    mc, sm = tests["mcnemar_cooperation"], tests["stuart_maxwell"]
    ch = r["change_by_ordering"].get(prm.get("ordering"), next(iter(r["change_by_ordering"].values())))
    direction = "more" if r["cooperating"][b] > r["cooperating"][a] else "fewer" if r["cooperating"][b] < r["cooperating"][a] else "as many"
    return [
        f"{r['cooperating'][b]} kommuner reported cooperation in {b} against {r['cooperating'][a]} in {a} ({direction}); "
        f"{r['answered'][a]} and {r['answered'][b]} of the {r['n_kommuner']} answered.",
        f"Of the {r['paired_n']} kommuner that answered both rounds, {mc['c']} started and {mc['b']} stopped cooperating "
        f"(McNemar {mc['method']}, {_p(mc['pvalue'])}): {_evidence(mc['pvalue'])} of a change in whether they cooperate.",
        f"{ch['up']} moved up a level, {ch['same']} stayed and {ch['down']} moved down; the distribution of models "
        f"{'differs' if sm['pvalue'] < 0.05 else 'does not clearly differ'} between the rounds (Stuart-Maxwell {_p(sm['pvalue'])}).",
        f"Non-response changed with {_p(r['nonresponse_test']['pvalue'])} (paired), so "
        f"{'who answered differs and may bias the comparison' if r['nonresponse_test']['pvalue'] < 0.05 else 'non-response is unlikely to drive the comparison'}.",
    ]


def _model(doc: dict) -> list[str]:
    r, prm = doc["results"], doc["parameters"]
    outcome, ordering = prm["outcome"], prm.get("ordering", "5<1<2<3<4")
    out = []
    rows = {(s["round"], s["ordering"], s["sample"]): s for s in r.get("sensitivity", [])}
    for year, fit in r["rounds"].items():
        s = rows.get((int(year), ordering, "all kommuner"))
        n = r["pairing"][year]["n"]
        if s:
            covers = s["irr_low"] <= 1 <= s["irr_high"]
            out.append(f"Survey {year} (n = {int(n)}): {outcome} per inhabitant were {_pct(s['irr'])} per level of cooperation "
                       f"(rate ratio {s['irr']:.3f}, 95 % interval {s['irr_low']:.3f} to {s['irr_high']:.3f}); "
                       + ("the interval includes 1 (no difference)." if covers else "the interval excludes 1 (no difference)."))
        else:
            out.append(f"Survey {year} (n = {int(n)}): rate ratio per level of cooperation {fit['score_irr']:.3f}.")
    ch = r.get("change")
    if ch:
        lo, hi = ch["ci"]
        out.append(f"Within kommuner, one level more cooperation went with a change of {ch['per_level'] * 100:+.1f} % in {outcome} per inhabitant "
                   f"(95 % interval {lo * 100:+.1f} % to {hi * 100:+.1f} %, {ch['n']} kommuner in both rounds).")
    power = r.get("power", {})
    if power.get("minimal_detectable_irr"):
        out.append(f"With {power['n']} kommuner, only a rate ratio of about {power['minimal_detectable_irr']:.2f} between cooperating and "
                   "other kommuner is detected with 80 % power: smaller effects can hide in these data.")
    elif power.get("curve"):
        top = max(c["irr"] for c in power["curve"])
        out.append(f"With {power['n']} kommuner, even a rate ratio of {top:.2f} between cooperating and other kommuner is not detected "
                   "with 80 % power: these data cannot rule out effects of that size.")
    out.append("These are associations across and within kommuner, not causal effects: kommuner chose their model.")
    return out


def treatment_words(treatment) -> str:
    """The treatment parameter of 04 in words ('any', 'staff', 'level3+' are parameter values, not prose)."""
    t = str(treatment)
    words = {"any": "any cooperation (models 1-4)", "staff": "library staff doing the tasks (models 3-4)"}
    if t in words:
        return words[t]
    if t.startswith("level") and t[5:].rstrip("+").isdigit():
        return f"cooperation level {t[5:].rstrip('+')} or higher"
    return t


def _adoption(doc: dict) -> list[str]:
    """04_adoption_panel: who adopted when, the headline event-time effects, the pre-trend test, naive TWFE, truth."""
    r, prm = doc["results"], doc["parameters"]
    cohorts = {int(g): int(n) for g, n in r["cohorts"].items()}  # units in the estimation sample by first treated year
    always = sum(int(row["units"]) for row in r["timing"] if row["category"] == "always treated")
    adopters = ", ".join(f"{n} first treated in {g}" for g, n in sorted(cohorts.items()) if g)
    name = r["headline"]
    rows = [e for e in r["event_study"][name] if not e["reference"] and e["estimate"] == e["estimate"]]
    post = [e for e in rows if e["event_time"] >= 0]
    out = [f"Adoption of {treatment_words(prm.get('treatment'))}, dated by the rounds {', '.join(map(str, prm.get('rounds', [])))}: {adopters}; "
           f"{cohorts.get(0, 0)} never treated; {always} already treated at the first round are left out (their effect is not identified)."]
    if post:
        e0 = post[0]
        avg = sum(e["estimate"] for e in post) / len(post)
        out.append(f"{name}: in the first treated year loans per inhabitant differ by {e0['estimate'] * 100:+.1f} % "
                   f"(95 % interval {e0['low'] * 100:+.1f} to {e0['high'] * 100:+.1f} %); averaged over event times "
                   f"{post[0]['event_time']}-{post[-1]['event_time']}, {avg * 100:+.1f} % (log scale).")
    pre = r["pretrend"].get(name, {})
    if pre.get("p") == pre.get("p") and pre.get("p") is not None:
        out.append(f"Pre-trend test ({name}): {_p(pre['p'])}, {_evidence(pre['p'])} against parallel trends before adoption "
                   "(a large p-value does not prove them).")
    st = r["twfe_static"]
    out.append(f"Naive two-way fixed effects (one effect for all): {st['estimate'] * 100:+.1f} % ({st['low'] * 100:+.1f} to "
               f"{st['high'] * 100:+.1f} %), biased when effects differ across adoption cohorts.")
    if r.get("vs_truth"):
        cov = [row["covered"] for row in r["vs_truth"] if row.get("covered") is not None]
        out.append(f"Against the known (synthetic) truth the 95 % intervals cover {sum(bool(c) for c in cov)} of {len(cov)} event times.")
    out.append("Identified only under parallel trends, no anticipation and no spill-over between kommuner; adoption is dated to an "
               "interval between rounds.")
    return out


def _export(doc: dict) -> list[str]:
    r = doc["results"]
    rounds = r["rounds"]
    responded = ", ".join(f"{n} in {y}" for y, n in r["responded"].items())
    out = [
        f"{r['files']} files: the {len(rounds)} survey rounds ({', '.join(map(str, rounds))}), the usage panel "
        f"({r['panel_rows']:,} library unit-years) and the analysis file ({r['analysis_rows']:,} kommune-rounds; "
        f"responses: {responded}), each as CSV, Excel CSV, Stata, SPSS and parquet, with the codebooks' value labels.",
        "The data dictionary matches the codebooks and schemas." if r["dictionary_up_to_date"] else
        "The committed data dictionary is stale: run `borgerservice export --dictionary` and commit it.",
    ]
    return out


WRITERS = (("00_reference", _reference), ("01_clean_survey", _clean_survey), ("01_usage_panel", _usage_panel),
           ("02_compare", _compare), ("03_model", _model), ("04_adoption", _adoption), ("05_export_data", _export))


def sentences(doc: dict) -> list[str]:
    """The sentences for a results document, the synthetic caveat first when it applies."""
    name = doc["name"]
    writer = next((w for prefix, w in WRITERS if name.startswith(prefix)), None)
    if writer is None:
        raise ValueError(f"no 'results in brief' writer for {name!r}; known prefixes: {[p for p, _ in WRITERS]}")
    body = writer(doc)
    if name.startswith("01_usage_panel"):  # real loans beside synthetic outcomes: its sentences say which is which
        return body
    return ([SYNTHETIC_CAVEAT] if doc.get("synthetic") else []) + body


def markdown(doc: dict) -> str:
    return "### Results in brief\n\n" + "\n".join(f"- {s}" for s in sentences(doc))


def show(name: str):
    """Display the notebook's "Results in brief" from ``reports/results/<name>.json`` (Markdown)."""
    from IPython.display import Markdown

    return Markdown(markdown(load(name)))

