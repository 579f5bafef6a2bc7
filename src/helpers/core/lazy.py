"""Modules imported when first used: scipy.stats, statsmodels and the like cost 0.2-0.8 s each to import.

``stats = lazy.module("scipy.stats")`` at the top of a helper module gives a module object that
runs the real import the first time one of its attributes is read, with the standard library's
``importlib.util.LazyLoader`` (the recipe of the ``importlib`` documentation). A notebook whose
import cell imports a helper module then pays for scipy.stats only in the cell that first calls a
function using it, and not at all when it never does; the results are the same. A module already
imported is returned as it is.

The pipeline's kernel template (helpers.running.pipeline.kernel_fork) loads every module left
waiting here before it forks, so runs in the pipeline never pay the import.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def module(name: str) -> ModuleType:
    """``name`` (a dotted module name), imported when one of its attributes is first read."""
    if name in sys.modules:
        return sys.modules[name]
    parent = name.rpartition(".")[0]
    if parent:
        importlib.import_module(parent)  # packages are light; their submodule is what costs
        if name in sys.modules:
            return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    loader.exec_module(mod)
    if parent:
        setattr(sys.modules[parent], name.rpartition(".")[2], mod)  # as the import system does
    return mod
