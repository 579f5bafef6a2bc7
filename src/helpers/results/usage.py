"""Key results of 01_usage_panel: the usage panel and the real loans series (``01_usage_panel.json``)."""

from __future__ import annotations

from dataclasses import dataclass

from helpers.core.vocabulary import UsageOutcome
from helpers.results.base import KeyResults


@dataclass(frozen=True)
class UsageResults(KeyResults):
    """The usage panel a run built, and the real national and per-kommune loans beside it.

    Fields:

    * ``rows``, ``units``: rows of the panel, and its library units (97: Fanø is served by Esbjerg);
    * ``sources``: per outcome, the source as the panel labels it (``usage.SOURCE_LABELS``);
    * ``synthetic_outcomes``: the outcomes that come from synthetic example data, in panel order;
    * ``flagged_unit_years``: unit-years whose real loans are flagged as suspicious (``usage.QUALITY_FLAGS``);
    * ``real_national_loans_million``: per year, the real national loans in millions (sum of the units,
      2 decimals; only years with a population);
    * ``change_year_a``, ``change_year_b``: the two years of the real loans change map;
    * ``real_median_change_pct``: the median kommune's change in real loans per inhabitant between them, in
      per cent (1 decimal), leaving out flagged values.
    """

    prefix = "01_usage_panel"

    rows: int
    units: int
    sources: dict[UsageOutcome, str]
    synthetic_outcomes: tuple[UsageOutcome, ...]
    flagged_unit_years: int
    real_national_loans_million: dict[int, float]
    change_year_a: int
    change_year_b: int
    real_median_change_pct: float
