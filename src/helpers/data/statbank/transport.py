"""Transport: POST a JSON body to the StatBank API, with a wall-clock deadline, a size cap, retries and backoff.

Every call is a POST of a JSON body to ``<base>/v1/<function>``; the base URL is
``https://api.statbank.dk`` unless the ``base_url`` argument or the environment variable
``BORGERSERVICE_STATBANK_URL`` says otherwise (tests point it at a server on 127.0.0.1). Errors are
HTTP 400 with a JSON body ``{"errorTypeCode": ..., "message": ...}`` (:class:`StatbankAPIError`).

Each HTTP attempt has a wall-clock deadline (``timeout``, for the whole request, not per socket read)
and two size limits: ``max_bytes``, a cap on any answer, and ``expect``, the most bytes a correct
answer to the query can have (``answer.largest_answer``: its rows times the widest row the tableinfo
allows). An answer whose declared Content-Length exceeds either is refused before its body is read;
one without a Content-Length is counted as it streams in and cut off at ``max_bytes``, and refused
at ``expect`` before anything parses it. 429/503 honour ``Retry-After`` (capped by ``max_wait``); redirects
are followed (the same POST sent again) only within the API's own scheme, host and port. The
``DEFAULT_*`` settings and ``_sleep`` (the wait between attempts) are read at each call, so tests set
them on this module.

Hand-written on http.client rather than urllib/requests/httpx because none of them offers the three
things this client needs together: a wall-clock deadline for the whole attempt (theirs are per socket
operation, so a server dripping one byte a second never times out), a cap on the answer's size while
it streams in, and POST redirects followed only within the API's own host.
"""

from __future__ import annotations

import base64
import email.utils
import http.client
import json
import os
import socket
import ssl
import threading
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime

from helpers.core.errors import Problem
from helpers.data.statbank.errors import (
    StatbankAnswerError,
    StatbankAPIError,
    StatbankError,
    StatbankRateLimited,
    StatbankRedirectError,
    StatbankUnavailable,
)

BASE_URL = "https://api.statbank.dk"
URL_ENV = "BORGERSERVICE_STATBANK_URL"

DEFAULT_TIMEOUT = 60.0  # seconds: wall-clock deadline for each whole attempt (not per socket read)
DEFAULT_RETRIES = 4  # extra attempts after the first one
DEFAULT_BASE_DELAY = 1.0  # seconds; attempt n waits base_delay * 2**(n-1)
DEFAULT_MAX_BYTES = 32 * 2**20  # largest answer read at all (the declared tables are well under 1 MB)
DEFAULT_MAX_WAIT = 300.0  # seconds: cap on a Retry-After wait
MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)
_sleep = time.sleep  # the wait between attempts (tests record it instead of sleeping)


class _Retry(Exception):
    """Internal: an attempt failed in a way worth retrying; ``wait`` is the server's Retry-After (s)."""

    def __init__(self, reason: str, wait: float | None = None, rate_limited: bool = False):
        super().__init__(reason)
        self.wait, self.rate_limited = wait, rate_limited


def base_url(url: str | None = None) -> str:
    """The API base: the argument, else $BORGERSERVICE_STATBANK_URL, else https://api.statbank.dk."""
    return (url or os.environ.get(URL_ENV) or BASE_URL).rstrip("/")


def _origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL, the port filled in from the scheme."""
    parts = urllib.parse.urlsplit(url)
    return (
        parts.scheme.lower(),
        (parts.hostname or "").lower(),
        parts.port or (443 if parts.scheme.lower() == "https" else 80),
    )


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds (``120``) or an HTTP-date; None if absent or
    unreadable.
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _Deadline:
    """The wall clock of one attempt: shuts the connection's socket down when the time is up."""

    def __init__(self, seconds: float):
        self.seconds, self.end, self.fired = seconds, time.monotonic() + seconds, threading.Event()
        self.conn: http.client.HTTPConnection | None = None
        self.timer = threading.Timer(max(seconds, 0.0), self._fire)
        self.timer.daemon = True

    def left(self) -> float:
        return max(self.end - time.monotonic(), 0.001)

    def _fire(self) -> None:
        self.fired.set()
        sock = self.conn.sock if self.conn is not None else None
        if sock is not None:
            try:
                sock.settimeout(1e-6)  # a reader still getting a trickle of bytes times out at its next read
                sock.shutdown(socket.SHUT_RDWR)  # a reader blocked on a silent socket wakes at once
            except OSError:
                pass

    def passed(self) -> bool:
        return self.fired.is_set() or time.monotonic() >= self.end

    def message(self) -> str:
        return f"no complete answer within {self.seconds:g} s (the deadline per attempt)"


