"""Key results of 05_export_data: the files for Stata, SPSS, R and Excel (``05_export_data.json``)."""

from __future__ import annotations

from dataclasses import dataclass

from helpers.results.base import KeyResults


@dataclass(frozen=True)
class ExportedTable:
    """One exported table, the same in every format.

    Fields: ``rows`` and ``columns`` of the table; ``synthetic``, whether any of its values is
    synthetic example data (its file names then end in ``_synthetic``).
    """

    rows: int
    columns: int
    synthetic: bool


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
    * ``dictionary_up_to_date``: whether the committed ``docs/data_dictionary.md`` is what the code generates.
    """

    prefix = "05_export_data"

    files: int
    tables: dict[str, ExportedTable]
    rounds: tuple[int, ...]
    responded: dict[int, int]
    panel_rows: int
    analysis_rows: int
    dictionary_up_to_date: bool
