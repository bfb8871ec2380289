"""Several server processes on one port, each with a listening socket of its own (SO_REUSEPORT).

uvicorn's own `--workers` shares one socket between its processes, and whichever accepts first takes
the connection: long-lived keep-alive connections then often pile up on one process while the other
idles (measured by `bench.server`: a run at a third of the two-process throughput now and then).
With a socket per process, the kernel spreads connections across them by their address hash.
Processes that die are started again, as uvicorn's supervisor does.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import time
from types import FrameType

log = logging.getLogger("brandcrew.server")

APP = "brandcrew.server.main:app"


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to host:port that other processes may bind too (SO_REUSEPORT), not yet listening."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def serve_one(host: str, port: int) -> None:
    """One server process: its own socket, the app, until SIGTERM/SIGINT."""
    import uvicorn

    # Bound but not listening: the kernel hands a port's connections only to listening sockets, and
    # asyncio's create_server calls listen() once uvicorn has imported the app and run its startup.
    # A socket that listened from the start would queue its share of connections, unanswered,
    # through the seconds a new (or replacement) process spends starting.
    sock = bind(host, port)
    config = uvicorn.Config(APP, log_config=None, access_log=False, proxy_headers=True)
    uvicorn.Server(config).run(sockets=[sock])


def supervise(host: str, port: int, processes: int) -> None:
    """Run `processes` server processes on host:port until SIGTERM/SIGINT; restart any that dies."""
    context = multiprocessing.get_context("spawn")
    bind(host, port).close()  # fail here, at once, when the port is taken or not ours to bind
    stopping = False

    def start() -> multiprocessing.process.BaseProcess:
        child = context.Process(target=serve_one, args=(host, port), daemon=False)
        child.start()
        return child

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    children = [start() for _ in range(processes)]
    log.info("serving on %s:%d with %d processes", host, port, processes)
    while not stopping:
        time.sleep(0.5)
        for i, child in enumerate(children):
            if not child.is_alive() and not stopping:
                log.warning("server process %s exited (%s); starting another", child.pid, child.exitcode)
                children[i] = start()
    for child in children:
        if child.is_alive() and child.pid is not None:
            child.terminate()  # SIGTERM: uvicorn finishes the requests in flight
    for child in children:
        child.join(timeout=30)
        if child.is_alive():
            child.kill()
