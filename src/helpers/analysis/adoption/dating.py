"""Who counts as treated, and when: adoption timing from the survey rounds.

The first round at which a unit reports the treated level gives its first treated usage year ``g``
(round + ``offset``, the pairing rule of notebook 03); the rules for the always treated, for
reversals, unanswered rounds and interval-censored timing are in :func:`timing` (and the package
docstring). Every rule's outcome is a row of :func:`timing`'s table, so it can be read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.core import cooperation, vocabulary
from helpers.core.vocabulary import Treatment
from helpers.data import usage

STAFF_MODELS = (3, 4)  # library staff do selected borgerservice tasks (3) or the shared front door (4)


def parse_treatment(treatment) -> Treatment:
    """The treatment as the vocabulary writes it: "any", "staff" or "levelk+" (also accepted as "level>=k").

    The one place a treatment is parsed: its error names what was given and every accepted value
    (from :data:`~helpers.core.vocabulary.Treatment`), and the "level>=k" spelling.
    """
    t = str(treatment).strip().replace(" ", "")
    m = re.fullmatch(r"level>=(\d+)", t)
    if m:
        t = f"level{m.group(1)}+"
    try:
        return vocabulary.check_choice("treatment", t, Treatment)
    except ValueError:
        accepted = ", ".join(vocabulary.choices(Treatment))
        raise ValueError(
            f"treatment {treatment!r} is not accepted; accepted: {accepted} (a minimum level also as 'level>=k')"
        ) from None


def treated_models(treatment: str, ordering=None) -> list[int]:
    """Model codes that count as treated: "any" (1-4), "staff" (3-4) or "level>=k" / "levelk+" under ``ordering``."""
    t = parse_treatment(treatment)
    if t == "any":
        return list(cooperation.COOPERATING)
    if t == "staff":
        return list(STAFF_MODELS)
    k = int(t[len("level") : -1])
    return sorted(code for code, level in cooperation.level_scores(ordering).items() if level >= k)


def round_models(rounds: Sequence[int], surveys: dict[int, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Reported model per library unit (rows, 97) and round (columns); <NA> where the unit did not answer.

    ``surveys`` maps a round to a frame with kommunekode and model (default: the cleaned rounds,
    :func:`helpers.data.survey.load_clean`). Fanø's row (563) is dropped: unit 561 takes Esbjerg's answer.
    """
    if surveys is None:
        from helpers.data import survey

        surveys = {int(r): survey.load_clean(int(r)) for r in rounds}
    out = pd.DataFrame(index=pd.Index(usage.unit_codes(), name="kommunekode"))
    for r in sorted(int(x) for x in rounds):
        if r not in surveys:
            raise ValueError(f"no survey frame for round {r}; given: {sorted(surveys)}")
        s = surveys[r][["kommunekode", "model"]].copy()
        s["model"] = pd.to_numeric(s["model"].astype("object"), errors="coerce").astype("Int64")
        s = s[s["kommunekode"].isin(out.index)].drop_duplicates("kommunekode")
        out[r] = s.set_index("kommunekode")["model"].reindex(out.index).where(lambda m: m.between(1, 5))
    return out.astype("Int64")


