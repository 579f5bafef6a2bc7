"""The manuscript bound to the run: ``paper/manuscript.md`` filled from the results of the last ``make run``.

Every number in the manuscript's text is a placeholder bound to a field of a run's typed key results
(``helpers.results``), written by the same functions as the notebooks' "Results in brief"
(``helpers.outputs.brief.words``); figures and tables are the run's own files, found through the run
manifest. ``borgerservice paper`` (``make paper``) checks and builds it into ``reports/paper/`` as
.docx, .tex and .pdf. The build fails, naming the placeholder, when a value no longer exists, when its
run failed or is not up to date, or when its results file changed after the run; a number typed by
hand into the text fails it too. While any bound value is synthetic, the title page says so.

* :mod:`~helpers.outputs.paper.source`: the manuscript's syntax and the hand-typed number check;
* :mod:`~helpers.outputs.paper.bind`: resolving placeholders against the run manifest and the results,
  the formats, and the same check against the declared classes without a run;
* :mod:`~helpers.outputs.paper.writer`: the filled Markdown and the three formats (pandoc, Typst).

``paper/README.md`` is the author's guide to the syntax.
"""

from __future__ import annotations

from helpers.outputs.paper.bind import FORMATS, Binding, check_types
from helpers.outputs.paper.source import Manuscript, ManuscriptError, parse, read, typed_numbers
from helpers.outputs.paper.writer import Built, build, check

__all__ = [
    "FORMATS",
    "Binding",
    "Built",
    "Manuscript",
    "ManuscriptError",
    "build",
    "check",
    "check_types",
    "parse",
    "read",
    "typed_numbers",
]
