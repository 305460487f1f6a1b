"""`leadflow serve`: the web app over HTTP with waitress, in one process or several.

One Python process runs Python code on one core at a time, however many threads it has.
With `processes` > 1 the parent binds the port once and forks that many servers sharing
the listening socket (the model of gunicorn's pre-fork workers): each accepts connections
as it has room, and together they use every core. The parent only supervises: it
restarts a server that dies, and on SIGTERM/SIGINT stops them all before it exits.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from types import FrameType

# A server that fails sooner than this after its start is not restarted (a broken setup
# would otherwise fork forever).
MIN_LIFETIME = 5.0


class ServeError(Exception):
    """The server cannot start (the port is taken, the host is unknown)."""


def listen(host: str, port: int) -> socket.socket:
    """The listening socket on host:port, shared by every server process."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def load_app() -> Callable:
    """The WSGI app, loaded, with the garbage collector set for serving: what start-up
    allocated is frozen (never scanned again, and left shared with forked processes), and
    young objects are collected less often. Both cut the collector's share of a batch of
    1,000 events from about 9 ms to nothing measurable."""
    import gc

    from leadflow.wsgi import application

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    return application


def run_server(sock: socket.socket, threads: int, on_stop: Callable[[], object] | None = None,
               *, announce: bool = True) -> None:
    """Serve the app on `sock` in this process until SIGTERM/SIGINT (a second one stops
    at once). `on_stop` runs before the server closes (the in-process worker)."""
    from waitress import create_server

    server = create_server(load_app(), sockets=[sock], threads=threads, ident="Leadflow")
    stopping: list[int] = []

    def shutdown(signum: int, frame: FrameType | None) -> None:
        if stopping:
            raise SystemExit(1)  # a second Ctrl-C: stop now
        stopping.append(signum)
        if announce:
            _announce_stop(signum)
        raise SystemExit(0)

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    try:
        server.run()  # returns after SystemExit/KeyboardInterrupt, its threads stopped
    finally:
        if on_stop is not None:
            on_stop()
        server.close()


def run_processes(sock: socket.socket, threads: int, processes: int,
                  on_start: Callable[[], object] | None = None,
                  on_stop: Callable[[], object] | None = None) -> None:
    """Fork `processes` servers on `sock` and supervise them until SIGTERM/SIGINT.
    `on_start`/`on_stop` run in the parent once the servers are forked / before it waits
    for them to stop (the in-process worker lives in the parent, never in a fork)."""
    from django.db import connections

    load_app()  # once, here: the forks share it
    connections.close_all()  # a connection must never be shared by two processes
    children: dict[int, float] = {}  # pid -> start time
    stopping: list[int] = []

    def start() -> None:
        pid = os.fork()
        if pid == 0:  # the server process
            code = 0
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                run_server(sock, threads, announce=False)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children[pid] = time.monotonic()

    def shutdown(signum: int, frame: FrameType | None) -> None:
        if not stopping:
            _announce_stop(signum)
        stopping.append(signum)

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    for _ in range(processes):
        start()
    if on_start is not None:
        on_start()
    try:
        while not stopping:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.2)
                continue
            started = children.pop(pid, None)
            if started is None or stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            print(f"leadflow: server process {pid} ended ({code})", file=sys.stderr,
                  flush=True)
            # Killed (the OOM killer, an operator): restart. Failing on its own at once:
            # a broken setup, which restarting would only repeat.
            if code > 0 and time.monotonic() - started < MIN_LIFETIME:
                raise ServeError(f"server process {pid} ended {code} right after its start; "
                                 "see the messages above")
            start()
    finally:
        if on_stop is not None:
            on_stop()
        _stop_all(children)


def _announce_stop(signum: int) -> None:
    print(f"\nleadflow: {signal.Signals(signum).name} received, stopping...", file=sys.stderr,
          flush=True)


def _stop_all(children: dict[int, float], timeout: float = 30) -> None:
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while children and time.monotonic() < deadline:
        for pid in list(children):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                children.pop(pid)
        time.sleep(0.1)
    for pid in children:  # still running after the timeout
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
