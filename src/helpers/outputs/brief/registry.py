"""The brief writers by run-name prefix: each family module registers its own with ``@writes``."""

from __future__ import annotations

from collections.abc import Callable

WRITERS: dict[str, Callable] = {}


def writes(prefix: str):
    """Register ``fn`` as the writer of the results documents whose run name starts with ``prefix``."""

    def register(fn):
        if prefix in WRITERS:
            raise ValueError(f"two brief writers for {prefix!r}")
        WRITERS[prefix] = fn
        return fn

    return register


def writer(name: str) -> Callable:
    for prefix in sorted(WRITERS, key=len, reverse=True):
        if name.startswith(prefix):
            return WRITERS[prefix]
    raise ValueError(f"no 'results in brief' writer for {name!r}; known prefixes: {sorted(WRITERS)}")