def timing(
    models: pd.DataFrame,
    treatment: str = "any",
    ordering=None,
    *,
    offset: int = 1,
    first_year: int = 2010,
    reversals: str = "absorbing",
) -> pd.DataFrame:
    """Adoption timing per unit from the reported models of the rounds (columns of ``models``, in order).

    Columns: history ("2009:5 2011:2 2014:3"; "-" where a round is unanswered or left out), first_treated_round,
    g_round (first treated usage year by the pairing rule, 0 = never), g_earliest (earliest possible first treated
    year), category (never treated | adopter | always treated | start unknown | censored | no answer), reversal (a
    lower level reported after a treated one), left_censored (no untreated report before the first treated one),
    untreated_until (censored units: the last usage year known untreated, 0 otherwise), included, reason.

    A round without an answer (unanswered, or left out of a specification: its column is <NA>) is *unobserved*:
    it makes a unit neither treated nor untreated. So a unit never reported treated whose last answered round is
    untreated and a later round is unobserved is **censored**, not never treated: it is known untreated only
    up to the usage year of its last answered round (``untreated_until``); a unit first reported treated with no
    untreated report before (``left_censored``) has an unobserved start and is left out like the always treated
    (category "start unknown").
    """
    vocabulary.check_choice("reversals", reversals, vocabulary.Reversals)
    treated = set(treated_models(treatment, ordering))
    rounds = [int(c) for c in models.columns]
    if len(rounds) < 2:
        raise ValueError(f"an adoption panel needs at least two rounds; got {rounds}")
    rows = []
    for k, row in models.iterrows():
        status = {r: (pd.NA if pd.isna(row[r]) else int(row[r]) in treated) for r in rounds}
        history = " ".join(f"{r}:{'-' if pd.isna(row[r]) else int(row[r])}" for r in rounds)
        answered = [r for r in rounds if status[r] is not pd.NA]
        first = next((r for r in rounds if status[r] is True), None)
        rec = {
            "kommunekode": int(k),
            "history": history,
            "first_treated_round": first,
            "g_round": 0,
            "g_earliest": 0,
            "reversal": False,
            "left_censored": False,
            "untreated_until": 0,
        }
        if not answered:
            rec.update(category="no answer", included=False, reason="answered no round")
        elif first is None:
            last = answered[-1]
            if last == rounds[-1]:
                rec.update(category="never treated", included=True, reason="not treated at any answered round")
            else:  # a later round is unobserved: untreated only up to the last answered round's usage year
                rec.update(
                    category="censored",
                    untreated_until=last + offset,
                    included=True,
                    reason=f"not treated at any answered round; status unknown after {last} "
                    f"(rounds {', '.join(str(r) for r in rounds if r > last)} unanswered or left out)",
                )
        else:
            g = first + offset
            before = [r for r in rounds if r < first and status[r] is False]
            rec["g_round"] = g
            rec["reversal"] = any(status[r] is False for r in rounds if r > first)
            if first == rounds[0]:
                rec.update(
                    category="always treated",
                    g_earliest=min(g, first_year),
                    included=False,
                    reason=f"treated at the first round ({first}): no untreated year observed or start unknown",
                )
            elif not before:  # first seen treated after unobserved rounds: the start is unobserved
                rec.update(
                    left_censored=True,
                    g_earliest=first_year,
                    category="start unknown",
                    included=False,
                    reason=f"treated at {first} with no untreated report before (earlier rounds unanswered or "
                    "left out): start unknown",
                )
            else:
                rec["g_earliest"] = before[-1] + offset + 1
                rec.update(category="adopter", included=True, reason=f"adopted after {before[-1]}, by {first}")
            if rec["reversal"]:
                rec["reason"] += "; reports a lower level later"
                if reversals == "exclude" and rec["included"]:
                    rec.update(included=False, reason=rec["reason"] + " (left out: reversals='exclude')")
        rows.append(rec)
    out = pd.DataFrame(rows).set_index("kommunekode")[
        [
            "history",
            "first_treated_round",
            "g_round",
            "g_earliest",
            "category",
            "reversal",
            "left_censored",
            "untreated_until",
            "included",
            "reason",
        ]
    ]
    out["first_treated_round"] = out["first_treated_round"].astype("Int64")
    return out


def timing_summary(t: pd.DataFrame) -> pd.DataFrame:
    """Units per category and first treated year (round timing and earliest bound)."""
    return (
        t.groupby(["category", "g_round", "g_earliest"], dropna=False)
        .agg(units=("history", "size"), included=("included", "sum"), reversals=("reversal", "sum"))
        .reset_index()
    )


def reversal_table(t: pd.DataFrame) -> pd.DataFrame:
    """Units that report a lower level after a treated one, with the rule applied to them."""
    r = t[t["reversal"]].copy()
    r["rule"] = np.where(r["included"], "absorbing: treated from the first treated report on", "left out")
    r.loc[r["category"] == "always treated", "rule"] = "always treated: left out"
    return r[["history", "first_treated_round", "g_round", "category", "rule"]]
