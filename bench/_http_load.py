"""A small closed-loop HTTP/1.1 load generator on raw asyncio streams (cheap per request, so the
client does not become the bottleneck on a 2-core machine the server shares)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def free_port() -> int:
    """A localhost port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LoadResult:
    """Latencies (seconds) of the requests that finished inside the measured window."""

    latencies: list[float] = field(default_factory=list)
    first_event: list[float] = field(default_factory=list)
    first_graph_event: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    errors: int = 0


def _request(method: str, path: str, host: str, headers: dict[str, str], body: bytes | None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
        elif name.lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    body = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
        body += await reader.readexactly(size + 2)
        if size == 0:
            return status, body


async def get_load(
    host: str, port: int, path: str, headers: dict[str, str], *, clients: int, duration_s: float
) -> LoadResult:
    """`clients` keep-alive connections each sending GET `path` back to back for `duration_s`."""
    result = LoadResult()
    raw = _request("GET", path, f"{host}:{port}", headers, None)
    stop_at = time.perf_counter() + duration_s

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                writer.write(raw)
                status, _ = await _read_response(reader)
                result.latencies.append(time.perf_counter() - started)
                result.statuses[status] = result.statuses.get(status, 0) + 1
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    result.elapsed_s = time.perf_counter() - began
    return result


async def stream_load(
    host: str,
    port: int,
    headers: dict[str, str],
    *,
    clients: int,
    duration_s: float,
    request_for: Callable[[int], tuple[str, dict[str, Any]]],
) -> LoadResult:
    """`clients` loops each POSTing a streaming run and reading its SSE to `event: end`: records the
    time to the first event, to the first event after `metadata`, and to the end."""
    result = LoadResult()
    stop_at = time.perf_counter() + duration_s

    async def one(index: int) -> None:
        path, payload = request_for(index)
        raw = _request(
            "POST",
            path,
            f"{host}:{port}",
            {**headers, "Accept": "text/event-stream", "Connection": "close"},
            json.dumps(payload).encode(),
        )
        started = time.perf_counter()
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status != 200:
                result.errors += 1
                return
            buffer = b""
            events = 0
            while b"event: end" not in buffer:
                chunk = await reader.read(65536)
                if not chunk:
                    result.errors += 1
                    return
                buffer += chunk
                found = buffer.count(b"event: ")
                if events == 0 and found >= 1:
                    result.first_event.append(time.perf_counter() - started)
                if events < 2 <= found:
                    result.first_graph_event.append(time.perf_counter() - started)
                events = found
            result.latencies.append(time.perf_counter() - started)
        finally:
            writer.close()

    async def client(index: int) -> None:
        n = 0
        while time.perf_counter() < stop_at:
            await one(index * 100_000 + n)
            n += 1

    began = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    result.elapsed_s = time.perf_counter() - began
    return result
