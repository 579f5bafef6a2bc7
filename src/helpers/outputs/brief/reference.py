"""Results in brief of 00_reference: the study units and their population."""

from __future__ import annotations

from helpers.outputs.brief.registry import writes
from helpers.results import Document
from helpers.results.reference import ReferenceResults


@writes("00_reference")
def write(doc: Document) -> list[str]:
    r: ReferenceResults = doc.results
    regions = r.kommuner_per_region
    small, large = min(regions, key=regions.get), max(regions, key=regions.get)
    diff = r.population_national_dst - r.population_sum_of_kommuner
    return [
        f"The study units are the {r.n_kommuner} kommuner of the 2007 reform in {len(regions)} regions, from "
        f"{regions[small]} in {small} to {regions[large]} in {large}.",
        f"On 1 January {r.year} they had {r.population_sum_of_kommuner:,} inhabitants; Statistics Denmark's national "
        f"figure is {r.population_national_dst:,}, {diff:,} more, the people who live outside any kommune "
        "(Christiansø).",
    ]
