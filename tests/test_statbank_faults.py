"""Client faults against the fake StatBank on 127.0.0.1: a bad answer never replaces a good cache.

Each fault first fetches a good BIB1 cache, then changes what the server holds (so any answer that
were wrongly accepted would change the cache), injects the fault and checks: the error type and a
clear message; the cache folder and the data manifest byte for byte unchanged (no stray temp file);
and, through `borgerservice fetch-usage`, exit code 2 with "error: ..." and no traceback.
Deadlines, backoffs and Retry-After caps are tiny and passed in, so no test sleeps for seconds.
"""

from __future__ import annotations

import email.utils
import json
import ssl
import subprocess
import sys
import time
import tracemalloc
from datetime import UTC, datetime

import pytest
from statbank_fake import CELLS, FAST, TABLEINFOS, FakeStatBank, cells, make_info

from helpers.core import files
from helpers.core.errors import DataError
from helpers.data import statbank
from helpers.data.statbank import transport
from helpers.running import cli

FAULT = {"timeout": 0.4, "retries": 1, "base_delay": 0.01, "max_bytes": 100_000, "max_wait": 0.05}
BIB1_ROWS = 7 * 3 * 9  # areas x measures x years 2009-2017 of the test tableinfo


def lines(body: bytes) -> list[str]:
    return body.decode("utf-8").split("\r\n")[:-1]


def join(rows: list[str]) -> bytes:
    return ("\r\n".join(rows) + "\r\n").encode("utf-8")


def another_table(body: bytes) -> bytes:
    """The same shape as BIB1 (OMRÅDE;BNØGLE;TID), but SBS1's measure ids: an answer for another table."""
    return body.replace(b";15110;", b";14150;").replace(b";15120;", b";14140;").replace(b";15250;", b";14110;")


def other_variables(body: bytes) -> bytes:
    """An answer with FOLK1A's variables where BIB1's were asked for."""
    return join(["OMRÅDE;KØN;TID;INDHOLD"] + [f"101;TOT;{y};{500000 + y}" for y in range(2009, 2018)])


def drop_column(body: bytes) -> bytes:
    """BNØGLE (the measure variable) missing from header and rows."""
    return join([";".join(f for i, f in enumerate(r.split(";")) if i != 1) for r in lines(body)])


def first_rows(body: bytes) -> bytes:
    """Cut at a line end after 100 of the 189 rows (Content-Length matches what is sent)."""
    return join(lines(body)[:101])


def cut_mid_row(body: bytes) -> bytes:
    return body[: body.rindex(b"\r\n", 0, len(body) - 2) + 6]


def empty_field(body: bytes) -> bytes:
    rows = lines(body)
    rows[5] = ";".join(["", *rows[5].split(";")[1:]])
    return join(rows)


def empty_value(body: bytes) -> bytes:
    """The last row cut right after its last `;` (and Content-Length declaring exactly that)."""
    return join([*lines(body)[:-1], lines(body)[-1].rsplit(";", 1)[0] + ";"])


def oversized_stream() -> bytes:
    return join(["OMRÅDE;BNØGLE;TID;INDHOLD"] + [f"101;15110;2010;{i}" for i in range(10_000)])


