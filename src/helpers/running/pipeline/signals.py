"""Signals and kills: no worker or kernel outlives the command.

* In the main process, SIGTERM and SIGINT raise :class:`Stopped` (``raise_stopped``, installed by
  ``schedule.run``); the scheduler then stops every descendant (``stop_children``) and records what
  finished.
* In each worker (``worker_init``): Ctrl-C is the main process's to handle (it reaches the whole
  process group), SIGTERM stops the worker's kernel and exits, and the worker gets SIGTERM if the
  main process dies, even by SIGKILL.
* Kernels run in their own session (jupyter_client); they are stopped by ``stop_children`` or, when
  their parent is killed, by ipykernel's own parent poller.
"""

from __future__ import annotations

import contextlib
import os
import signal


class Stopped(BaseException):
    """SIGTERM or SIGINT reached the pipeline (raised in the main thread by its signal handler)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def raise_stopped(signum, frame):
    """The main process's handler of SIGTERM and SIGINT."""
    raise Stopped(signum)


def stop_children(grace: float = 5.0) -> None:
    """Terminate every descendant of this process (workers, kernels), then kill what is left after ``grace`` s."""
    import psutil

    try:
        procs = psutil.Process().children(recursive=True)
    except psutil.Error:
        return
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.terminate()
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(alive, timeout=2)


def worker_exit(signum, frame):
    """A worker's handler of SIGTERM: its kernel goes first, then the worker."""
    stop_children(grace=2)
    os._exit(128 + signum)


def worker_init() -> None:
    """The initializer of each worker process (see the module docstring)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, worker_exit)
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:
            os._exit(143)
