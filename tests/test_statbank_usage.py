"""Cached Statistics Denmark answers replace the synthetic columns without any code change.

The cache is built the way a researcher builds it, with ``fetch_usage`` against an API, here the
local fake server of test_statbank serving answers in the recorded format for every real
kommune code of the FOLK1A tableinfo fixture (Fanø included, as DST would send it).
"""

import json

import pytest
from statbank_fake import FAST, FOLK1A_INFO, TABLEINFOS, FakeStatBank, cells

from helpers.analysis import models
from helpers.data import statbank, survey, usage
from helpers.running import pipeline

KOMMUNER = [
    v["id"]
    for v in json.loads(FOLK1A_INFO)["variables"][0]["values"]
    if v["id"].isdigit() and 101 <= int(v["id"]) <= 860 and v["id"] != "411"
]
YEARS = range(2009, 2016)


def visits_thousands(code: str, year: int) -> str:
    """A deterministic value in 1,000 visits, written with a decimal comma as DST's Danish output does."""
    return f"{(int(code) % 97 + 20) * (1 + (year - 2009) / 50):.1f}".replace(".", ",")


def sbs1_cells() -> dict[frozenset, str]:
    """Visits for every kommune and year and the national total for 2010; every other cell is `..`."""
    rows = [({"OMRÅDE": "000", "BNØGLE": "14150", "TID": "2010"}, "36000")]
    rows += [({"OMRÅDE": k, "BNØGLE": "14150", "TID": str(y)}, visits_thousands(k, y)) for k in KOMMUNER for y in YEARS]
    return cells(*rows)


@pytest.fixture
def statbank_cache(raw_copy):
    info = json.loads(TABLEINFOS["SBS1"])
    info["variables"][0]["values"] = [{"id": k, "text": k} for k in ["000", *KOMMUNER]]
    info["variables"][2]["values"] = [{"id": str(y), "text": str(y)} for y in YEARS]
    server = FakeStatBank({"SBS1": json.dumps(info).encode()}, {"SBS1": sbs1_cells()})
    server.thread.start()
    try:
        statbank.fetch_usage(tables=["SBS1"], base_url=server.url, progress=False, **FAST)
    finally:
        server.server.shutdown()
        server.server.server_close()
    return raw_copy


def test_panel_takes_visits_from_the_cache(statbank_cache):
    panel = usage.build_panel(sources={"visits": "statbank"})
    row = panel.set_index(["kommunekode", "year"]).loc[(101, 2012)]
    assert row["visits"] == pytest.approx(float(visits_thousands("101", 2012).replace(",", ".")) * 1000)
    assert row["visits_source"] == "statbank cache" and not row["visits_synthetic"]
    esbjerg = panel.set_index(["kommunekode", "year"]).loc[(561, 2012), "visits"]
    fano = float(visits_thousands("563", 2012).replace(",", ".")) * 1000
    assert esbjerg == pytest.approx(
        float(visits_thousands("561", 2012).replace(",", ".")) * 1000 + fano
    )  # Fanø inside Esbjerg
    assert panel["loans_source"].str.startswith("real").all()  # untouched outcomes keep their source


def test_models_run_on_the_cache_without_code_change(statbank_cache, outputs):
    for year, spec in pipeline.load_rounds().items():
        if year in (2009, 2011):
            survey.clean_to_files(year, spec["input_path"], spec["codebook"])
    inputs = models.model_inputs([2009, 2011], "visits", "statbank")
    assert inputs.pairing_table()["usage_year"].tolist() == [2010, 2012]
    assert not inputs.panel["visits_synthetic"].any()
    assert inputs.synthetic  # the survey rounds are still the synthetic examples, and it says so
    table = models.round_models(inputs.frames[2011], "visits").table
    assert table.loc["negative binomial"]["irr"].notna().all()
