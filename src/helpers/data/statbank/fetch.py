"""Fetching into the cache: ask for every declared request and cache the raw answers once they are checked.

The cache lives in ``data/raw/usage/statbank/`` (:func:`.cache.cache_folder`): per table the raw
answer ``<TABLE>.csv``, the query and fetch time ``<TABLE>.query.json`` and the metadata
``<TABLE>.tableinfo.json``; each is recorded in the data manifest. Writes are atomic and happen only
after the whole answer arrived and passed :func:`.answer.check_answer` (the table's variables, the
values and the number of rows the query implies, complete rows, the declared Content-Length), so a
failed or wrong download never replaces a good cache file.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from helpers.core import files, paths
from helpers.data import provenance
from helpers.data.statbank.answer import _checked, largest_answer
from helpers.data.statbank.cache import cache_folder
from helpers.data.statbank.query import build_query
from helpers.data.statbank.requests import UsageRequest, _declared, request_variables
from helpers.data.statbank.transport import _tableinfo_body, _tableinfo_json, base_url, post

SOURCE = "Statistics Denmark StatBank API v1"
LICENCE = "Statistics Denmark terms (CC BY 4.0 equivalent)"


def fetch_usage(
    years: Iterable[int] | None = None,
    tables: Iterable[str] | None = None,
    base_url: str | None = None,
    cache_dir: Path | None = None,
    progress: bool = True,
    **http,
) -> list[Path]:
    """Fetch every declared request (or those of ``tables``) and cache the raw answers; the paths of the data files.

    ``years`` None asks for everything from 2009 on; otherwise the table's periods for those years.
    ``http`` may set ``timeout``, ``retries``, ``base_delay``, ``max_bytes`` and ``max_wait`` (see
    :func:`post`). Stops at the first table that fails;
    files of tables fetched before stay (each is complete and recorded).
    """
    folder = cache_folder(cache_dir)
    written = []
    for req in _declared(tables):
        if progress:
            print(
                f"StatBank {req.table}: {', '.join(n for n, _ in req.measures.values())} ...",
                file=sys.stderr,
                flush=True,
            )
        written.append(_fetch_one(req, years, base_url, folder, http))
        if progress:
            print(
                f"  -> {paths.relative(written[-1])} ({written[-1].stat().st_size:,} bytes)",
                file=sys.stderr,
                flush=True,
            )
    return written


def _fetch_one(req: UsageRequest, years, url: str | None, folder: Path, http: dict) -> Path:
    """Fetch one declared request; write body, tableinfo and query only once the answer is complete and parses."""
    info_body = _tableinfo_body(req.table, url=url, **http)
    info = _tableinfo_json(info_body, req.table)
    variables, measure_code = request_variables(req, info, years)
    query = build_query(info, variables)
    body = post("data", query, url=url, expect=largest_answer(query, info), **http)  # larger: refused unread
    source = f"StatBank answer for {req.table} (not cached; the cache is as it was)"
    _checked(body, query, info, source)  # never cache what is not the answer asked for
    fetched = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return _write_cache(folder, req, query, measure_code, body, info_body, fetched, base_url(url))


def _write_cache(
    folder: Path,
    req: UsageRequest,
    query: dict,
    measure_code: str,
    body: bytes,
    info_body: bytes,
    fetched: str,
    url: str,
) -> Path:
    """Write the three cache files atomically and record them in the data manifest (when under data/raw).

    The query file, with the sha256 of the other two, is written last: a fetch killed in between leaves
    files that disagree with it, which :func:`cached_usage` reports instead of reading.
    """
    stem = folder / req.table
    info_path = files.write_bytes(stem.with_suffix(".tableinfo.json"), info_body)
    data_path = files.write_bytes(stem.with_suffix(".csv"), body)
    meta = {
        "table": req.table,
        "url": f"{url}/v1/data",
        "query": query,
        "measure_variable": measure_code,
        "measure_variable_confirmed": req.confirmed,
        "fetched_utc": fetched,
        "sha256": files.sha256(data_path),
        "bytes": len(body),
        "tableinfo_sha256": files.sha256(info_path),
    }
    query_path = files.write_json(stem.with_suffix(".query.json"), meta)
    _record(data_path, query_path, info_path, req, query, fetched)
    return data_path


def _record(data_path: Path, query_path: Path, info_path: Path, req: UsageRequest, query: dict, fetched: str) -> None:
    """Manifest entries for the cached files (skipped when the cache is outside data/raw)."""
    if not data_path.resolve().is_relative_to(paths.raw().resolve()):
        return
    q = json.dumps(query, ensure_ascii=False, separators=(",", ":"))
    measures = ", ".join(n for n, _ in req.measures.values())
    common = dict(licence=LICENCE, synthetic=False, provenance=f"helpers.data.statbank; query in {query_path.name}")
    provenance.record(
        data_path,
        source=f"{SOURCE}, POST /v1/data {q}",
        description=f"{req.table} BULK answer ({measures}) fetched {fetched} (UTC)",
        **common,
    )
    info_q = json.dumps({"table": req.table, "format": "JSON", "lang": "en"}, ensure_ascii=False, separators=(",", ":"))
    provenance.record(
        info_path,
        source=f"{SOURCE}, POST /v1/tableinfo {info_q}",
        description=f"{req.table} metadata fetched {fetched} (UTC)",
        **common,
    )
    provenance.record(
        query_path,
        source=f"{SOURCE}: the query sent for {data_path.name}, written by helpers.data.statbank",
        description=f"query, fetch time (UTC) and sha256 of {data_path.name}",
        **common,
    )
