"""Manski-type bounds: the worst and the best case when the kommuner that did not answer could have
answered any model (1-5), with no assumption about why they did not answer.

A *completion* fills every missing answer of the rounds a statistic reads with a model. The bounds
are the smallest and the largest value of the statistic over all completions. How they are found:

* **mean of a per-kommune score** (:func:`.statistics.mean_of`, e.g. a share, a transition, the paired
  change): the statistic is a sum over kommuner, and each kommune's completion changes only its own
  term, so the extremes are found kommune by kommune (each incomplete kommune takes its smallest, or
  its largest, score over its own at most 25 completions). Exact.
* **anything else**, e.g. a test's p-value or a rate ratio of a count model: every completion is
  enumerated when there are at most ``max_completions`` of them (exact); otherwise a **coordinate
  search** (:func:`search`): starting from several completions (every missing answer = model m, for
  each m; and ``random_starts`` random ones), one incomplete kommune at a time takes the completion of
  its own answers that moves the statistic most, in sweeps over the kommuner until a whole sweep
  changes nothing. Each sweep only ever improves, so it stops at a completion that no change of one
  kommune can improve.

Why the search is sound enough, and what it guarantees: the values it reports are *attained* by real
completions, so they are inside the true bounds (the true interval is at least as wide; the result
says ``exact=False``). For an additive statistic one sweep reaches the true extreme; a statistic of
~98 kommuner of which ~10-20 are incomplete is close to additive in them (each kommune moves it by
its influence, which depends little on the others), so the search finds the extreme or comes very
close; the constant starts cover the completions where the non-respondents all act alike, which are
the extremes of monotone statistics. ``tests/test_nonresponse.py`` checks the search against full
enumeration on statistics that are not additive (a McNemar p-value, a Stuart-Maxwell statistic, a
ratio of shares). Its cost is about (starts) x (sweeps, usually 2-3) x (sum over incomplete kommuner
of their completions) evaluations per direction: give ``random_starts=0`` for slow statistics.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.analysis.nonresponse.frame import Panel
from helpers.analysis.nonresponse.statistics import Statistic
from helpers.core.cooperation import MODELS
from helpers.results.nonresponse import Bounds

MAX_COMPLETIONS = 2_000  # enumerate every completion up to this many; search above it
RANDOM_STARTS = 2  # random starting completions of the search, besides the five constant ones
MAX_SWEEPS = 25


@dataclass(frozen=True)
class BoundsResult:
    """The bounds of one statistic and the completions that attain them.

    Fields: ``statistic`` (its name); ``bounds`` (:class:`~helpers.results.nonresponse.Bounds`);
    ``lowest``, ``highest``: the answers (kommuner x the statistic's rounds, no gaps) of a completion
    attaining ``bounds.low`` and ``bounds.high``; ``evaluations``: how often the statistic was computed.
    """

    statistic: str
    bounds: Bounds
    lowest: pd.DataFrame
    highest: pd.DataFrame
    evaluations: int


def _cells(panel: Panel, rounds: tuple[int, ...]) -> tuple[pd.DataFrame, list[tuple[int, tuple[int, ...]]]]:
    """The answers of ``rounds`` and, per incomplete kommune (by position), the rounds (positions) it misses."""
    answers = panel.answers[list(rounds)]
    gaps = answers.isna().to_numpy()
    incomplete = [(i, tuple(np.flatnonzero(row))) for i, row in enumerate(gaps) if row.any()]
    return answers, incomplete


def _options(missing: tuple[int, ...]) -> list[tuple[int, ...]]:
    return list(itertools.product(MODELS, repeat=len(missing)))


def _additive(stat: Statistic, panel: Panel) -> BoundsResult:
    answers, incomplete = _cells(panel, stat.rounds)
    values = answers.to_numpy(dtype=float, na_value=np.nan)
    complete = ~np.isnan(values).any(axis=1)
    base = stat.score(pd.DataFrame(values[complete].astype(int), columns=answers.columns)).sum()
    low, high = values.copy(), values.copy()
    total_low = total_high = float(base)
    evaluations = 1
    for i, missing in incomplete:
        options = _options(missing)
        rows = np.repeat(values[i : i + 1], len(options), axis=0)
        rows[:, list(missing)] = options
        scores = np.asarray(stat.score(pd.DataFrame(rows.astype(int), columns=answers.columns)), dtype=float)
        evaluations += 1
        lo, hi = int(np.argmin(scores)), int(np.argmax(scores))
        total_low += scores[lo]
        total_high += scores[hi]
        low[i], high[i] = rows[lo], rows[hi]
    n = len(values)
    bounds = Bounds(
        low=total_low / n,
        high=total_high / n,
        incomplete=len(incomplete),
        method="exact: the mean of a per-kommune score, each incomplete kommune at its own extreme",
        exact=True,
    )
    frame = lambda v: pd.DataFrame(v.astype(int), index=answers.index, columns=answers.columns)  # noqa: E731
    return BoundsResult(stat.name, bounds, frame(low), frame(high), evaluations)


class _Evaluator:
    """The statistic's value on a completion (a filled array of the answers), counting evaluations."""

    def __init__(self, stat: Statistic, panel: Panel, answers: pd.DataFrame):
        self.stat, self.index, self.columns = stat, answers.index, answers.columns
        self.covariates = panel.covariates.loc[answers.index]
        self.count = 0

    def __call__(self, filled: np.ndarray) -> float:
        self.count += 1
        frame = pd.DataFrame(filled, index=self.index, columns=self.columns)
        return float(self.stat.compute(frame, self.covariates, None).value)


def _fill(values: np.ndarray, incomplete, choice) -> np.ndarray:
    filled = values.copy()
    for (i, missing), option in zip(incomplete, choice, strict=True):
        filled[i, list(missing)] = option
    return filled


def search(
    stat: Statistic, panel: Panel, *, random_starts: int = RANDOM_STARTS, seed: int = 0, max_sweeps: int = MAX_SWEEPS
) -> BoundsResult:
    """Bounds of any statistic by coordinate search over completions (see the module's docstring).

    Starts: every missing answer = model m, for each of the five models, then ``random_starts`` random
    completions (``seed``). Per start and direction, sweeps over the incomplete kommuner (in panel
    order) until a sweep changes nothing, or ``max_sweeps``. Returns the extremes attained.
    """
    answers, incomplete = _cells(panel, stat.rounds)
    values = answers.to_numpy(dtype=float, na_value=0).astype(int)
    evaluate = _Evaluator(stat, panel, answers)
    options = [_options(missing) for _, missing in incomplete]
    rng = np.random.default_rng(seed)
    starts = [[tuple([m] * len(missing)) for _, missing in incomplete] for m in MODELS]
    starts += [[opts[rng.integers(len(opts))] for opts in options] for _ in range(random_starts)]
    found = {}
    for sign in (1.0, -1.0):  # maximise sign * value
        best_value, best_choice = -np.inf, None
        for start in starts:
            choice = list(start)
            current = sign * evaluate(_fill(values, incomplete, choice))
            for _ in range(max_sweeps):
                changed = False
                for k, opts in enumerate(options):
                    for option in opts:
                        if option == choice[k]:
                            continue
                        trial = choice.copy()
                        trial[k] = option
                        v = sign * evaluate(_fill(values, incomplete, trial))
                        if v > current + 1e-12 * max(1.0, abs(current)):
                            current, choice, changed = v, trial, True
                if not changed:
                    break
            if current > best_value:
                best_value, best_choice = current, choice
        found[sign] = (sign * best_value, best_choice)
    (high, high_choice), (low, low_choice) = found[1.0], found[-1.0]
    method = (
        f"coordinate search over completions: {len(starts)} starts, {evaluate.count} evaluations; "
        "attained values, the true bounds are at least this wide"
    )
    bounds = Bounds(low=low, high=high, incomplete=len(incomplete), method=method, exact=False)
    frame = lambda c: pd.DataFrame(_fill(values, incomplete, c), index=answers.index, columns=answers.columns)  # noqa: E731
    return BoundsResult(stat.name, bounds, frame(low_choice), frame(high_choice), evaluate.count)


def exhaustive(stat: Statistic, panel: Panel) -> BoundsResult:
    """Bounds of any statistic by computing it on every completion (exact; use for few missing answers)."""
    answers, incomplete = _cells(panel, stat.rounds)
    values = answers.to_numpy(dtype=float, na_value=0).astype(int)
    evaluate = _Evaluator(stat, panel, answers)
    low, high = (np.inf, None), (-np.inf, None)
    for choice in itertools.product(*[_options(missing) for _, missing in incomplete]):
        v = evaluate(_fill(values, incomplete, choice))
        if v < low[0]:
            low = (v, choice)
        if v > high[0]:
            high = (v, choice)
    method = f"exhaustive: the statistic on every one of its {evaluate.count} completions"
    bounds = Bounds(low=low[0], high=high[0], incomplete=len(incomplete), method=method, exact=True)
    frame = lambda c: pd.DataFrame(_fill(values, incomplete, c), index=answers.index, columns=answers.columns)  # noqa: E731
    return BoundsResult(stat.name, bounds, frame(low[1]), frame(high[1]), evaluate.count)


def completions(stat: Statistic, panel: Panel) -> int:
    """How many completions the missing answers of ``stat``'s rounds have (5 per missing answer)."""
    return len(MODELS) ** int(panel.answers[list(stat.rounds)].isna().to_numpy().sum())


def bounds(
    stat: Statistic,
    panel: Panel,
    *,
    max_completions: int = MAX_COMPLETIONS,
    random_starts: int = RANDOM_STARTS,
    seed: int = 0,
) -> BoundsResult:
    """The worst and the best case of ``stat`` over every completion of the missing answers.

    Exact for a mean of a per-kommune score; for anything else exhaustive when there are at most
    ``max_completions`` completions, otherwise :func:`search` (``random_starts``, ``seed``).
    """
    if stat.additive:
        return _additive(stat, panel)
    if completions(stat, panel) <= max_completions:
        return exhaustive(stat, panel)
    return search(stat, panel, random_starts=random_starts, seed=seed)
