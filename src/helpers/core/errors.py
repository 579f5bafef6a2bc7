"""One error type for bad input data, with the details a researcher needs to fix it."""

from __future__ import annotations

import os
from dataclasses import dataclass

from helpers.core import paths


@dataclass
class Problem:
    """One problem in one place of one file."""

    message: str
    row: int | str | None = None  # 1-based line/row in the file as a person sees it
    column: str | None = None
    value: object = None
    accepted: str | None = None  # what would have been accepted

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        text = (", ".join(where) + ": " if where else "") + self.message
        if self.value is not None:
            text += f" (found {self.value!r})"
        if self.accepted:
            text += f"; accepted: {self.accepted}"
        return text


class DataError(ValueError):
    """Input data that cannot be used as it is. Names the file, and each problem's row and column."""

    def __init__(self, file, problems: list[Problem] | Problem | str):
        if isinstance(problems, (str, Problem)):
            problems = [problems if isinstance(problems, Problem) else Problem(problems)]
        # Shown to users: a path inside the project is printed relative to it (no machine path).
        self.file = paths.relative(file) if os.path.isabs(str(file)) else str(file)
        self.problems = problems
        shown = problems[:20]
        lines = [f"{self.file}: {len(problems)} problem(s)"] + [f"  - {p}" for p in shown]
        if len(problems) > len(shown):
            lines.append(f"  ... and {len(problems) - len(shown)} more")
        super().__init__("\n".join(lines))


class NotCovered(DataError):
    """The data do not cover what was asked for: a year outside a source's years (the synthetic visits end in
    2015; a round's usage year the series does not reach). Not a defect of the data: the pipeline records a run
    that raises it as "not covered", skipped with this message as the reason, and goes on; it is not a failure."""
