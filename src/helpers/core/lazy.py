"""Modules imported when first used: scipy.stats, statsmodels and the like cost 0.2-0.8 s each to import.

``stats = lazy.module("scipy.stats")`` at the top of a helper module gives a module object that
runs the real import the first time one of its attributes is read, with the standard library's
``importlib.util.LazyLoader`` (the recipe of the ``importlib`` documentation). A notebook whose
import cell imports a helper module then pays for scipy.stats only in the cell that first calls a
function using it, and not at all when it never does; the results are the same. A module already
imported is returned as it is. A package it belongs to waits as well when it is not imported yet
(``pandera``'s ``__init__`` and ``statsmodels.stats`` are what their submodules cost) and runs first,
as in an ordinary import. Only attribute access waits: ``from scipy.stats import norm`` imports at
once, so helper modules write ``stats.norm``.

The pipeline's kernel template (helpers.running.pipeline.kernel_fork) loads every module left
waiting here before it forks, so runs in the pipeline never pay the import.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from types import ModuleType


def module(name: str) -> ModuleType:
    """``name`` (a dotted module name), imported when one of its attributes is first read."""
    if name in sys.modules:
        return sys.modules[name]
    if not any(isinstance(finder, _Imported) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Imported())
    parent, _, child = name.rpartition(".")
    path = None
    if parent:
        package = module(parent)  # waits too when not imported: statsmodels.stats and pandera cost 0.2-0.3 s
        if name in sys.modules:
            return sys.modules[name]
        path = _search_path(package)
    spec = importlib.util.find_spec(name) if path is None else _find_spec(name, path)
    if spec is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(_PackageFirst(spec.loader, parent))
    spec.loader = loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    loader.exec_module(mod)
    if parent:
        setattr(sys.modules[parent], child, mod)  # as the import system does (kept when the package is imported)
    return mod


def _waiting(mod: ModuleType | None) -> bool:
    return isinstance(mod, importlib.util._LazyModule)


def _search_path(package: ModuleType) -> list[str]:
    """A package's ``__path__``, read without importing it when it waits here."""
    if _waiting(package):
        return list(ModuleType.__getattribute__(package, "__spec__").submodule_search_locations or [])
    return package.__path__


def _find_spec(name: str, path: list[str]):
    """The spec the import system finds for submodule ``name`` in its package's ``path``, nothing imported."""
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        spec = find(name, path) if find is not None else None
        if spec is not None:
            return spec
    return None


class _PackageFirst(importlib.abc.Loader):
    """Runs a module's code after its package's, as an ordinary import does, then leaves it its own loader.

    When the package's code imports the module itself, the import system is given this very module object
    (:class:`_Resume`), so it runs once, in the object everyone holds.
    """

    def __init__(self, loader, parent: str):
        self.loader, self.parent = loader, parent

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, mod: ModuleType) -> None:
        package = sys.modules.get(self.parent) if self.parent else None
        if _waiting(package):
            spec = ModuleType.__getattribute__(mod, "__spec__")
            resume = _Resume(spec, mod, self)
            del sys.modules[spec.name]
            sys.meta_path.insert(0, resume)
            try:
                getattr(package, "__path__", None)  # reading an attribute runs the package's code
            finally:
                sys.meta_path.remove(resume)
                sys.modules[spec.name] = mod
            if resume.done:
                return
        self.run(mod)

    def run(self, mod: ModuleType) -> None:
        spec = ModuleType.__getattribute__(mod, "__spec__")
        spec.loader = self.loader
        mod.__loader__ = self.loader  # the module keeps its own loader (resources, reload)
        self.loader.exec_module(mod)


class _Resume(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds a waiting module for its package's code and runs it in place."""

    def __init__(self, spec, mod: ModuleType, first: _PackageFirst):
        self.spec, self.mod, self.first, self.done = spec, mod, first, False

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.spec.name or self.done:
            return None
        self.spec.loader = self
        return self.spec

    def create_module(self, spec):
        return self.mod

    def exec_module(self, mod: ModuleType) -> None:
        self.done = True
        self.first.run(mod)


class _Imported(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """A submodule that its waiting package's code imported while an import of it was under way: that module.

    ``import geopandas.array`` with ``geopandas`` waiting: the import system checks ``sys.modules`` for
    ``geopandas.array``, then reads the package's ``__path__``, which runs the package's code, which imports
    ``geopandas.array``; the import system would then import it a second time, as a module of its own with
    classes of its own (pandera then no longer knows geopandas' dtype). Found here first, it is the one.
    """

    def find_spec(self, fullname, path=None, target=None):
        mod = sys.modules.get(fullname)
        if mod is None or target is not None or _waiting(mod):  # not there, a reload, or a module waiting here
            return None
        spec = getattr(mod, "__spec__", None)
        if spec is None or spec.loader is None:
            return None
        self._loaders = {**getattr(self, "_loaders", {}), fullname: spec.loader}
        spec.loader = self
        return spec

    def create_module(self, spec):
        return sys.modules[spec.name]

    def exec_module(self, mod: ModuleType) -> None:
        mod.__spec__.loader = self._loaders.pop(mod.__spec__.name)  # its code has run: only its own loader back
