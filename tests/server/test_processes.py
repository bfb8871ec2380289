"""`brandcrew serve --workers 2`: two processes, each with its own socket on the port; one that dies
is started again; SIGTERM stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.utils.server import free_port


def _wait(url: str, proc: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "serve exited"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} never answered")


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out if b"spawn_main" in _cmdline(p)]


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:  # exited between pgrep and here (a killed server process, say)
        return b""


def _listening(port: int) -> set[int]:
    """Pids with a listening socket on the port."""
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    return {int(p.split(",")[0]) for p in out.split("pid=")[1:]}


def _wait_listening(port: int, pids: set[int], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not _listening(port) >= pids:
        assert time.monotonic() < deadline, f"{pids} never all listened on {port}: {_listening(port)}"
        time.sleep(0.2)


@pytest.mark.timeout(300)
def test_two_processes_share_the_port_and_one_that_dies_is_replaced(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "BRANDCREW_DATA_DIR": str(tmp_path / "data")}
    cmd = [str(Path(sys.executable).with_name("brandcrew")), "serve", "--port", str(port), "--workers", "2"]
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait(f"http://127.0.0.1:{port}/health", proc)
        deadline = time.monotonic() + 60
        while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        first, second = _children(proc.pid)
        _wait_listening(port, {first, second})  # a socket each, once each process is ready

        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while (first in _children(proc.pid) or len(_children(proc.pid)) < 2) and time.monotonic() < deadline:
            time.sleep(0.2)
        replacement = set(_children(proc.pid)) - {second}
        assert len(replacement) == 1 and first not in replacement
        # While the replacement starts, its socket does not listen yet, so the kernel sends every new
        # connection to the survivor: none waits in the queue of a process that is still importing.
        answered_meanwhile = 0
        while not _listening(port) >= replacement and time.monotonic() < deadline:
            assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
            answered_meanwhile += 1
        assert answered_meanwhile > 0  # a start-up takes seconds: the requests above did happen
        _wait_listening(port, replacement | {second})
        for _ in range(20):  # then from whichever process
            assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    assert not subprocess.run(
        ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True
    ).stdout.strip()
    text = (tmp_path / "serve.log").read_text()
    assert "starting another" in text and text.count("Started server process") >= 3
