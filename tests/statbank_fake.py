"""A fake Statistics Denmark API on 127.0.0.1 that injects faults: tableinfos, cells and the server.

Shared by the StatBank tests (the fixture ``fake`` in conftest.py starts one per test). No test
touches the internet.
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "statbank"
FOLK1A_INFO = (FIXTURES / "tableinfo_FOLK1A_da_2025-08.json").read_bytes()
FAST = {"timeout": 2.0, "retries": 2, "base_delay": 0.01}

AREAS = [
    ("000", "All Denmark"),
    ("084", "Region Hovedstaden"),
    ("101", "Copenhagen"),
    ("147", "Frederiksberg"),
    ("151", "Ballerup"),
    ("411", "Christiansø"),
    ("563", "Fanø"),
]


def make_info(table: str, measure_var: str, measures: dict[str, str], years=range(2009, 2018)) -> bytes:
    """A tableinfo answer in the recorded shape (id, text, variables[{id, text, elimination, time, values}])."""

    def var(vid, values, is_time=False):
        return {
            "id": vid,
            "text": vid.lower(),
            "elimination": not is_time,
            "time": is_time,
            "values": [{"id": i, "text": t} for i, t in values],
        }

    doc = {
        "id": table,
        "text": f"{table} (test)",
        "unit": "Number",
        "variables": [
            var("OMRÅDE", AREAS),
            var(measure_var, list(measures.items())),
            var("Tid", [(str(y), str(y)) for y in years], is_time=True),
        ],
    }
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


TABLEINFOS = {
    "FOLK1A": FOLK1A_INFO,
    "BIB1": make_info("BIB1", "BNØGLE", {"15110": "Loans, total", "15120": "Loans. Books", "15250": "Downloads"}),
    "SBS1": make_info(
        "SBS1",
        "BNØGLE",
        {"14110": "Population (1,000)", "14140": "Active borrowers", "14150": "Physical visits (1,000)"},
    ),
    # deliberately NOT the assumed code AKTIVI: the client must find the variable by its values
    "BIB2B": make_info(
        "BIB2B", "AKTIVITET", {"10310": "All service points", "10300": "With collection", "10340": "Population"}
    ),
    "BIB6": make_info("BIB6", "INDTUDG", {"17110": "Gross", "17180": "Net"}),
}


# --------------------------------------------------------------------------- the fault-injecting server
# What the fake holds per table: cells keyed by {VARIABLE: value id} (upper-cased codes, all variables);
# every other cell of a selection is answered `..`, as DST writes a missing value.


def cells(*rows: tuple[dict[str, str], str]) -> dict[frozenset, str]:
    return {frozenset(codes.items()): value for codes, value in rows}


def area_measure_year(var: str, *rows: tuple[str, str, str, str]) -> list[tuple[dict[str, str], str]]:
    return [({"OMRÅDE": a, var: m, "TID": y}, v) for a, m, y, v in rows]


CELLS = {
    "BIB1": cells(
        *area_measure_year(
            "BNØGLE",
            ("000", "15110", "2010", "48123456"),
            ("084", "15110", "2010", "15000000"),
            ("101", "15110", "2010", "5123456"),
            ("101", "15120", "2010", "3456789"),
            ("147", "15110", "2010", "812345"),
            ("147", "15120", "2011", "600000,0"),
            ("411", "15110", "2010", "12"),
        )
    ),
    "SBS1": cells(
        *area_measure_year(
            "BNØGLE",
            ("000", "14150", "2010", "36123,4"),
            ("101", "14150", "2010", "4321,5"),
            ("101", "14140", "2010", "180000"),
            ("147", "14150", "2010", "812"),
            ("147", "14140", "2010", "-"),
        )
    ),
    "BIB2B": cells(
        *area_measure_year(
            "AKTIVITET", ("000", "10310", "2010", "525"), ("101", "10310", "2010", "21"), ("101", "10300", "2010", "20")
        )
    ),
    "BIB6": cells(
        *area_measure_year("INDTUDG", ("101", "17110", "2010", "350000,5"), ("101", "17180", "2010", "300000"))
    ),
    "FOLK1A": cells(
        *[
            ({"OMRÅDE": a, "KØN": "TOT", "ALDER": "IALT", "CIVILSTAND": "TOT", "TID": t}, v)
            for a, t, v in [
                ("000", "2010K1", "5534738"),
                ("101", "2010K1", "528208"),
                ("101", "2008K1", "509861"),
                ("411", "2010K1", "95"),
            ]
        ]
    ),
}


class FakeStatBank:
    """HTTP server on 127.0.0.1 serving tableinfo and /v1/data answers, recording every request.

    A data request is answered with every cell of its selection (the product of the values selected
    per variable, resolved against the served tableinfo by the fake's own simple rules), values from
    ``cells`` or `..`. ``script`` actions, consumed one per data request (then that answer), where
    ``body`` None stands for the answer the request deserves:
    ("ok", body), ("status", code, body), ("headers", code, {header: value}, body),
    ("slow", seconds, body), ("truncated", body) (declares 100 bytes more than it sends),
    ("drip", pause, body) (headers at once, then 16 bytes per ``pause``), ("drip-headers", pause) (one
    header line per ``pause``, 90 of them), ("undeclared", body) (no
    Content-Length; the end is the closed connection), ("redirect", code, location),
    ("edit", function) (the deserved answer passed through ``function``).
    """

    def __init__(self, tableinfos: dict[str, bytes], table_cells: dict[str, dict[frozenset, str]] | None = None):
        self.tableinfos, self.cells = dict(tableinfos), dict(CELLS if table_cells is None else table_cells)
        self.script, self.requests, self.served, self.targets = [], [], [], []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # clients that time out close early
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def data_requests(self) -> list[dict]:
        return [body for path, body in self.requests if path != "/v1/tableinfo"]

    def answer(self, query: dict) -> bytes:
        """The complete BULK answer to ``query``: header of upper-cased codes + INDHOLD, CRLF, one row per cell."""
        info = json.loads(self.tableinfos[query["table"].upper()])
        columns, chosen = [], []
        for selection in query["variables"]:
            var = next(v for v in info["variables"] if v["id"].upper() == selection["code"].upper())
            ids = [v["id"] for v in var["values"]]
            picked = []
            for s in selection["values"]:
                picked += [i for i in ids if (i >= s[2:] if s.startswith(">=") else fnmatch.fnmatchcase(i, s))]
            columns.append(selection["code"].upper())
            chosen.append(picked)
        held = self.cells.get(query["table"].upper(), {})
        lines = [";".join([*columns, "INDHOLD"])]
        lines += [
            ";".join([*combo, held.get(frozenset(zip(columns, combo, strict=False)), "..")])
            for combo in itertools.product(*chosen)
        ]
        return ("\r\n".join(lines) + "\r\n").encode("utf-8")

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8"))
                fake.targets.append(self.path)  # absolute when the fake is used as an HTTP proxy
                path = urllib.parse.urlsplit(self.path).path
                fake.requests.append((path, body))
                if path == "/v1/tableinfo":
                    info = fake.tableinfos.get(body["table"].upper())
                    err = b'{"errorTypeCode":"TABLE-NOTFOUND","message":"Tabellen findes ikke"}'
                    return self.send(200, info) if info else self.send(400, err)
                action = fake.script.pop(0) if fake.script else ("ok", None)
                if action[0] == "edit":
                    action = ("ok", action[1](fake.answer(body)))
                payload = action[-1] if action[-1] is not None else fake.answer(body)
                if action[0] in ("ok", "slow", "drip", "undeclared", "truncated"):
                    fake.served.append((body["table"], payload))
                if action[0] == "ok":
                    self.send(200, payload)
                elif action[0] == "status":
                    self.send(action[1], payload)
                elif action[0] == "headers":
                    self.send(action[1], payload, headers=action[2])
                elif action[0] == "redirect":
                    self.send(action[1], b"", headers={"Location": action[2]})
                elif action[0] == "slow":
                    time.sleep(action[1])
                    self.send(200, payload)
                elif action[0] == "truncated":
                    self.send(200, payload, length=len(payload) + 100)
                elif action[0] == "undeclared":
                    self.send(200, payload, length=False)
                elif action[0] == "drip":
                    self.send(200, payload, pause=action[1])
                elif action[0] == "drip-headers":
                    self.drip_headers(action[1])

            def drip_headers(self, pause):
                try:
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    for i in range(90):
                        self.wfile.write(f"X-Pad-{i}: {i}\r\n".encode())
                        self.wfile.flush()
                        time.sleep(pause)
                    self.wfile.write(b"Content-Length: 0\r\n\r\n")
                    self.close_connection = True
                except OSError:
                    pass

            def send(self, status, payload, length=None, headers=None, pause=None):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json" if payload[:1] == b"{" else "text/csv")
                    if length is not False:
                        self.send_header("Content-Length", str(len(payload) if length is None else length))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    if pause is None:
                        self.wfile.write(payload)
                    else:
                        for i in range(0, len(payload), 16):
                            self.wfile.write(payload[i : i + 16])
                            self.wfile.flush()
                            time.sleep(pause)
                    self.close_connection = True
                except OSError:
                    pass

        return Handler
