"""The true (synthetic) cooperation model of every kommune in each survey round.

Both the synthetic survey exports and the synthetic usage panel read this one assignment,
so the usage panel's built-in effect of cooperation refers to the same kommuner that the
survey exports place in each model.

Codes follow the 2011 legend: 1 "Den spæde start", 2 "Vi flytter sammen", 3 "Vi arbejder
sammen", 4 "Vi er borgernes fælles indgang", 5 no cooperation, and 0 for a kommune that did not
answer. ``model_true`` (1-5) is what the kommune "really" did; ``model_reported`` is what the
survey recorded (0 where it did not answer).

ASSUMPTIONS (counts per model were never published; only the totals below are real):

========  ======================================================  ===========================
round     published figure                                        assumed split (of 98)
========  ======================================================  ===========================
2009      fewer than half cooperated (seed article)               8 no answer; of the 98 true
                                                                   models: 1:12 2:14 3:9 4:5 = 40
                                                                   cooperating, 5 (none): 58
2011      61 of 98 report cooperation; about 86 answered      12 no answer (so 86 answer);
          the strategy item (seed article)                        REPORTED 1:17 2:19 3:16 4:9 = 61;
                                                                   5: 25 (the true models of the
                                                                   12 silent follow their readiness)
2014      90 of 98 cooperate, 8.2 % none, library staff do the    no non-response assumed;
          tasks in about half (DB report, March 2015)             1:14 2:28 3:30 4:18 = 90
                                                                   (3+4 = 48, 49 %); 5: 8
========  ======================================================  ===========================

Kommuner are ranked on a latent "readiness" score (larger, urban and merged kommuner a little
more ready) that persists between rounds with noise; the top of the ranking gets the highest
model. Non-respondents are drawn at random.

2009 and 2014 give ``counts``: true counts over all 98 (the 2009 export shows fewer cooperating,
by the cooperating kommuner that did not answer; 2014 has no non-response). 2011 gives
``reported_counts`` instead, because the published "61 of 98" counts the kommuner that *reported*
cooperation in the 2011 survey: the 86 respondents are ranked among themselves and take exactly
these counts, so the 2011 export shows 61 answering with models 1-4; each of the 12
non-respondents takes the true model of the respondent nearest to it in readiness (so the true
number cooperating in 2011 is 61 plus the cooperating silent ones, unknown to the survey).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from helpers.core.cooperation import DEFAULT_ORDERING
from helpers.data import reference

from . import SEED

TARGETS: dict[int, dict] = {
    2009: {"counts": {5: 58, 1: 12, 2: 14, 3: 9, 4: 5}, "non_response": 8},
    2011: {"reported_counts": {5: 25, 1: 17, 2: 19, 3: 16, 4: 9}, "non_response": 12},
    2014: {"counts": {5: 8, 1: 14, 2: 28, 3: 30, 4: 18}, "non_response": 0},
}
# Readiness: weights of the covariates and the persistence of the latent score between rounds.
READINESS = {"log_population": 0.5, "urban_group": 0.4, "merged_2007": 0.3, "noise_sd": 1.0, "persistence": 0.85}


def _latent(rounds: list[int], seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    m = reference.load_municipalities().sort_values("kommunekode").reset_index(drop=True)
    lp = np.log(m["population_2009"]).to_numpy()
    base = (
        READINESS["log_population"] * (lp - lp.mean()) / lp.std()
        + READINESS["urban_group"] * m["kommunegruppe"].isin([1, 2, 3]).to_numpy()
        + READINESS["merged_2007"] * m["merged_2007"].to_numpy()
    )
    z = base + rng.normal(0, READINESS["noise_sd"], len(m))
    out = {}
    rho = READINESS["persistence"]
    for year in sorted(rounds):
        out[year] = z.copy()
        z = rho * z + (1 - rho) * base + rng.normal(0, READINESS["noise_sd"] * np.sqrt(1 - rho**2), len(m))
    return pd.DataFrame(out, index=pd.Index(m["kommunekode"], name="kommunekode"))


def _assign(score: pd.Series, counts: dict[int, int]) -> pd.Series:
    if sum(counts.values()) != len(score):
        raise ValueError(f"model counts {counts} do not add up to {len(score)} kommuner")
    order = score.sort_values(kind="stable").index
    labels = np.concatenate([[model] * counts[model] for model in DEFAULT_ORDERING])  # lowest level first
    return pd.Series(labels, index=order).reindex(score.index)


def _assign_reported(score: pd.Series, counts: dict[int, int], silent) -> pd.Series:
    """Respondents take exactly ``counts`` by rank; each silent kommune the model of the respondent nearest in score."""
    answering = score[~score.index.isin(silent)]
    models = _assign(answering, counts)
    out = models.reindex(score.index)
    for k in silent:
        nearest = (answering - score[k]).abs().idxmin()
        out[k] = models[nearest]
    return out.astype(int)


@lru_cache(maxsize=8)
def _truth(rounds: tuple[int, ...], seed: int) -> pd.DataFrame:
    unknown = set(rounds) - TARGETS.keys()
    if unknown:
        raise ValueError(f"no synthetic targets for {sorted(unknown)}; accepted rounds: {sorted(TARGETS)}")
    latent = _latent(list(rounds), seed)
    rng = np.random.default_rng(seed + 1)
    frames = []
    for year in rounds:
        t = TARGETS[year]
        score = latent[year]
        silent = rng.choice(score.index.to_numpy(), size=t["non_response"], replace=False)
        if "reported_counts" in t:
            true = _assign_reported(score, t["reported_counts"], silent)
        else:
            true = _assign(score, t["counts"])
        reported = true.where(~true.index.isin(silent), 0)
        frames.append(
            pd.DataFrame({"year": year, "model_true": true, "model_reported": reported, "answered": reported != 0})
        )
    return pd.concat(frames).reset_index()


def true_models(rounds=(2009, 2011, 2014), seed: int = SEED) -> pd.DataFrame:
    """One row per kommune and round: kommunekode, year, model_true (1-5), model_reported (0-5), answered."""
    return _truth(tuple(sorted(rounds)), seed).copy()
