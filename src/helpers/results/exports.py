"""Key results of 05_export_data: the files for Stata, SPSS, R and Excel (``05_export_data.json``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from helpers.results.base import KeyResults


@dataclass(frozen=True)
class ExportedTable:
    """One exported table, the same in every format.

    Fields: ``rows`` and ``columns`` of the table; ``synthetic``, whether any of its values is
    synthetic example data (its file names then end in ``_synthetic``); ``synthetic_variables``, the
    variables read from synthetic input (those derived from them not listed).
    """

    rows: int
    columns: int
    synthetic: bool
    synthetic_variables: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExportResults(KeyResults):
    """What notebook 05 exported, built by :func:`helpers.outputs.exports.key_results`.

    Fields:

    * ``files``: files written (every table in every format; the manifest and the dictionary not counted);
    * ``tables``: each exported table by file stem (``survey_2011_synthetic``, ``usage_panel``, ``analysis``, ...);
    * ``rounds``: the survey rounds in the analysis file, in order;
    * ``responded``: kommuner that submitted a response, per round;
    * ``panel_rows``: rows of the usage panel (library unit-years);
    * ``analysis_rows``: rows of the analysis file (kommune-rounds: the 98 kommuner in every round);
    * ``dictionary_up_to_date``: whether the committed ``docs/data_dictionary.md`` is what the code generates;
    * ``kommune_year_rows``, ``kommune_year_units``: rows and library units of the kommune x year panel;
    * ``left_out``: rounds of the config not exported, and why (their clean failed or has not run);
    * ``dropped_outcomes``: synthetic usage outcomes left out of every table (``real_only``);
    * ``real_only``: the switch that leaves synthetic usage outcomes out.
    """

    prefix = "05_export_data"

    files: int
    tables: dict[str, ExportedTable]
    rounds: tuple[int, ...]
    responded: dict[int, int]
    panel_rows: int
    analysis_rows: int
    dictionary_up_to_date: bool
    kommune_year_rows: int = 0
    kommune_year_units: int = 0
    left_out: dict[int, str] = field(default_factory=dict)
    dropped_outcomes: tuple[str, ...] = ()
    real_only: bool = False
