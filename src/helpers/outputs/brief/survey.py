"""Results in brief of 01_clean_survey: response, the models reported and what cleaning changed."""

from __future__ import annotations

from helpers.core.cooperation import COOPERATING, MODELS, SHORT_NAMES
from helpers.outputs.brief.registry import writes
from helpers.results import Document
from helpers.results.survey import CleanSurveyResults


@writes("01_clean_survey")
def write(doc: Document) -> list[str]:
    r: CleanSurveyResults = doc.results
    answered = r.response.answered_model
    coop = sum(r.kommuner(m) for m in COOPERATING)
    top = max(MODELS, key=r.kommuner)
    rules = sorted(r.changes_by_rule.items(), key=lambda kv: -kv[1])[:3]
    out = [
        f"In the {r.year} round {r.response.rows} kommuner submitted a response and {answered} answered the model "
        f"question (response rate {r.response.response_rate:.0%} of 98).",
        f"{coop} of the {answered} that answered ({coop / answered:.0%}) reported some cooperation (models 1-4); the "
        f"most frequent answer was model {top}, {SHORT_NAMES[top]} ({r.kommuner(top)} kommuner).",
    ]
    if rules:
        out.append(
            f"Cleaning made {sum(r.changes_by_rule.values())} logged changes, most often "
            + ", ".join(f"{rule.replace('_', ' ')} ({n})" for rule, n in rules)
            + "."
        )
    return out
