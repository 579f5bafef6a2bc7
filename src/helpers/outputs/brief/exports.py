"""Results in brief of 05_export_data: the files for Stata, SPSS, R and Excel."""

from __future__ import annotations

from helpers.outputs.brief.registry import writes
from helpers.results import Document
from helpers.results.exports import ExportResults


def _names(items) -> str:
    items = list(items)
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else "".join(items)


@writes("05_export_data")
def write(doc: Document) -> list[str]:
    r: ExportResults = doc.results
    rounds = r.rounds
    responded = ", ".join(f"{n} in {y}" for y, n in r.responded.items())
    parts = [
        f"the {len(rounds)} survey rounds ({', '.join(map(str, rounds))})",
        f"the usage panel ({r.panel_rows:,} library unit-years)",
        f"the analysis file ({r.analysis_rows:,} kommune-rounds; responses: {responded})",
    ]
    if r.kommune_year_rows:
        parts.append(
            f"the kommune-year panel ({r.kommune_year_rows:,} unit-years of {r.kommune_year_units} library units, "
            "with notebook 04's adoption timing under every treatment)"
        )
    out = [
        f"{r.files} files: {_names(parts)}, each as CSV, Excel CSV, Stata, SPSS and parquet, with the codebooks' "
        "value labels and each variable's provenance (real, synthetic or derived) as a note.",
    ]
    for year, why in r.left_out.items():
        out.append(f"Round {year} is not exported ({why.split(':')[0]}); the files hold the other rounds without it.")
    real = [stem for stem, t in r.tables.items() if not t.synthetic]
    synthetic = [stem for stem, t in r.tables.items() if t.synthetic]
    if real:
        out.append(f"Real data only: {_names(real)}.")
    if synthetic:
        out.append(f"With synthetic values, and named so: {_names(synthetic)}.")
    if r.real_only:
        dropped = _names(o.replace("_", " ") for o in r.dropped_outcomes)
        out.append(
            f"Real-only exports: the synthetic usage outcomes ({dropped}) are left out."
            if r.dropped_outcomes
            else "Real-only exports: no usage outcome came from a synthetic source."
        )
    out.append(
        "The data dictionary matches the codebooks and schemas."
        if r.dictionary_up_to_date
        else "The committed data dictionary is stale: run `borgerservice export --dictionary` and commit it."
    )
    return out
