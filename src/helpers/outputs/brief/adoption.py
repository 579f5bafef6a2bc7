"""Results in brief of 04_adoption_panel: the event study around adoption.

Reads only the declared fields of :class:`helpers.results.adoption.AdoptionResults`. It leads with
the headline (the average effect over the event times after adoption, with the interval that
covers at the real design, and how often it covered in the run's own simulation), singles out an
event time only by its Holm-adjusted p-value within the event study's family, and says what the
robustness checks (Rambachan & Roth, leave one round out, neighbours, the bootstrap for the naive
TWFE) show.
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


def _pc(x: float) -> str:
    return f"{x * 100:+.1f}"


def _coverage(r: AdoptionResults, estimator: str, interval: str, target: str) -> str:
    """ ", which covered 93.6 % (Monte Carlo SE 0.5) of 2,000 simulated panels at this design", or ""."""
    c = r.simulation.covered(estimator, interval, target)
    if c is None:
        return ""
    draws = f", {r.simulation.draws} bootstrap draws each" if "draws" in c.interval and r.simulation.draws else ""
    return (
        f"; at this design such intervals covered the truth in {c.coverage * 100:.1f} % of {r.simulation.reps:,} "
        f"simulated panels (Monte Carlo SE {c.mc_se * 100:.1f}{draws})"
    )


def _headline(r: AdoptionResults) -> str | None:
    o = r.overall
    study = r.headline_study
    post = [e.event_time for e in study.effects if not e.reference and e.estimate is not None and e.event_time >= 0]
    if o is None or o.low is None or not post:
        return None
    method = "jackknife" if "jackknife" in o.interval else "CRV1"
    words = "95 %, normal, jackknife" if method == "jackknife" else "95 %, normal (z), CRV1"
    cover = _coverage(r, r.headline, words, "average of event times 0+")
    return (
        f"Headline ({study.label}): averaged over the event times {post[0]}-{post[-1]} after adoption, loans per "
        f"inhabitant in the adopting kommuner differ from their comparison kommuner by {_pc(o.estimate)} % "
        f"(log points x 100; 95 % interval {_pc(o.low)} to {_pc(o.high)} %, {o.interval}{cover})."
    )


def _first_year(r: AdoptionResults) -> str | None:
    study = r.headline_study
    post = [e for e in study.effects if not e.reference and e.estimate is not None and e.event_time >= 0]
    if not post:
        return None
    e0 = post[0]
    low, high, _ = e0.quoted
    return (
        f"{study.label}: in the first treated year loans per inhabitant differ by {e0.estimate * 100:+.1f} % "
        f"(95 % interval {low * 100:+.1f} to {high * 100:+.1f} %)."
    )


def _first_year_interval(r: AdoptionResults) -> str | None:
    """What the first year's interval is (the jackknife one where it exists, else the library's), and how often such
    intervals covered at this design; None when the results do not say."""
    study = r.headline_study
    post = [e for e in study.effects if not e.reference and e.estimate is not None and e.event_time >= 0]
    if not post:
        return None
    e0 = post[0]
    if e0.low_jk is not None:
        words, interval = (
            "normal (z) with delete-one-kommune jackknife standard errors",
            "pointwise 95 %, normal, jackknife",
        )
    elif study.interval:
        words, interval = study.interval.removeprefix("pointwise 95 %: "), "pointwise 95 %, normal"
    else:
        return None
    cover = _coverage(r, r.headline, interval, str(e0.event_time))
    cover = cover.replace("such intervals", f"such intervals at event time {e0.event_time}", 1)
    return f"The event-time intervals quoted are pointwise 95 %, {words}{cover}."


def _family(r: AdoptionResults) -> str | None:
    study = r.headline_study
    tested = [e for e in study.effects if e.p_holm is not None]
    if not tested:
        return None
    hits = [e.event_time for e in tested if e.p_holm < 0.05]
    which = (
        "none has a Holm-adjusted p below 0.05"
        if not hits
        else f"event time{'s' if len(hits) > 1 else ''} {', '.join(map(str, hits))} "
        f"{'have' if len(hits) > 1 else 'has'} a Holm-adjusted p below 0.05"
    )
    return (
        f"Read as one family of {len(tested)} tests ({study.family or 'its event times'}), {which} "
        "(Holm controls the chance of any false positive among them; raw and Benjamini-Hochberg p-values are in the "
        "tables)."
    )


def _honest(r: AdoptionResults) -> str | None:
    h = r.honest
    if h is None:
        return None
    if h.breakdown_rm is None:
        ci = (
            f"95 % interval {_pc(h.original_low)} to {_pc(h.original_high)} % (normal, with the analytic "
            "influence-function covariance honestdid takes)"
        )
        where = (
            "already includes 0"
            if h.original_low <= 0 <= h.original_high
            else "excludes 0, but no bound tried keeps the robust set away from 0"
        )
        return (
            f"Robustness to violations of parallel trends (Rambachan & Roth): under exact parallel trends the "
            f"headline's {ci} {where}, so there is no significant effect to break down."
        )
    analytic = _coverage(r, "cs", "95 %, normal, analytic IF", "average of event times 0+")
    analytic = analytic.replace("; at this design such intervals", ", whose headline interval at this design", 1)
    rm = f"{'at least ' if h.rm_at_least else ''}{h.breakdown_rm:.2g}"
    sd = f"{'at least ' if h.sd_at_least else ''}{h.breakdown_sd:.2g}"
    return (
        f"Robustness to violations of parallel trends (Rambachan & Roth): the headline stays significant while the "
        f"post-adoption violations are at most {rm} times the largest pre-adoption one (breakdown value of Mbar), "
        f"or while the differential trend's slope changes by at most {sd} log points per year (M); the robust sets "
        f"rest on the analytic influence-function covariance{analytic}."
    )


def _rounds(r: AdoptionResults) -> str | None:
    rows = list(r.leave_one_round_out[1:])
    if not rows:
        return None
    parts, words = [], {x.interval for x in rows if x.avg_post is not None and x.avg_low is not None}
    for x in rows:
        if x.avg_post is None:
            parts.append(f"{x.variant}: not estimable")
        elif x.avg_low is None:
            parts.append(f"{x.variant}: {_pc(x.avg_post)} % (no interval)")
        else:
            parts.append(f"{x.variant}: {_pc(x.avg_post)} % ({_pc(x.avg_low)} to {_pc(x.avg_high)} %)")
    label = f" (95 % intervals, {'; '.join(sorted(w for w in words if w))})" if words and all(words) else ""
    return (
        "Leaving out one survey round at a time (the round is then unobserved, never 'not treated'), the headline is "
        + "; ".join(parts)
        + label
        + "."
    )


def _imputed(r: AdoptionResults) -> str | None:
    rows = [x for x in r.imputed_timing if x.variant.startswith("unanswered rounds imputed")]
    if not rows or rows[0].avg_post is None or rows[0].avg_low is None:
        return None
    x = rows[0]
    return (
        f"With the unanswered rounds imputed instead {x.variant.removeprefix('unanswered rounds imputed ')}, the "
        f"headline is {_pc(x.avg_post)} % ({_pc(x.avg_low)} to {_pc(x.avg_high)} %, 95 %, "
        f"{x.interval or 'Rubin' + chr(39) + 's rules'})."
    )


def _spillover(r: AdoptionResults) -> str | None:
    s = r.spillover
    if s is None:
        return None
    est = (
        f"the headline is {_pc(s.overall)} % ({_pc(s.overall_low)} to {_pc(s.overall_high)} %"
        f"{', 95 %, ' + s.interval if s.interval else ''})"
        if s.overall is not None and s.overall_low is not None
        else "the headline cannot be estimated"
    )
    return (
        f"Neighbours: adoption by {s.early_round} is {'not ' if s.p_bb >= 0.05 else ''}clustered in space (join count "
        f"{s.bb_joins:.0f} against {s.bb_expected:.1f} expected, permutation {p_value(s.p_bb)}); without the "
        f"{s.dropped} comparison kommuner bordering an earlier adopter ({s.units_left} kommuner left, "
        f"{s.never_treated_left} never treated) {est}. Spillovers beyond direct neighbours are not ruled out."
    )


@writes("04_adoption")
def write(doc: Document) -> list[str]:
    """04_adoption_panel: the headline with its interval first, then who adopted when, the first year, the family of
    event times, the pre-trend test, Rambachan & Roth, the naive TWFE, the rounds, neighbours, truth, caveats."""
    r: AdoptionResults = doc.results
    always = sum(g.units for g in r.timing if g.category == "always treated")
    unknown = sum(g.units for g in r.timing if g.category == "start unknown")
    censored = sum(g.included for g in r.timing if g.category == "censored")
    adopters = ", ".join(f"{n} first treated in {g}" for g, n in sorted(r.cohorts.items()) if g)
    timing = (
        f"Adoption of {treatment_words(r.treatment)}, dated by the rounds {', '.join(map(str, r.rounds))}: "
        f"{adopters}; {r.cohorts.get(0, 0)} never treated; {always} already treated at the first round are left "
        "out (their effect is not identified)."
    )
    if unknown or censored:
        parts = []
        if unknown:
            parts.append(f"{unknown} first seen treated after unanswered rounds are left out (start unknown)")
        if censored:
            parts.append(f"{censored} untreated at their last answer count as untreated only until then")
        timing = (
            timing[:-1] + "; an unanswered round widens a kommune's adoption interval: " + " and ".join(parts) + "."
        )
    out = [s for s in (_headline(r), timing) if s]  # the headline leads
    for sentence in (_first_year(r), _first_year_interval(r), _family(r)):
        if sentence:
            out.append(sentence)
    study = r.headline_study
    p = study.pretrend.p
    if p is not None:
        out.append(
            f"Pre-trend test ({study.label}): {p_value(p)}, {evidence(p)} against parallel trends before "
            "adoption (a large p-value does not prove them)."
        )
    honest = _honest(r)
    if honest:
        out.append(honest)
    st = r.twfe_static
    crv1 = _coverage(r, "twfe", "95 %, normal (z), CRV1", "static effect")
    naive = (
        f"Naive two-way fixed effects (one effect for all): {st.estimate * 100:+.1f} % ({st.low * 100:+.1f} to "
        f"{st.high * 100:+.1f} %), biased when effects differ across adoption cohorts; its interval is "
        f"{st.interval or '95 %, normal (z), CRV1'}{crv1.replace('the truth', 'the value it estimates', 1)}."
    )
    wild = (r.wild or {}).get("static")
    if wild and wild.rows and wild.rows[0].low_wild is not None:
        w = wild.rows[0]
        cover = _coverage(r, "twfe", "95 %, wild score bootstrap", "static effect")
        naive = naive[:-1] + (
            f"; the wild score bootstrap (Rademacher, {wild.draws} draws, interval by test inversion), which does not "
            f"rest on many comparable clusters, gives {_pc(w.low_wild)} to {_pc(w.high_wild)} %{cover}."
        )
    out.append(naive)
    for sentence in (_rounds(r), _imputed(r), _spillover(r)):
        if sentence:
            out.append(sentence)
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
