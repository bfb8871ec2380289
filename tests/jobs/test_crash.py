"""Workers killed with SIGKILL at random moments while publishing: after restarts, every post is
published exactly once (or failed with a reason); nothing duplicated, nothing lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from brandcrew.connectors.sandbox import FaultPlan
from brandcrew.store.crypto import load_cipher
from brandcrew.store.engine import make_engine
from brandcrew.store.migrate import upgrade
from tests.conftest import POSTGRES_URL
from tests.utils.sandbox import PublishingWorld, make_publishing_world, progress, queue_posts, tally

REPO = Path(__file__).resolve().parents[2]
# 30% faults of every kind; rate-limit windows kept short so the test runs in real time.
FAULTS = FaultPlan(
    rate_limited=0.06,
    server_error=0.06,
    timeout_before_create=0.06,
    timeout_after_create=0.06,
    auth_expired=0.06,
    rate_limit_reset_s=(1, 3),
)


def _worker(env: dict[str, str], executor: str) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "brandcrew.cli",
        "worker",
        "--executor-id",
        executor,
        "--lease-s",
        "3",
        "--poll-s",
        "0.05",
        "--retry-base-s",
        "0.5",
        "--unknown-grace-s",
        "0",
        "--concurrency",
        "8",
    ]
    return subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _settle(pw: PublishingWorld, env: dict[str, str], executors: list[str], timeout_s: float = 120) -> None:
    procs = [_worker(env, e) for e in executors]
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            if progress(pw)[1] == 0:
                return
            time.sleep(0.5)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def _crash_and_recover(
    pw: PublishingWorld, env: dict[str, str], executors: list[str], kills: int, seed: int
) -> None:
    """Kill a random worker `kills` times, each time at a random moment after the workers have
    published something since the last kill (whatever the machine's speed, a kill lands while
    publishing is under way, never only during start-up)."""
    rng = random.Random(seed)
    procs = {e: _worker(env, e) for e in executors}
    try:
        for _ in range(kills):
            before, _ = progress(pw)
            deadline = time.monotonic() + 60
            while progress(pw)[0] == before and progress(pw)[1] and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 1.5))
            victim = rng.choice(executors)
            procs[victim].send_signal(signal.SIGKILL)
            procs[victim].wait()
            procs[victim] = _worker(env, victim)
    finally:
        for p in procs.values():
            p.send_signal(signal.SIGKILL)
            p.wait()


def _env(tmp_path: Path, database_url: str, dbos_schema: str = "dbos") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(
        {
            "BRANDCREW_DATA_DIR": str(tmp_path),
            "DATABASE_URL": database_url,
            "BRANDCREW_DBOS_SCHEMA": dbos_schema,
            "PYTHONPATH": str(REPO),
        }
    )
    return env


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_sigkill_20_times_while_publishing_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = make_engine(url)
    upgrade(engine)
    pw = make_publishing_world(engine, load_cipher(tmp_path), seed=7, faults=FAULTS, speed=1.0)
    queue_posts(pw, 240, at=pw.world.now(), spread_s=25)
    env = _env(tmp_path, url)
    _crash_and_recover(pw, env, ["w1"], kills=20, seed=3)
    mid = tally(pw)
    _settle(pw, env, ["w1"])
    result = tally(pw)
    assert mid.published > 0, "the kills landed while publishing was under way"
    assert result.open == 0 and result.duplicates == 0 and result.lost == 0, result
    assert result.failed_without_reason == 0 and result.published >= 230, result


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(900)
def test_two_workers_on_postgres_killed_20_times(tmp_path: Path, postgres_engine: Any) -> None:
    schema = postgres_engine.url.query["options"].split("=")[-1]
    url = postgres_engine.url.render_as_string(hide_password=False)
    pw = make_publishing_world(postgres_engine, load_cipher(tmp_path), seed=8, faults=FAULTS, speed=1.0)
    queue_posts(pw, 240, at=pw.world.now(), spread_s=25)
    env = _env(tmp_path, url, dbos_schema=f"dbos_{schema}")
    try:
        _crash_and_recover(pw, env, ["w1", "w2"], kills=20, seed=4)
        _settle(pw, env, ["w1", "w2"])
        result = tally(pw)
    finally:
        import psycopg

        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "dbos_{schema}" CASCADE')
    assert result.open == 0 and result.duplicates == 0 and result.lost == 0, result
    assert result.failed_without_reason == 0 and result.published >= 230, result
