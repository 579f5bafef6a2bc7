"""Run a pandera schema and turn its failures into a DataError naming file, row and column."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from helpers.core import lazy
from helpers.core.errors import DataError, Problem

if TYPE_CHECKING:
    import pandera.pandas as pa

errors = lazy.module("pandera.errors")  # pandera costs ~0.2 s to import: at the first validation


def validate(df: pd.DataFrame, schema: pa.DataFrameSchema, file, row_offset: int = 0) -> pd.DataFrame:
    """Validate ``df`` lazily (all problems at once) and return the validated frame.

    ``row_offset`` converts the frame's 0-based index to the row a person sees in ``file``
    (for a CSV with one header line, 2).
    """
    try:
        return schema.validate(df, lazy=True)
    except errors.SchemaErrors as exc:
        problems = []
        for rec in exc.failure_cases.to_dict("records"):
            index = rec.get("index")
            row = (
                None
                if index is None or pd.isna(index)
                else (int(index) + row_offset if isinstance(index, (int, float)) else index)
            )
            column = rec.get("column")
            check = str(rec.get("check"))
            problems.append(
                Problem(
                    message=f"fails check {check}",
                    row=row,
                    column=None if column is None or (isinstance(column, float) and pd.isna(column)) else str(column),
                    value=rec.get("failure_case"),
                    accepted=_describe(schema, column, check),
                )
            )
        raise DataError(file, problems) from None


def _describe(schema: pa.DataFrameSchema, column, check: str) -> str | None:
    col = schema.columns.get(column) if isinstance(column, str) else None
    if col is None:
        return None
    parts = []
    if col.dtype is not None:
        parts.append(f"type {col.dtype}")
    for c in col.checks:
        parts.append(str(c))
    if not col.nullable:
        parts.append("no missing values")
    if col.unique:
        parts.append("unique values")
    return ", ".join(parts) or None