# id -> (script as a function of the server, error type, phrases the message must hold)
FAULTS = {
    "truncated body": (
        lambda f: [("truncated", None)] * 2,
        statbank.StatbankUnavailable,
        ["truncated body", "bytes (Content-Length)", "2 attempts", "no cache file was changed"],
    ),
    "wrong table, same variables": (
        lambda f: [("edit", another_table)],
        statbank.StatbankAnswerError,
        [
            "not cached; the cache is as it was",
            "value(s) not asked for in BNØGLE",
            "14150, an answer for another table than BIB1?",
            "accepted: 15110, 15120, 15250",
        ],
    ),
    "wrong table, other variables": (
        lambda f: [("edit", other_variables)],
        statbank.StatbankAnswerError,
        ["asked for but not in the answer: BNØGLE", "not asked for: KØN", "another table"],
    ),
    "missing variable": (
        lambda f: [("edit", drop_column)],
        statbank.StatbankAnswerError,
        ["variable(s) asked for but not in the answer: BNØGLE", "header is OMRÅDE;TID;INDHOLD"],
    ),
    "too few rows": (
        lambda f: [("edit", first_rows)],
        statbank.StatbankAnswerError,
        [f"100 rows, but the selection implies {BIB1_ROWS} (7 OMRÅDE x 3 BNØGLE x 9 Tid)", "cut short"],
    ),
    "row cut mid-way": (
        lambda f: [("edit", cut_mid_row)],
        DataError,
        [f"row {BIB1_ROWS + 1}: 2 fields, the header has 4"],
    ),
    "empty field": (
        lambda f: [("edit", empty_field)],
        statbank.StatbankAnswerError,
        ["row 6, column 'OMRÅDE': incomplete row: empty field"],
    ),
    "empty value": (
        lambda f: [("edit", empty_value)],
        statbank.StatbankAnswerError,
        [f"row {BIB1_ROWS + 1}, column 'INDHOLD': incomplete row: empty value"],
    ),
    "oversized, declared": (
        lambda f: [("ok", b"x" * 150_000)],
        statbank.StatbankAnswerError,
        ["larger than the maximum of 100,000 bytes", "Content-Length 150,000"],
    ),
    "oversized, streamed": (
        lambda f: [("undeclared", oversized_stream())],
        statbank.StatbankAnswerError,
        ["larger than the maximum of 100,000 bytes", "more than"],
    ),
    "slow drip beyond the deadline": (
        lambda f: [("drip", 0.02, None)] * 2,
        statbank.StatbankUnavailable,
        ["no complete answer within 0.4 s (the deadline per attempt)", "2 attempts"],
    ),
    "429 with Retry-After": (
        lambda f: [("headers", 429, {"Retry-After": "1"}, b"")] * 2,
        statbank.StatbankRateLimited,
        ["rate limited", "HTTP 429 Too Many Requests", "asked to wait 1 s", "2 attempts"],
    ),
    "503": (
        lambda f: [("headers", 503, {"Retry-After": "2"}, b"")] * 2,
        statbank.StatbankUnavailable,
        ["HTTP 503 Service Unavailable, asked to wait 2 s", "2 attempts"],
    ),
    "500": (lambda f: [("status", 500, b"oops")] * 2, statbank.StatbankUnavailable, ["HTTP 500 Internal Server Error"]),
    "400 from DST": (
        lambda f: [("status", 400, b'{"errorTypeCode":"EXTRACT-NOTFOUND","message":"Kan ikke finde"}')],
        statbank.StatbankAPIError,
        ["HTTP 400 EXTRACT-NOTFOUND", "Kan ikke finde"],
    ),
    "html maintenance page": (
        lambda f: [("ok", b"<html>maintenance</html>")],
        DataError,
        ["last header column must be INDHOLD"],
    ),
    "redirect to another host": (
        lambda f: [("redirect", 307, f.url.replace("127.0.0.1", "localhost") + "/v1/data")],
        statbank.StatbankRedirectError,
        ["redirects to http://localhost:", "outside the API's own host"],
    ),
    "redirect to https": (
        lambda f: [("redirect", 301, f.url.replace("http:", "https:") + "/v1/data")],
        statbank.StatbankRedirectError,
        ["outside the API's own host http://127.0.0.1:"],
    ),
    "redirect without Location": (
        lambda f: [("headers", 302, {}, b"")],
        statbank.StatbankRedirectError,
        ["no Location"],
    ),
    "redirect loop": (
        lambda f: [("redirect", 307, "/v1/data")] * 6,
        statbank.StatbankRedirectError,
        ["more than 5 redirects"],
    ),
}


@pytest.fixture
def good_cache(fake, raw_copy):
    """A good BIB1 cache; then the server's BIB1 loans change, so a wrongly accepted answer shows."""
    statbank.fetch_usage(tables=["BIB1"], base_url=fake.url, progress=False, **FAST)
    folder = raw_copy / "usage" / "statbank"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    manifest = (raw_copy / "usage" / "MANIFEST.yaml").read_bytes()
    assert (
        set(before) == {"BIB1.csv", "BIB1.query.json", "BIB1.tableinfo.json"} and b";5123456\r\n" in before["BIB1.csv"]
    )
    fake.cells["BIB1"] = {**CELLS["BIB1"], **cells(({"OMRÅDE": "101", "BNØGLE": "15110", "TID": "2010"}, "5200000"))}
    fake.requests.clear()

    def unchanged() -> bool:
        return {p.name: p.read_bytes() for p in folder.iterdir()} == before and (
            raw_copy / "usage" / "MANIFEST.yaml"
        ).read_bytes() == manifest

    return unchanged


