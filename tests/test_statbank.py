"""The StatBank client: parsing of recorded real answers, query checks, retries, errors and the cache.

No test touches the internet: HTTP goes to a fault-injecting server on 127.0.0.1 (ephemeral port).
Fixtures in tests/fixtures/statbank/ are recorded real DST answers (see PROVENANCE.md there).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

import pandas as pd
import pytest
from statbank_fake import (  # the fake server; its fixture ``fake`` is in conftest.py
    FAST,
    FIXTURES,
    FOLK1A_INFO,
    TABLEINFOS,
    make_info,
)

from helpers.core import files, paths
from helpers.core.errors import DataError
from helpers.data import provenance, statbank
from helpers.data.statbank import answer, transport

FOLK1A_VARS = {"OMRÅDE": ["101"], "KØN": "TOT", "ALDER": "IALT", "CIVILSTAND": "TOT", "Tid": "*K1"}
K1_PERIODS = 18  # 2008K1..2025K1 in the tableinfo fixture: the rows FOLK1A_VARS selects

# --------------------------------------------------------------------------- hand-written answers
# Recorded CSV/BULK format: semicolons, upper-cased codes, INDHOLD last, `..` missing. Written straight
# into the cache (they are not complete answers to any query, so a fetch would refuse them).

BIB1_BODY = (
    "\ufeffOMRÅDE;BNØGLE;TID;INDHOLD\r\n"
    "000;15110;2010;48123456\r\n"
    "084;15110;2010;15000000\r\n"
    "101;15110;2010;5123456\r\n"
    "101;15120;2010;3456789\r\n"
    "101;15250;2010;..\r\n"
    "147;15110;2010;812345\r\n"
    "147;15120;2011;600000,0\r\n"
    "411;15110;2010;12\r\n"
    "563;15110;2016;..\r\n"
).encode("utf-8")

SBS1_BODY = (
    "OMRÅDE;BNØGLE;TID;INDHOLD\n"
    "000;14150;2010;36123,4\n"
    "01;14150;2010;9000\n"
    "101;14150;2010;4321,5\n"
    "101;14140;2010;180000\n"
    "147;14150;2010;812\n"
    "147;14140;2010;-\n"
    "151;14150;2008;300\n"
).encode()


# --------------------------------------------------------------------------- fixtures: provenance and parsing


def test_fixture_hashes_match_provenance():
    """Every copied fixture is byte-identical to what PROVENANCE.md lists."""
    listed = dict(
        (name, sha)
        for sha, name in re.findall(
            r"^([0-9a-f]{64})  fixtures/(\S+)$", (FIXTURES / "PROVENANCE.md").read_text(encoding="utf-8"), re.M
        )
    )
    on_disk = {p.name for p in FIXTURES.iterdir() if p.name != "PROVENANCE.md"}
    assert set(listed) == on_disk
    for name, sha in listed.items():
        assert hashlib.sha256((FIXTURES / name).read_bytes()).hexdigest() == sha, name


def test_parse_national_csv_with_bom_and_crlf():
    raw = (FIXTURES / "folk1a_csv_da_value_national_2008K1-2020K4.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    df = statbank.parse_csv(raw)
    assert list(df.columns) == ["OMRÅDE", "CIVILSTAND", "TID", "INDHOLD"]
    assert len(df) == 52 and df["INDHOLD"].dtype == "float64"
    assert df.loc[df["TID"] == "2010K1", "INDHOLD"].item() == 5534738
    assert df.loc[df["TID"] == "2008K1", "INDHOLD"].item() == 5475791
    assert (df["OMRÅDE"] == "Hele landet").all()


def test_parse_omraade_csv_lf_without_bom():
    df = statbank.parse_csv((FIXTURES / "folk1a_csv_da_value_omraade_civilstand_2020K1.csv").read_bytes())
    assert list(df.columns) == ["CIVILSTAND", "OMRÅDE", "TID", "INDHOLD"]
    assert len(df) == 105 * 5
    total = df[df["CIVILSTAND"] == "I alt"].set_index("OMRÅDE")["INDHOLD"]
    assert total["København"] == 632340
    assert total["Odense"] == 204895
    assert total["Region Hovedstaden"] == 1846023
    assert total["Hele landet"] == 5822763


def test_parse_english_csv_keeps_danish_codes_in_header():
    df = statbank.parse_csv((FIXTURES / "folk1a_csv_en_value_age_sex_2021Q2.csv").read_bytes())
    assert list(df.columns) == ["TID", "ALDER", "KØN", "INDHOLD"]
    first = df.iloc[0]
    assert (first["TID"], first["ALDER"], first["KØN"], first["INDHOLD"]) == ("2021Q2", "0 years", "Men", 31649)
    assert set(df["KØN"]) == {"Men", "Women"}


def test_parse_code_presentation_keeps_leading_zeros():
    df = statbank.parse_csv((FIXTURES / "folk1a_csv_da_code_excerpt.csv").read_bytes())
    assert list(df.columns) == ["OMRÅDE", "KØN", "ALDER", "TID", "INDHOLD"]
    assert len(df) == 40
    assert df.iloc[0].tolist() == ["000", "1", "0", "2008K1", 32976.0]
    assert df.loc[(df["ALDER"] == "1") & (df["TID"] == "2020K1"), "INDHOLD"].item() == 31880


def test_parse_bulk_decimal_comma():
    raw = (FIXTURES / "metrox1_bulk_da_first200chars.txt").read_bytes()
    assert b"37,7" in raw and b"\r\n" in raw
    df = statbank.parse_csv(raw)
    assert list(df.columns) == ["SÆSON", "TID", "INDHOLD"]
    assert df.iloc[0]["TID"] == "2020U01" and df.iloc[0]["INDHOLD"] == pytest.approx(37.7)
    assert df["INDHOLD"].tolist() == pytest.approx([37.7, 105.0, 95.2, 93.0, 63.0, 17.9])


def test_tableinfo_fixture_shape():
    info = json.loads(FOLK1A_INFO)
    by_id = {v["id"]: v for v in info["variables"]}
    assert list(by_id) == ["OMRÅDE", "KØN", "ALDER", "CIVILSTAND", "Tid"]
    areas = [v["id"] for v in by_id["OMRÅDE"]["values"]]
    assert len(areas) == 105 and {"000", "101", "411", "081", "085"} <= set(areas)
    assert by_id["Tid"]["time"] and by_id["Tid"]["values"][0]["id"] == "2008K1"


def test_tables_listing_supports_declared_requests():
    """The Feb 2021 table listing has every declared table; the library tables start in 2009."""
    listing = pd.read_csv(FIXTURES / "tables_subset_2021-02.csv", dtype=str).set_index("id")
    for req in statbank.REQUESTS:
        assert req.table in listing.index
        first = listing.loc[req.table, "firstPeriod"]
        assert first == ("2008K1" if req.table == "FOLK1A" else str(statbank.FIRST_YEAR))
    assert listing.loc["BIB6", "unit"] == "1.000 kr."  # hence the factor 1,000 for expenditure


ERRORS = [json.loads(line) for line in (FIXTURES / "error_responses.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("error", ERRORS, ids=[e["errorTypeCode"] + str(i) for i, e in enumerate(ERRORS)])
def test_every_recorded_error_is_surfaced_without_retry(fake, error):
    fake.script = [("status", 400, json.dumps(error, ensure_ascii=False).encode("utf-8"))]
    with pytest.raises(statbank.StatbankAPIError) as caught:
        statbank.data("FOLK1A", FOLK1A_VARS, base_url=fake.url, **FAST)
    exc = caught.value
    assert (exc.status, exc.error_type_code, exc.message, exc.table) == (
        400,
        error["errorTypeCode"],
        error["message"],
        "FOLK1A",
    )
    assert error["message"] in str(exc) and error["errorTypeCode"] in str(exc)
    assert len(fake.data_requests()) == 1  # a 4xx is not retried


def test_error_body_that_is_not_json():
    exc = statbank.StatbankAPIError.from_body(404, b"<html>Not Found</html>", "http://x/v1/data")
    assert exc.error_type_code is None and "Not Found" in str(exc) and "HTTP 404" in str(exc)


# --------------------------------------------------------------------------- parsing: edge cases


def test_danish_thousands_separators():
    body = "A;INDHOLD\r\n1;1.234.567\r\n2;1.234,5\r\n3;-12.345.678,25\r\n4;1.234\r\n5;..\r\n6;37,7\r\n7;5475791\r\n"
    values = statbank.parse_csv(body)["INDHOLD"].tolist()
    assert values[:4] == [
        1234567.0,
        1234.5,
        -12345678.25,
        1234.0,
    ]  # "1.234" is Danish here: the column writes 1.234.567
    assert pd.isna(values[4]) and values[5:] == [37.7, 5475791.0]
    assert statbank.parse_csv("A;INDHOLD\n1;1.234\n2;0.5\n")["INDHOLD"].tolist() == [1.234, 0.5]  # English answer


@pytest.mark.parametrize("value", ["1,234,567", "1.23.4", "1.2345,6", "12.34.567", "1,", "1.234.5678"])
def test_malformed_grouping_is_not_a_number(value):
    with pytest.raises(DataError, match="row 2, column 'INDHOLD': not a number"):
        statbank.parse_csv(f"A;INDHOLD\n1;{value}\n")


def test_missing_markers_and_decimal_separators():
    body = "A;INDHOLD\r\n1;..\r\n2;.\r\n3;-\r\n4;x\r\n5;1,5\r\n6;1.5\r\n7;1.234,5\r\n8;-2\r\n9;\r\n"
    values = statbank.parse_csv(body)["INDHOLD"].tolist()
    assert all(pd.isna(v) for v in values[:4]) and pd.isna(values[8])
    assert values[4:8] == [1.5, 1.5, 1234.5, -2.0]


def test_lowercase_header_is_upper_cased():
    assert list(statbank.parse_csv("omrÅde;tid;indhold\n101;2010;1\n").columns) == ["OMRÅDE", "TID", "INDHOLD"]


@pytest.mark.parametrize(
    "body, needle",
    [
        (b'{"errorTypeCode":"X","message":"y"}', "INDHOLD"),
        (b"", "empty"),
        (b"A;INDHOLD\n1;2;3\n", "row 2"),
        (b"A;INDHOLD\n1;12a\n2;inf\n", "row 2"),
        (b"A;INDHOLD\n\xff\xfe;1\n", "UTF-8"),
    ],
)
def test_bad_bodies_give_data_errors(body, needle):
    with pytest.raises(DataError, match=needle):
        statbank.parse_csv(body, source="answer")


def test_non_numbers_are_all_listed():
    with pytest.raises(DataError) as caught:
        statbank.parse_csv("A;INDHOLD\n1;12a\n2;inf\n3;4\n")
    assert [p.row for p in caught.value.problems] == [2, 3]


# --------------------------------------------------------------------------- checking queries against tableinfo


@pytest.fixture
def folk1a_info():
    return json.loads(FOLK1A_INFO)


def test_query_shape_and_canonical_codes(folk1a_info):
    query = statbank.build_query(
        folk1a_info, {"område": "*", "køn": "TOT", "alder": "IALT", "civilstand": "TOT", "tid": "*K1"}
    )
    assert {k: query[k] for k in ("table", "format", "lang", "valuePresentation")} == {
        "table": "FOLK1A",
        "format": "BULK",
        "lang": "en",
        "valuePresentation": "Code",
    }
    assert [v["code"] for v in query["variables"]] == ["OMRÅDE", "KØN", "ALDER", "CIVILSTAND", "Tid"]


@pytest.mark.parametrize(
    "tid, first, last, n",
    [
        ("*", "2008K1", "2025K3", 71),
        ("*K1", "2008K1", "2025K1", 18),
        ("202*K1", "2020K1", "2025K1", 6),
        (">=2009K1<=2011K1", "2009K1", "2011K1", 9),
        (">=2024K1", "2024K1", "2025K3", 7),
        ("<=2020K1", "2008K1", "2020K1", 49),
        (">2020K1<2021K1", "2020K2", "2020K4", 3),
        ("(1)", "2025K3", "2025K3", 1),
        ("(-n+5)", "2024K3", "2025K3", 5),
        ("2010K1", "2010K1", "2010K1", 1),
    ],
)
def test_selections_pass_the_check_and_resolve(folk1a_info, tid, first, last, n):
    """Each selection form is accepted, sent as given, and resolves to the periods the row count uses."""
    query = statbank.build_query(folk1a_info, {**FOLK1A_VARS, "Tid": tid})
    assert {"code": "Tid", "values": [tid]} in query["variables"]
    periods = answer._selected(folk1a_info["variables"][-1], [tid])
    assert (periods[0], periods[-1], len(periods)) == (first, last, n)


def test_selection_of_a_list_and_of_an_unknown_form(folk1a_info):
    area = folk1a_info["variables"][0]
    assert answer._selected(area, ["101", "000", "101"]) == ["101", "000"]
    assert sorted(answer._selected(area, ["08*"])) == ["081", "082", "083", "084", "085"]  # tableinfo order
    assert answer._selected(area, ["(x)"]) is None and answer._selected(area, ["999"]) is None


def test_unknown_value_names_table_variable_value_and_accepted(folk1a_info):
    with pytest.raises(statbank.UnknownCodeError) as caught:
        statbank.build_query(folk1a_info, {**FOLK1A_VARS, "OMRÅDE": ["101", "999"]})
    text = str(caught.value)
    for part in ("FOLK1A", "OMRÅDE", "'999'", "000", "101", "105 in all"):
        assert part in text


@pytest.mark.parametrize(
    "variables, needle",
    [
        ({**FOLK1A_VARS, "KØN": "IALT"}, "KØN: unknown value 'IALT'; accepted values include: TOT, 1, 2"),
        ({**FOLK1A_VARS, "Tid": "*X9"}, "no value matches the wildcard '*X9'"),
        (
            {**FOLK1A_VARS, "REGION": "1"},
            "unknown variable 'REGION'; the table has: OMRÅDE, KØN, ALDER, CIVILSTAND, Tid",
        ),
        ({k: v for k, v in FOLK1A_VARS.items() if k != "CIVILSTAND"}, "missing: CIVILSTAND"),
        ({**FOLK1A_VARS, "ALDER": []}, "no values selected"),
    ],
)
def test_bad_queries_fail_clearly(folk1a_info, variables, needle):
    with pytest.raises(statbank.UnknownCodeError, match=re.escape(needle)):
        statbank.build_query(folk1a_info, variables)


def test_unknown_code_fails_before_any_data_request(fake):
    with pytest.raises(statbank.UnknownCodeError, match="IALT"):
        statbank.data("FOLK1A", {**FOLK1A_VARS, "KØN": "IALT"}, base_url=fake.url, **FAST)
    assert [path for path, _ in fake.requests] == ["/v1/tableinfo"]


# --------------------------------------------------------------------------- HTTP: success, retries, failures


def test_data_posts_json_and_returns_tidy_frame(fake):
    df = statbank.data("FOLK1A", FOLK1A_VARS, base_url=fake.url, **FAST)
    assert list(df.columns) == ["OMRÅDE", "KØN", "ALDER", "CIVILSTAND", "TID", "INDHOLD"]
    periods = [v["id"] for v in json.loads(FOLK1A_INFO)["variables"][-1]["values"] if v["id"].endswith("K1")]
    assert len(df) == len(periods) == K1_PERIODS and df["TID"].tolist() == periods
    values = df.set_index("TID")["INDHOLD"]
    assert (values["2008K1"], values["2010K1"]) == (509861, 528208) and values.drop(["2008K1", "2010K1"]).isna().all()
    assert fake.requests[0] == ("/v1/tableinfo", {"table": "FOLK1A", "format": "JSON", "lang": "en"})
    sent = fake.data_requests()[0]
    assert sent["format"] == "BULK" and sent["lang"] == "en" and sent["valuePresentation"] == "Code"
    assert {"code": "OMRÅDE", "values": ["101"]} in sent["variables"]
    assert {"code": "Tid", "values": ["*K1"]} in sent["variables"]


def test_base_url_from_environment(fake, monkeypatch):
    monkeypatch.setenv(statbank.URL_ENV, fake.url + "/")
    info = statbank.tableinfo("FOLK1A", **FAST)
    omraade = next(v for v in info["variables"] if v["id"] == "OMRÅDE")
    assert len(omraade["values"]) == 105
    monkeypatch.delenv(statbank.URL_ENV)
    assert statbank.base_url() == "https://api.statbank.dk"
    assert statbank.base_url("http://127.0.0.1:1/") == "http://127.0.0.1:1"


def test_500_then_success_is_retried(fake):
    fake.script = [("status", 500, b"oops"), ("status", 503, b""), ("ok", None)]
    df = statbank.data("FOLK1A", FOLK1A_VARS, base_url=fake.url, **FAST)
    assert df.set_index("TID")["INDHOLD"]["2010K1"] == 528208
    assert len(fake.data_requests()) == 3


def test_backoff_is_exponential(fake, monkeypatch):
    slept = []
    monkeypatch.setattr(transport, "_sleep", slept.append)
    fake.script = [("status", 500, b"")] * 4
    with pytest.raises(statbank.StatbankUnavailable, match="4 attempts"):
        statbank.post("data", {"table": "FOLK1A"}, url=fake.url, timeout=2, retries=3, base_delay=0.5)
    assert slept == [0.5, 1.0, 2.0]


def test_slow_answer_is_retried_then_fails_clearly(fake):
    fake.script = [("slow", 0.6, None)] * 3
    started = time.monotonic()
    with pytest.raises(statbank.StatbankUnavailable) as caught:
        statbank.data("FOLK1A", FOLK1A_VARS, base_url=fake.url, timeout=0.2, retries=2, base_delay=0.01)
    assert time.monotonic() - started < 5
    text = str(caught.value)
    assert (
        "3 attempts" in text
        and "no complete answer within 0.2 s (the deadline per attempt)" in text
        and "FOLK1A" in text
    )
    assert len(fake.data_requests()) == 3


def test_slow_answer_then_fast_one_succeeds(fake):
    fake.script = [("slow", 0.6, None), ("ok", None)]
    df = statbank.data("FOLK1A", FOLK1A_VARS, base_url=fake.url, timeout=0.2, retries=2, base_delay=0.01)
    assert len(df) == K1_PERIODS and len(fake.data_requests()) == 2


def test_truncated_body_is_retried_then_fails_clearly(fake):
    fake.script = [("truncated", None)] * 3
    with pytest.raises(statbank.StatbankUnavailable, match="truncated"):
        statbank.data("FOLK1A", FOLK1A_VARS, base_url=fake.url, **FAST)
    assert len(fake.data_requests()) == 3


def test_truncated_then_complete_body_succeeds(fake):
    fake.script = [("truncated", None), ("ok", None)]
    assert len(statbank.data("FOLK1A", FOLK1A_VARS, base_url=fake.url, **FAST)) == K1_PERIODS


def test_refused_connection_is_retried_then_fails_clearly(unused_port):
    url = f"http://127.0.0.1:{unused_port}"
    with pytest.raises(statbank.StatbankUnavailable) as caught:
        statbank.tableinfo("FOLK1A", base_url=url, **FAST)
    text = str(caught.value)
    assert "3 attempts" in text and "Refused" in text and url in text and "no cache file was changed" in text


def test_unknown_table_is_a_4xx_error(fake):
    with pytest.raises(statbank.StatbankAPIError, match="TABLE-NOTFOUND"):
        statbank.tableinfo("NOPE", base_url=fake.url, **FAST)


# --------------------------------------------------------------------------- fetching into the cache


def test_declared_requests_are_one_clear_structure():
    assert [r.table for r in statbank.REQUESTS] == ["BIB1", "SBS1", "BIB2B", "BIB6", "FOLK1A"]
    assert sorted(statbank.MEASURES) == sorted(
        [
            "loans",
            "book_loans",
            "downloads",
            "visits",
            "active_borrowers",
            "service_points",
            "service_points_with_collection",
            "expenditure_gross",
            "expenditure_net",
            "population",
        ]
    )
    by = {r.table: r for r in statbank.REQUESTS}
    assert by["SBS1"].measures["14150"] == ("visits", 1000.0)
    assert by["BIB6"].measures["17180"] == ("expenditure_net", 1000.0)
    assert by["FOLK1A"].time == "*K1" and dict(by["FOLK1A"].fixed) == {"KØN": "TOT", "ALDER": "IALT"}
    assert not by["BIB2B"].confirmed  # the activity variable's code is an assumption checked against tableinfo


def test_fetch_usage_caches_everything_with_provenance(fake, raw_copy, capsys):
    written = statbank.fetch_usage(base_url=fake.url, **FAST)
    folder = raw_copy / "usage" / "statbank"
    assert written == [folder / f"{t}.csv" for t in ("BIB1", "SBS1", "BIB2B", "BIB6", "FOLK1A")]
    assert "StatBank BIB1" in capsys.readouterr().err
    for path in written:
        assert path.read_bytes() == dict(fake.served)[path.stem]
        meta = json.loads(path.with_suffix(".query.json").read_text(encoding="utf-8"))
        assert meta["sha256"] == files.sha256(path) and meta["fetched_utc"].endswith("Z")
        assert meta["query"]["format"] == "BULK" and meta["query"]["table"] == path.stem
        assert path.with_suffix(".tableinfo.json").read_bytes() == TABLEINFOS[path.stem]
    bib2b = json.loads((folder / "BIB2B.query.json").read_text(encoding="utf-8"))
    assert bib2b["measure_variable"] == "AKTIVITET" and bib2b["measure_variable_confirmed"] is False
    assert {"code": "AKTIVITET", "values": ["10310", "10300"]} in bib2b["query"]["variables"]
    folk = next(q for q in fake.data_requests() if q["table"] == "FOLK1A")
    assert {"code": "Tid", "values": ["*K1"]} in folk["variables"]
    assert {"code": "Tid", "values": [">=2009"]} in fake.data_requests()[0]["variables"]

    entries = provenance.load()
    entry = entries["usage/statbank/BIB1.csv"]
    assert entry.synthetic is False and entry.licence == statbank.LICENCE
    assert entry.source.startswith("Statistics Denmark StatBank API v1, POST /v1/data {")
    assert (
        json.loads(entry.source.split("POST /v1/data ", 1)[1])
        == json.loads((folder / "BIB1.query.json").read_text())["query"]
    )
    assert entry.sha256 == files.sha256(folder / "BIB1.csv") and "(UTC)" in entry.description
    assert "usage/statbank/BIB1.query.json" in entries and "usage/statbank/BIB1.tableinfo.json" in entries
    assert [p for p in provenance.check() if "statbank" in p] == []  # other folders are not this test's business

    usage = statbank.cached_usage()
    assert set(usage["measure"]) == set(statbank.MEASURES) - {"downloads"}  # the one downloads cell is `..`
    value = usage.set_index(["kommunekode", "year", "measure"])["value"]
    assert value[(101, 2010, "service_points_with_collection")] == 20
    assert value[(101, 2010, "expenditure_gross")] == pytest.approx(350_000_500.0)
    assert value[(101, 2010, "population")] == 528208
    assert (101, 2008, "population") not in value.index  # before 2009
    assert 411 not in set(usage["kommunekode"])


def test_fetch_usage_for_given_years_and_tables(fake, tmp_path):
    written = statbank.fetch_usage(
        years=[2010, 2011],
        tables=["folk1a", "BIB1"],
        base_url=fake.url,
        cache_dir=tmp_path / "cache",
        progress=False,
        **FAST,
    )
    assert [p.name for p in written] == ["FOLK1A.csv", "BIB1.csv"]
    tids = [next(v["values"] for v in q["variables"] if v["code"] == "Tid") for q in fake.data_requests()]
    assert tids == [["2010K1", "2011K1"], ["2010", "2011"]]


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"tables": ["BIB99"]}, "no declared request for table(s) BIB99"),
        ({"tables": ["BIB1"], "years": [1990]}, "none of the years"),
    ],
)
def test_fetch_usage_rejects_unknown_tables_and_years(fake, tmp_path, kwargs, needle):
    with pytest.raises(statbank.UnknownCodeError, match=re.escape(needle)):
        statbank.fetch_usage(base_url=fake.url, cache_dir=tmp_path, progress=False, **kwargs, **FAST)
    assert fake.data_requests() == []


def test_measure_variable_that_cannot_be_found(fake, tmp_path):
    fake.tableinfos["BIB6"] = make_info("BIB6", "INDTUDG", {"17110": "Gross"})  # 17180 missing
    with pytest.raises(
        statbank.UnknownCodeError, match="cannot tell which variable holds the measure ids 17110, 17180"
    ):
        statbank.fetch_usage(tables="BIB6", base_url=fake.url, cache_dir=tmp_path, progress=False, **FAST)


def test_undeclared_variable_is_reported(fake, tmp_path):
    info = json.loads(TABLEINFOS["BIB1"])
    info["variables"].insert(
        2, {"id": "TYPE", "text": "type", "elimination": True, "time": False, "values": [{"id": "1", "text": "a"}]}
    )
    fake.tableinfos["BIB1"] = json.dumps(info).encode()
    with pytest.raises(statbank.UnknownCodeError, match="variable\\(s\\) TYPE that REQUESTS does not pin"):
        statbank.fetch_usage(tables="BIB1", base_url=fake.url, cache_dir=tmp_path, progress=False, **FAST)


# --------------------------------------------------------------------------- the usage contract


def write_cache(raw_copy: Path, bodies: dict[str, bytes]) -> Path:
    folder = paths.usage_raw() / "statbank"
    folder.mkdir(parents=True, exist_ok=True)
    for table, body in bodies.items():
        (folder / f"{table}.csv").write_bytes(body)
    return folder


def test_cached_usage_contract_from_hand_written_answers(raw_copy):
    folder = write_cache(raw_copy, {"BIB1": BIB1_BODY, "SBS1": SBS1_BODY})
    assert folder == raw_copy / "usage" / "statbank"
    usage = statbank.cached_usage()
    assert list(usage.columns) == ["kommunekode", "year", "measure", "value", "table"]
    assert usage.dtypes.to_dict() == {
        "kommunekode": "int64",
        "year": "int64",
        "measure": "str",
        "value": "float64",
        "table": "str",
    }
    got = {(r.kommunekode, r.year, r.measure): (r.value, r.table) for r in usage.itertuples()}
    assert got == {
        (101, 2010, "loans"): (5123456.0, "BIB1"),
        (101, 2010, "book_loans"): (3456789.0, "BIB1"),
        (147, 2010, "loans"): (812345.0, "BIB1"),
        (147, 2011, "book_loans"): (600000.0, "BIB1"),
        (101, 2010, "visits"): (4321500.0, "SBS1"),  # 4321,5 thousand -> counts
        (101, 2010, "active_borrowers"): (180000.0, "SBS1"),
        (147, 2010, "visits"): (812000.0, "SBS1"),
    }  # dropped: 000, region 084, landsdel 01, 411, missing `..`/`-`, 2008


def test_cached_usage_keeps_98_kommuner_of_the_real_area_list(raw_copy):
    """All 105 FOLK1A areas (from the tableinfo fixture) in, the 98 kommuner out."""
    areas = [v["id"] for v in json.loads(FOLK1A_INFO)["variables"][0]["values"]]
    lines = ["OMRÅDE;KØN;ALDER;CIVILSTAND;TID;INDHOLD"]
    lines += [f"{a};TOT;IALT;TOT;{y}K{q};{1000 + i}" for i, a in enumerate(areas) for y in (2009, 2010) for q in (1, 2)]
    write_cache(raw_copy, {"FOLK1A": ("\r\n".join(lines) + "\r\n").encode()})
    usage = statbank.cached_usage()
    assert usage.groupby("year")["kommunekode"].nunique().to_dict() == {2009: 98, 2010: 98}
    assert usage["kommunekode"].between(101, 860).all() and 411 not in set(usage["kommunekode"])
    assert len(usage) == 2 * 98  # only K1 (1 January)


def test_cached_usage_maps_labels_back_to_codes(raw_copy):
    """If BULK ignores valuePresentation=Code, the cached tableinfo turns labels into codes."""
    body = "OMRÅDE;BNØGLE;TID;INDHOLD\nCopenhagen;Loans, total;2010;10\nAll Denmark;Loans, total;2010;99\n".encode()
    folder = write_cache(raw_copy, {"BIB1": body})
    (folder / "BIB1.tableinfo.json").write_bytes(TABLEINFOS["BIB1"])
    usage = statbank.cached_usage()
    assert usage[["kommunekode", "year", "measure", "value"]].values.tolist() == [[101, 2010, "loans", 10.0]]


def test_cached_usage_ignores_undeclared_tables(raw_copy):
    write_cache(raw_copy, {"BIB1": BIB1_BODY, "METROX1": (FIXTURES / "metrox1_bulk_da_first200chars.txt").read_bytes()})
    assert set(statbank.cached_usage()["table"]) == {"BIB1"}


def test_cached_usage_on_empty_cache_names_the_command(raw_copy, tmp_path):
    with pytest.raises(statbank.EmptyCacheError, match="borgerservice fetch-usage"):
        statbank.cached_usage()
    with pytest.raises(statbank.EmptyCacheError, match="borgerservice fetch-usage"):
        statbank.cached_usage(tmp_path / "nothing")


@pytest.mark.parametrize(
    "body, needle",
    [
        (b"OMR\xc3\x85DE;TID;INDHOLD\n101;2010;1\n", "missing column(s) BN\u00d8GLE"),
        (b"OMR\xc3\x85DE;BN\xc3\x98GLE;TID;INDHOLD\n101;15110;2010M01;1\n", "period is not a year"),
        (b"OMR\xc3\x85DE;BN\xc3\x98GLE;TID;INDHOLD\n101;15110;2010;1\n101;15110;2010;2\n", "unique"),
        (b"OMR\xc3\x85DE;BN\xc3\x98GLE;TID;INDHOLD\n101;15110;2010;lots\n", "not a number"),
    ],
)
def test_broken_cache_gives_data_errors_not_pandas_tracebacks(raw_copy, body, needle):
    write_cache(raw_copy, {"BIB1": body})
    with pytest.raises(DataError, match=re.escape(needle)):
        statbank.cached_usage()
