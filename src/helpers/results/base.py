"""The base of typed key results: what a notebook family writes to its results JSON, and how it is read back.

Each notebook family declares one frozen dataclass, a subclass of :class:`KeyResults` with the
run-name ``prefix`` it belongs to (``"02_compare"``, ``"03_model"``, ...). Its fields are plain data
(numbers, text, tuples, dicts and nested frozen dataclasses): the family's ``key_results(...)``
builds it from the typed analysis results, ``reports.write_results`` writes it, and the brief and
the report site read it back with :func:`load` as the same class, so every field they read is
declared and type-checked. Nothing indexes a results dict by a string key it hopes exists.

Reading and writing go through pydantic's ``TypeAdapter``, which validates nested standard
dataclasses against their annotations (a results file with a missing field or a wrong type is an
error naming the field, not a ``KeyError`` three calls later). A document is checked on the way out
too: :meth:`KeyResults.to_json` reads what it is about to write back into its class.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Self

from helpers.core import files, paths

_FAMILIES: dict[str, type[KeyResults]] = {}


@cache
def _adapter(cls: type):
    from pydantic import TypeAdapter

    return TypeAdapter(cls)


@dataclass(frozen=True)
class KeyResults:
    """Base of a notebook family's key results (a frozen dataclass of plain data).

    Subclasses set ``prefix``: the run names (results file stems) the class describes, e.g.
    ``"02_compare"`` for ``02_compare_2009_2011``. Declaring a subclass registers it.
    """

    prefix: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.prefix:
            known = _FAMILIES.get(cls.prefix)
            if known is not None and known.__qualname__ != cls.__qualname__:
                raise TypeError(f"two key-results classes for {cls.prefix!r}: {known.__qualname__}, {cls.__qualname__}")
            _FAMILIES[cls.prefix] = cls

    def to_json(self) -> dict[str, Any]:
        """The fields as JSON-ready data, checked by reading them back into this class."""
        data = json.loads(json.dumps(dataclasses.asdict(self), default=files.jsonable))
        type(self).from_json(data)  # what is written can be read: a field that does not survive is an error here
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Validate ``data`` (a results document's ``results``) against this class's fields."""
        return _adapter(cls).validate_python(data)


@dataclass(frozen=True)
class RawInput:
    """A raw file a run read: ``file`` (``data/raw/...``) and whether its manifest entry calls it ``synthetic``
    (None: the file has no entry)."""

    file: str
    synthetic: bool | None


@dataclass(frozen=True)
class Document:
    """A results file: the run's name, its synthetic flag and note, its parameters, its typed results, and the
    raw files it read (``inputs``, in the order first read; empty in files written before they were recorded)."""

    name: str
    synthetic: bool
    note: str
    parameters: dict[str, Any]
    results: KeyResults
    inputs: tuple[RawInput, ...] = ()


def family(name: str) -> type[KeyResults]:
    """The key-results class of a run name (longest registered prefix first)."""
    for prefix in sorted(_FAMILIES, key=len, reverse=True):
        if name.startswith(prefix):
            return _FAMILIES[prefix]
    raise ValueError(f"no key-results class for {name!r}; known prefixes: {sorted(_FAMILIES)}")


def families() -> dict[str, type[KeyResults]]:
    """Every declared family, by prefix (the classes register when their modules are imported)."""
    return dict(_FAMILIES)


def read(path: Path) -> Document:
    """A results JSON file as a typed :class:`Document`; an error names the file and the field."""
    from pydantic import ValidationError

    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    try:
        return document(doc)
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise ValueError(f"{paths.relative(Path(path))}: not a valid results document: {exc}") from exc


def document(doc: dict[str, Any]) -> Document:
    """A results document already parsed from JSON (name, synthetic, note, parameters, results) as a typed
    :class:`Document`; its results are validated against the class declared for its name."""
    results = family(doc["name"]).from_json(doc["results"])
    inputs = tuple(
        RawInput(str(i["file"]), None if i.get("synthetic") is None else bool(i["synthetic"]))
        for i in doc.get("inputs") or []
    )
    return Document(doc["name"], bool(doc["synthetic"]), str(doc["note"]), dict(doc["parameters"]), results, inputs)


def load(name: str) -> Document:
    """The results document ``reports/results/<run id>/<name>.json`` of this run (or the run it reads)."""
    f = paths.results() / f"{name}.json"
    if not f.is_file():
        raise FileNotFoundError(f"{paths.relative(f)}: no results; run the notebook that writes {name!r} first")
    return read(f)