@pytest.mark.parametrize("name", FAULTS)
def test_fault_leaves_good_cache_identical(fake, good_cache, name):
    script, error, phrases = FAULTS[name]
    fake.script = script(fake)
    started = time.monotonic()
    with pytest.raises(error) as caught:
        statbank.fetch_usage(tables=["BIB1"], base_url=fake.url, progress=False, **FAULT)
    assert time.monotonic() - started < 3
    text = str(caught.value)
    for phrase in phrases:
        assert phrase in text, f"{phrase!r} not in {text!r}"
    assert good_cache()
    assert [p for p, _ in fake.requests if p == "/v1/tableinfo"] == ["/v1/tableinfo"]


@pytest.mark.parametrize("name", FAULTS)
def test_fault_through_the_command_is_a_message_not_a_traceback(fake, good_cache, monkeypatch, capsys, name):
    script, _, phrases = FAULTS[name]
    for setting, value in {
        "DEFAULT_TIMEOUT": 0.4,
        "DEFAULT_RETRIES": 1,
        "DEFAULT_BASE_DELAY": 0.01,
        "DEFAULT_MAX_BYTES": 100_000,
        "DEFAULT_MAX_WAIT": 0.05,
    }.items():
        monkeypatch.setattr(transport, setting, value)
    fake.script = script(fake)
    code = cli.main(["fetch-usage", "--tables", "BIB1", "--url", fake.url])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err and "\nerror: " in err
    for phrase in phrases:
        assert phrase in err
    assert good_cache()


def test_good_answer_after_the_faults_replaces_the_cache(fake, good_cache, raw_copy):
    """The fault tests' "unchanged" can fail: the same fetch without a fault does change the cache."""
    statbank.fetch_usage(tables=["BIB1"], base_url=fake.url, progress=False, **FAULT)
    assert not good_cache()
    assert b"101;15110;2010;5200000\r\n" in (raw_copy / "usage" / "statbank" / "BIB1.csv").read_bytes()


@pytest.mark.parametrize("drip", [("drip", 0.02, None), ("drip-headers", 0.02)], ids=["body", "headers"])
def test_slow_drip_would_pass_a_per_read_timeout(fake, drip):
    """Each gap of the drip is far below the deadline: only a whole-request clock stops it."""
    fake.script = [drip]
    started = time.monotonic()
    with pytest.raises(statbank.StatbankUnavailable, match=r"within 0\.3 s \(the deadline per attempt\)"):
        statbank.post(
            "data",
            {
                "table": "BIB1",
                "variables": [
                    {"code": "OMRÅDE", "values": ["*"]},
                    {"code": "BNØGLE", "values": ["*"]},
                    {"code": "Tid", "values": ["*"]},
                ],
            },
            url=fake.url,
            timeout=0.3,
            retries=0,
        )
    assert 0.25 < time.monotonic() - started < 1.0


# --------------------------------------------------------------------------- faults the client recovers from


def test_redirect_within_the_host_is_followed_with_the_same_post(fake, good_cache, raw_copy):
    fake.script = [("redirect", 308, "/v1/data-moved"), ("ok", None)]
    statbank.fetch_usage(tables=["BIB1"], base_url=fake.url, progress=False, **FAULT)
    sent = [(p, b) for p, b in fake.requests if p != "/v1/tableinfo"]
    assert [p for p, _ in sent] == ["/v1/data", "/v1/data-moved"] and sent[0][1] == sent[1][1]
    assert b"101;15110;2010;5200000\r\n" in (raw_copy / "usage" / "statbank" / "BIB1.csv").read_bytes()


def test_absolute_redirect_to_the_same_host_is_followed(fake, tmp_path):
    fake.script = [("redirect", 302, fake.url + "/v1/data-moved"), ("ok", None)]
    statbank.fetch_usage(tables=["BIB1"], base_url=fake.url, cache_dir=tmp_path, progress=False, **FAULT)
    assert (tmp_path / "BIB1.csv").read_bytes() == dict(fake.served)["BIB1"]


