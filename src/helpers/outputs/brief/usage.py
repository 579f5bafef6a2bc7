"""Results in brief of 01_usage_panel: the real loans series and the panel."""

from __future__ import annotations

from helpers.outputs.brief.registry import writes


@writes("01_usage_panel")
def write(doc) -> list[str]:
    r = doc["results"]
    loans = {int(y): v for y, v in r["real_national_loans_million"].items()}
    first, last = min(loans), max(loans)
    pre = max(y for y in loans if y < 2020) if any(y < 2020 for y in loans) else last
    ((period, median),) = r["real_median_change_pct"].items()
    out = [
        f"Physical library loans in Denmark fell from {loans[first]:.1f} million in {first} to {loans[pre]:.1f} "
        f"million in {pre} "
        f"({(loans[pre] / loans[first] - 1) * 100:+.0f} %), and were {loans[last]:.1f} million in {last} after the "
        "COVID-19 closures "
        "(real data, Statistics Denmark; the notebook's loans source does not change this series).",
        f"The median kommune's loans per inhabitant changed by {median:+.1f} % over {period}, leaving out values "
        "flagged as "
        f"suspicious; {r['flagged_unit_years']} unit-years of the panel carry such a flag.",
        f"The panel has {r['rows']:,} rows for {r['units']} library units.",
    ]
    if r.get("synthetic_outcomes"):
        out.append(
            "Its "
            + ", ".join(o.replace("_", " ") for o in r["synthetic_outcomes"])
            + " are synthetic example data, not measurements."
        )
    return out
