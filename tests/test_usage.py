"""helpers.data.usage: real loans, library units (Fanø in Esbjerg), the panel and its sources."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.core import paths
from helpers.core.errors import DataError
from helpers.data import provenance, reference, statbank, usage

# PROVENANCE.md, check 1: implied national physical loans, million
PROVENANCE_MILLIONS = {
    2010: 45.98,
    2011: 44.60,
    2012: 42.29,
    2013: 39.79,
    2014: 37.33,
    2015: 35.45,
    2018: 29.92,
    2019: 29.42,
    2020: 21.59,
    2021: 17.44,
    2022: 23.29,
    2023: 24.90,
}


@pytest.fixture(scope="module")
def panel():
    return usage.build_panel()


# --- real loans ---------------------------------------------------------------------------
def test_real_loans_reproduce_national_millions():
    nat = usage.national_real_loans().set_index("year")
    for year, millions in PROVENANCE_MILLIONS.items():
        assert nat.loc[year, "loans"] / 1e6 == pytest.approx(millions, abs=0.05), year
    assert nat.loc[2010, "loans"] / 1e6 == pytest.approx(45.98, abs=0.05)
    assert nat.loc[2014, "loans"] / 1e6 == pytest.approx(37.33, abs=0.05)


def test_real_loans_reproduce_national_per_capita_file():
    nat = usage.national_real_loans().dropna(subset=["loans"])
    assert set(nat["year"]) == set(PROVENANCE_MILLIONS)
    assert (nat["loans_per_capita_implied"] - nat["loans_per_capita"]).abs().max() <= 0.01


def test_panel_national_loans_equal_real(panel):
    tot = usage.panel_national_totals(panel)["loans"]
    for year, millions in PROVENANCE_MILLIONS.items():
        assert tot[year] / 1e6 == pytest.approx(millions, abs=0.05)


def test_real_file_has_97_kommuner_without_fanoe_and_without_gap_years():
    pc = usage.load_real_loans_per_capita()
    assert pc["kommunekode"].nunique() == 97
    assert usage.FANOE not in set(pc["kommunekode"])
    assert not {2009, 2016, 2017} & set(pc["year"])
    assert set(pc["year"]) == set(usage.REAL_LOANS_YEARS)
    assert len(pc) == 97 * 14


# --- units: Fanø inside Esbjerg ------------------------------------------------------------
def test_97_units_and_esbjerg_carries_fanoe_population(panel):
    assert panel["kommunekode"].nunique() == usage.N_UNITS == 97
    assert usage.FANOE not in set(panel["kommunekode"])
    pop = reference.load_population().set_index(["area_code", "year"])["population"]
    esb = panel[panel["kommunekode"] == usage.ESBJERG].set_index("year")
    for y in (2009, 2010, 2014, 2023):
        assert esb.loc[y, "population"] == pop[(561, y)] + pop[(563, y)]
    assert (esb["unit_members"] == "561,563").all()
    assert esb["navn"].iloc[0] == "Esbjerg (incl. Fanø)"
    # unit populations add up to the whole country minus Christiansø
    tot = panel[panel["year"] == 2011]["population"].sum()
    assert tot == pop[(0, 2011)] - pop[(411, 2011)]


def test_esbjerg_count_uses_own_population_rate_uses_unit_population(panel):
    pc = usage.load_real_loans_per_capita().set_index(["kommunekode", "year"])["loans_per_capita"]
    pop = reference.load_population().set_index(["area_code", "year"])["population"]
    row = panel[(panel["kommunekode"] == 561) & (panel["year"] == 2012)].iloc[0]
    assert row["loans"] == pytest.approx(pc[(561, 2012)] * pop[(561, 2012)])
    assert row["loans_per_1000"] == pytest.approx(row["loans"] / (pop[(561, 2012)] + pop[(563, 2012)]) * 1000)
    other = panel[(panel["kommunekode"] == 101) & (panel["year"] == 2012)].iloc[0]
    assert other["loans_per_1000"] == pytest.approx(pc[(101, 2012)] * 1000)


def test_to_library_units_is_the_one_place():
    df = pd.DataFrame(
        {"kommunekode": [561, 563, 101], "year": [2010] * 3, "n": [10.0, 2.0, 5.0], "label": ["e", "f", "k"]}
    )
    out = usage.to_library_units(df, ["n"]).set_index("kommunekode")
    assert list(out.index) == [101, 561]
    assert out.loc[561, "n"] == 12.0 and out.loc[561, "label"] == "e" and out.loc[561, "unit_members"] == "561,563"
    # a unit whose members are all missing stays missing
    df2 = pd.DataFrame({"kommunekode": [561, 563], "year": [2010, 2010], "n": [np.nan, np.nan]})
    assert usage.to_library_units(df2, ["n"])["n"].isna().all()


# --- gaps and flags -------------------------------------------------------------------------
def test_gap_years_are_rows_with_missing_loans_and_a_note(panel):
    for y in (2009, 2016, 2017):
        part = panel[panel["year"] == y]
        assert len(part) == 97
        assert part["loans"].isna().all() and part["loans_per_1000"].isna().all()
        assert part["notes"].str.contains("loans (real)", regex=False).all()


def test_after_2023_rates_but_no_counts(panel):
    part = panel[panel["year"].isin([2024, 2025])]
    assert part["population"].isna().all() and part["loans"].isna().all()
    assert part["notes"].str.contains("no 1 January population after 2023").all()
    not_esb = part[part["kommunekode"] != 561]
    assert not_esb["loans_per_1000"].notna().all()
    assert part.loc[part["kommunekode"] == 561, "loans_per_1000"].isna().all()


def test_gribskov_2012_flagged(panel):
    row = panel[(panel["kommunekode"] == 270) & (panel["year"] == 2012)].iloc[0]
    assert row["loans"] == 0.0
    assert row["outlier"] and row["quality_flag"] == "reporting_failure"
    assert "Gribskov" in row["notes"]
    flagged = panel[panel["outlier"]]
    assert len(flagged) == len(usage.QUALITY_FLAGS)
    assert set(flagged["quality_flag"]) == {"reporting_failure", "level_shift"}
    assert not panel.loc[~panel["outlier"], "quality_flag"].notna().any()


def test_stale_quality_flag_is_an_error(monkeypatch):
    bad = usage.QUALITY_FLAGS + (usage.QualityFlag(101, 2010, 1.23, "level_shift", "wrong"),)
    monkeypatch.setattr(usage, "QUALITY_FLAGS", bad)
    usage._real_kommune.cache_clear()
    try:
        with pytest.raises(DataError, match="101/2010"):
            usage.load_real_loans_per_capita()
    finally:
        usage._real_kommune.cache_clear()


def test_real_file_errors_name_file_row_and_column(raw_copy):
    f = raw_copy / "usage" / usage.REAL_KOMMUNE_FILE
    lines = f.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0] + ",-1.5"  # line 4 of the file
    lines[5] = lines[5].rsplit(",", 1)[0] + ",abc"  # line 6
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        usage.load_real_loans_per_capita()
    text = str(info.value)
    assert usage.REAL_KOMMUNE_FILE in text and "row 6" in text and "'vaerdi'" in text
    lines[5] = lines[5].rsplit(",", 1)[0] + ",6.5"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        usage.load_real_loans_per_capita()
    assert "row 4" in str(info.value) and "'vaerdi'" in str(info.value)


# --- provenance -------------------------------------------------------------------------------
def test_manifest_entries():
    raw = paths.usage_raw()
    for name in (usage.REAL_KOMMUNE_FILE, usage.REAL_NATIONAL_FILE):
        e = provenance.entry_for(raw / name)
        assert e.synthetic is False and "CC BY 4.0" in e.licence and "doughnut" in e.source
    for name in (usage.EXAMPLE_FILE, usage.TRUTH_FILE):
        assert provenance.is_synthetic(raw / name)
    assert [p for p in provenance.check() if p.startswith("usage/")] == []
    assert (raw / "PROVENANCE.md").is_file()


# --- the panel and its sources ----------------------------------------------------------------
def test_default_sources_and_columns(panel):
    assert panel["loans_source"].unique().tolist() == ["real: Statistics Denmark loans per capita"]
    assert not panel["loans_synthetic"].any()
    for o in ("visits", "downloads", "service_points", "expenditure"):
        assert panel[f"{o}_source"].unique().tolist() == ["synthetic: example panel"]
        assert panel[f"{o}_synthetic"].all()
        assert f"{o}_per_1000" in panel
    assert usage.panel_is_synthetic(panel)
    assert len(panel) == 97 * len(usage.DEFAULT_YEARS)
    assert not panel.duplicated(["kommunekode", "year"]).any()
    assert {"regionsnavn", "kommunegruppe", "merged_2007"} <= set(panel.columns)


def test_switch_loans_to_synthetic():
    p = usage.build_panel({"loans": "synthetic"}, years=range(2009, 2016))
    assert p["loans_source"].eq("synthetic: example panel").all() and p["loans_synthetic"].all()
    assert not p["outlier"].any() and p["quality_flag"].isna().all()
    syn = usage.load_synthetic()
    assert p["loans"].sum() == syn["loans"].sum()
    real_only = usage.build_panel({"loans": "real"}, years=range(2010, 2015))
    assert not real_only["loans_synthetic"].any()


def test_unknown_source_or_outcome():
    with pytest.raises(ValueError, match="visits source 'real' is not accepted; accepted: 'synthetic', 'statbank'$"):
        usage.build_panel({"visits": "real"})
    with pytest.raises(ValueError, match="outcome 'borrowers' is not accepted; accepted: 'loans', 'visits'"):
        usage.build_panel({"borrowers": "real"})


def _fake_statbank(monkeypatch, frame):
    """Point helpers.data.statbank.cached_usage at ``frame`` (the real module: an import error must fail here)."""
    monkeypatch.setattr(statbank, "cached_usage", lambda *a, **k: frame.copy())


def _contract_frame(value_visits=1000.0):
    codes = usage.unit_codes()
    rows = []
    for y in (2010, 2011):
        for k in codes:
            rows.append((k, y, "visits", float(value_visits), "SBS1"))
            rows.append((k, y, "service_points_with_collection", 5.0, "BIB2B"))
            rows.append((k, y, "population", 1.0, "SBS1"))
        rows.append((563, y, "visits", 50.0, "SBS1"))  # were a Fanø value to appear, it goes to Esbjerg
    return pd.DataFrame(rows, columns=["kommunekode", "year", "measure", "value", "table"])


def test_statbank_measures_exist_in_the_client():
    """The fake frames below use measure names by hand; they must be ones helpers.data.statbank really delivers."""
    assert set(usage.STATBANK_MEASURES.values()) <= set(statbank.MEASURES)
    assert {"visits", "service_points_with_collection", "expenditure_gross"} <= set(statbank.MEASURES)


def test_statbank_source(monkeypatch):
    _fake_statbank(monkeypatch, _contract_frame())
    p = usage.build_panel({"visits": "statbank", "service_points": "statbank"}, years=[2010, 2011])
    assert p["visits_source"].eq("statbank cache").all() and not p["visits_synthetic"].any()
    v = p.set_index(["kommunekode", "year"])
    assert v.loc[(101, 2010), "visits"] == 1000.0
    assert v.loc[(561, 2010), "visits"] == 1050.0
    assert v.loc[(101, 2010), "visits_per_1000"] == pytest.approx(1000.0 / v.loc[(101, 2010), "population"] * 1000)
    assert (p["service_points"] == 5.0).all()
    assert p["downloads_synthetic"].all()  # untouched outcomes keep their default source


def test_statbank_missing_measure(monkeypatch):
    _fake_statbank(monkeypatch, _contract_frame())
    with pytest.raises(DataError, match="expenditure_gross"):
        usage.build_panel({"expenditure": "statbank"}, years=[2010])


def test_panel_validation_error_names_file_row_column(monkeypatch):
    frame = _contract_frame()
    frame.loc[(frame["kommunekode"] == 101) & (frame["year"] == 2011) & (frame["measure"] == "visits"), "value"] = -3.0
    _fake_statbank(monkeypatch, frame)
    with pytest.raises(DataError) as info:
        usage.build_panel({"visits": "statbank"}, years=[2010, 2011])
    text = str(info.value)
    assert usage.PANEL_FILE in text
    assert "row kommunekode 101 year 2011" in text
    assert "column 'visits'" in text


def test_write_and_read_panel(outputs):
    target = usage.write_panel()
    assert target == paths.processed() / "usage_panel.parquet" and target.is_file()
    back = usage.read_panel()
    pd.testing.assert_frame_equal(back, usage.build_panel(), check_dtype=False)
    assert not list(target.parent.glob(".*.tmp"))


# --- truth ------------------------------------------------------------------------------------
def test_load_truth():
    t = usage.load_truth()
    assert t["rate_ratios"]["visits"][5] == 1.0 and t["rate_ratios"]["loans"][5] == 1.0
    assert set(t["rate_ratios"]["visits"]) == {1, 2, 3, 4, 5}
    assert t["round_for_year"] == {2009: 2009, 2010: 2009, 2011: 2011, 2012: 2011, 2013: 2011, 2014: 2014, 2015: 2014}
    rr = usage.truth_rate_ratios()
    assert set(rr["outcome"]) == {"visits", "loans"} and len(rr) == 10


def test_loans_change_frame():
    ch = usage.loans_change(2010, 2019)
    assert len(ch) == 97 and ch["change_pct"].notna().all()
    assert ch.set_index("kommunekode").loc[270, "flagged"]  # Gribskov 2010 is flagged
    with pytest.raises(ValueError, match="accepted"):
        usage.loans_change(2010, 2016)


# --- the notebook -------------------------------------------------------------------------------
@pytest.mark.slow
def test_notebook_runs(outputs, tmp_path):
    import papermill as pm

    nb = paths.notebooks() / "01_usage_panel.ipynb"
    pm.execute_notebook(
        str(nb),
        str(tmp_path / "out.ipynb"),
        kernel_name=paths.KERNEL_NAME,
        cwd=str(paths.notebooks()),
        parameters={"loans_source": "real"},
        progress_bar=False,
        execution_timeout=600,
    )
    assert (paths.processed() / usage.PANEL_FILE).is_file()
    assert (paths.figures() / "usage_national_loans_real_en.png").is_file()
    assert (paths.figures() / "usage_loans_change_2010_2019_real_en.svg").is_file()
    import json

    res = json.loads((paths.results() / "01_usage_panel.json").read_text(encoding="utf-8"))
    assert res["synthetic"] is True and res["results"]["units"] == 97


def test_key_results_round_trip_and_equal_the_raw_files(panel, outputs):
    from helpers import results
    from helpers.outputs import brief, reports
    from helpers.results.usage import UsageResults

    key = usage.key_results(panel, 2010, 2019)
    path = reports.write_results("01_usage_panel", key, synthetic=True, parameters={"loans_source": "real"})
    doc = results.read(path)
    assert isinstance(doc.results, UsageResults) and doc.results == key
    assert (key.rows, key.units) == (97 * len(usage.DEFAULT_YEARS), 97)
    assert key.sources == {
        "loans": "real: Statistics Denmark loans per capita",
        **{o: "synthetic: example panel" for o in ("visits", "downloads", "service_points", "expenditure")},
    }
    assert key.synthetic_outcomes == ("visits", "downloads", "service_points", "expenditure")
    assert key.flagged_unit_years == len(usage.QUALITY_FLAGS) == 17  # every flag lies in 2009-2025

    # national loans = per-capita value x the kommune's own population, summed (the source's definition)
    per_capita = pd.read_csv(paths.usage_raw() / usage.REAL_KOMMUNE_FILE)
    pop = pd.read_csv(paths.reference() / "dst/population_1jan_kommune_2005-2023.csv")
    pop = pop[pop["area_level"] == "kommune"].rename(columns={"area_code": "kommune_kode", "year": "aar"})
    joined = per_capita.merge(pop[["kommune_kode", "aar", "population"]], on=["kommune_kode", "aar"])
    millions = (joined["vaerdi"] * joined["population"]).groupby(joined["aar"]).sum() / 1e6
    assert sorted(key.real_national_loans_million) == sorted(PROVENANCE_MILLIONS)
    for year, value in key.real_national_loans_million.items():
        assert value == pytest.approx(millions[year], abs=0.005 + 1e-9), year
        assert value == pytest.approx(PROVENANCE_MILLIONS[year], abs=0.05), year

    # the median unit's change 2010-2019 without flagged values; Esbjerg's unit rate is over Esbjerg + Fanø
    v = per_capita.set_index(["kommune_kode", "aar"])["vaerdi"]
    p = pop.set_index(["kommune_kode", "aar"])["population"]
    share = {y: p[(561, y)] / (p[(561, y)] + p[(563, y)]) for y in (2010, 2019)}
    flagged = {f.kommunekode for f in usage.QUALITY_FLAGS if f.year in (2010, 2019)}
    change = [
        (v[(k, 2019)] * (share[2019] if k == 561 else 1)) / (v[(k, 2010)] * (share[2010] if k == 561 else 1)) * 100
        - 100
        for k in sorted(set(per_capita["kommune_kode"]) - flagged)
    ]
    assert key.real_median_change_pct == pytest.approx(np.median(change), abs=0.05 + 1e-9)
    assert (key.change_year_a, key.change_year_b) == (2010, 2019)
    s = brief.sentences(doc)
    assert s[0].startswith(f"Physical library loans in Denmark fell from {key.real_national_loans_million[2010]:.1f}")
    assert f"changed by {key.real_median_change_pct:+.1f} % over 2010-2019" in s[1]
    assert s[-1] == "Its visits, downloads, service points, expenditure are synthetic example data, not measurements."