@pytest.mark.parametrize(
    "header, cap, waited",
    [
        ("7", 30.0, 7.0),  # seconds form, honoured
        ("7", 2.0, 2.0),  # capped by max_wait
        ("0", 30.0, 0.01),  # never less than the backoff
        ("soon", 30.0, 0.01),  # unreadable: the backoff
    ],
)
def test_retry_after_is_honoured_and_capped(fake, monkeypatch, tmp_path, header, cap, waited):
    slept = []
    monkeypatch.setattr(transport, "_sleep", slept.append)
    fake.script = [("headers", 429, {"Retry-After": header}, b"")]
    statbank.fetch_usage(
        tables=["BIB1"], base_url=fake.url, cache_dir=tmp_path, progress=False, **{**FAULT, "max_wait": cap}
    )
    assert slept == [waited] and (tmp_path / "BIB1.csv").exists()


def test_retry_after_http_date_on_503(fake, monkeypatch, tmp_path):
    slept = []
    monkeypatch.setattr(transport, "_sleep", slept.append)
    fake.script = [("headers", 503, {"Retry-After": email.utils.formatdate(time.time() + 20, usegmt=True)}, b"")]
    statbank.fetch_usage(
        tables=["BIB1"], base_url=fake.url, cache_dir=tmp_path, progress=False, **{**FAULT, "max_wait": 60}
    )
    assert len(slept) == 1 and 18 <= slept[0] <= 20


def test_retry_after_really_waits_the_capped_time(fake, tmp_path):
    fake.script = [("headers", 429, {"Retry-After": "5"}, b"")]
    started = time.monotonic()
    statbank.fetch_usage(
        tables=["BIB1"],
        base_url=fake.url,
        cache_dir=tmp_path,
        progress=False,
        **{**FAULT, "base_delay": 0.0, "max_wait": 0.2},
    )
    assert 0.2 <= time.monotonic() - started < 1.5


def test_retry_after_parsing():
    now = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
    assert statbank.retry_after("120", now) == 120.0
    assert statbank.retry_after("Tue, 01 Dec 2026 12:01:30 GMT", now) == 90.0
    assert statbank.retry_after("Tue, 01 Dec 2026 11:00:00 GMT", now) == 0.0  # in the past
    assert statbank.retry_after(None, now) is None and statbank.retry_after("", now) is None
    assert statbank.retry_after("in a while", now) is None and statbank.retry_after("-5", now) is None


def test_rate_limited_then_answered(fake, monkeypatch, tmp_path):
    monkeypatch.setattr(transport, "_sleep", lambda s: None)
    fake.script = [("headers", 429, {"Retry-After": "1"}, b""), ("status", 503, b"")]
    statbank.fetch_usage(
        tables=["BIB1"], base_url=fake.url, cache_dir=tmp_path, progress=False, **{**FAULT, "retries": 2}
    )
    assert len(fake.data_requests()) == 3


def test_tableinfo_for_another_table_is_refused(fake, tmp_path):
    fake.tableinfos["BIB1"] = TABLEINFOS["SBS1"]
    with pytest.raises(statbank.StatbankAnswerError, match="metadata for another table"):
        statbank.fetch_usage(tables=["BIB1"], base_url=fake.url, cache_dir=tmp_path, progress=False, **FAULT)
    assert fake.data_requests() == [] and not tmp_path.joinpath("BIB1.csv").exists()


def test_localhost_reaches_the_same_fake(fake):
    """Sanity check of the redirect fault: localhost reaches the same fake, so only the client's refusal stops it."""
    statbank.tableinfo("BIB1", base_url=fake.url.replace("127.0.0.1", "localhost"), **FAST)
    assert fake.requests[-1][0] == "/v1/tableinfo"


def test_answer_with_labels_instead_of_codes_is_accepted(fake, tmp_path):
    """One test found BULK ignoring valuePresentation=Code: labels of the selected values pass the check."""
    fake.script = [
        ("edit", lambda b: b.replace(b"\r\n101;", b"\r\nCopenhagen;").replace(b";15110;", b";Loans, total;"))
    ]
    statbank.fetch_usage(tables=["BIB1"], base_url=fake.url, cache_dir=tmp_path, progress=False, **FAULT)
    assert b"Copenhagen;Loans, total;2010;5123456\r\n" in (tmp_path / "BIB1.csv").read_bytes()
    usage = statbank.cached_usage(tmp_path).set_index(["kommunekode", "year", "measure"])["value"]
    assert usage[(101, 2010, "loans")] == 5123456


# --------------------------------------------------------------------------- proxies from the environment


