"""Spillovers between neighbours (SUTVA): does adoption cluster in space, and do neighbours as controls matter?

The estimators assume that one kommune's cooperation does not change loans in the others. Library
users borrow across borders, and neighbouring kommuner may copy each other; a comparison kommune
bordering an adopter may then be partly "treated" itself. Two checks, both on the library units'
land borders (DAGI 2014 boundaries, Fanø folded into Esbjerg; queen contiguity with ``libpysal``:
units sharing a border point are neighbours; the island kommuner have none):

* :func:`clustering` — whether adoption timing clusters in space (``esda``): the join count of
  kommuner already cooperating at the second round (black-black joins: neighbours that both
  adopted early, against random placement of the same number) and Moran's I of the round at
  which each kommune was first reported treated; permutation p-values (seeded).
* :func:`neighbour_controls_dropped` — the estimates again without the comparison kommuner that
  border a kommune adopting in the same year or earlier (every adopter's neighbour that is never
  treated, and every later adopter bordering an earlier one).

What they cannot rule out: spillovers beyond the first ring of neighbours, or through channels other
than shared borders (commuting to a city's library, national campaigns); and clustering says
neighbours adopt together, not that loans spill over.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.results.adoption import ClusteringTests

from .estimators import EstimationSpec, fit_cs, fit_twfe_static
from .panel import AdoptionPanel


def contiguity():
    """Queen contiguity of the 97 library units (``libpysal.weights.W``, ids = kommunekode; Fanø in Esbjerg)."""
    import libpysal

    from helpers.data import reference

    b = reference.load_boundaries(with_attributes=False)
    b["unit"] = b["kommunekode"].replace({563: 561})
    units = b.dissolve("unit").reset_index()
    with contextlib.redirect_stderr(None), _quiet():
        return libpysal.weights.Queen.from_dataframe(units, ids=units["unit"].tolist(), use_index=False)


def _esda():
    """esda, imported without the warning its import of ``tqdm.auto`` prints in a kernel without ipywidgets
    (it names the file in site-packages, an absolute path, in the executed notebook)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import esda
    return esda


