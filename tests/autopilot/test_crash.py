"""The autopilot killed with SIGKILL at 20 random moments of a simulated campaign: after each restart it
resumes; at the end no duplicate and no lost post, the ledger sums to the spend, the budget holds."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from brandcrew.services.autopilot.records import campaign_id_for
from brandcrew.services.autopilot.report import integrity
from brandcrew.services.autopilot.spec import load_campaign
from brandcrew.store.engine import make_engine
from brandcrew.store.tables import BudgetCounter, LlmCall, OutboxEntry, Post
from brandcrew.store.tables.autopilot import AutopilotCycle, AutopilotRun
from tests.utils.autopilot import REPO, campaign_file

KILLS = 20
DAYS = 20
BUDGET = Decimal("0.20")


def _start(env: dict[str, str], path: Path, executor: str = "local") -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "tests.utils.autopilot_child", str(path), executor]
    return subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.timeout(900)  # 20 restarts of a 20-day campaign; minutes on a loaded 2-core machine
def test_autopilot_survives_sigkill_at_random_moments(tmp_path: Path) -> None:
    data = tmp_path / "data"
    path = campaign_file(tmp_path, days=DAYS, budget_usd=str(BUDGET))
    env = {
        **os.environ,
        "BRANDCREW_DATA_DIR": str(data),
        "BRANDCREW_RESERVATION_TTL_S": "1",
        "PYTHONPATH": str(REPO),
    }
    rng = random.Random(20261126)
    killed_mid_run = 0
    for _ in range(3 * KILLS):  # until KILLS kills have landed while the campaign was working
        before = _progress(data)
        proc = _start(env, path)
        # Kill at a random moment after this process has started working (a model call or a publish),
        # whatever the machine's speed: startup alone is not the moment under test.
        deadline = time.monotonic() + 120
        while proc.poll() is None and _progress(data) == before and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.8))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed_mid_run += 1
        proc.wait(timeout=30)
        if killed_mid_run == KILLS or proc.returncode == 0:
            break
    final = _start(env, path)
    _out, err = final.communicate(timeout=600)
    assert final.returncode == 0, err.decode()[-3000:]
    assert killed_mid_run == KILLS  # every kill landed while the campaign was running
    _check_outcome(make_engine(f"sqlite:///{data / 'brandcrew.db'}"), path)


def _progress(data: Path) -> int:
    """Model calls made plus posts published so far (0 before the first run made the database)."""
    db = data / "brandcrew.db"
    if not db.exists():
        return 0
    with sqlite3.connect(db, timeout=30) as conn:
        try:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM llm_calls) + "
                "(SELECT count(*) FROM publish_outbox WHERE status = 'published')"
            ).fetchone()
        except sqlite3.OperationalError:  # tables not migrated yet
            return 0
    return int(row[0])


def _check_outcome(engine: Any, path: Path) -> None:
    spec = load_campaign(path)
    cid = campaign_id_for(spec)
    with Session(engine) as session:
        run = session.get(AutopilotRun, cid)
        rows = session.exec(select(OutboxEntry)).all()
        posts = session.exec(select(Post).where(Post.campaign_id == cid)).all()
        calls = session.exec(select(LlmCall).where(LlmCall.campaign_id == cid)).all()
        counter = session.exec(select(BudgetCounter).where(col(BudgetCounter.key) == f"campaign:{cid}")).one()
        cycles = session.exec(select(AutopilotCycle).where(AutopilotCycle.campaign_id == cid)).all()
    assert run is not None and run.status == "completed" and run.next_cycle == spec.cycles
    verdict = integrity(engine, run.workspace_id, cid)
    assert verdict.duplicates == 0 and verdict.lost == 0 and verdict.open == 0
    # Every planned slot (2 X + 1 Instagram a day) is accounted for exactly once: approved and
    # published, or dropped by the checks with its reason (the offline model repeats itself when
    # topics come round again, and near-duplicates are not posted).
    drafts = [d for c in cycles for d in c.drafts]
    approved = [d for d in drafts if d["verdict"] == "auto_approved"]
    numbers = sorted(c.cycle for c in cycles)
    assert numbers == list(range(spec.cycles)), f"cycle records: {numbers}"
    assert len(drafts) == 3 * spec.days
    assert all(d["verdict"] in ("auto_approved", "dropped") and d["reasons"] for d in drafts)
    assert verdict.published == len(rows) == len(approved) == len(posts) > 0
    assert {p.id for p in posts} == {d["post_id"] for d in approved}
    spent = sum(c.cost_nanousd or 0 for c in calls)
    assert spent > 0 and counter.spent_nanousd == spent  # the ledger sums to the spend
    assert counter.reserved_nanousd == 0
    assert Decimal(spent) / Decimal(10**9) <= BUDGET  # never over budget


@pytest.mark.postgres
@pytest.mark.timeout(900)
def test_two_autopilot_workers_on_postgres_killed_20_times(tmp_path: Path, postgres_engine: Any) -> None:
    """Two processes drive the same campaign on PostgreSQL; one or the other is killed 20 times."""
    schema = postgres_engine.url.query["options"].split("=")[-1]
    url = postgres_engine.url.render_as_string(hide_password=False)
    path = campaign_file(tmp_path, days=8, budget_usd=str(BUDGET))
    env = {
        **os.environ,
        "BRANDCREW_DATA_DIR": str(tmp_path / "data"),
        "BRANDCREW_RESERVATION_TTL_S": "1",
        "DATABASE_URL": url,
        "BRANDCREW_DBOS_SCHEMA": f"dbos_{schema}",
        "PYTHONPATH": str(REPO),
    }
    rng = random.Random(4)
    workers = ["w1", "w2"]
    procs = {w: _start(env, path, w) for w in workers}
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(1.0, 5.0))
            victim = rng.choice(workers)
            if procs[victim].poll() is None:
                procs[victim].send_signal(signal.SIGKILL)
            procs[victim].wait(timeout=30)
            procs[victim] = _start(env, path, victim)
        for w, p in procs.items():
            _out, err = p.communicate(timeout=600)
            assert p.returncode == 0, f"{w}: {err.decode()[-3000:]}"
        _check_outcome(postgres_engine, path)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
        import psycopg

        from tests.conftest import POSTGRES_URL

        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "dbos_{schema}" CASCADE')
