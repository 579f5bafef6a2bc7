"""Reading the cache: the cached answers as the usage contract (kommunekode, year, measure, value, table).

Analysis never calls the network: :func:`cached_usage` reads what ``borgerservice fetch-usage``
(:mod:`.fetch`) cached, checks each answer against the sha256 its query file recorded, and keeps the
kommune rows of the declared measures in plain units.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pandas as pd

from helpers.core import files, lazy, paths
from helpers.core.errors import DataError, Problem
from helpers.core.validation import validate
from helpers.data import provenance
from helpers.data.statbank.errors import EmptyCacheError, UnknownCodeError
from helpers.data.statbank.parse import parse_csv
from helpers.data.statbank.query import _variable
from helpers.data.statbank.requests import AREA, FIRST_YEAR, MEASURES, REQUESTS, UsageRequest
from helpers.data.statbank.transport import _tableinfo_json

pa = lazy.module("pandera.pandas")  # ~0.2 s to import: at the first validation

FETCH_COMMAND = "borgerservice fetch-usage"


def cache_folder(path: Path | None = None) -> Path:
    """Where answers are cached: the argument, else data/raw/usage/statbank (honours BORGERSERVICE_RAW)."""
    return Path(path) if path is not None else paths.usage_raw() / "statbank"


@cache
def usage_schema() -> pa.DataFrameSchema:
    """The schema of the usage contract (built at its first use: pandera is imported then)."""
    return pa.DataFrameSchema(
        {
            "kommunekode": pa.Column(int, [pa.Check.in_range(101, 860), pa.Check.ne(411)]),
            "year": pa.Column(int, pa.Check.ge(FIRST_YEAR)),
            "measure": pa.Column(str, pa.Check.isin(MEASURES)),
            "value": pa.Column(float),
            "table": pa.Column(str, pa.Check.isin([r.table for r in REQUESTS])),
        },
        unique=["kommunekode", "year", "measure"],
        strict=True,
    )


def cached_usage(cache_dir: Path | None = None) -> pd.DataFrame:
    """All cached answers as the usage contract: kommunekode, year, measure, value (counts, DKK), table.

    Only kommune rows (101..860 without Christiansø 411); whole country, regions and landsdele are dropped,
    as are missing cells and years before 2009. Tables that REQUESTS does not declare are ignored.
    """
    folder = cache_folder(cache_dir)
    found = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    if not found:
        raise EmptyCacheError(
            f"no cached StatBank answers in {paths.relative(folder)}; run `{FETCH_COMMAND}` "
            "(needs internet) to fill the cache"
        )
    by_id = {r.table: r for r in REQUESTS}
    frames = [_contract_rows(p, by_id[t]) for p in found if (t := _cached_table(p)) in by_id]
    if not frames:
        raise EmptyCacheError(
            f"{paths.relative(folder)} holds no answer for a declared table ({', '.join(by_id)}); run `{FETCH_COMMAND}`"
        )
    usage = pd.concat(frames, ignore_index=True).sort_values(
        ["table", "measure", "kommunekode", "year"], ignore_index=True
    )
    return validate(usage, usage_schema(), folder)


def _meta(path: Path) -> dict:
    """The saved query beside a cached answer ({} when there is none or it is unreadable)."""
    side = path.with_suffix(".query.json")
    try:
        return json.loads(side.read_text(encoding="utf-8")) if side.exists() else {}
    except ValueError:
        raise DataError(side, "not valid JSON") from None


def _cached_table(path: Path) -> str:
    """Which table a cached answer belongs to: from its saved query, else its file name."""
    return str(_meta(path).get("table") or path.stem).upper()


def _contract_rows(path: Path, req: UsageRequest) -> pd.DataFrame:
    """One cached answer in contract form (codes resolved, kommuner only, units converted)."""
    _check_hashes(path)
    provenance.note_read(path)  # the raw files each run read (its results JSON lists them)
    frame = parse_csv(path.read_bytes(), source=path)
    info = _cached_info(path)
    measure_col = str(_meta(path).get("measure_variable") or req.variable).upper()
    time_col = next((c for c in frame.columns if c in ("TID", "TIME")), "TID")
    _require(frame, [AREA, measure_col, time_col, *(c.upper() for c in req.fixed)], path)
    for code, value in req.fixed.items():
        frame = frame[_codes(frame[code.upper()], info, code) == value]
    area = _codes(frame[AREA], info, AREA)
    measure = _codes(frame[measure_col], info, measure_col)
    year = _years(frame[time_col], req.period, path)
    keep = area.str.fullmatch(r"\d{3}") & measure.isin(list(req.measures)) & year.notna() & frame["INDHOLD"].notna()
    code = pd.to_numeric(area.where(keep), errors="coerce")
    keep &= code.between(101, 860) & (code != 411) & (year >= FIRST_YEAR)
    names = {k: n for k, (n, _) in req.measures.items()}
    factors = {k: f for k, (_, f) in req.measures.items()}
    return pd.DataFrame(
        {
            "kommunekode": code[keep].astype("int64"),
            "year": year[keep].astype("int64"),
            "measure": measure[keep].map(names).astype("str"),
            "value": (frame["INDHOLD"][keep] * measure[keep].map(factors)).astype("float64"),
            "table": pd.Series(req.table, index=frame.index[keep], dtype="str"),
        }
    )


def _check_hashes(path: Path) -> None:
    """The answer and its tableinfo must be the files whose sha256 the saved query recorded (when it did)."""
    meta = _meta(path)
    for side, key in ((path, "sha256"), (path.with_suffix(".tableinfo.json"), "tableinfo_sha256")):
        if meta.get(key) and side.exists() and files.sha256(side) != meta[key]:
            raise DataError(
                paths.relative(side),
                Problem(
                    f"content differs from the sha256 recorded in {path.with_suffix('.query.json').name} when it was "
                    f"fetched (edited by hand, or a fetch was interrupted); run `{FETCH_COMMAND} --tables "
                    f"{path.stem}` again"
                ),
            )


def _require(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    """A DataError naming the missing columns (and those present) instead of a KeyError."""
    missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if missing:
        raise DataError(
            path, Problem(f"missing column(s) {', '.join(missing)}", accepted=f"found {', '.join(frame.columns)}")
        )


def _cached_info(path: Path) -> dict | None:
    """The cached tableinfo beside an answer, used to turn labels back into codes (None when absent)."""
    side = path.with_suffix(".tableinfo.json")
    return _tableinfo_json(side.read_bytes(), path.stem) if side.exists() else None


def _codes(values: pd.Series, info: dict | None, code: str) -> pd.Series:
    """Value ids of a column; labels are mapped back to ids via tableinfo.

    DST is asked for codes, but one test reported BULK answering with labels; this keeps such
    an answer usable (verify on the first live run which one arrives).
    """
    values = values.astype("str").str.strip()
    if info is None:
        return values
    try:
        var = _variable(info, code)
    except UnknownCodeError:
        return values
    ids = {v["id"] for v in var["values"]}
    if values.isin(ids).all():
        return values
    by_label = {v["text"]: v["id"] for v in var["values"]}
    return values.map(lambda s: s if s in ids else by_label.get(s, s)).astype("str")


def _years(values: pd.Series, period: str, path: Path) -> pd.Series:
    """Year of each period id: ``2010`` -> 2010; with ``period='K1'``, ``2010K1``/``2010Q1`` -> 2010, other quarters
    NaN.
    """
    pattern = r"(\d{4})" if not period else r"(\d{4})(K1|Q1)"
    text = values.astype("str").str.strip()
    year = pd.to_numeric(text.str.extract(f"^{pattern}$")[0], errors="coerce")
    odd = year.isna() & ~text.str.fullmatch(r"\d{4}[KQ][2-4]")
    if odd.any():
        first = text[odd].iloc[0]
        raise DataError(
            path,
            Problem(
                "period is not a year" + (" or quarter" if period else ""),
                column="TID",
                value=first,
                accepted="2010" if not period else "2010K1",
            ),
        )
    return year
