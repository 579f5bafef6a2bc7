"""The cooperation models of the surveys: codes, names, and the ordering that makes them a level.

Codes follow the 2011 legend: 0 did not answer, 1 "Den spæde start", 2 "Vi flytter sammen",
3 "Vi arbejder sammen", 4 "Vi er borgernes fælles indgang til kommunen", 5 no cooperation.
The *level* of cooperation needs an ordering of 1-5 (default ``5<1<2<3<4``, lowest first); 2 and
3 are not obviously ordered (co-location versus library staff doing the tasks), so everywhere the
ordering is a parameter, parsed by :func:`parse_ordering` alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import get_args

import numpy as np
import pandas as pd

from helpers.core.vocabulary import (  # noqa: F401 (re-exported)
    MODEL_NAMES,
    NO_ANSWER,
    NO_COOPERATION,
    AnsweredModel,
    CooperatingModel,
    ModelCode,
)

ALL_CODES: tuple[int, ...] = get_args(ModelCode)  # 0-5, 0 = did not answer
MODELS: tuple[int, ...] = get_args(AnsweredModel)  # the models a level ordering ranks
COOPERATING: tuple[int, ...] = get_args(CooperatingModel)
DEFAULT_ORDERING = (5, 1, 2, 3, 4)  # lowest cooperation first

LABELS = MODEL_NAMES  # the models' Danish names, declared once in helpers.core.vocabulary
_ACCEPTED_ORDERING = (
    "each of the models 1, 2, 3, 4, 5 exactly once, lowest level first, e.g. '5<1<2<3<4' or [5, 1, 2, 3, 4]"
)


def model_labels(with_code: bool = False, include_no_answer: bool = True) -> dict[int, str]:
    """Danish model names by code (as in the 2011 legend); ``with_code`` prefixes "1 ", "2 ", ..."""
    codes = ([NO_ANSWER] if include_no_answer else []) + sorted(MODELS)
    return {c: f"{c} {LABELS[c]}" if with_code else LABELS[c] for c in codes}


def parse_ordering(ordering: str | Sequence[int] | None = None) -> list[int]:
    """An ordering such as "5<1<2<3<4" or [5, 1, 2, 3, 4] as a list of model codes, lowest first.

    None gives the default 5<1<2<3<4. Raises ValueError unless it is a permutation of 1..5.
    """
    if ordering is None:
        return list(DEFAULT_ORDERING)
    if isinstance(ordering, str):
        if not ordering.strip():
            raise ValueError(f"empty ordering; accepted: {_ACCEPTED_ORDERING}")
        parts: list = [p.strip() for p in ordering.split("<")]
    elif isinstance(ordering, Sequence) or isinstance(ordering, (np.ndarray, pd.Series)):
        parts = list(ordering)
    else:
        raise ValueError(
            f"ordering must be a string or a list, got {type(ordering).__name__}; accepted: {_ACCEPTED_ORDERING}"
        )
    codes = []
    for p in parts:
        try:
            if isinstance(p, bool) or (isinstance(p, float) and not p.is_integer()):
                raise ValueError
            codes.append(int(p))
        except (TypeError, ValueError):
            raise ValueError(
                f"ordering {ordering!r}: {p!r} is not a model code; accepted: {_ACCEPTED_ORDERING}"
            ) from None
    if sorted(codes) != sorted(MODELS):
        extra = sorted(set(codes) - set(MODELS))
        missing = sorted(set(MODELS) - set(codes))
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        what = "; ".join(
            s
            for s in (
                f"unknown {extra}" + (" (0 means 'did not answer' and has no level)" if 0 in extra else "")
                if extra
                else "",
                f"missing {missing}" if missing else "",
                f"repeated {repeated}" if repeated else "",
            )
            if s
        )
        raise ValueError(f"ordering {ordering!r} is not a permutation of 1..5 ({what}); accepted: {_ACCEPTED_ORDERING}")
    return codes


def format_ordering(ordering: str | Sequence[int] | None = None) -> str:
    """The ordering as the string form "5<1<2<3<4"."""
    return "<".join(str(c) for c in parse_ordering(ordering))


def level_scores(ordering: str | Sequence[int] | None = None) -> dict[int, int]:
    """Cooperation level of each model code under ``ordering``: 0 for the lowest ... 4 for the highest."""
    return {code: level for level, code in enumerate(parse_ordering(ordering))}


def swap(ordering: str | Sequence[int] | None, x: int = 2, y: int = 3) -> list[int]:
    """The ordering with models ``x`` and ``y`` exchanged (the 2-versus-3 sensitivity check)."""
    codes = parse_ordering(ordering)
    i, j = codes.index(x), codes.index(y)
    codes[i], codes[j] = codes[j], codes[i]
    return codes


def model_dtype(ordering: str | Sequence[int] | None = None, include_no_answer: bool = False) -> pd.CategoricalDtype:
    """An ordered categorical dtype of model codes, lowest level first (0 "did not answer" before all if included)."""
    return pd.CategoricalDtype(([NO_ANSWER] if include_no_answer else []) + parse_ordering(ordering), ordered=True)


# Short names for tables and axis labels.
SHORT_NAMES = {
    0: "did not answer",
    1: "Den spæde start",
    2: "Vi flytter sammen",
    3: "Vi arbejder sammen",
    4: "Fælles indgang",
    5: "no cooperation",
}
