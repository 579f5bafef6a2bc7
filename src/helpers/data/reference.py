"""Real reference data: the 98 kommuner, their region, kommunegruppe, area, 2007 merger and population.

Everything here is real (see data/raw/reference/*/PROVENANCE.md). The municipality key is
``kommunekode``, an int 101..860, everywhere in the package; :func:`normalise_code` turns
DAGI's "0101" and Statistics Denmark's "101" into it.
"""

from __future__ import annotations

import json
from functools import cache, lru_cache

import pandas as pd

from helpers.core import lazy, paths
from helpers.core.errors import DataError, Problem
from helpers.core.validation import validate
from helpers.data import provenance
from helpers.results.reference import ReferenceResults

gpd = lazy.module("geopandas")  # geopandas and pandera cost ~0.3 s to import: at first use
pa = lazy.module("pandera.pandas")

N_KOMMUNER = 98
CHRISTIANSOE = 411  # not a kommune; administered by the state
PLOT_CRS = "EPSG:25832"  # ETRS89 / UTM 32N, for maps and areas
POPULATION_YEARS = range(2005, 2024)
TOTAL_ROW = "Hele landet"  # the national row of the tables by region

REGION_ORDER = [
    "Region Hovedstaden",
    "Region Sjælland",
    "Region Syddanmark",
    "Region Midtjylland",
    "Region Nordjylland",
]
KOMMUNEGRUPPER = {
    1: "Hovedstadskommuner",
    2: "Storbykommuner",
    3: "Provinsbykommuner",
    4: "Oplandskommuner",
    5: "Landkommuner",
}


def _code() -> pa.Column:
    return pa.Column(int, pa.Check.in_range(101, 860), unique=True)


@cache
def municipality_schema() -> pa.DataFrameSchema:
    """The schema of the municipality table (built at its first use: pandera is imported then)."""
    return pa.DataFrameSchema(
        {
            "kommunekode": _code(),
            "navn": pa.Column(str, pa.Check.str_length(min_value=2)),
            "regionskode": pa.Column(str, pa.Check.isin(["1081", "1082", "1083", "1084", "1085"])),
            "regionsnavn": pa.Column(str, pa.Check.isin(REGION_ORDER)),
            "kommunegruppe": pa.Column(int, pa.Check.isin(list(KOMMUNEGRUPPER))),
            "kommunegruppe_navn": pa.Column(str, pa.Check.isin(list(KOMMUNEGRUPPER.values()))),
            "areal_km2": pa.Column(float, pa.Check.gt(0)),
            "merged_2007": pa.Column(bool),
            **{f"population_{y}": pa.Column(int, pa.Check.gt(1000)) for y in POPULATION_YEARS},
        },
        checks=pa.Check(lambda df: len(df) == N_KOMMUNER, error=f"exactly {N_KOMMUNER} kommuner"),
        strict=True,
        ordered=False,
    )


@cache
def population_schema() -> pa.DataFrameSchema:
    """The schema of the population table."""
    return pa.DataFrameSchema(
        {
            "area_code": pa.Column(int),
            "area_name": pa.Column(str),
            "area_level": pa.Column(str, pa.Check.isin(["country", "region", "kommune", "christianso"])),
            "year": pa.Column(int, pa.Check.in_range(2005, 2100)),
            "population": pa.Column(int, pa.Check.ge(0)),
        },
        unique=["area_code", "year"],
    )


@cache
def boundary_schema() -> pa.DataFrameSchema:
    """The schema of the municipality boundaries."""
    return pa.DataFrameSchema(
        {"kommunekode": _code(), "geometry": pa.Column("geometry")},
        checks=pa.Check(lambda df: len(df) == N_KOMMUNER, error=f"exactly {N_KOMMUNER} geometries"),
    )


def normalise_code(value) -> int:
    """A municipality code in any usual form ("0101", "101", 101, " 480") as the int key."""
    try:
        code = int(str(value).strip())
    except ValueError:
        raise ValueError(f"not a municipality code: {value!r}; accepted: digits such as 101 or 0101") from None
    return code


def _file(rel: str):
    return provenance.raw_file(
        paths.reference() / rel,
        "reference file is missing; it ships with the package (see data/raw/reference/MANIFEST.yaml)",
    )


@lru_cache(maxsize=1)
def _population() -> pd.DataFrame:
    f = _file("dst/population_1jan_kommune_2005-2023.csv")
    df = pd.read_csv(f, dtype={"area_code": str})
    df["area_code"] = df["area_code"].map(normalise_code)
    df["area_name"] = df["area_name"].astype(str)
    df["area_level"] = df["area_level"].astype(str)
    return validate(df, population_schema(), f, row_offset=2)


def load_population() -> pd.DataFrame:
    """Population on 1 January, long: country (0), regions, 98 kommuner and Christiansø (411), 2005-2023."""
    return _population().copy()


def _kommunegrupper() -> pd.DataFrame:
    f = _file("context/doughnut/kommuner.json")
    doc = json.loads(f.read_text(encoding="utf-8"))
    df = pd.DataFrame(doc["kommuner"])
    return pd.DataFrame({"kommunekode": df["kode"].map(normalise_code), "kommunegruppe": df["gruppe"].astype(int)})


def _areas() -> pd.DataFrame:
    """Land area (km2). The source has 100 rows; two lack a code and are superseded by hand-added rows."""
    f = _file("context/isds2023/muni_areas.csv")
    df = pd.read_csv(f, dtype={"muni_code": str}).dropna(subset=["muni_code"])
    df["kommunekode"] = df["muni_code"].map(normalise_code)
    if df["kommunekode"].duplicated().any():
        dup = df.loc[df["kommunekode"].duplicated(), "kommunekode"].tolist()
        raise DataError(f, Problem("duplicate area rows", column="muni_code", value=dup))
    return df[["kommunekode"]].assign(areal_km2=df["km2"].astype(float))


