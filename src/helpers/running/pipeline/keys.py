"""Keys for incremental runs: when a run is up to date.

A run is up to date when its key equals the key of its last successful run AND every output that
run wrote still exists with the sha256 recorded for it (``up_to_date``). The key hashes the current
content of what the run reads (``run_inputs``), its notebook, its parameters, the helper code, the
versions of the key packages, the kernel and the output locations (``static_keys``), and the
recorded hashes of the processed files of the runs it needs (``final_key``). Hashes of unchanged
files come from a stat cache (files.HashCache), so a warm re-run reads almost no bytes.

A key is computed when the pipeline starts; it holds for a run's outputs only if nothing it was
computed from differs when the run starts (``refresh_inputs``) or changes until the run ends
(``changed_inputs``; the scheduler checks both): a raw file, data-manifest, codebook or config file it
reads, a processed file of a run it needs, its notebook or the helper code. A file edited and
restored while the run went counts as changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

from helpers.core import files, paths
from helpers.data import provenance
from helpers.running.pipeline.config import Config, Run, notebook_path, order
from helpers.running.pipeline.outputs import output_path

KEY_PACKAGES = [
    "pandas",
    "numpy",
    "geopandas",
    "statsmodels",
    "pandera",
    "papermill",
    "nbclient",
    "matplotlib",
    "seaborn",
    "nbconvert",
    "ipykernel",
]
SHARED_RAW_EXCLUDED = ("survey",)  # raw folders read only through a parameter that names the file (a round's export)
DOC_NAMES = {"MANIFEST.yaml", "README.md", ".gitkeep"}
HASH_CACHE = ".hash_cache.json"


def package_version(package: str) -> str | None:
    """The installed version of ``package`` (None when it is not installed)."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def code_files() -> list[Path]:
    """The helper package's source files (what ``code_hash`` hashes)."""
    return sorted((paths.root() / "src" / "helpers").rglob("*.py"))


def code_hash(cache: files.HashCache | None = None, sources: list[Path] | None = None) -> str:
    """One hash over the helper package's source (``sources``, default ``code_files()``): a change in
    any helper re-runs every notebook."""
    cache = cache or files.HashCache()
    h = hashlib.sha256()
    for f in code_files() if sources is None else sources:
        h.update(f.relative_to(paths.root()).as_posix().encode())
        h.update(cache.sha256(f).encode())
    return h.hexdigest()


def input_hashes(cache: files.HashCache | None = None) -> dict[str, str]:
    """The current sha256 of every data file under data/raw (relative path -> sha256): the bytes, not the manifest."""
    cache = cache or files.HashCache()
    raw = paths.raw()
    out = {}
    for f in sorted(raw.rglob("*")):
        if f.is_file() and f.name not in DOC_NAMES and not f.name.startswith(("PROVENANCE", ".")):
            out[f.relative_to(raw).as_posix()] = cache.sha256(f)
    return out


def data_manifests() -> list[Path]:
    """The data manifests (``data/raw/<folder>/MANIFEST.yaml``) whose entries the keys hold (``manifest:``)."""
    return sorted(paths.raw().glob(f"*/{provenance.MANIFEST_NAME}"))


def named_files(run: Run) -> dict[str, Path]:
    """Input files a run's parameters name: raw files (a value that is a path under data/raw, such as
    a round's ``input_path``) and codebooks (``codebook: "2011"`` -> config/codebooks/2011.yaml)."""
    named = {}
    for name, value in run.parameters.items():
        if not isinstance(value, str) or not value:
            continue
        if (paths.raw() / value).is_file():
            named[f"raw:{value}"] = paths.raw() / value
        if name == "codebook":
            named[f"codebook:{value}"] = paths.codebook(value)
    return named


def shared_config_files() -> list[Path]:
    """config/ files every run reads: YAML other than pipeline.yaml and the codebooks (the municipality aliases)."""
    return sorted(
        f
        for f in paths.config().rglob("*")
        if f.is_file() and f.parent != paths.codebooks() and f.name != "pipeline.yaml" and f.suffix in (".yaml", ".yml")
    )


def run_inputs(
    run: Run,
    inputs: dict[str, str],
    entries: dict | None = None,
    cache: files.HashCache | None = None,
    shared_config: dict[str, str] | None = None,
) -> dict[str, str]:
    """What a run reads, name -> current sha256 (or "missing").

    * the raw files its parameters name (a round's export) and the raw files outside data/raw/survey
      (reference data, usage data: the helpers read these for every run), each with its data-manifest
      entry (source, licence, synthetic flag: the synthetic marks depend on it), but not the manifest
      files themselves: registering a new export changes no other run's inputs;
    * the codebook its parameters name, and config/aliases.yaml (``shared_config_files``).
    The processed files of the runs it needs are added by ``final_key``.
    """
    cache = cache or files.HashCache()
    named = named_files(run)
    own = {k.removeprefix("raw:") for k in named if k.startswith("raw:")}
    out: dict[str, str] = {}
    for rel, sha in inputs.items():
        if rel in own or rel.split("/", 1)[0] not in SHARED_RAW_EXCLUDED:
            out[f"raw:{rel}"] = sha
    for k, f in named.items():
        if k.startswith("raw:") and k not in out:
            out[k] = cache.get(f) or "missing"
        elif k.startswith("codebook:"):
            out[k] = cache.get(f) or "missing"
    for rel in [k.removeprefix("raw:") for k in out if k.startswith("raw:")]:
        if entries is not None and rel in entries:
            e = asdict(entries[rel])
            e.pop("sha256", None)  # the bytes are hashed above; the recorded sha256 is not the content
            out[f"manifest:{rel}"] = hashlib.sha256(json.dumps(e, sort_keys=True).encode()).hexdigest()
    if shared_config is None:
        shared_config = {
            f"config:{f.relative_to(paths.config()).as_posix()}": cache.get(f) or "missing"
            for f in shared_config_files()
        }
    out.update(shared_config)
    return out


