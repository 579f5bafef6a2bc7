"""Key results of 00_reference: the study units and their population (``00_reference.json``)."""

from __future__ import annotations

from dataclasses import dataclass

from helpers.results.base import KeyResults


@dataclass(frozen=True)
class ReferenceResults(KeyResults):
    """The 98 kommuner of the 2007 reform and their population on 1 January of ``year``.

    Fields:

    * ``year``: the population year (1 January);
    * ``n_kommuner``: kommuner in the reference table (98);
    * ``kommuner_per_region``: kommuner per region, regions in their usual order;
    * ``population_sum_of_kommuner``: the sum of the kommuner's populations;
    * ``population_national_dst``: Statistics Denmark's national figure, which also counts the people
      who live outside any kommune (Christiansø).
    """

    prefix = "00_reference"

    year: int
    n_kommuner: int
    kommuner_per_region: dict[str, int]
    population_sum_of_kommuner: int
    population_national_dst: int