def _concordance() -> pd.DataFrame:
    f = _file("context/isds2023/nye_og_gamle_kommuner.csv")
    df = pd.read_csv(f, dtype=str)
    return pd.DataFrame(
        {
            "name": df["Kommunenavn"].str.strip(),
            "kommunekode": df["muni_code"].map(normalise_code),
            "old_code": df["old_muni_code"].map(normalise_code),
        }
    )


def load_concordance() -> pd.DataFrame:
    """The 2007 reform concordance: new kommunekode, pre-2007 code, name as in the source (331 rows)."""
    return _concordance()


def _merged_2007() -> pd.Series:
    """True where the kommune absorbed another code (66 of 98; see context PROVENANCE for Ærø and Bornholm)."""
    c = _concordance()
    merged = c.loc[c["old_code"] != c["kommunekode"], "kommunekode"].unique()
    return pd.Series(True, index=pd.Index(merged, name="kommunekode"))


@lru_cache(maxsize=1)
def _municipalities() -> pd.DataFrame:
    f = _file("geo/kommuner_regioner.csv")
    base = pd.read_csv(f, dtype={"kommunekode_dagi": str, "regionskode": str})
    base = base[["kommunekode", "navn", "regionskode", "regionsnavn"]].astype({"navn": str, "regionsnavn": str})
    df = _join_1to1(base, _kommunegrupper(), "kommunegruppe")
    df["kommunegruppe_navn"] = df["kommunegruppe"].map(KOMMUNEGRUPPER).astype(str)
    df = _join_1to1(df, _areas(), "areal_km2")
    df["merged_2007"] = df["kommunekode"].isin(_merged_2007().index)
    pop = _population()
    wide = (
        pop[pop["area_level"] == "kommune"]
        .pivot(index="area_code", columns="year", values="population")
        .rename(columns=lambda y: f"population_{y}")
        .rename_axis(index="kommunekode", columns=None)
        .reset_index()
    )
    df = _join_1to1(df, wide, "population")
    return validate(df, municipality_schema(), f)


def load_municipalities() -> pd.DataFrame:
    """The 98 kommuner: code, name, region, kommunegruppe, area, merged_2007, population_<year> 2005-2023."""
    return _municipalities().copy()


def population_density(year: int) -> pd.DataFrame:
    """Inhabitants per km2 per kommune in ``year``."""
    m = load_municipalities()
    col = f"population_{year}"
    if col not in m:  # a range of years, not a choice: the message gives the range
        raise ValueError(
            f"no population for {year}; accepted years: {POPULATION_YEARS.start}-{POPULATION_YEARS.stop - 1}"
        )
    return m[["kommunekode", "navn", "regionsnavn", "areal_km2", col]].assign(density=m[col] / m["areal_km2"])


def population_by_region(year: int) -> pd.DataFrame:
    """Kommuner, population and area per region in ``year``, with a total row; regions in a fixed order."""
    d = population_density(year)
    col = f"population_{year}"
    t = d.groupby("regionsnavn").agg(
        kommuner=("kommunekode", "size"), population=(col, "sum"), areal_km2=("areal_km2", "sum")
    )
    t = t.reindex(REGION_ORDER)
    t.loc[TOTAL_ROW] = t.sum()
    t["density"] = (t["population"] / t["areal_km2"]).round(1)
    return t.astype({"kommuner": int, "population": int}).rename_axis("region")


def key_results(year: int) -> ReferenceResults:
    """The key results of notebook 00_reference for the population on 1 January ``year``
    (:class:`~helpers.results.reference.ReferenceResults`)."""
    regions = population_by_region(year)
    pop = load_population()
    national = pop.loc[(pop["area_level"] == "country") & (pop["year"] == year), "population"]
    return ReferenceResults(
        year=int(year),
        n_kommuner=len(load_municipalities()),
        kommuner_per_region={str(r): int(n) for r, n in regions["kommuner"].drop(TOTAL_ROW).items()},
        population_sum_of_kommuner=int(regions.loc[TOTAL_ROW, "population"]),
        population_national_dst=int(national.item()),
    )


@lru_cache(maxsize=1)
def _boundaries() -> gpd.GeoDataFrame:
    f = _file("geo/kommuner.geojson")
    g = gpd.read_file(f)[["kommunekode", "geometry"]]
    g["kommunekode"] = g["kommunekode"].map(normalise_code).astype(int)
    g = g.to_crs(PLOT_CRS)
    return validate(g, boundary_schema(), f)


def load_boundaries(with_attributes: bool = True) -> gpd.GeoDataFrame:
    """Kommune polygons in EPSG:25832, joined 1:1 to the municipality table unless ``with_attributes`` is False."""
    g = _boundaries().copy()
    if with_attributes:
        g = gpd.GeoDataFrame(
            _join_1to1(g, load_municipalities(), "municipality table"), geometry="geometry", crs=PLOT_CRS
        )
    return g


def _join_1to1(left: pd.DataFrame, right: pd.DataFrame, what: str) -> pd.DataFrame:
    """Inner-join on kommunekode and fail unless every kommune matches exactly once on both sides."""
    out = left.merge(right, on="kommunekode", how="outer", validate="one_to_one", indicator=True)
    bad = out[out["_merge"] != "both"]
    if len(bad):
        raise DataError(
            paths.reference(),
            [
                Problem(
                    f"joining {what}: kommune only on the {'left' if m == 'left_only' else 'right'} side",
                    column="kommunekode",
                    value=int(k),
                )
                for k, m in zip(bad["kommunekode"], bad["_merge"], strict=False)
            ],
        )
    return out.drop(columns="_merge")