def _exchange(url: str, payload: bytes, clock: _Deadline, max_bytes: int, table: str | None, expect: int | None = None):
    """One POST to ``url`` within ``clock``; (status, headers, body), the body read in full and size-checked
    (``max_bytes``, and ``expect`` for a successful answer: see the module docstring)."""
    parts = urllib.parse.urlsplit(url)
    https = parts.scheme.lower() == "https"
    cls = http.client.HTTPSConnection if https else http.client.HTTPConnection
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    proxy = _proxy(parts)
    if proxy is None:
        conn = cls(parts.hostname, parts.port, timeout=clock.left())
    else:  # as urllib did: $https_proxy / $http_proxy unless $no_proxy names the host
        conn = cls(proxy.hostname, proxy.port, timeout=clock.left())
        auth = {}
        if proxy.username:
            token = f"{urllib.parse.unquote(proxy.username)}:{urllib.parse.unquote(proxy.password or '')}"
            auth = {"Proxy-Authorization": "Basic " + base64.b64encode(token.encode()).decode()}
        if https:
            conn.set_tunnel(parts.hostname, parts.port, headers=auth)
        else:
            path = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))
    clock.conn = conn
    try:
        conn.request(
            "POST",
            path,
            body=payload,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "borgerservice-libraries",
                **(auth if proxy is not None and not https else {}),
            },
        )
        resp = conn.getresponse()
        if resp.status in _REDIRECTS:
            return resp.status, resp.headers, b""
        declared = resp.getheader("Content-Length")
        declared = int(declared) if declared is not None and declared.strip().isdigit() else None
        too_big = f"answer larger than the maximum of {max_bytes:,} bytes (max_bytes)"
        if declared is not None and declared > max_bytes:
            raise StatbankAnswerError(url, Problem(too_big, value=f"Content-Length {declared:,}"))
        expect = expect if 200 <= resp.status < 300 else None  # an error page is not the answer
        if declared is not None and expect is not None and declared > expect:
            raise StatbankAnswerError(url, _larger_than_expected(expect, f"Content-Length {declared:,}"))
        chunks, size = [], 0
        while True:
            if conn.sock is not None:
                conn.sock.settimeout(clock.left())
            chunk = resp.read1(1 << 16)
            if not chunk or clock.passed():
                break
            size += len(chunk)
            if size > max_bytes:
                raise StatbankAnswerError(url, Problem(too_big, value=f"more than {size:,} bytes arrived"))
            chunks.append(chunk)
        if clock.passed():
            raise _Retry(clock.message())
        if declared is not None and size != declared:
            raise _Retry(f"truncated body: {size} of {declared} bytes (Content-Length)")
        if expect is not None and size > expect:
            raise StatbankAnswerError(url, _larger_than_expected(expect, f"{size:,} bytes arrived"))
        return resp.status, resp.headers, b"".join(chunks)
    except ssl.SSLCertVerificationError as exc:  # asking again gets the same certificate
        raise StatbankError(
            f"the TLS certificate of {parts.hostname} is not trusted ({exc.verify_message}); nothing was fetched. "
            "Behind a proxy that inspects TLS, point SSL_CERT_FILE at its CA bundle"
        ) from None
    except http.client.IncompleteRead as exc:
        raise _Retry(
            clock.message()
            if clock.passed()
            else f"truncated body: {len(exc.partial)} bytes, {exc.expected} more expected"
        ) from None
    except (OSError, http.client.HTTPException) as exc:  # timeouts, refused/reset connections, bad status lines
        raise _Retry(clock.message() if clock.passed() else _describe(exc, clock.seconds)) from None
    finally:
        conn.close()


def _larger_than_expected(expect: int, found: str) -> Problem:
    return Problem(
        f"answer larger than any correct answer to the query: at most {expect:,} bytes "
        "(its rows times the widest row its tableinfo allows); not read further, nothing parsed",
        value=found,
    )


def _proxy(parts: urllib.parse.SplitResult) -> urllib.parse.SplitResult | None:
    """The proxy from the environment for this URL's scheme, unless $no_proxy bypasses its host."""
    proxy = urllib.request.getproxies().get(parts.scheme.lower())
    if not proxy or urllib.request.proxy_bypass(parts.netloc):
        return None
    return urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")


def _describe(exc: BaseException, timeout: float) -> str:
    """A one-line reason for a network failure."""
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return f"no answer within {timeout:g} s"
    return f"{type(reason).__name__}: {reason}"


def _redirect(url: str, location: str | None, origin: tuple[str, str, int], table: str | None) -> str:
    """The target of a redirect, if it stays on the API's own host (scheme, host and port); else an error."""
    what = f" (table {table})" if table else ""
    if not location:
        raise StatbankRedirectError(
            f"Statistics Denmark redirected POST {url}{what} without saying where (no Location)"
        )
    target = urllib.parse.urljoin(url, location.strip())
    if _origin(target) != origin:
        scheme, host, port = origin
        raise StatbankRedirectError(
            f"Statistics Denmark's answer to POST {url}{what} redirects to {target}, outside the API's own host "
            f"{scheme}://{host}:{port}; not followed (set --url / {URL_ENV} if the API really moved)"
        )
    return target


