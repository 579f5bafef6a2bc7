"""Run the notebooks of config/pipeline.yaml (papermill, nbclient): in dependency order, in parallel, incrementally.

The config lists the survey ``rounds``, fixed ``runs``, and templates expanded for every round
(``per_round``), for pairs of rounds (``per_pair``: consecutive rounds, or all pairs) and for every
set of at least two rounds (``per_round_set``). Each run executes one source notebook with its
parameters into ``reports/executed/<id>.ipynb`` plus an HTML copy, and writes its figures, tables,
results and processed data under its own id (helpers.core.paths). A run whose ``needs`` failed is not
started ("blocked"); independent runs go on.

**Up to date.** A run is skipped only when (1) its key equals the key of its last successful run:
the current content of every file it reads (raw files, their data-manifest entries, codebook,
aliases, and the processed files of the runs it needs), its notebook, its parameters, the helper
code, the key package versions, the kernel and the output locations; and (2) every output that run
recorded still exists with its recorded sha256. Otherwise it re-runs, and so does whatever reads an
output that changed.

``reports/run_manifest.json`` records the git commit, package versions, the content hash of each raw
file, and per run: key, status, time, injected and effective parameters, what it read and every
output with its sha256. It is rewritten atomically whenever a run starts or ends.

One module per concern:

* :mod:`.config`: the typed model of config/pipeline.yaml, its expansion into runs, selection, order;
* :mod:`.keys`: what a run reads and the keys that say whether it is up to date;
* :mod:`.outputs`: the folders a run owns, their recorded hashes, stale outputs moved aside;
* :mod:`.manifest`: the run manifest, its records (``Outcome``) and the closing summary;
* :mod:`.execution`: one notebook executed (papermill's parameters, nbclient's client), written once;
* :mod:`.schedule`: ``run``, the lock, workers, the start order, interruption;
* :mod:`.signals`: SIGTERM/SIGINT, and stopping workers and kernels.

The names below are the public API (``from helpers.running import pipeline; pipeline.run(...)``);
to replace a function in a test, patch it in the module that owns it.
"""

from helpers.running.pipeline.config import (
    Config,
    ConfigError,
    Run,
    add_round_entry,
    apply_defaults,
    effective_parameters,
    expand,
    load_config,
    load_rounds,
    notebook_parameters,
    notebook_path,
    order,
    pairs,
    read_file,
    round_sets,
    select,
)
from helpers.running.pipeline.execution import execute
from helpers.running.pipeline.keys import (
    HASH_CACHE,
    KEY_PACKAGES,
    code_hash,
    environment_key,
    final_key,
    input_hashes,
    run_inputs,
    run_keys,
    static_keys,
    up_to_date,
)
from helpers.running.pipeline.manifest import MANIFEST, Outcome, RunManifest, load_manifest, previous_runs, summary
from helpers.running.pipeline.outputs import (
    clear_outputs,
    collect_outputs,
    output_folders,
    output_path,
    processed_outputs,
    sweep_stale,
)
from helpers.running.pipeline.schedule import Interrupted, ancestors, expected_seconds, run, start_order
from helpers.running.pipeline.signals import Stopped


def __getattr__(name: str):
    """``PipelineFile`` and ``RunParameters`` (pydantic) are imported when first used; a warm re-run needs neither."""
    if name in ("PipelineFile", "RunParameters"):
        from helpers.running.pipeline import config_file

        return getattr(config_file, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "HASH_CACHE",
    "KEY_PACKAGES",
    "MANIFEST",
    "Config",
    "ConfigError",
    "Interrupted",
    "Outcome",
    "PipelineFile",
    "Run",
    "RunManifest",
    "RunParameters",
    "Stopped",
    "add_round_entry",
    "ancestors",
    "apply_defaults",
    "clear_outputs",
    "code_hash",
    "collect_outputs",
    "effective_parameters",
    "environment_key",
    "execute",
    "expand",
    "expected_seconds",
    "final_key",
    "input_hashes",
    "load_config",
    "load_manifest",
    "load_rounds",
    "notebook_parameters",
    "notebook_path",
    "order",
    "output_folders",
    "output_path",
    "pairs",
    "previous_runs",
    "processed_outputs",
    "read_file",
    "round_sets",
    "run",
    "run_inputs",
    "run_keys",
    "select",
    "start_order",
    "static_keys",
    "summary",
    "sweep_stale",
    "up_to_date",
]
