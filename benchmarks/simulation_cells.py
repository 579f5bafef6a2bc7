"""The simulation cells of notebook 03 alone: the base commit's coverage (200) and power (13 x 200, true dispersion)
against the new engine's coverage (2,000, Wald + profile intervals) and power (13 x 1,000, dispersion estimated).

The base commit's models.py is loaded from git (``git show 3c539b2:src/helpers/analysis/models.py``) into a temporary
module.
    .venv/bin/python benchmarks/simulation_cells.py
"""

import importlib.util
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
src = subprocess.run(
    ["git", "-C", str(ROOT), "show", "3c539b2:src/helpers/analysis/models.py"],
    capture_output=True,
    text=True,
    check=True,
).stdout
src = src.replace("from .cooperation", "from helpers.core.cooperation").replace(
    "from .errors", "from helpers.core.errors"
)
tmp = Path(tempfile.mkdtemp()) / "base_models.py"
tmp.write_text(src)
spec = importlib.util.spec_from_file_location("base_models", tmp)
old = importlib.util.module_from_spec(spec)
spec.loader.exec_module(old)
from helpers.analysis import simulation  # noqa: E402 (after the base module is loaded)
from helpers.data import reference  # noqa: E402

m = reference.load_municipalities()
rng = np.random.default_rng(7)
base = pd.DataFrame(
    {
        "kommunekode": m["kommunekode"],
        "population": m["population_2011"],
        "kommunegruppe": m["kommunegruppe"],
        "merged_2007": m["merged_2007"],
        "model": rng.choice([5, 1, 2, 3, 4], 98, p=[0.4, 0.15, 0.2, 0.15, 0.1]),
    }
)
irr = {1: 1.05, 2: 1.10, 3: 1.10, 4: 1.20}
eff = [1.0 + 0.025 * i for i in range(13)]
t = time.perf_counter()
old.coverage_study(base, irr, alpha=0.04, rate=5.0, reps=200)
a = time.perf_counter() - t
t = time.perf_counter()
old.power_curve(base, eff, alpha=0.04, rate=5.0, reps=200)
b = time.perf_counter() - t
t = time.perf_counter()
simulation.coverage_study(base, irr, alpha=0.04, rate=5.0, reps=2000)
c = time.perf_counter() - t
t = time.perf_counter()
simulation.power_curve(base, eff, alpha=0.04, rate=5.0, reps=1000)
d = time.perf_counter() - t
print(f"old coverage 200: {a:.1f} s, old power 13x200: {b:.1f} s, total {a + b:.1f}")
print(
    f"new coverage 2000 (+profile): {c:.1f} s, new power 13x1000: {d:.1f} s, total {c + d:.1f}; "
    f"ratio {(c + d) / (a + b):.3f}"
)