@pytest.fixture
def no_proxy_env(monkeypatch):
    for name in (
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_http_proxy_from_the_environment_is_used(fake, no_proxy_env):
    no_proxy_env.setenv("http_proxy", fake.url)
    info = statbank.tableinfo("BIB1", base_url="http://statbank.invalid", **FAST)
    assert info["id"] == "BIB1" and fake.targets == ["http://statbank.invalid/v1/tableinfo"]


def test_no_proxy_bypasses_it(fake, no_proxy_env, unused_port):
    no_proxy_env.setenv("http_proxy", f"http://127.0.0.1:{unused_port}")  # nothing listens there
    no_proxy_env.setenv("no_proxy", "127.0.0.1")
    assert statbank.tableinfo("BIB1", base_url=fake.url, **FAST)["id"] == "BIB1"
    assert fake.targets == ["/v1/tableinfo"]


# --------------------------------------------------------------------------- HTTPS, the production path


@pytest.fixture
def tls_fake(tmp_path, monkeypatch):
    """The fake behind TLS with a throw-away CA that the client trusts through SSL_CERT_FILE."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    server = FakeStatBank(TABLEINFOS)
    server.server.socket = context.wrap_socket(server.server.socket, server_side=True)
    server.thread.start()
    yield server, server.url.replace("http:", "https:")
    server.server.shutdown()
    server.server.server_close()


def test_https_fetch_and_deadline(tls_fake, tmp_path):
    fake, url = tls_fake
    statbank.fetch_usage(tables=["BIB1"], base_url=url, cache_dir=tmp_path, progress=False, **FAULT)
    assert (tmp_path / "BIB1.csv").read_bytes() == dict(fake.served)["BIB1"]
    fake.script = [("drip", 0.02, None)]
    started = time.monotonic()
    with pytest.raises(statbank.StatbankUnavailable, match=r"within 0\.3 s \(the deadline per attempt\)"):
        statbank.fetch_usage(
            tables=["BIB1"], base_url=url, cache_dir=tmp_path, progress=False, **{**FAULT, "timeout": 0.3, "retries": 0}
        )
    assert time.monotonic() - started < 1.5


def test_https_redirect_to_plain_http_is_refused(tls_fake, tmp_path):
    fake, url = tls_fake
    fake.script = [("redirect", 301, fake.url + "/v1/data")]
    with pytest.raises(statbank.StatbankRedirectError, match="outside the API's own host https://127.0.0.1:"):
        statbank.fetch_usage(tables=["BIB1"], base_url=url, cache_dir=tmp_path, progress=False, **FAULT)


def test_untrusted_certificate_is_a_clear_error_without_retries(tls_fake, tmp_path, monkeypatch):
    fake, url = tls_fake
    monkeypatch.delenv("SSL_CERT_FILE")
    with pytest.raises(statbank.StatbankError, match="TLS certificate of 127.0.0.1 is not trusted") as caught:
        statbank.tableinfo("BIB1", base_url=url, **{**FAULT, "retries": 3})
    assert type(caught.value) is statbank.StatbankError and fake.requests == []


# --------------------------------------------------------------------------- a fetch killed between its files


def test_fetch_killed_before_its_query_file_is_reported_not_read(fake, good_cache, raw_copy, monkeypatch):
    """The query file (with the others' sha256) is written last; files that disagree with it are not read."""
    folder = raw_copy / "usage" / "statbank"
    real_write_json = files.write_json

    def killed(target, obj):
        if str(target).endswith(".query.json"):
            raise KeyboardInterrupt  # the process dies here
        return real_write_json(target, obj)

    monkeypatch.setattr(files, "write_json", killed)
    with pytest.raises(KeyboardInterrupt):
        statbank.fetch_usage(tables=["BIB1"], base_url=fake.url, progress=False, **FAULT)
    assert b";5200000\r\n" in (folder / "BIB1.csv").read_bytes()  # the new answer landed, its record did not
    with pytest.raises(
        DataError,
        match=r"(?s)BIB1\.csv: .*differs from the sha256 recorded in BIB1\.query\.json.*"
        r"borgerservice fetch-usage --tables BIB1",
    ):
        statbank.cached_usage()
    monkeypatch.setattr(files, "write_json", real_write_json)
    statbank.fetch_usage(tables=["BIB1"], base_url=fake.url, progress=False, **FAULT)  # the next fetch repairs it
    assert (
        statbank.cached_usage().set_index(["kommunekode", "year", "measure"])["value"][(101, 2010, "loans")] == 5200000
    )


def test_hand_edited_tableinfo_is_reported(fake, good_cache, raw_copy):
    info = raw_copy / "usage" / "statbank" / "BIB1.tableinfo.json"
    info.write_bytes(info.read_bytes().replace(b"Copenhagen", b"Kobenhavn"))
    with pytest.raises(DataError, match=r"(?s)BIB1\.tableinfo\.json: .*differs from the sha256"):
        statbank.cached_usage()


# --- issue 27, finding 7: an answer far larger than its query is read and parsed before it is refused ----


def large_answer(size: int) -> bytes:
    """``size`` bytes of well-formed BIB1 rows (the same cell again and again): far more than 189 rows."""
    row = b"101;15110;2010;5123456\r\n"
    return "OMRÅDE;BNØGLE;TID;INDHOLD\r\n".encode() + row * (size // len(row))


@pytest.mark.parametrize("how", ["ok", "undeclared"], ids=["declared", "without Content-Length"])
def test_an_answer_larger_than_its_query_is_refused_unparsed(fake, good_cache, how):
    """Finding 7: a 100 MB answer with a declared Content-Length (under the 200 MB cap) was read and
    parsed before it was refused (48 s, 2.9 GB). The query implies 189 rows, so no correct answer has
    more than a few kilobytes: one with a larger Content-Length must be refused before its body is
    read, and one without a Content-Length before it is parsed. With the default settings."""
    body = large_answer(8 * 2**20)
    fake.script = [(how, body)]
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(statbank.StatbankAnswerError) as caught:
            statbank.fetch_usage(tables=["BIB1"], base_url=fake.url, progress=False, timeout=10.0, retries=0)
        seconds = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    text = str(caught.value)
    assert "larger than any correct answer to the query" in text and "nothing parsed" in text
    if how == "ok":
        assert f"Content-Length {len(body):,}" in text
        assert peak < 2**20, f"{peak:,} bytes allocated: the body was read"
    else:
        assert f"{len(body):,} bytes arrived" in text
        assert peak < 3 * len(body), f"{peak:,} bytes allocated for a body of {len(body):,}: it was parsed"
    assert seconds < 5
    assert good_cache()


PEAK = """
import json, sys
from helpers.data import statbank

def kb(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))

statbank.parse_csv(b"A;INDHOLD\\r\\n1;2\\r\\n")  # everything parsing imports, imported before measuring
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # the resident high-water mark (VmHWM) starts again from the memory in use now
before = kb("VmRSS")
frame = statbank.data("BIG1", {"OMRÅDE": "*", "BNØGLE": "*", "Tid": "*"}, base_url=sys.argv[1], timeout=60)
peak = kb("VmHWM")
print(json.dumps({"rows": len(frame), "missing": int(frame["INDHOLD"].isna().sum()), "peak_kb": peak - before}))
"""


def _can_reset_peak_memory() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _can_reset_peak_memory(), reason="needs Linux's /proc/self/clear_refs to measure a peak")
def test_peak_memory_of_fetching_and_parsing_a_large_answer_is_bounded(fake):
    """Finding 7: parsing took about 29 times the answer's size (2.9 GB for 100 MB). A correct answer of
    252,000 rows (7 areas x 3 measures x 12,000 periods, 6 MB) fetched, parsed and checked by
    ``statbank.data`` in a fresh process raises its peak memory (the resident high-water mark, reset
    just before) by less than 20 times the answer's size: about 14.5 measured, 33 before issue 27 (the
    answer itself while it arrives and is parsed, then the fixed cost per row of Python and Arrow
    objects: the ratio is lower for longer rows)."""
    measures = {"15110": "Loans, total", "15120": "Loans. Books", "15250": "Downloads"}
    fake.tableinfos["BIG1"] = make_info("BIG1", "BNØGLE", measures, years=range(2000, 14000))
    out = subprocess.run([sys.executable, "-c", PEAK, fake.url], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    [(table, body)] = fake.served
    assert table == "BIG1" and result["rows"] == 7 * 3 * 12000 and result["missing"] == 7 * 3 * 12000
    ratio = result["peak_kb"] * 1024 / len(body)
    assert ratio < 20, f"peak {result['peak_kb']:,} KB for an answer of {len(body):,} bytes: {ratio:.1f} times"
