"""Results in brief of 01_usage_panel: the real loans series and the panel."""

from __future__ import annotations

from helpers.outputs.brief.registry import writes
from helpers.results import Document
from helpers.results.usage import UsageResults


@writes("01_usage_panel")
def write(doc: Document) -> list[str]:
    r: UsageResults = doc.results
    loans = r.real_national_loans_million
    first, last = min(loans), max(loans)
    pre = max(y for y in loans if y < 2020) if any(y < 2020 for y in loans) else last
    out = [
        f"Physical library loans in Denmark fell from {loans[first]:.1f} million in {first} to {loans[pre]:.1f} "
        f"million in {pre} ({(loans[pre] / loans[first] - 1) * 100:+.0f} %), and were {loans[last]:.1f} million in "
        f"{last} after the COVID-19 closures "
        "(real data, Statistics Denmark; the notebook's loans source does not change this series).",
        f"The median kommune's loans per inhabitant changed by {r.real_median_change_pct:+.1f} % over "
        f"{r.change_year_a}-{r.change_year_b}, leaving out values flagged as suspicious; {r.flagged_unit_years} "
        "unit-years of the panel carry such a flag.",
        f"The panel has {r.rows:,} rows for {r.units} library units.",
    ]
    if r.synthetic_outcomes:
        out.append(
            "Its "
            + ", ".join(o.replace("_", " ") for o in r.synthetic_outcomes)
            + " are synthetic example data, not measurements."
        )
    return out
