"""How cooperation enters a model: the level score, the formula of a count model and the names of its terms."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from helpers.core import vocabulary
from helpers.core.cooperation import DEFAULT_ORDERING, SHORT_NAMES, parse_ordering
from helpers.core.vocabulary import Spec

CONTROLS = ("C(kommunegruppe)", "merged_2007")  # every count model holds these fixed
CATEGORICAL = "C(model, Treatment(reference=5))"  # cooperation models as categories against no cooperation (5)


def score(model: pd.Series, ordering=DEFAULT_ORDERING) -> pd.Series:
    """Cooperation level 0-4 by position in ``ordering``; non-response (0) is missing."""
    pos = {m: i for i, m in enumerate(parse_ordering(ordering))}
    return pd.to_numeric(model, errors="coerce").astype("Int64").map(pos).astype(float)


def formula(outcome: str, spec: Spec, controls: Sequence[str] = CONTROLS) -> str:
    """The patsy formula of a count model: ``outcome`` on cooperation (as categories or the score) and ``controls``."""
    vocabulary.check_choice("spec", spec, Spec)
    coop = CATEGORICAL if spec == "categorical" else "score"
    return " + ".join([f"{outcome} ~ {coop}", *controls])


def model_term(m: int) -> str:
    """The design column of cooperation model ``m`` against model 5."""
    return f"{CATEGORICAL}[T.{int(m)}]"


def term_label(term: str) -> str:
    """A model term as the IRR tables name it: "model 3 (Vi arbejder sammen)", "cooperation score (per level)"."""
    if "[T." in term:
        m = int(term.split("[T.")[1].rstrip("]"))
        return f"model {m} ({SHORT_NAMES[m]})"
    return "cooperation score (per level)" if term == "score" else term


def truth_by_term(rate_ratios: dict[int, float]) -> dict[str, float]:
    """The generator's true rate ratios keyed like the IRR tables' terms."""
    return {term_label(model_term(m)): float(rr) for m, rr in rate_ratios.items() if int(m) != 5}