def environment_key(cfg: Config, code: str) -> dict:
    """What every run shares: helper code, key package versions, kernel and the output locations."""
    return {
        "code": code,
        "packages": {p: package_version(p) for p in KEY_PACKAGES},
        "kernel": cfg.kernel,
        "python": platform.python_version(),
        "locations": [os.fspath(paths.processed_root().resolve()), os.fspath(paths.reports().resolve())],
    }


def static_keys(
    runs: list[Run],
    cfg: Config,
    inputs: dict[str, str],
    code: str,
    cache: files.HashCache | None = None,
    entries: dict | None = None,
) -> dict[str, tuple[str, dict]]:
    """Per run: (a hash of everything but its needs' outputs, the inputs it reads name -> sha256)."""
    cache = cache or files.HashCache()
    if entries is None:
        entries = provenance.load()
    env = json.dumps(environment_key(cfg, code), sort_keys=True)
    shared_config = {
        f"config:{f.relative_to(paths.config()).as_posix()}": cache.get(f) or "missing" for f in shared_config_files()
    }
    out = {}
    for r in runs:
        reads = run_inputs(r, inputs, entries, cache, shared_config)
        material = {
            "env": env,
            "notebook": cache.get(notebook_path(r)) or "missing",
            "parameters": r.parameters,
            "reads": reads,
        }
        out[r.id] = (hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest(), reads)
    return out


def final_key(static: str, need_outputs: dict[str, dict]) -> str:
    """A run's key: its static key plus the recorded hashes of the processed files of each run it needs."""
    h = hashlib.sha256(static.encode())
    h.update(json.dumps(need_outputs, sort_keys=True).encode())
    return h.hexdigest()


def run_keys(runs: list[Run], cfg: Config, inputs: dict[str, str], code: str) -> dict[str, str]:
    """Keys chained through ``needs`` by key rather than by output (used to see which runs an input change reaches)."""
    static = static_keys(runs, cfg, inputs, code)
    keys: dict[str, str] = {}
    for r in order(runs):
        keys[r.id] = final_key(static[r.id][0], {n: keys.get(n, n) for n in r.needs})
    return keys


def up_to_date(run: Run, key: str, before: dict[str, dict], cache: files.HashCache | None = None) -> bool:
    """True when the last successful run had the same key and every output it recorded exists with its hash."""
    prev = before.get(run.id)
    if not prev or prev.get("key") != key or not prev.get("executed"):
        return False
    outputs = prev.get("outputs") or {}
    if not outputs:
        return False
    cache = cache or files.HashCache()
    return all(cache.get(output_path(name)) == sha for name, sha in outputs.items())


def input_file(name: str) -> Path | None:
    """The file behind an input name of ``run_inputs`` or a recorded output name (``processed/...``)."""
    kind, _, rel = name.partition(":")
    if not rel:
        return output_path(name) if name.startswith(("processed/", "reports/")) else None
    if kind == "raw":
        return paths.raw() / rel
    if kind == "manifest":
        return paths.raw() / rel.split("/", 1)[0] / provenance.MANIFEST_NAME
    if kind == "codebook":
        return paths.codebook(rel)
    if kind == "config":
        return paths.config() / rel
    return None


def watched_files(run: Run, reads: dict[str, str], sources: list[Path]) -> dict[str, Path]:
    """The files a run's key was computed from, by the name a message gives them: its ``reads`` (raw:,
    manifest:, codebook:, config: and the processed files of its needs), its notebook, the helper ``sources``."""
    out = {name: f for name in reads if (f := input_file(name)) is not None}
    nb = notebook_path(run)
    out[f"notebook {paths.relative(nb)}"] = nb
    out.update({f"helper {paths.relative(f)}": f for f in sources})
    return out


def _sources_changed(sources: list[Path]) -> list[str]:
    now = set(code_files())
    return [f"helper {paths.relative(f)}" for f in sorted(now ^ set(sources))]  # added or removed since


def refresh_inputs(run: Run, reads: dict[str, str], cache: files.HashCache, sources: list[Path]) -> list[str]:
    """When a run starts: what its key was computed from whose bytes differ now (a file edited since the
    pipeline started, and not restored). Files that changed and came back to the same bytes are hashed
    again (``files.HashCache.refresh``), so that ``changed_inputs`` at the end compares with the start of
    this run: an edit undone before a run started does not touch it."""
    changed = [name for name, f in watched_files(run, reads, sources).items() if cache.refresh(f)]
    return changed + _sources_changed(sources)


def changed_inputs(run: Run, reads: dict[str, str], cache: files.HashCache, sources: list[Path]) -> list[str]:
    """When a run ends: what its key was computed from that changed since it was hashed (or, by
    ``refresh_inputs``, since the run started; ``files.HashCache.changed``).

    Any write counts, even one undone before the end (the notebook may have read the file in
    between); helper files added or removed count too. Only stats are read for files last modified
    more than 2 s before they were hashed, so this costs a few milliseconds.
    """
    changed = [name for name, f in watched_files(run, reads, sources).items() if cache.changed(f)]
    return changed + _sources_changed(sources)
