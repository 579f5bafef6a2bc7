"""The estimators for many simulated panels at once, written with numpy.

:func:`cs_event_arrays` is Callaway & Sant'Anna's event study (as ``csdid``, outcome regression
without covariates, universal base period, analytic influence-function standard errors) for ``R``
balanced panels in one pass; tests/test_adoption.py checks it equals ``csdid`` to 1e-10. It is
hand-written because the coverage simulation needs hundreds of fits and 500 ``csdid`` fits take
minutes; nothing else here is. :func:`twfe_static_arrays` is the OLS two-way within estimator of a
treatment dummy (the textbook demonstration of TWFE's bias with heterogeneous effects).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .estimators import DEFAULT_WINDOW


def cs_event_arrays(
    Y: np.ndarray,
    g: np.ndarray,
    years: Sequence[int],
    *,
    control_group: str = "notyettreated",
    anticipation: int = 0,
    window=DEFAULT_WINDOW,
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Callaway & Sant'Anna event-time effects and standard errors for ``R`` balanced panels at once.

    ``Y``: (R, n, T) outcomes, ``g``: (n,) first treated year (0 never), ``years``: the T calendar years.
    Universal base period, no covariates (outcome regression = difference in mean changes), cohort-size
    weights with the weight-estimation term of the influence function, as csdid/did's ``aggte``.
    Returns {event_time: (estimate (R,), se (R,))}; the reference period is left out.
    """
    Y = np.asarray(Y, float)
    R, n, T = Y.shape
    years = list(years)
    g = np.asarray(g)
    groups = sorted(int(x) for x in set(g.tolist()) if x > 0 and any(y + anticipation < x for y in years))
    pg = {gg: float(np.mean(g == gg)) for gg in groups}
    cells = {}
    for gg in groups:
        b = max(i for i, y in enumerate(years) if y + anticipation < gg)
        for ti, t in enumerate(years):
            if ti == b:
                continue
            treat = g == gg
            if control_group == "nevertreated":
                ctrl = g == 0
            else:
                ctrl = (g == 0) | ((g > max(t, years[b]) + anticipation) & (g != gg))
            if not ctrl.any():
                continue
            d = Y[:, :, ti] - Y[:, :, b]
            n1 = treat.sum() + ctrl.sum()
            p1, p0 = treat.sum() / n1, ctrl.sum() / n1
            m1 = d[:, treat].mean(axis=1)
            m0 = d[:, ctrl].mean(axis=1)
            inf = np.zeros((R, n))
            inf[:, treat] = (d[:, treat] - m1[:, None]) / p1
            inf[:, ctrl] = -(d[:, ctrl] - m0[:, None]) / p0
            cells[(gg, t)] = (m1 - m0, inf * (n / n1))
    out = {}
    for e in range(int(window[0]), int(window[1]) + 1):
        keep = [(gg, t) for (gg, t) in cells if t - gg == e]
        if not keep:
            continue
        p = np.array([pg[gg] for gg, _ in keep])
        w = p / p.sum()
        att = np.stack([cells[c][0] for c in keep], axis=1)  # (R, k)
        infs = np.stack([cells[c][1] for c in keep], axis=2)  # (R, n, k)
        est = att @ w
        ind = np.stack([(g == gg).astype(float) for gg, _ in keep], axis=1)  # (n, k)
        if1 = (ind - p) / p.sum()
        if2 = (ind - p).sum(axis=1, keepdims=True) * (p / p.sum() ** 2)
        wif = if1 - if2  # (n, k)
        psi = infs @ w + att @ wif.T  # (R, n)
        se = np.sqrt((psi**2).mean(axis=1) / n)
        out[e] = (est, se)
    return out


def twfe_static_arrays(Y: np.ndarray, D: np.ndarray) -> np.ndarray:
    """OLS two-way fixed-effects coefficient of a treatment dummy ``D`` (n, T) for R balanced panels ``Y`` (R, n, T)."""
    Y = np.asarray(Y, float)
    D = np.asarray(D, float)

    def within(a):
        return (
            a - a.mean(axis=-1, keepdims=True) - a.mean(axis=-2, keepdims=True) + a.mean(axis=(-1, -2), keepdims=True)
        )

    Dt = within(D)
    return (within(Y) * Dt).sum(axis=(1, 2)) / (Dt**2).sum()
