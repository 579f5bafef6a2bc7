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
from simulation_benchmark import real_design  # noqa: E402 (after the base module is loaded)

from helpers.analysis import simulation  # noqa: E402

base = real_design()
irr = {1: 1.05, 2: 1.10, 3: 1.10, 4: 1.20}
eff = [1.0 + 0.025 * i for i in range(13)]


def seconds(study, effects, reps: int) -> float:
    """Wall seconds of one simulation cell: ``study`` (coverage_study or power_curve) of ``base``."""
    t = time.perf_counter()
    study(base, effects, alpha=0.04, rate=5.0, reps=reps)
    return time.perf_counter() - t


a = seconds(old.coverage_study, irr, 200)
b = seconds(old.power_curve, eff, 200)
c = seconds(simulation.coverage_study, irr, 2000)
d = seconds(simulation.power_curve, eff, 1000)
print(f"old coverage 200: {a:.1f} s, old power 13x200: {b:.1f} s, total {a + b:.1f}")
print(
    f"new coverage 2000 (+profile): {c:.1f} s, new power 13x1000: {d:.1f} s, total {c + d:.1f}; "
    f"ratio {(c + d) / (a + b):.3f}"
)
