"""Benchmark of the server under 50 concurrent clients on this machine.

    python -m bench.server [--json] [--clients 50] [--seconds 10] [--workers 2]

Two loads against `brandcrew serve` (a real subprocess: JSON access logs, auth, tenancy, rate limits
at 1000x their defaults so one benchmark user is not throttled, metrics), on the embedded defaults
(SQLite, sandbox platform, offline model):

- resource GET: `GET /api/posts/{id}` of a post with three platform variants, authenticated with a
  JWT access token, by `--clients` keep-alive connections back to back for `--seconds`;
- runs: each client, on a thread of its own, POSTs `/threads/{id}/runs/stream` (supervisor graph,
  offline model, a request the fast router sends to the content agent) and reads the SSE stream to
  `event: end`, again and again. Reported: the time from sending the request to the first event
  (`metadata`), to the first graph event after it, and to the end; completed runs per second.

Peer measured in the same run: a bare FastAPI app (`bench/_bare_app.py`) reading the same row from
the same database under the same uvicorn and worker count, with none of brandcrew's request work;
the ratio says what auth, tenancy, limits, logs and metrics cost.

The GET load comes from `wrk` when it is installed (`make bench` installs Debian's package), else
from a raw-asyncio HTTP/1.1 client in this process (the JSON says which: `get_client`); the runs load
always comes from that Python client. Either shares the machine's 2 cores with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import _wrk as wrk
from bench._http_load import LoadResult, free_port, get_load, stream_load
from bench._table import console, emit_json, percentile, print_table

RUN_REQUEST = "Draft a LinkedIn post announcing our winter blend"


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(cmd, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    # Every server process must be ready (graphs open): 20 answers in a row, spread over the workers.
    deadline = time.monotonic() + 300
    streak = 0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            ok = httpx.get(url, timeout=2, headers={"Connection": "close"}).status_code < 500
        except httpx.HTTPError:
            ok = False
        streak = streak + 1 if ok else 0
        if streak >= 20:
            return
        time.sleep(0.05 if ok else 0.3)
    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _seed(base: str) -> dict[str, Any]:
    with httpx.Client(base_url=base, timeout=60) as http:
        reg = http.post(
            "/api/auth/register",
            json={
                "email": "bench@example.com",
                "password": "bench passphrase",
                "name": "Bench",
                "workspaceName": "Bench Coffee",
            },
        )
        reg.raise_for_status()
        headers = {"Authorization": f"Bearer {reg.json()['accessToken']}"}
        accounts = http.post("/api/accounts/sandbox", json={}, headers=headers)
        accounts.raise_for_status()
        targets = [
            {"platform": a["platform"], "accountId": a["id"]}
            for a in http.get("/api/accounts", headers=headers).json()["accounts"]
        ]
        post = http.post(
            "/api/posts",
            json={"content": {"text": "Our winter blend is here. #coffee"}, "platforms": targets[:3]},
            headers=headers,
        )
        post.raise_for_status()
        body = post.json()
        post_id = body.get("post", body)["id"]
        return {"headers": headers, "post_id": post_id}


def _threads(base: str, headers: dict[str, str], count: int) -> list[str]:
    with httpx.Client(base_url=base, timeout=60, headers=headers) as http:
        return [http.post("/threads", json={}).raise_for_status().json()["thread_id"] for _ in range(count)]


def _get_summary(
    port: int, path: str, headers: dict[str, str], clients: int, seconds: float
) -> dict[str, Any]:
    """GET load on `path`: from wrk when installed, else from the Python client (noted in the table)."""
    if wrk.available():
        wrk.get_load(f"http://127.0.0.1:{port}{path}", headers, clients=clients, seconds=1)  # warm-up
        got = wrk.get_load(f"http://127.0.0.1:{port}{path}", headers, clients=clients, seconds=seconds)
        return {
            "rps": got.rps,
            "p50_ms": got.p50_ms,
            "p99_ms": got.p99_ms,
            "errors": float(got.errors),
            "client": "wrk",
        }
    asyncio.run(get_load("127.0.0.1", port, path, headers, clients=clients, duration_s=1.0))  # warm-up
    result = asyncio.run(get_load("127.0.0.1", port, path, headers, clients=clients, duration_s=seconds))
    return {**_summary(result), "client": "python"}


def _summary(result: LoadResult) -> dict[str, float]:
    ms = [x * 1000 for x in result.latencies]
    return {
        "rps": len(ms) / result.elapsed_s if result.elapsed_s else 0.0,
        "p50_ms": percentile(ms, 50),
        "p99_ms": percentile(ms, 99),
        "errors": float(sum(n for s, n in result.statuses.items() if s >= 400) + result.errors),
    }


def run(clients: int, seconds: float, workers: int, workdir: Path) -> dict[str, Any]:
    """Start the servers, seed, load, stop; return the raw figures."""
    env = {
        **os.environ,
        "BRANDCREW_DATA_DIR": str(workdir / "data"),
        "BRANDCREW_RATE_LIMIT_SCALE": "1000",
        "BRANDCREW_ALLOW_MODEL_REQUESTS": "false",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    for key in ("DATABASE_URL", "REDIS_URL", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY"):
        env.pop(key, None)
    port = free_port()
    brandcrew_bin = str(Path(sys.executable).with_name("brandcrew"))
    server = _start(
        [brandcrew_bin, "serve", "--port", str(port), "--workers", str(workers)], env, workdir / "serve.log"
    )
    base = f"http://127.0.0.1:{port}"
    out: dict[str, Any] = {"workers": workers, "clients": clients}
    try:
        _wait_ready(f"{base}/ready", server, workdir / "serve.log")
        seeded = _seed(base)
        headers = seeded["headers"]
        get_path = f"/api/posts/{seeded['post_id']}"
        out["brandcrew_get"] = _get_summary(port, get_path, headers, clients, seconds)
        threads = _threads(base, headers, clients)

        def request_for(index: int) -> tuple[str, dict[str, Any]]:
            thread = threads[(index // 100_000) % len(threads)]
            body = {
                "assistant_id": "supervisor",
                "input": {"messages": [{"type": "human", "content": RUN_REQUEST}]},
                "stream_mode": ["updates"],
            }
            return f"/threads/{thread}/runs/stream", body

        asyncio.run(
            stream_load("127.0.0.1", port, headers, clients=4, duration_s=1.0, request_for=request_for)
        )
        runs = asyncio.run(
            stream_load(
                "127.0.0.1", port, headers, clients=clients, duration_s=seconds, request_for=request_for
            )
        )
        out["runs"] = {
            **_summary(runs),
            "first_event_p50_ms": percentile([x * 1000 for x in runs.first_event], 50),
            "first_event_p99_ms": percentile([x * 1000 for x in runs.first_event], 99),
            "first_graph_event_p99_ms": percentile([x * 1000 for x in runs.first_graph_event], 99),
        }
    finally:
        _stop(server)
    bare_port = free_port()
    bare_env = {**env, "BENCH_DATABASE_URL": f"sqlite:///{workdir / 'data' / 'brandcrew.db'}"}
    bare = _start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench._bare_app:app",
            "--port",
            str(bare_port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        bare_env,
        workdir / "bare.log",
    )
    try:
        bare_base = f"http://127.0.0.1:{bare_port}"
        _wait_ready(f"{bare_base}/docs", bare, workdir / "bare.log")
        out["bare_get"] = _get_summary(bare_port, f"/api/posts/{seeded['post_id']}", {}, clients, seconds)
    finally:
        _stop(bare)
    return out


def report(out: dict[str, Any]) -> dict[str, Any]:
    """Print the table and return the figures."""
    bc, bare, runs = out["brandcrew_get"], out["bare_get"], out["runs"]
    rows = [
        ["brandcrew GET /api/posts/{id}", f"{bc['rps']:.0f}", f"{bc['p50_ms']:.1f}", f"{bc['p99_ms']:.1f}", "-",
         f"{bc['errors']:.0f}"],
        ["bare FastAPI GET (same row)", f"{bare['rps']:.0f}", f"{bare['p50_ms']:.1f}", f"{bare['p99_ms']:.1f}", "-",
         f"{bare['errors']:.0f}"],
        ["brandcrew create run + stream", f"{runs['rps']:.1f}", f"{runs['p50_ms']:.1f}", f"{runs['p99_ms']:.1f}",
         f"{runs['first_event_p99_ms']:.1f}", f"{runs['errors']:.0f}"],
    ]  # fmt: skip
    print_table(
        f"server under {out['clients']} concurrent clients ({out['workers']} server process(es), offline model)",
        ["load", "req/s (runs/s)", "p50 ms", "p99 ms", "first event p99 ms", "errors"],
        rows,
    )
    figures = {
        "get_rps": round(bc["rps"], 1),
        "get_p50_ms": round(bc["p50_ms"], 2),
        "get_p99_ms": round(bc["p99_ms"], 2),
        "bare_get_rps": round(bare["rps"], 1),
        "bare_get_p99_ms": round(bare["p99_ms"], 2),
        "get_rps_ratio_vs_bare": round(bc["rps"] / bare["rps"], 3) if bare["rps"] else None,
        "run_first_event_p50_ms": round(runs["first_event_p50_ms"], 2),
        "run_first_event_p99_ms": round(runs["first_event_p99_ms"], 2),
        "run_first_graph_event_p99_ms": round(runs["first_graph_event_p99_ms"], 2),
        "run_p99_ms": round(runs["p99_ms"], 2),
        "runs_per_s": round(runs["rps"], 2),
        "errors": int(bc["errors"] + bare["errors"] + runs["errors"]),
        "clients": out["clients"],
        "workers": out["workers"],
        "get_client": bc["client"],
    }
    console.print(
        f"goals: GET >= 500 req/s with p99 < 100 ms -> {figures['get_rps']} req/s, p99 {figures['get_p99_ms']} ms; "
        f"first streamed event p99 < 250 ms -> {figures['run_first_event_p99_ms']} ms"
    )
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print its table (and the JSON line with --json); return the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    # One server process per core of this 2-core machine, as `brandcrew serve --workers 2` runs it.
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bc-bench-server-") as tmp:
        figures = report(run(args.clients, args.seconds, args.workers, Path(tmp)))
    if args.json:
        emit_json(figures)
    return figures


if __name__ == "__main__":
    main()
