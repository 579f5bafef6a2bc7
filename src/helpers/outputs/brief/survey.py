"""Results in brief of 01_clean_survey: response, the models reported and what cleaning changed."""

from __future__ import annotations

from helpers.core.cooperation import COOPERATING, SHORT_NAMES
from helpers.outputs.brief.registry import writes


@writes("01_clean_survey")
def write(doc) -> list[str]:
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
        f"{coop} of the {answered} that answered ({coop / answered:.0%}) reported some cooperation (models 1-4); the "
        "most "
        f"frequent answer was model {top}, {SHORT_NAMES[top]} ({models[top]} kommuner).",
    ]
    if rules:
        out.append(
            f"Cleaning made {sum(changes.values())} logged changes, most often "
            + ", ".join(f"{rule.replace('_', ' ')} ({n})" for rule, n in rules)
            + "."
        )
    return out
