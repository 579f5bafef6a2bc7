""" "Results in brief": a few sentences written from a notebook's own results JSON.

Each notebook ends with ``brief.show(name)``; the report site's index reads the same sentences.
They state the numbers, their direction, their uncertainty (interval or p-value) and the caveat
that applies, so they change with the data. Synthetic input always leads with the caveat and is
never phrased as a finding.
"""

from __future__ import annotations

from helpers import results
from helpers.outputs.brief import adoption, compare, exports, models, reference, survey, usage  # noqa: F401 (register)
from helpers.outputs.brief.adoption import treatment_words
from helpers.outputs.brief.registry import WRITERS, writer
from helpers.results import Document

SYNTHETIC_CAVEAT = (
    "These numbers come from synthetic example data: they show how the method works and are "
    "not findings about Danish libraries."
)
__all__ = ["SYNTHETIC_CAVEAT", "WRITERS", "load", "markdown", "sentences", "show", "treatment_words", "typed"]


def load(name: str) -> Document:
    """The typed results document of run ``name`` (``helpers.results.load``)."""
    return results.load(name)


def typed(doc: Document | dict) -> Document:
    """A results document as its typed :class:`~helpers.results.Document`; a dict (a results file parsed
    as JSON) is validated against the class its family declares (a wrong field is a ValueError naming it)."""
    return doc if isinstance(doc, Document) else results.document(doc)


def sentences(doc: Document | dict) -> list[str]:
    """The sentences for a results document, the synthetic caveat first when it applies."""
    doc = typed(doc)
    body = writer(doc.name)(doc)
    if doc.name.startswith("01_usage_panel"):  # real loans beside synthetic outcomes: its sentences say which is which
        return body
    return ([SYNTHETIC_CAVEAT] if doc.synthetic else []) + body


def markdown(doc: Document | dict) -> str:
    return "### Results in brief\n\n" + "\n".join(f"- {s}" for s in sentences(doc))


def show(name: str):
    """Display the notebook's "Results in brief" from ``reports/results/<name>.json`` (Markdown)."""
    from IPython.display import Markdown

    return Markdown(markdown(load(name)))
