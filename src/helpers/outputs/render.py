"""The HTML of the outputs, written as jinja2 templates shipped with the package (``helpers/outputs/templates/``).

The report site (:mod:`helpers.outputs.site`), the data dictionary and the references render their
pages here; no module builds HTML in strings. Autoescaping is on: every value a template prints is
escaped unless it is already markup (``markupsafe.Markup``: a fragment rendered by another
template). Values are escaped as the standard library's ``html.escape`` does (``"`` as ``&quot;``,
``'`` as ``&#x27;``), the entities the site's pages always had, rather than markupsafe's numeric
``&#34;``; both mean the same to a browser. Undefined names in a template are an error, not an
empty string.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

TEMPLATES = Path(__file__).with_name("templates")


def _escaped(value: Any) -> Markup:
    """What a template prints for ``value``: markup as it is, anything else escaped (``html.escape``)."""
    return value if isinstance(value, Markup) else Markup(html.escape(str(value)))


@cache
def environment() -> jinja2.Environment:
    """The templates' environment: package templates, autoescaping on, strict about undefined names."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("helpers.outputs", "templates"),
        autoescape=True,
        finalize=_escaped,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(name: str, **context: Any) -> Markup:
    """The template ``name`` (a path under ``templates/``) rendered with ``context``, as markup."""
    return Markup(environment().get_template(name).render(**context))