@contextlib.contextmanager
def _quiet():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextlib.contextmanager
def _seeded(seed: int):
    """esda draws its permutations from numpy's global state: seed it for the call and restore it after."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


@dataclass(frozen=True)
class Clustering(ClusteringTests):
    """Spatial clustering of adoption.

    Fields:
        early_round: the round at which "cooperating" is counted for the join count.
        early: kommuner cooperating at that round, of ``answered`` (answered it, not islands).
        bb_joins: neighbour pairs both cooperating; ``bb_expected`` under random placement; ``p_bb`` the
            one-sided permutation p-value (as many or more joins).
        moran_i: Moran's I of the first treated round (never treated coded as the round after the last);
            ``moran_expected`` = -1/(n-1); ``p_moran`` the two-sided permutation p-value.
        units: kommuner with a first treated round (or never treated) and at least one neighbour.
        permutations, seed: of both permutation tests.
    """

    units: int
    permutations: int
    seed: int


def clustering(panel: AdoptionPanel, w=None, *, permutations: int = 999, seed: int = 1) -> Clustering:
    """Join count of the kommuner cooperating at the panel's second round, and Moran's I of the first treated round,
    over the library units with an answer (libpysal contiguity; esda; seeded permutations)."""
    import libpysal

    esda = _esda()

    w = contiguity() if w is None else w
    models = panel.models[list(panel.spec.used_rounds)]
    rounds = list(models.columns)
    second = rounds[1]
    t = panel.timing
    first = t["first_treated_round"].astype("Float64")
    never = t["category"].isin(["never treated"])
    known = first.notna() | never
    value = first.fillna(rounds[-1] + (rounds[-1] - rounds[-2])).where(known)
    has_neighbours = pd.Series({k: len(w.neighbors[k]) > 0 for k in w.id_order})
    # join count: kommuner that answered the second round (status there observed), not islands
    status = t["history"].str.extract(rf"{second}:(\S+)")[0]
    answered = status.ne("-") & status.notna() & has_neighbours.reindex(t.index).fillna(False).astype(bool)
    treated_there = first.le(second).fillna(False).astype(bool) & answered
    ids = [k for k in w.id_order if answered.get(k, False)]
    sub = libpysal.weights.w_subset(w, ids, silence_warnings=True)
    sub.transform = "b"
    y = treated_there.reindex(ids).astype(int).to_numpy()
    with _quiet(), _seeded(seed):
        jc = esda.Join_Counts(y, sub, permutations=permutations)
    ids_m = [k for k in w.id_order if bool(pd.notna(value.get(k))) and has_neighbours[k]]
    sub_m = libpysal.weights.w_subset(w, ids_m, silence_warnings=True)
    with _quiet(), _seeded(seed):
        mi = esda.Moran(value.reindex(ids_m).astype(float).to_numpy(), sub_m, permutations=permutations)
    return Clustering(
        early_round=int(second),
        early=int(y.sum()),
        answered=len(ids),
        bb_joins=float(jc.bb),
        bb_expected=float(jc.mean_bb),
        p_bb=float(jc.p_sim_bb),
        moran_i=float(mi.I),
        moran_expected=float(mi.EI),
        p_moran=float(mi.p_sim),
        units=len(ids_m),
        permutations=int(permutations),
        seed=int(seed),
    )


@dataclass(frozen=True, eq=False)
class NeighbourSensitivity:
    """The estimates without comparison kommuner that border an adopter of the same year or earlier.

    Fields:
        dropped: the kommuner left out (kommunekode), with ``why`` per kommune.
        table: one row per sample ("as specified", "neighbour controls dropped"): units, never_treated,
            overall (the headline average of event times 0 to the window's end) with overall_low/overall_high,
            twfe_static with twfe_low/twfe_high (95 %), note (why a row could not be estimated).
    """

    dropped: pd.Series = field(repr=False)
    table: pd.DataFrame = field(repr=False)


def contaminated(panel: AdoptionPanel, w=None) -> pd.Series:
    """The comparison kommuner that border an adopter of the same year or earlier, with the reason: a never-treated
    kommune bordering any adopter (the always treated included), or an adopter bordering one adopting earlier."""
    w = contiguity() if w is None else w
    t = panel.timing
    treated = t[t["category"].isin(["adopter", "always treated", "start unknown"])]
    g = treated["g_round"].where(treated["g_round"] > 0)
    out = {}
    for k in panel.sample["kommunekode"].unique():
        k = int(k)
        own = int(panel.sample.loc[panel.sample["kommunekode"] == k, "g"].iloc[0])
        earlier = [
            int(n) for n in w.neighbors.get(k, []) if n in g.index and (own == 0 or (pd.notna(g[n]) and g[n] < own))
        ]
        if earlier:
            who = "never treated" if own == 0 else f"first treated {own}"
            out[k] = f"{who}; borders {', '.join(map(str, sorted(earlier)))} (adopting earlier)"
    return pd.Series(out, name="why", dtype="object").rename_axis("kommunekode")


def neighbour_controls_dropped(panel: AdoptionPanel, spec: EstimationSpec, w=None) -> NeighbourSensitivity:
    """The headline (Callaway & Sant'Anna average of event times 0 to the window's end) and the static TWFE effect
    with and without the :func:`contaminated` comparison kommuner."""
    from helpers.core.errors import DataError

    dropped = contaminated(panel, w)
    rows = {}
    for name, sample in (
        ("as specified", panel.sample),
        ("neighbour controls dropped", panel.sample[~panel.sample["kommunekode"].isin(dropped.index)]),
    ):
        row = {
            "units": int(sample["kommunekode"].nunique()),
            "never_treated": int(sample.loc[sample["category"] == "never treated", "kommunekode"].nunique()),
        }
        try:
            cs = fit_cs(sample, spec.control_group, spec.anticipation, spec.window, draws=spec.draws, seed=spec.seed)
            o = cs.overall
            row |= {"overall": o.estimate, "overall_low": o.low, "overall_high": o.high, "interval": o.interval}
            st = fit_twfe_static(sample, spec.anticipation)
            row |= {"twfe_static": st.estimate, "twfe_low": st.low, "twfe_high": st.high, "note": ""}
        except (DataError, ValueError, np.linalg.LinAlgError) as exc:
            row |= {"note": f"not estimable: {exc}"}
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("sample")
    return NeighbourSensitivity(dropped, table)


@dataclass(frozen=True, eq=False)
class Spillovers:
    """Both spillover checks of one panel: ``clustering`` (:class:`Clustering`) and ``neighbours``
    (:class:`NeighbourSensitivity`)."""

    clustering: Clustering
    neighbours: NeighbourSensitivity

    def summary(self) -> str:
        """The clustering tests in one sentence."""
        c = self.clustering
        return (
            f"Join count: {c.bb_joins:.0f} pairs of neighbours both cooperating at {c.early_round} against "
            f"{c.bb_expected:.1f} expected at random ({c.early} of {c.answered} kommuner; one-sided permutation "
            f"p = {c.p_bb:.3f}); Moran's I of the first treated round {c.moran_i:.3f} against {c.moran_expected:.3f} "
            f"(p = {c.p_moran:.3f}; {c.permutations} permutations, seed {c.seed}). {len(self.neighbours.dropped)} "
            "comparison kommuner border an earlier adopter."
        )


def spillovers(panel: AdoptionPanel, spec: EstimationSpec) -> Spillovers:
    """:func:`clustering` and :func:`neighbour_controls_dropped` on one contiguity (seeded with ``spec.seed``)."""
    w = contiguity()
    return Spillovers(clustering(panel, w, seed=spec.seed), neighbour_controls_dropped(panel, spec, w))
