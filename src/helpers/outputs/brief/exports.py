"""Results in brief of 05_export_data: the files for Stata, SPSS, R and Excel."""

from __future__ import annotations

from helpers.outputs.brief.registry import writes
from helpers.results import Document
from helpers.results.exports import ExportResults


@writes("05_export_data")
def write(doc: Document) -> list[str]:
    r: ExportResults = doc.results
    rounds = r.rounds
    responded = ", ".join(f"{n} in {y}" for y, n in r.responded.items())
    out = [
        f"{r.files} files: the {len(rounds)} survey rounds ({', '.join(map(str, rounds))}), the usage panel "
        f"({r.panel_rows:,} library unit-years) and the analysis file ({r.analysis_rows:,} kommune-rounds; "
        f"responses: {responded}), each as CSV, Excel CSV, Stata, SPSS and parquet, with the codebooks' value labels.",
        "The data dictionary matches the codebooks and schemas."
        if r.dictionary_up_to_date
        else "The committed data dictionary is stale: run `borgerservice export --dictionary` and commit it.",
    ]
    return out
