"""The import cells stay light (issue 28): the heavy companions of pandas wait for their first use.

Each check runs in a fresh interpreter, as a notebook's kernel starts. A module waiting in
``helpers.core.lazy`` is in ``sys.modules`` too, as a placeholder of the class
``importlib.util._LazyModule``: "imported" below means a real module object, one of another class.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from helpers.core import paths
from helpers.running.pipeline.kernels import notebook_imports

HEAVY = ("pandera", "geopandas", "statsmodels", "scipy.stats", "polars", "seaborn")
NOTEBOOKS = sorted(p.name for p in (paths.root() / "notebooks").glob("[0-9][0-9]_*.ipynb"))

PROBE = """
import importlib.util, json, sys
def imported(name):
    return name in sys.modules and not isinstance(sys.modules[name], importlib.util._LazyModule)
"""


def _run(code: str) -> dict:
    """The JSON the code prints last, run in a fresh interpreter with the kernels' backend."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE + code], capture_output=True, text=True, check=True, env=env, cwd=paths.root()
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_there_are_notebooks_to_check():
    assert {"00_reference.ipynb", "02_compare_rounds.ipynb", "03_model_usage.ipynb"} <= set(NOTEBOOKS)


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_a_notebooks_imports_leave_the_heavy_modules_waiting(notebook):
    statements = notebook_imports([paths.root() / "notebooks" / notebook])
    assert any("helpers" in s for s in statements)
    code = "\n".join(statements) + f"\nprint(json.dumps([m for m in {HEAVY!r} if imported(m)]))"
    assert _run(code) == []


def test_a_function_that_needs_them_imports_them_and_gives_the_same_numbers():
    code = """
from helpers.analysis import compare
from helpers.analysis.nonresponse import statistics
from helpers.data import reference
from helpers.outputs import maps
before = {m: imported(m) for m in ("geopandas", "pandera", "scipy.stats", "statsmodels")}
kommuner = len(reference.load_boundaries())
test = compare.mcnemar_test([[30, 4], [11, 20]])
wald = statistics.wald(0.5, 0.1, 40)
after = {m: imported(m) for m in before}
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
import geopandas
print(json.dumps({
    "before": before, "after": after, "kommuner": kommuner,
    "geo": type(reference.load_boundaries()) is geopandas.GeoDataFrame,
    "mcnemar": [test.statistic, test.pvalue, float(mcnemar([[30, 4], [11, 20]], exact=True).pvalue)],
    "wald": [wald["low"], 0.5 - float(stats.norm.ppf(0.975)) * 0.1],
}))
"""
    out = _run(code)
    assert out["before"] == {"geopandas": False, "pandera": False, "scipy.stats": False, "statsmodels": False}
    assert out["after"] == {"geopandas": True, "pandera": True, "scipy.stats": True, "statsmodels": True}
    assert out["kommuner"] == 98 and out["geo"]
    assert out["mcnemar"][1] == out["mcnemar"][2]  # exact binomial test on 4 and 11 discordant pairs
    assert out["mcnemar"][1] == pytest.approx(0.1185, abs=1e-4)
    assert out["wald"][0] == out["wald"][1]


def test_a_validation_failure_still_names_row_column_and_check():
    code = """
import pandas as pd
from helpers.core.errors import DataError
from helpers.core.validation import validate
from helpers.data import reference
waiting = not imported("pandera")
try:
    validate(pd.DataFrame({"area_code": [101]}), reference.population_schema(), "population.csv", row_offset=2)
except DataError as e:
    print(json.dumps({"waiting": waiting, "message": str(e)}))
"""
    out = _run(code)
    assert out["waiting"]
    assert "population.csv" in out["message"] and "area_name" in out["message"]


def test_a_lazy_submodule_of_a_waiting_package_is_one_module():
    """The package runs first; a submodule it imports itself, or one imported while it waits, is one object."""
    code = """
from helpers.core import lazy
errors = lazy.module("pandera.errors")  # pandera's own __init__ imports pandera.errors
pa = lazy.module("pandera.pandas")
gpd = lazy.module("geopandas")
ct = lazy.module("statsmodels.stats.contingency_tables")
waiting = [type(sys.modules[m]).__name__ for m in ("pandera", "pandera.errors", "statsmodels", "statsmodels.stats")]
first = errors.SchemaErrors  # the submodule first: its package's code runs before its own
from geopandas.array import GeometryDtype  # a submodule import while geopandas waits
import pandera.errors
import statsmodels.stats.contingency_tables
geopandas_array = sys.modules["geopandas.array"]
print(json.dumps({
    "waiting": waiting,
    "errors": first is pandera.errors.SchemaErrors and sys.modules["pandera.errors"] is errors,
    "geometry": type(gpd.GeoSeries.from_xy([0], [0]).dtype) is GeometryDtype is geopandas_array.GeometryDtype,
    "contingency": statsmodels.stats.contingency_tables is ct and ct.__loader__ is ct.__spec__.loader,
    "loader": type(ct.__loader__).__name__,
    "schema": pa.DataFrameSchema({"a": pa.Column(int)}).validate(__import__("pandas").DataFrame({"a": [1]})).shape,
}))
"""
    out = _run(code)
    assert out["waiting"] == ["_LazyModule"] * 4
    assert out["errors"] and out["geometry"] and out["contingency"]
    assert out["loader"] == "SourceFileLoader"  # its own loader again, not the lazy one
    assert out["schema"] == [1, 1]


def test_the_kernel_template_imports_every_waiting_module_before_it_forks():
    statements = notebook_imports([paths.root() / "notebooks" / n for n in NOTEBOOKS])
    code = (
        "\n".join(statements)
        + f"""
from helpers.running.pipeline import kernel_fork
waiting = [m for m in {HEAVY!r} if m in sys.modules and not imported(m)]
kernel_fork.load_waiting()
left = [m for m, v in list(sys.modules.items()) if isinstance(v, importlib.util._LazyModule)]
print(json.dumps({{"waiting": waiting, "left": left, "imported": [m for m in {HEAVY!r} if imported(m)]}}))
"""
    )
    out = _run(code)
    assert {"pandera", "geopandas", "scipy.stats", "statsmodels", "seaborn"} <= set(out["waiting"])
    assert out["left"] == []
    assert set(out["waiting"]) <= set(out["imported"])
