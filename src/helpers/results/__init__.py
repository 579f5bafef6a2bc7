"""The typed key results each notebook family publishes: the contract between analysis and outputs.

A family's results are one frozen dataclass (a :class:`KeyResults` subclass, one module per family
in this package, declaring the run-name ``prefix`` it describes). The analysis module of the family
builds it (``key_results(...)``), ``outputs.reports.write_results`` writes it as JSON, and the
brief, the report site and the manuscript read it back with :func:`load` as the same class. The
modules here import nothing heavy, so reading results never imports a model library.
"""

from __future__ import annotations

from helpers.results import (  # noqa: F401 (each family registers its class)
    adoption,
    compare,
    exports,
    models,
    nonresponse,
    reference,
    survey,
    usage,
)
from helpers.results.base import Document, KeyResults, RawInput, document, families, family, load, read

__all__ = ["Document", "KeyResults", "RawInput", "document", "families", "family", "load", "read"]
