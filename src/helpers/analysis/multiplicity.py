"""Families of tests and their adjusted p-values: Holm (familywise error) and Benjamini-Hochberg (FDR).

A *family* is the set of tests a reader looks at together and would single one out of: the paired
tests of one pair of survey rounds (notebook 02), the terms of one model in one round (03), the
event times of one event study (04). Each family is named in words where it is defined, and every
table that shows several of its tests shows the raw and both adjusted p-values side by side.

The adjustments are statsmodels' ``multipletests`` (``"holm"`` and ``"fdr_bh"``), which equal R's
``p.adjust(p, "holm")`` and ``p.adjust(p, "BH")``. Tests without a p-value (NaN, e.g. a reference
period) are not members of the family: they keep NaN and do not count in its size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.core import lazy

multitest = lazy.module("statsmodels.stats.multitest")  # statsmodels costs ~0.5 s to import: at first use

ADJUSTMENTS = {
    "p_holm": "Holm (familywise error rate; R p.adjust 'holm')",
    "p_bh": "Benjamini-Hochberg (false discovery rate; R p.adjust 'BH')",
}


@dataclass(frozen=True)
class Family:
    """One family of tests with its adjusted p-values.

    ``name`` says in words which tests belong together; ``table`` has one row per test (index: the
    test's name) and the columns ``p`` (raw), ``p_holm`` and ``p_bh``; ``size`` counts the tests with
    a p-value (the m of the adjustment).
    """

    name: str
    table: pd.DataFrame
    size: int

    def adjusted(self, test) -> tuple[float, float, float]:
        """(raw, Holm, BH) p-values of one test of the family."""
        row = self.table.loc[test]
        return float(row["p"]), float(row["p_holm"]), float(row["p_bh"])


def adjust(pvalues: Mapping | pd.Series, name: str) -> Family:
    """Holm and Benjamini-Hochberg adjusted p-values of one family; NaN p-values stay NaN and don't count."""
    p = pd.Series(pvalues, dtype="float64")
    if ((p < 0) | (p > 1)).any():
        raise ValueError(f"family {name!r}: p-values outside [0, 1]: {p[(p < 0) | (p > 1)].to_dict()}")
    table = pd.DataFrame({"p": p, "p_holm": np.nan, "p_bh": np.nan}, index=p.index)
    ok = p.notna().to_numpy()
    if ok.any():
        table.loc[ok, "p_holm"] = multitest.multipletests(p[ok].to_numpy(), method="holm")[1]
        table.loc[ok, "p_bh"] = multitest.multipletests(p[ok].to_numpy(), method="fdr_bh")[1]
    return Family(name=name, table=table, size=int(ok.sum()))
