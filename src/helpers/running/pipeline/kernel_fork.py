"""Kernels forked from a template that has already imported what the notebooks import (Linux).

Run as a script, never imported by the template or the launcher themselves: the standard library
only, so that the launcher starts in a few milliseconds (``python -I -S``) and the template holds
no module a notebook did not ask for besides ipykernel's.

``serve SOCKET IMPORTS`` (the template, one per ``borgerservice run``, started by
:class:`helpers.running.pipeline.kernels.Template` with the interpreter and options of the kernel
spec): removes its own folder from ``sys.path`` as ``ipykernel_launcher`` does, imports ipykernel and
runs the notebooks' import statements (IMPORTS, a JSON file: ``statements`` and the ``interpreter``
command it was started with) and the imports they left waiting (helpers.core.lazy), then waits on
the UNIX socket SOCKET. For each launcher that connects it forks a child which becomes the kernel:

* in its own session, with the launcher's stdin/stdout/stderr, working folder and *whole*
  environment (the run id, the runs it reads, the config: exactly what jupyter_client gives a
  kernel it starts itself), ``sys.argv`` as ``python -m ipykernel_launcher -f CONNECTION_FILE`` has
  it, numpy's global random state seeded afresh from the OS (Python's ``random`` re-seeds itself
  after a fork);
* then ``ipykernel.kernelapp.launch_new_instance()``: the kernel's shell, namespace, history and
  sockets are created after the fork, so every notebook starts with an empty namespace in a new
  process, as in JupyterLab; only the imported modules are shared (copy on write);
* it ends when its launcher ends (a pipe whose write end only the launcher holds), so SIGKILL to
  the launcher's process group (how the runner stops a kernel) ends it too.

The template forks only when the launcher's environment equals its own apart from the per-run keys
(:data:`PER_RUN`) and the kernel command is ``<its interpreter> -m ipykernel_launcher -f <file>``: a
module imported under another environment could differ. Otherwise it answers "fallback".

``launch SOCKET -- ARGV...`` (the launcher, the command of the kernel spec the runner writes for
jupyter_client): sends its request, forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2
to the kernel, and exits as the kernel exited (its code, or the same signal). When the template is
not there or answers "fallback", it ``exec``\\ s ARGV: the kernel starts as its spec says.

The template reaps its children and tells each launcher how its kernel ended; it dies with the
process that started it (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import struct
import sys

RUN_ID_ENV, READS_ENV, CONFIG_ENV = "BORGERSERVICE_RUN_ID", "BORGERSERVICE_READS", "BORGERSERVICE_CONFIG"
# Environment keys that may differ between the template and a kernel: set per run by the runner, by
# jupyter_client for each kernel, or by pytest per test phase. The kernel gets them all as sent.
PER_RUN = frozenset(
    {
        RUN_ID_ENV,
        READS_ENV,
        CONFIG_ENV,
        "JPY_PARENT_PID",
        "JPY_SESSION_NAME",
        "JPY_INTERRUPT_EVENT",
        "IPY_INTERRUPT_EVENT",
        "PYTEST_CURRENT_TEST",
    }
)
INLINE = "module://matplotlib_inline.backend_inline"  # what ipykernel sets as MPLBACKEND when it is unset
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)
KERNEL_ARGS = ["-m", "ipykernel_launcher", "-f"]


def _send(sock: socket.socket, doc: dict, fds: list[int] | None = None) -> None:
    data = json.dumps(doc).encode()
    frame = struct.pack("!I", len(data)) + data
    if fds:
        socket.send_fds(sock, [frame], fds)
    else:
        sock.sendall(frame)


def _receive(sock: socket.socket, with_fds: bool = False) -> tuple[dict, list[int]]:
    """One length-prefixed JSON message (and the file descriptors sent with it); ValueError when cut short."""
    fds: list[int] = []
    if with_fds:
        data, fds, _, _ = socket.recv_fds(sock, 1 << 20, 4)
    else:
        data = sock.recv(1 << 16)
    data = bytearray(data)
    while len(data) < 4 or len(data) < 4 + struct.unpack("!I", bytes(data[:4]))[0]:
        more = sock.recv(1 << 20)
        if not more:
            for fd in fds:
                os.close(fd)
            raise ValueError("connection closed before a whole message")
        data += more
    size = struct.unpack("!I", bytes(data[:4]))[0]
    return json.loads(bytes(data[4 : 4 + size])), fds


def refusal(baseline: dict, env: dict, argv: list[str], interpreter: list[str]) -> str:
    """Why the template, started as ``interpreter`` (python and its options), must not fork a kernel for this
    request ("" when it may)."""
    if argv[:-4] != interpreter or argv[-4:-1] != KERNEL_ARGS:
        return f"the kernel command is not {' '.join(interpreter)} -m ipykernel_launcher -f FILE"
    differ = sorted(k for k in set(baseline) | set(env) if k not in PER_RUN and baseline.get(k) != env.get(k))
    if differ:
        return f"the environment differs from the template's in {', '.join(differ)}"
    return ""


# --- the template ---------------------------------------------------------------------------------


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def serve(path: str, imports_file: str) -> None:
    """The template: bind ``path`` first (launchers may connect while it imports), import, then fork kernels."""
    if sys.path and os.path.abspath(sys.path[0] or os.curdir) == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]  # as ipykernel_launcher removes its own entry; IPython adds the working folder back
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the pipeline's to handle; it stops the template
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    baseline = dict(os.environ)
    os.environ.setdefault("MPLBACKEND", INLINE)  # as ipykernel does before any notebook code runs
    with open(imports_file, encoding="utf-8") as f:
        imports = json.load(f)
    statements, interpreter = imports["statements"], imports["interpreter"]
    import ipykernel.kernelapp  # noqa: F401  (every kernel imports it first)

    for statement in statements:
        try:
            exec(compile(statement, "<notebook imports>", "exec"), {"__name__": "__template__"})
        except BaseException:  # noqa: BLE001  (the notebook meets the same error itself, in its own cell)
            pass
    load_waiting()
    os.environ.clear()
    os.environ.update(baseline)
    import gc
    import importlib.util

    launcher = importlib.util.find_spec("ipykernel_launcher").origin
    gc.collect()
    gc.freeze()  # objects of the imports stay out of the children's collections: fewer pages copied
    children: dict[int, socket.socket] = {}
    while True:
        ready, _, _ = select.select([listener], [], [], 0.1)
        if ready:
            conn, _ = listener.accept()
            _handle(conn, listener, children, baseline, interpreter, launcher)
        _reap(children)


def load_waiting() -> None:
    """Imports the modules whose import waits for their first use (helpers.core.lazy), until none waits."""
    tried: set[int] = set()  # an import may leave others waiting: again until none is new
    while waiting := [
        m for m in list(sys.modules.values()) if type(m).__name__ == "_LazyModule" and id(m) not in tried
    ]:
        for module in waiting:
            tried.add(id(module))
            try:
                getattr(module, "__name__", None)  # reading any attribute runs the import
            except BaseException:  # noqa: BLE001  (the notebook meets the error where it uses the module)
                pass


def _handle(conn, listener, children: dict, baseline: dict, interpreter: list[str], launcher: str) -> None:
    conn.settimeout(10)
    try:
        request, fds = _receive(conn, with_fds=True)
    except (OSError, ValueError):
        conn.close()
        return
    why = "" if len(fds) == 4 else "stdin, stdout, stderr and the lifeline were not sent"
    why = why or refusal(baseline, request.get("env", {}), request.get("argv", []), interpreter)
    if not why:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _kernel(request, fds, [listener, conn, *children.values()], launcher)  # never returns
        children[pid] = conn
    for fd in fds:
        os.close(fd)
    try:
        _send(conn, {"pid": pid} if not why else {"fallback": why})
    except OSError:
        pass
    if why:
        conn.close()


def _reap(children: dict) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = children.pop(pid, None)
        if conn is not None:
            try:
                _send(conn, {"exit": os.waitstatus_to_exitcode(status)})
            except OSError:
                pass
            conn.close()


def _watch(fd: int) -> None:
    """End this kernel when its launcher has ended (EOF on the lifeline)."""
    while True:
        try:
            if not os.read(fd, 1):
                break
        except InterruptedError:
            continue
        except OSError:
            break
    os._exit(1)


def _kernel(request: dict, fds: list[int], inherited: list, launcher: str) -> None:
    """In the forked child: become the kernel the launcher asked for, then exit (never returns)."""
    code = 1
    try:
        for s in inherited:
            s.close()
        os.setsid()
        for target, fd in enumerate(fds[:3]):
            os.dup2(fd, target)
        for fd in fds[:3]:
            if fd > 2:
                os.close(fd)
        import threading

        threading.Thread(target=_watch, args=(fds[3],), name="lifeline", daemon=True).start()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()  # a fresh process seeds it from the OS at import
        argv = request["argv"]
        sys.argv = [launcher, *argv[-2:]]
        sys.orig_argv = list(argv)
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001
        import traceback

        traceback.print_exc()
    finally:
        try:
            import atexit

            atexit._run_exitfuncs()  # what the interpreter does at exit (IPython saves its history)
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


# --- the launcher ---------------------------------------------------------------------------------


def launch(path: str, argv: list[str]) -> None:
    """Ask the template at ``path`` for a kernel running ``argv``; else exec ``argv`` (never returns)."""
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(path)
        lifeline, _keep = os.pipe()  # the kernel reads lifeline; _keep closes when this process ends
        _send(sock, {"argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}, [0, 1, 2, lifeline])
        os.close(lifeline)
        reply, _ = _receive(sock)
    except (OSError, ValueError) as exc:
        reply = {"fallback": f"no kernel template ({exc})"}
    if "pid" not in reply:
        sys.stderr.write(f"kernel started without the template: {reply.get('fallback')}\n")
        sys.stderr.flush()
        os.execv(argv[0], argv)
    pid = reply["pid"]

    def forward(signum, frame):
        try:
            os.kill(pid, signum)
        except OSError:
            pass

    for s in FORWARDED:
        signal.signal(s, forward)
    try:
        reply, _ = _receive(sock)
    except (OSError, ValueError):
        reply = {}
    code = reply.get("exit", 1)
    if code < 0:  # the kernel died of a signal: so does its launcher
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code & 0xFF)


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["launch"] and sys.argv[3:4] == ["--"]:
        launch(sys.argv[2], sys.argv[4:])
    else:
        sys.exit("usage: kernel_fork.py serve SOCKET IMPORTS | launch SOCKET -- ARGV...")
