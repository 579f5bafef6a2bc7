"""What can go wrong with Statistics Denmark: one exception class per kind of failure, all :class:`StatbankError`."""

from __future__ import annotations

import json

from helpers.core.errors import DataError


class StatbankError(RuntimeError):
    """Anything that went wrong talking to Statistics Denmark or reading its cached answers."""


class UnknownCodeError(StatbankError, ValueError):
    """A variable code or value id that the table's ``tableinfo`` does not know (nothing was sent)."""


class StatbankUnavailable(StatbankError):
    """No complete answer after all retries (deadlines, refused connections, 5xx, truncated bodies)."""


class StatbankRateLimited(StatbankUnavailable):
    """Statistics Denmark kept answering 429 Too Many Requests until the retries ran out."""


class StatbankRedirectError(StatbankError):
    """A redirect away from the API's own host (or one without a target, or too many): not followed."""


class StatbankAnswerError(StatbankError, DataError):
    """An answer arrived but is not the one asked for (wrong table, variables, rows, size); nothing is cached."""

    __init__ = DataError.__init__


class EmptyCacheError(StatbankError, FileNotFoundError):
    """No cached StatBank answers yet; ``borgerservice fetch-usage`` fills the cache."""


class StatbankAPIError(StatbankError):
    """Statistics Denmark answered 4xx; carries its own ``errorTypeCode`` and ``message``."""

    def __init__(self, status: int, error_type_code: str | None, message: str, url: str, table: str | None = None):
        self.status, self.error_type_code, self.message, self.url, self.table = (
            status,
            error_type_code,
            message,
            url,
            table,
        )
        what = f" for table {table}" if table else ""
        code = f" {error_type_code}" if error_type_code else ""
        super().__init__(f"Statistics Denmark refused POST {url}{what} (HTTP {status}{code}): {message}")

    @classmethod
    def from_body(cls, status: int, body: bytes, url: str, table: str | None = None) -> StatbankAPIError:
        """Build the error from DST's JSON error body (or its raw text when it is not JSON)."""
        text = body.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
        try:
            doc = json.loads(text)
            return cls(status, doc.get("errorTypeCode"), str(doc.get("message", text)), url, table)
        except (ValueError, AttributeError):
            return cls(status, None, text[:500] or "(empty body)", url, table)
