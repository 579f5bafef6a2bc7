"""Survey exports -> one clean table per round (see docs/survey_exports.md).

Everything round-specific lives in ``config/codebooks/<round>.yaml`` and ``config/aliases.yaml``;
this package only knows the canonical variables. Its parts:

* :mod:`.formats`: detecting and reading CSV/TSV (any usual encoding), XLSX, XLS, ODS, .sav, .dta;
* :mod:`.codebooks`: reading codebooks and validating them against a typed model (pydantic);
* :mod:`.names`: kommune names and codes -> kommunekode, with close-match suggestions;
* :mod:`.cleaning`: cell values, duplicates, floods, the fieldwork window;
* :mod:`.privacy`: personal data dropped and free text redacted;
* :mod:`.table`: :func:`clean`, :func:`clean_to_files`, :func:`load_clean`, the model table and the
  notebook's typed key results (:func:`key_results`, :class:`helpers.results.survey.CleanSurveyResults`).
"""

from __future__ import annotations

from .codebooks import (  # noqa: F401
    CANONICAL,
    MAPPED,
    ROLES,
    TASKS,
    YES_NO,
    Codebook,
    CodebookSpec,
    ColumnSpec,
    available_codebooks,
    check_model_order,
    load_codebook,
    validate_codebook,
)
from .formats import FORMATS, HEADER_SEARCH_ROWS  # noqa: F401
from .names import Resolver, aliases_path, name_key, resolver  # noqa: F401
from .privacy import PERSONAL_HINTS, redact  # noqa: F401
from .table import (  # noqa: F401
    LOG_COLUMNS,
    Written,
    clean,
    clean_schema,
    clean_to_files,
    discard_outputs,
    for_display,
    is_synthetic,
    key_results,
    load_clean,
    load_log,
    log_summary,
    model_table,
    output_paths,
    resolve_input,
    response,
    round_outputs,
    set_model_order,
    spreadsheet_safe,
)
