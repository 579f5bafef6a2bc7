"""The real reference data: counts and values checked against published figures."""

import pandas as pd
import pytest

from helpers.core import paths
from helpers.core.errors import DataError
from helpers.data import reference


@pytest.fixture(scope="module")
def municipalities():
    return reference.load_municipalities()


def test_98_kommuner_with_unique_codes(municipalities):
    assert len(municipalities) == 98
    assert municipalities["kommunekode"].is_unique
    assert municipalities["kommunekode"].between(101, 860).all()
    assert reference.CHRISTIANSOE not in set(municipalities["kommunekode"])


def test_kommuner_per_region(municipalities):
    counts = municipalities["regionsnavn"].value_counts().to_dict()
    assert counts == {
        "Region Hovedstaden": 29,
        "Region Midtjylland": 19,
        "Region Nordjylland": 11,
        "Region Sjælland": 17,
        "Region Syddanmark": 22,
    }


def test_national_population_2011_includes_christiansoe():
    pop = reference.load_population()
    y = pop[pop["year"] == 2011]
    kommuner = y.loc[y["area_level"] == "kommune", "population"].sum()
    christiansoe = y.loc[y["area_code"] == reference.CHRISTIANSOE, "population"].item()
    national = y.loc[y["area_level"] == "country", "population"].item()
    assert national == 5_560_628
    assert kommuner + christiansoe == national
    assert christiansoe == 94


def test_koebenhavn_2011(municipalities):
    row = municipalities.set_index("kommunekode").loc[101]
    assert row["navn"] == "København"
    assert row["population_2011"] == 539_542


def test_kommunegrupper_and_mergers(municipalities):
    assert municipalities["kommunegruppe"].value_counts().sort_index().tolist() == [24, 3, 16, 24, 31]
    assert municipalities["merged_2007"].sum() == 66
    flags = municipalities.set_index("kommunekode")["merged_2007"]
    assert not flags[101] and flags[561] and not flags[400]


def test_every_kommune_joins_one_geometry(municipalities):
    g = reference.load_boundaries()
    assert len(g) == 98
    assert g["kommunekode"].is_unique
    assert set(g["kommunekode"]) == set(municipalities["kommunekode"])
    assert g.crs.to_epsg() == 25832
    assert g.geometry.is_valid.all()
    area_km2 = g.set_index("kommunekode").geometry.area / 1e6
    assert area_km2[400] == pytest.approx(589.2, rel=0.01)  # Bornholm, per the geo PROVENANCE


def test_region_table_adds_up():
    t = reference.population_by_region(2011)
    assert t.loc["Hele landet", "kommuner"] == 98
    assert t.loc["Hele landet", "population"] == 5_560_628 - 94
    assert t.loc["Region Hovedstaden", "kommuner"] == 29


@pytest.mark.parametrize("value,expected", [("0101", 101), ("101", 101), (101, 101), (" 480", 480)])
def test_normalise_code(value, expected):
    assert reference.normalise_code(value) == expected


def test_normalise_code_rejects_text():
    with pytest.raises(ValueError, match="accepted"):
        reference.normalise_code("Kbh")


def test_density_rejects_unknown_year():
    with pytest.raises(ValueError, match="2005-2023"):
        reference.population_density(1990)


def test_join_failure_names_the_kommune():
    left = pd.DataFrame({"kommunekode": [101, 147]})
    right = pd.DataFrame({"kommunekode": [101], "x": [1]})
    with pytest.raises(DataError, match="147"):
        reference._join_1to1(left, right, "x")


def test_key_results_round_trip_and_equal_the_population_file(outputs):
    from helpers import results
    from helpers.outputs import brief, reports
    from helpers.results.reference import ReferenceResults

    key = reference.key_results(2011)
    path = reports.write_results("00_reference", key, synthetic=False, parameters={"year": 2011})
    doc = results.read(path)
    assert isinstance(doc.results, ReferenceResults) and doc.results == key
    # the same numbers read from the raw Statistics Denmark file and the published region sizes
    raw = pd.read_csv(paths.reference() / "dst/population_1jan_kommune_2005-2023.csv")
    y = raw[raw["year"] == 2011]
    assert key.population_sum_of_kommuner == y.loc[y["area_level"] == "kommune", "population"].sum() == 5_560_534
    assert key.population_national_dst == y.loc[y["area_level"] == "country", "population"].item() == 5_560_628
    assert key.kommuner_per_region == {
        "Region Hovedstaden": 29,
        "Region Sjælland": 17,
        "Region Syddanmark": 22,
        "Region Midtjylland": 19,
        "Region Nordjylland": 11,
    }
    assert list(key.kommuner_per_region) == reference.REGION_ORDER
    assert (key.year, key.n_kommuner) == (2011, 98)
    assert brief.sentences(doc) == [
        "The study units are the 98 kommuner of the 2007 reform in 5 regions, from 11 in Region Nordjylland to 29 "
        "in Region Hovedstaden.",
        "On 1 January 2011 they had 5,560,534 inhabitants; Statistics Denmark's national figure is 5,560,628, 94 "
        "more, the people who live outside any kommune (Christiansø).",
    ]
