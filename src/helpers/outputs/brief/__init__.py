""" "Results in brief": a few sentences written from a notebook's own results JSON.

Each notebook ends with ``brief.show(name)``; the report site's index reads the same sentences.
They state the numbers, their direction, their uncertainty (interval or p-value) and the caveat
that applies, so they change with the data. Synthetic input always leads with the caveat and is
never phrased as a finding.
"""

from __future__ import annotations

import json

from helpers import results
from helpers.core import paths
from helpers.outputs.brief import adoption, compare, exports, models, reference, survey, usage  # noqa: F401 (register)
from helpers.outputs.brief.adoption import treatment_words
from helpers.outputs.brief.registry import WRITERS, writer
from helpers.results import Document

SYNTHETIC_CAVEAT = (
    "These numbers come from synthetic example data: they show how the method works and are "
    "not findings about Danish libraries."
)
__all__ = ["SYNTHETIC_CAVEAT", "WRITERS", "load", "markdown", "sentences", "show", "treatment_words"]


def load(name: str) -> Document | dict:
    """The results document of run ``name``: a typed :class:`~helpers.results.Document` once its family
    declares its key results (``helpers.results``); until then the raw JSON (issue 21 converts them all)."""
    try:
        results.family(name)
    except ValueError:
        f = paths.results() / f"{name}.json"
        if not f.is_file():
            raise FileNotFoundError(
                f"{paths.relative(f)}: no results; run the notebook that writes {name!r} first"
            ) from None
        return json.loads(f.read_text(encoding="utf-8"))
    return results.load(name)


def _declared(name) -> bool:
    """Whether a key-results class is declared for run ``name``."""
    try:
        results.family(str(name))
    except ValueError:
        return False
    return True


def _name_and_flag(doc: Document | dict) -> tuple[str, bool]:
    if isinstance(doc, Document):
        return doc.name, doc.synthetic
    return doc["name"], bool(doc.get("synthetic"))


def sentences(doc: Document | dict) -> list[str]:
    """The sentences for a results document, the synthetic caveat first when it applies.

    A raw document (a dict, e.g. read by the report site) of a family that declares its key results
    is read as its typed :class:`~helpers.results.Document` first."""
    if isinstance(doc, dict) and _declared(doc.get("name")):
        doc = results.document(doc)
    name, synthetic = _name_and_flag(doc)
    body = writer(name)(doc)
    if name.startswith("01_usage_panel"):  # real loans beside synthetic outcomes: its sentences say which is which
        return body
    return ([SYNTHETIC_CAVEAT] if synthetic else []) + body


def markdown(doc: Document | dict) -> str:
    return "### Results in brief\n\n" + "\n".join(f"- {s}" for s in sentences(doc))


def show(name: str):
    """Display the notebook's "Results in brief" from ``reports/results/<name>.json`` (Markdown)."""
    from IPython.display import Markdown

    return Markdown(markdown(load(name)))
