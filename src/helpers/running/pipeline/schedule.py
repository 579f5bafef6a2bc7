"""Running the selected notebooks: in dependency order, in parallel, incrementally, and stopping cleanly.

``run`` holds the lock of the output folders, computes every run's key, and hands the runs to
``_schedule``: a run whose needs succeeded starts when a worker is free (``start_order`` picks among
the ready ones), a run whose needs failed is "blocked", an up-to-date run is "skipped". A run whose
data do not cover its years (its notebook raises ``NotCovered``) is "not covered", and so are the runs
that need it: skipped with the reason, not failed. A run's ``optional`` needs are waited for but do
not block it when they fail: it runs without them (05_export_data exports the rounds that cleaned).
Each run is recorded in the run manifest as it starts and ends.

When a run starts and when it ends, what its key was computed from is checked again
(``keys.refresh_inputs``, ``keys.changed_inputs``). If an input, its notebook or the helper code
differs when it starts, or changed (even edited and restored) while it ran, the run is
recorded as failed, "not current", naming what changed, and its dependents are blocked; the next
``borgerservice run`` runs it again. It is not re-run at once, nor recorded with the inputs as they
are at its end: what the notebook read cannot be known (an edit undone before the end leaves the same
bytes), a file still being edited may change again, and runs that already finished or have not
started may read the same file; a fresh run computes every key anew from one state.

On SIGTERM/SIGINT, or when an output folder cannot be written, workers and kernels are stopped and
``Interrupted`` says what finished.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

from helpers.core import files, paths
from helpers.data import provenance
from helpers.running import lock
from helpers.running.pipeline import kernels, keys, signals
from helpers.running.pipeline.config import (
    CHECKED,
    Config,
    Run,
    effective_parameters,
    load_checked,
    notebook_path,
    order,
    select,
)
from helpers.running.pipeline.execution import execute
from helpers.running.pipeline.manifest import (
    EXECUTED,
    NOT_COVERED,
    SUCCEEDED,
    Outcome,
    RunManifest,
    git_state,
    previous_runs,
    reason,
)
from helpers.running.pipeline.outputs import (
    clear_outputs,
    collect_outputs,
    processed_outputs,
    sweep_stale,
    write_error,
)


class Interrupted(RuntimeError):
    """The pipeline stopped early (a signal, or an output folder that cannot be written); ``outcomes``
    holds what finished and what was cut off, ``exit_code`` the code for the command."""

    def __init__(self, message: str, outcomes: list[Outcome], exit_code: int):
        super().__init__(message)
        self.outcomes, self.exit_code = outcomes, exit_code


def ancestors(run: Run, by_id: dict[str, Run]) -> list[str]:
    """The runs a run needs, directly or through other needs (whose processed outputs it may read)."""
    seen: list[str] = []
    stack = list(run.needs)
    while stack:
        n = stack.pop(0)
        if n not in seen and n in by_id:
            seen.append(n)
            stack.extend(by_id[n].needs)
    return seen


def expected_seconds(runs: list[Run], before: dict[str, dict]) -> dict[str, float]:
    """How long each run is expected to take: its own last recorded time, else the mean recorded time
    of the same notebook with other parameters (a new round's clean takes about as long as the others).
    Runs with neither are left out: they have never been timed."""
    timed = {}
    for i, r in before.items():
        try:
            if r.get("seconds"):
                timed[i] = float(r["seconds"])
        except (TypeError, ValueError):
            continue
    by_notebook: dict[str, list[float]] = {}
    for i, r in before.items():
        if i in timed:
            by_notebook.setdefault(r.get("notebook", ""), []).append(timed[i])
    expected = {}
    for r in runs:
        if r.id in timed:
            expected[r.id] = timed[r.id]
        elif r.notebook in by_notebook:
            expected[r.id] = sum(by_notebook[r.notebook]) / len(by_notebook[r.notebook])
    return expected


def start_order(
    ready: list[Run], pending: list[Run], finished: set[str], runs: list[Run], expected: dict[str, float]
) -> list[Run]:
    """The order in which ready runs get free workers.

    1. Runs that are the last missing need of other pending runs, the most such runs first: cleaning
       a round whose neighbour is cleaned opens a comparison, so both workers keep having work.
    2. Never-timed runs (they may be long, and their errors show early), then the longest expected:
       a long run started last would run alone at the end.
    3. The deepest in the dependency graph (a comparison before another round's cleaning), then
       config order.
    With 4 rounds on 2 workers this takes the 4 cleans and 3 comparisons from 19.5 s to about 16 s
    (config order leaves the last comparison running alone; benchmarks/README.md).
    """
    by_id = {r.id: r for r in runs}
    depth: dict[str, int] = {}

    def depth_of(run_id: str) -> int:
        if run_id not in depth:
            needs = [n for n in by_id[run_id].needs if n in by_id]
            depth[run_id] = 1 + max(map(depth_of, needs)) if needs else 0
        return depth[run_id]

    def opens(run: Run) -> int:
        return sum(
            run.id in p.needs and all(n in finished or n == run.id or n not in by_id for n in p.needs) for p in pending
        )

    index = {r.id: i for i, r in enumerate(runs)}
    return sorted(ready, key=lambda r: (-opens(r), -expected.get(r.id, float("inf")), -depth_of(r.id), index[r.id]))


def warn_changed_notebooks(runs: list[Run], echo=print) -> list[str]:
    """Warn about source notebooks that differ from the committed version (git): they are inputs, and
    JupyterLab saves outputs and edited parameter defaults into the notebook it opened."""
    root = paths.root().resolve()
    nbs = sorted(
        {
            os.fspath(notebook_path(r).resolve().relative_to(root))
            for r in runs
            if notebook_path(r).resolve().is_relative_to(root)
        }
    )
    if not nbs:
        return []
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--", *nbs], cwd=root, capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    changed = [line[3:].strip() for line in out.splitlines() if len(line) > 3]
    for path in changed:
        echo(
            f"warning: {path} differs from the committed version; this run uses it as it is. A source notebook is an "
            f"input: outputs or edited parameter defaults saved into it change the results (`git diff {path}` shows "
            "what, "
            f"`git checkout {path}` restores it)"
        )
    return changed


def run(
    config=None,
    only: list[str] | None = None,
    rounds: list[int] | None = None,
    force: bool = False,
    workers: int | None = None,
    echo=print,
    wait: float = 0.0,
    progress=None,
) -> list[Outcome]:
    """Run the selected notebooks (skipping those up to date unless ``force``), record each as it ends, return outcomes.

    ``progress`` (a ``helpers.running.progress.Progress``, optional) is told the plan, and when each run
    starts and ends.

    Holds the lock of the output folders throughout (lock.LockHeld when another run holds it). On
    SIGTERM/SIGINT, or when an output folder cannot be written, stops workers and kernels and raises
    ``Interrupted`` with what finished; the run manifest already holds every finished run.
    """
    cfg = load_checked(config, paths.reports() / CHECKED)
    todo = order(select(cfg.runs, only, rounds))
    workers = max(1, workers or cfg.workers)
    started = dt.datetime.now(dt.UTC)
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        handlers = {s: signal.signal(s, signals.raise_stopped) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        with contextlib.ExitStack() as held:
            try:
                held.enter_context(lock.hold([paths.reports(), paths.processed_root()], wait=wait, echo=echo))
            except lock.Unwritable as exc:  # read-only, full, the lock path a folder: named, before anything is written
                raise Interrupted(f"{exc}; nothing was run", [], 1) from None
            try:
                cache = files.HashCache(paths.reports() / keys.HASH_CACHE, base=paths.root(), echo=echo)
                recorded = previous_runs(echo)
                inputs = keys.input_hashes(cache)
                for f in keys.data_manifests():  # hashed before they are read, to be checked when each run ends
                    cache.get(f)
                entries = provenance.load()
                sources = keys.code_files()
                static = keys.static_keys(cfg.runs, cfg, inputs, keys.code_hash(cache, sources), cache, entries)
                git = git_state()
                warn_changed_notebooks(todo, echo)
                sweep_stale(cfg, echo)
                manifest = RunManifest(cfg, started, inputs, recorded, git, entries)
            except OSError as exc:
                raise Interrupted(f"{write_error(exc)}; nothing was run", [], 1) from None
            with kernels.Template(cfg.kernel, sorted({notebook_path(r) for r in todo})) as template:
                outcomes = _schedule(
                    todo,
                    cfg,
                    static,
                    {} if force else recorded,
                    workers,
                    expected_seconds(todo, recorded),
                    echo,
                    manifest,
                    cache,
                    progress,
                    template,
                    sources,
                )
            cache.save()
    finally:
        for s, h in handlers.items():
            signal.signal(s, h)
    return [outcomes[r.id] for r in todo]


def _schedule(
    todo: list[Run],
    cfg: Config,
    static: dict,
    before: dict,
    workers: int,
    expected: dict,
    echo,
    manifest: RunManifest | None = None,
    cache: files.HashCache | None = None,
    progress=None,
    template: kernels.Template | None = None,
    sources: list[Path] | None = None,
) -> dict[str, Outcome]:
    """Start runs whose needs succeeded, up to ``workers`` at a time, in ``start_order``; block those whose needs
    failed. ``template``: the kernel template (started with the first run), or None for kernels as installed.
    A run that succeeded is checked against what its key was computed from (``sources``: the helper
    files hashed into it, default ``keys.code_files()``); one whose inputs changed meanwhile is recorded as failed.
    """
    cache = cache or files.HashCache()
    sources = keys.code_files() if sources is None else sources
    outcomes: dict[str, Outcome] = {}
    selected = {r.id for r in todo}
    by_id = {r.id: r for r in cfg.runs}
    run_keys: dict[str, str] = {}
    pending, running = list(todo), {}
    t0 = time.perf_counter()
    if progress is not None:
        progress.plan([r.id for r in todo], expected, workers)

    stale: dict[str, list[str]] = {}  # run id -> inputs whose bytes had changed when it started

    def reads_of(r: Run) -> dict[str, str]:
        return {
            **static[r.id][1],
            **{k: v for n in r.needs if n in outcomes for k, v in processed_outputs(outcomes[n]).items()},
        }

    def unrun(r: Run, status: str, error: str = "") -> Outcome:
        """The outcome of ``r`` when its notebook did not run to the end: ``status`` and why (``error``)."""
        return Outcome(r.id, r.notebook, r.parameters, status, error=error, key=run_keys.get(r.id, ""))

    def record(o: Outcome):
        r = by_id[o.id]
        o.effective_parameters = o.effective_parameters or effective_parameters(r)
        o.reads = o.reads or reads_of(r)
        changed = stale.pop(o.id, [])
        if o.status == "ok" and (changed := changed + keys.changed_inputs(r, o.reads, cache, sources)):
            shown = ", ".join(changed[:6]) + (f" and {len(changed) - 6} more" if len(changed) > 6 else "")
            o.status, o.error = (
                "failed",
                f"not current: {shown} changed while it ran (an edit, even one undone before the end, may have "
                "reached the notebook); its outputs are kept but not recorded as up to date, and the next "
                "`borgerservice run` runs it again",
            )
        if o.status in EXECUTED:
            o.outputs = collect_outputs(o.id, cache)
        o.finished = o.finished or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        outcomes[o.id] = o
        if manifest is not None:
            manifest.put(o, defer=o.status == "skipped")  # nothing ran: written with the next record or at the end
        took = f" in {o.seconds:.1f} s" if o.status in EXECUTED else ""
        echo(
            f"[{len(outcomes)}/{len(todo)} {time.perf_counter() - t0:6.1f}s] {o.id}: {o.status}{took}"
            + (f" -> {reason(o.error) if o.status == NOT_COVERED else o.error}" if o.error else "")
        )
        if progress is not None:
            progress.finished(o.id, o.status)

    def start(r: Run):
        pending.remove(r)
        if progress is not None:
            progress.started(r.id)
        clear_outputs(r.id)
        stale[r.id] = keys.refresh_inputs(r, reads_of(r), cache, sources)
        if manifest is not None:
            manifest.put(unrun(r, "running"), quiet=True)
        return (
            r,
            cfg.kernel,
            cfg.timeout_seconds,
            run_keys[r.id],
            tuple(ancestors(r, by_id)),
            cfg.cell_timeout_seconds,
            str(cfg.path),
            template.start() if template is not None else "",
        )

    def settle() -> list[Run]:
        """Record blocked and up-to-date runs (in dependency order, so chains settle in one pass); return runs ready to
        start.
        """
        ready = []
        for r in list(pending):
            needs = [n for n in r.needs if n in selected]
            if any(n not in outcomes for n in needs):
                continue  # waits for its needs
            bad = [n for n in needs if outcomes[n].status not in SUCCEEDED and n not in r.optional]
            uncovered = [n for n in bad if outcomes[n].status == NOT_COVERED]
            run_keys[r.id] = keys.final_key(static[r.id][0], {n: processed_outputs(outcomes[n]) for n in needs})
            if bad and len(uncovered) == len(bad):  # what it needs has no data for its years: neither has it
                why = "; ".join(f"{n}: {reason(outcomes[n].error)}" for n in uncovered)
                clear_outputs(r.id)  # nothing of an earlier run may look current
                for suffix in (".ipynb", ".html"):
                    (paths.executed() / f"{r.id}{suffix}").unlink(missing_ok=True)
                record(unrun(r, NOT_COVERED, f"NotCovered: not run: needs without data for their years ({why})"))
            elif bad:
                record(unrun(r, "blocked", f"not run: {', '.join(bad)} did not succeed"))
            elif keys.up_to_date(r, run_keys[r.id], before, cache):
                prev = before[r.id]
                record(
                    Outcome(
                        r.id,
                        r.notebook,
                        r.parameters,
                        NOT_COVERED if prev.get("status") == NOT_COVERED else "skipped",
                        prev.get("seconds", 0.0),
                        prev["executed"],
                        prev.get("html", ""),
                        prev.get("error", "") if prev.get("status") == NOT_COVERED else "",
                        key=run_keys[r.id],
                        outputs=dict(prev["outputs"]),
                        finished=prev.get("finished", ""),
                    )
                )
            else:
                without = [n for n in needs if outcomes[n].status not in SUCCEEDED]
                if without:
                    echo(f"{r.id}: runs without {', '.join(without)} (optional; did not succeed)")
                ready.append(r)
                continue
            pending.remove(r)
        return start_order(ready, pending, set(outcomes), todo, expected)

    pool = None
    try:
        while pending or running:
            ready = settle()
            if workers == 1 and ready:
                r = ready[0]
                echo(f"[{len(outcomes)}/{len(todo)}] {r.id}: running {r.notebook} {r.parameters or ''}".rstrip())
                running = {None: r}
                record(execute(*start(r)))
                running = {}
                continue
            for r in ready[: workers - len(running)]:
                if pool is None:
                    pool = ProcessPoolExecutor(max_workers=workers, initializer=signals.worker_init)
                echo(f"[{len(outcomes)}/{len(todo)}] {r.id}: started {r.notebook} {r.parameters or ''}".rstrip())
                running[pool.submit(execute, *start(r))] = r
            if running:
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in done:
                    r = running.pop(fut)
                    try:
                        record(fut.result())
                    except Exception as exc:  # the worker process itself died
                        record(unrun(r, "failed", f"{type(exc).__name__}: {exc}"))
    except (signals.Stopped, OSError) as exc:
        for s in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(ValueError):
                signal.signal(s, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        signals.stop_children()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
            pool = None
        why = f"stopped by {exc}" if isinstance(exc, signals.Stopped) else write_error(exc)
        for r in list(running.values()) + [r for r in pending]:
            o = unrun(r, "interrupted" if r in running.values() else "not started", why)
            outcomes[o.id] = o
            if manifest is not None and r in running.values():
                with contextlib.suppress(OSError):
                    manifest.put(o, quiet=True)
        with contextlib.suppress(OSError):
            files.remove_temporaries(paths.executed())
        code = 128 + exc.signum if isinstance(exc, signals.Stopped) else 1
        finished = [outcomes[r.id] for r in todo if r.id in outcomes]
        raise Interrupted(why, finished, code) from None
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if manifest is not None:
        manifest.write()
    return outcomes
