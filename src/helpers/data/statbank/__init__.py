"""A small client for the Statistics Denmark StatBank API v1, and the library-usage cache built with it.

Facts followed here are in the project's StatBank notes and ``tests/fixtures/statbank/PROVENANCE.md``.
One module per concern, in the order a request passes through them:

* :mod:`.requests`: what this project asks for (:data:`REQUESTS`: tables, measures, unit factors)
  and the variable selection each request becomes;
* :mod:`.query`: the selection checked against the table's ``tableinfo`` before anything is sent;
* :mod:`.transport`: the POST itself (deadline per attempt, size cap, retries, ``Retry-After``,
  redirects only within the API's host); its ``DEFAULT_*`` settings and ``_sleep`` live there;
* :mod:`.parse`: the semicolon-separated answer as a tidy frame;
* :mod:`.answer`: the parsed answer checked against the query (and :func:`data`, which asks and checks);
* :mod:`.fetch`: ``borgerservice fetch-usage``, which caches checked answers in ``data/raw/usage/statbank/``;
* :mod:`.cache`: the cache read back as the usage contract (:func:`cached_usage`);
* :mod:`.errors`: one exception class per kind of failure, all :class:`StatbankError`.

This package re-exports the public names callers use (``statbank.fetch_usage``,
``statbank.cached_usage``, ``statbank.parse_csv``, the errors, ...). The transport's settings are
not re-exported: a value set on the package would not reach :func:`post`; set them on
:mod:`helpers.data.statbank.transport`.
"""

from __future__ import annotations

from helpers.data.statbank.answer import check_answer, data
from helpers.data.statbank.cache import FETCH_COMMAND, cache_folder, cached_usage, usage_schema
from helpers.data.statbank.errors import (
    EmptyCacheError,
    StatbankAnswerError,
    StatbankAPIError,
    StatbankError,
    StatbankRateLimited,
    StatbankRedirectError,
    StatbankUnavailable,
    UnknownCodeError,
)
from helpers.data.statbank.fetch import LICENCE, SOURCE, fetch_usage
from helpers.data.statbank.parse import MISSING, parse_csv
from helpers.data.statbank.query import build_query, check_variables
from helpers.data.statbank.requests import AREA, FIRST_YEAR, MEASURES, REQUESTS, UsageRequest, request_variables
from helpers.data.statbank.transport import BASE_URL, URL_ENV, base_url, post, retry_after, tableinfo

__all__ = [
    "AREA",
    "BASE_URL",
    "FETCH_COMMAND",
    "FIRST_YEAR",
    "LICENCE",
    "MEASURES",
    "MISSING",
    "REQUESTS",
    "SOURCE",
    "URL_ENV",
    "EmptyCacheError",
    "StatbankAPIError",
    "StatbankAnswerError",
    "StatbankError",
    "StatbankRateLimited",
    "StatbankRedirectError",
    "StatbankUnavailable",
    "UnknownCodeError",
    "UsageRequest",
    "base_url",
    "build_query",
    "cache_folder",
    "cached_usage",
    "check_answer",
    "check_variables",
    "data",
    "fetch_usage",
    "parse_csv",
    "post",
    "request_variables",
    "retry_after",
    "tableinfo",
    "usage_schema",
]
