"""Notebook 04's estimation sample, taken from the exported kommune x year panel with the filter the data
dictionary states (helpers.outputs.dictionary, "Variables: kommune_year"): what a researcher in Stata or R does."""

from __future__ import annotations

import pandas as pd


def estimation_sample(df: pd.DataFrame, meta, suffix: str) -> pd.DataFrame:
    """The rows of ``df`` (read with pyreadstat, value labels in ``meta``) in notebook 04's sample with its
    defaults under the treatment of ``suffix``: never treated, adopter or censored (not a censored unit's years
    after ``untreated_until``), population known, no reporting failure, positive loans."""
    adoption = {v.split(":")[0]: k for k, v in meta.variable_value_labels[f"adoption_{suffix}"].items()}
    flag = {v.split(":")[0]: k for k, v in meta.variable_value_labels["quality_flag"].items()}
    until = df[f"untreated_until_{suffix}"]
    return df[
        df[f"adoption_{suffix}"].isin([adoption["never treated"], adoption["adopter"], adoption["censored"]])
        & ~((until > 0) & (df["year"] > until))
        & df["has_population"].eq(1)
        & df["quality_flag"].ne(flag["reporting_failure"])
        & df["loans"].gt(0)
    ]