def _attempt(
    url: str,
    payload: bytes,
    timeout: float,
    table: str | None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    expect: int | None = None,
) -> bytes:
    """One attempt (redirects within the host included) under one deadline; the complete body.

    Raises _Retry (worth retrying), StatbankAPIError (4xx), StatbankRedirectError or StatbankAnswerError.
    """
    origin, clock, start = _origin(url), _Deadline(timeout), url
    clock.timer.start()
    try:
        for _ in range(MAX_REDIRECTS + 1):
            status, headers, body = _exchange(url, payload, clock, max_bytes, table, expect)
            if status in _REDIRECTS:
                url = _redirect(url, headers.get("Location"), origin, table)
                continue
            if 200 <= status < 300:
                return body
            wait = retry_after(headers.get("Retry-After")) if status in (429, 503) else None
            if status == 429:
                raise _Retry(
                    "rate limited (HTTP 429 Too Many Requests)"
                    + (f", asked to wait {wait:g} s" if wait is not None else ""),
                    wait,
                    rate_limited=True,
                )
            if status >= 500:
                reason = http.client.responses.get(status, "")
                raise _Retry(
                    f"HTTP {status} {reason}".rstrip() + (f", asked to wait {wait:g} s" if wait is not None else ""),
                    wait,
                )
            raise StatbankAPIError.from_body(status, body, url, table)
        raise StatbankRedirectError(f"more than {MAX_REDIRECTS} redirects for POST {start}; not followed further")
    finally:
        clock.timer.cancel()


def post(
    function: str,
    body: dict,
    *,
    url: str | None = None,
    timeout: float | None = None,
    retries: int | None = None,
    base_delay: float | None = None,
    max_bytes: int | None = None,
    max_wait: float | None = None,
    expect: int | None = None,
) -> bytes:
    """POST ``body`` as JSON to /v1/<function>, retrying with exponential backoff; the raw answer.

    ``timeout`` is a wall-clock deadline for each whole attempt (connect, redirects, headers and body),
    not a limit per socket read. Retries deadlines, connection errors, 5xx/429 and truncated bodies;
    on 429/503 it waits what ``Retry-After`` asks (seconds or an HTTP-date), at most ``max_wait`` s.
    A 4xx raises :class:`StatbankAPIError` at once (asking again would give the same answer); an answer
    above ``max_bytes`` or above ``expect`` (the most bytes a correct answer can have; None: no such
    limit) or a redirect off the API's host raises at once too.
    """
    target = f"{base_url(url)}/v1/{function}"
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    retries = DEFAULT_RETRIES if retries is None else retries
    delay = DEFAULT_BASE_DELAY if base_delay is None else base_delay
    max_bytes = DEFAULT_MAX_BYTES if max_bytes is None else max_bytes
    max_wait = DEFAULT_MAX_WAIT if max_wait is None else max_wait
    failures, last = [], None
    for attempt in range(retries + 1):
        if attempt:
            wait = delay * 2 ** (attempt - 1)
            if last.wait is not None:
                wait = max(wait, min(last.wait, max_wait))
            _sleep(wait)
        try:
            return _attempt(target, payload, timeout, body.get("table"), max_bytes, expect)
        except _Retry as exc:
            failures.append(f"attempt {attempt + 1}: {exc}")
            last = exc
    detail = f"after {retries + 1} attempts:\n  " + "\n  ".join(failures)
    advice = "; no cache file was changed."
    if last.rate_limited:
        raise StatbankRateLimited(
            f"Statistics Denmark rate limited POST {target} (table {body.get('table')}): HTTP 429 Too Many Requests "
            f"{detail}\nWait a while before fetching again (or fetch fewer tables at once){advice}"
        )
    raise StatbankUnavailable(
        f"Statistics Denmark gave no complete answer to POST {target} (table {body.get('table')}) {detail}"
        f"\nCheck the internet connection (or the base URL) and try again later{advice}"
    )


def tableinfo(table: str, *, lang: str = "en", base_url: str | None = None, **http) -> dict:
    """The table's metadata (variables with their codes and value ids), as a dict."""
    return _tableinfo_json(_tableinfo_body(table, lang=lang, url=base_url, **http), table)


def _tableinfo_body(table: str, *, lang: str = "en", url: str | None = None, **http) -> bytes:
    """The raw tableinfo answer (kept as bytes so it can be cached exactly as received)."""
    return post("tableinfo", {"table": table, "format": "JSON", "lang": lang}, url=url, **http)


def _tableinfo_json(body: bytes, table: str) -> dict:
    """Decode a tableinfo answer; a clear error when it is not the expected JSON or is for another table."""
    try:
        info = json.loads(body.decode("utf-8-sig"))
        assert isinstance(info, dict) and isinstance(info["variables"], list)
        assert all(isinstance(v, dict) and "id" in v and isinstance(v.get("values"), list) for v in info["variables"])
    except (ValueError, KeyError, AssertionError) as exc:
        raise StatbankError(f"tableinfo for {table} is not the expected JSON ({exc}): {body[:200]!r}") from None
    if str(info.get("id", "")).upper() != str(table).upper():
        raise StatbankAnswerError(
            f"StatBank tableinfo for {table}",
            Problem("metadata for another table", column="id", value=info.get("id"), accepted=str(table).upper()),
        )
    return info
