"""Progress of ``borgerservice run``: which runs are running, done or waiting, the time elapsed, and
the time expected to remain from the durations recorded in the run manifest.

On a terminal a few status lines stay at the bottom and are redrawn twice a second, cut to the
terminal's width; the pipeline's own messages scroll above them. Under CI (``CI`` set), with
``TERM=dumb`` or when the output is not a terminal, it prints plain lines instead: one after each
run that ends, saying what is running, how many wait and what remains.

The pipeline calls three hooks (``plan``, ``started``, ``finished``) and prints through ``echo``;
nothing else in the pipeline knows about the display. Hand-written because the usual libraries
(tqdm, rich) show one bar per task or need a layout of their own; this is ~150 lines with none.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from typing import Literal, TextIO

from helpers.core.vocabulary import RunStatus


def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def plain_output(stream: TextIO) -> bool:
    """True when the display should be plain lines: CI, a dumb terminal, or not a terminal at all."""
    return (
        bool(os.environ.get("CI")) or os.environ.get("TERM") == "dumb" or not getattr(stream, "isatty", lambda: False)()
    )


class Progress:
    """Tracks the runs of one pipeline run and shows where it stands."""

    def __init__(
        self, stream: TextIO | None = None, *, live: bool | None = None, interval: float = 0.5, clock=time.monotonic
    ):
        self.stream = stream or sys.stdout
        self.live = (not plain_output(self.stream)) if live is None else live
        self.interval = interval
        self.clock = clock
        self.order: list[str] = []
        self.expected: dict[str, float] = {}
        self.workers = 1
        self.status: dict[str, RunStatus | Literal["waiting"]] = {}
        self.began: dict[str, float] = {}
        self.t0 = clock()
        self.drawn = 0
        self.lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- hooks called by the pipeline -----------------------------------------------------------

    def plan(self, run_ids: list[str], expected: dict[str, float], workers: int) -> None:
        with self.lock:
            self.order = list(run_ids)
            self.expected = dict(expected)
            self.workers = max(1, workers)
            self.status = {r: "waiting" for r in self.order}
            self.t0 = self.clock()
            if self.live and self._thread is None:
                self._thread = threading.Thread(target=self._refresh, name="progress", daemon=True)
                self._thread.start()

    def started(self, run_id: str) -> None:
        with self.lock:
            self.status[run_id] = "running"
            self.began[run_id] = self.clock()
            self._redraw()

    def finished(self, run_id: str, status: str) -> None:
        with self.lock:
            self.status[run_id] = status
            if self.live:
                self._redraw()
            else:
                self._write(self.plain_line() + "\n")

    def echo(self, text: str) -> None:
        """Print a message above the live lines (or as it is, in plain mode)."""
        with self.lock:
            self._clear()
            self._write(text + "\n")
            self._redraw()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        with self.lock:
            self._clear()
            self.live = False

    # --- what is shown --------------------------------------------------------------------------

    def counts(self) -> tuple[int, int, int]:
        done = sum(s not in ("waiting", "running") for s in self.status.values())
        running = sum(s == "running" for s in self.status.values())
        return done, running, len(self.status) - done - running

    def remaining(self) -> float | None:
        """Expected seconds left: the rest of each running run and the expected time of each waiting
        one, shared over the workers. None when a run left to do was never timed."""
        now = self.clock()
        work = 0.0
        for r, s in self.status.items():
            if s not in ("waiting", "running"):
                continue
            if r not in self.expected:
                return None
            left = self.expected[r] - (now - self.began[r]) if s == "running" else self.expected[r]
            work += max(left, 1.0 if s == "running" else 0.0)
        return work / self.workers

    def _eta(self) -> str:
        left = self.remaining()
        done, running, waiting = self.counts()
        if not running and not waiting:
            return "finished"
        return "remaining unknown (not all runs timed before)" if left is None else f"about {_clock(left)} left"

    def headline(self) -> str:
        done, running, waiting = self.counts()
        return (
            f"{done}/{len(self.status)} done, {running} running, {waiting} waiting; "
            f"{_clock(self.clock() - self.t0)} elapsed, {self._eta()}"
        )

    def plain_line(self) -> str:
        names = [r for r in self.order if self.status.get(r) == "running"]
        return f"  progress: {self.headline()}" + (f" (running: {', '.join(names)})" if names else "")

    def lines(self, width: int) -> list[str]:
        now = self.clock()
        out = [self.headline()]
        for r in self.order:
            if self.status.get(r) == "running":
                exp = f" / ~{_clock(self.expected[r])}" if r in self.expected else ""
                out.append(f"  running  {r}  {_clock(now - self.began[r])}{exp}")
        waiting = [r for r in self.order if self.status.get(r) == "waiting"]
        if waiting:
            out.append("  waiting  " + ", ".join(waiting))
        return [line if len(line) <= width else line[: max(width - 1, 1)] + "\u2026" for line in out]

    # --- drawing --------------------------------------------------------------------------------

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def _clear(self) -> None:
        if self.live and self.drawn:
            self._write(f"\x1b[{self.drawn}F\x1b[J")  # up to the first status line, clear to the end
            self.drawn = 0

    def _redraw(self) -> None:
        if not self.live or not self.status:
            return
        self._clear()
        width = shutil.get_terminal_size((100, 24)).columns
        rows = self.lines(width)
        self._write("\n".join(rows) + "\n")
        self.drawn = len(rows)

    def _refresh(self) -> None:
        while not self._stop.wait(self.interval):
            with self.lock:
                self._redraw()
