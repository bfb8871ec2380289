"""Budget leases: calls carve from leases in memory, settle write-behind, and never overspend a cap."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from brandcrew.errors import BudgetExceeded
from brandcrew.llm.budgets import BudgetScope, SqlBudgetStore
from brandcrew.llm.leases import LeasedBudgets
from brandcrew.llm.ledger import CostLedger
from brandcrew.store.tables import BudgetReservation, LlmCall
from tests.utils.autopilot import REPO


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(f"{request.param}_engine")


def _row(i: int, cost: int, run_id: str = "r1") -> dict[str, Any]:
    row = LlmCall(
        workspace_id="w", model="m", provider="p", run_id=run_id, cost_nanousd=cost, status="ok"
    ).model_dump()
    row["id"] = f"row-{run_id}-{i}-{time.monotonic_ns()}"
    return row


def _ledger_total(engine: Any) -> tuple[int, int]:
    with Session(engine) as session:
        count, total = session.execute(
            select(func.count(), func.coalesce(func.sum(LlmCall.cost_nanousd), 0))  # type: ignore[arg-type]
        ).one()
    return int(count), int(total)


def _open_rows(engine: Any) -> int:
    with Session(engine) as session:
        return int(
            session.execute(
                select(func.count())
                .select_from(BudgetReservation)
                .where(BudgetReservation.status == "reserved")  # type: ignore[arg-type]
            ).scalar_one()
        )


def test_shares_are_carved_from_one_lease_until_it_is_used_up_then_a_new_one_is_taken(engine: Any) -> None:
    store = SqlBudgetStore(engine)
    leases = LeasedBudgets(store, ttl_s=60)
    cap = BudgetScope(key="run:r1", limit_nanos=100_000)
    first = leases.reserve([cap], 1_000, ttl_s=60)
    # Sized for 8 calls (a quarter of the headroom would allow more): one row in the database.
    (status,) = store.status(["run:r1"])
    assert status.reserved_nanos == 8_000 and _open_rows(engine) == 1
    shares = [first] + [leases.reserve([cap], 1_000, ttl_s=60) for _ in range(7)]
    assert {s.id for s in shares} == {first.id} and _open_rows(engine) == 1
    for i, share in enumerate(shares):
        assert leases.settle(share, 400, ledger_row=_row(i, 400))
    assert not leases.settle(first, 400), "a share settles once"
    # The refunds went back to the lease: the ninth call still fits in it.
    ninth = leases.reserve([cap], 1_000, ttl_s=60)
    assert ninth.id == first.id
    assert leases.release(ninth) and not leases.release(ninth)
    leases.flush()
    (status,) = store.status(["run:r1"])
    assert status.spent_nanos == 3_200 and status.reserved_nanos == 8_000 - 3_200
    assert _ledger_total(engine) == (8, 3_200)
    # A call the lease cannot hold retires it (its unused money goes back) and takes a new one.
    big = leases.reserve([cap], 6_000, ttl_s=60)
    assert big.id != first.id
    (status,) = store.status(["run:r1"])
    assert status.reserved_nanos == min(8 * 6_000, (100_000 - 3_200) // 4)
    # `status` of the leased store returns every unused lease: only the call in flight is held.
    (mine,) = leases.status(["run:r1"])
    assert (mine.spent_nanos, mine.reserved_nanos) == (3_200, 6_000)
    leases.settle(big, 6_000, ledger_row=_row(99, 6_000))
    leases.close()
    (status,) = store.status(["run:r1"])
    assert (status.spent_nanos, status.reserved_nanos) == (9_200, 0) and _open_rows(engine) == 0
    assert _ledger_total(engine) == (9, 9_200)


def test_a_lease_is_never_smaller_than_the_call_nor_bigger_than_the_headroom_allows(engine: Any) -> None:
    store = SqlBudgetStore(engine)
    leases = LeasedBudgets(store, ttl_s=60)
    cap = BudgetScope(key="run:tight", limit_nanos=1_000)
    share = leases.reserve([cap], 600, ttl_s=60)  # a quarter of the headroom is less than the call
    (status,) = store.status(["run:tight"])
    assert status.reserved_nanos == 600
    with pytest.raises(BudgetExceeded) as info:
        leases.reserve([cap], 500, ttl_s=60)
    assert info.value.scope == "run:tight"
    leases.settle(share, 600)
    leases.reserve([cap], 400, ttl_s=60)  # exactly what is left
    with pytest.raises(BudgetExceeded):
        leases.reserve([cap], 1, ttl_s=60)
    leases.close()


def test_two_processes_sharing_a_tight_budget_never_overspend(engine: Any) -> None:
    """Two lease holders (as two processes would) race for a cap: spend stays within it, ledger == spend."""
    limit = 50_000
    cap = BudgetScope(key="campaign:shared", limit_nanos=limit)
    holders = [LeasedBudgets(SqlBudgetStore(engine), ttl_s=60, linger_s=0.01) for _ in range(2)]
    refused = [0, 0]
    counter = iter(range(10**6))
    lock = threading.Lock()

    def work(who: int) -> None:
        leases = holders[who]
        for _ in range(60):
            try:
                share = leases.reserve([cap], 900, ttl_s=60)
            except BudgetExceeded:
                refused[who] += 1
                continue
            with lock:
                n = next(counter)
            leases.settle(share, 900 if n % 3 else 300, ledger_row=_row(n, 900 if n % 3 else 300, "shared"))

    threads = [threading.Thread(target=work, args=(i % 2,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for leases in holders:
        leases.close()
    (status,) = SqlBudgetStore(engine).status(["campaign:shared"])
    _count, total = _ledger_total(engine)
    assert status.spent_nanos == total <= limit and status.reserved_nanos == 0
    assert sum(refused) > 0, "the cap was reached"
    assert limit - total < 900 * 2, "leases did not strand money that calls could have used"
    assert _open_rows(engine) == 0


def test_ledger_reads_flush_what_is_queued(engine: Any) -> None:
    leases = LeasedBudgets(SqlBudgetStore(engine), ttl_s=60, linger_s=30)
    cap = BudgetScope(key="run:r9", limit_nanos=10**9)
    share = leases.reserve([cap], 5_000, ttl_s=60)
    leases.settle(share, 1_234, ledger_row=_row(1, 1_234, "r9"))
    leases.record(_row(2, 0, "r9"))
    assert _ledger_total(engine) == (0, 0), "queued, not yet written (the writer lingers)"
    (row,) = CostLedger(engine).totals()  # a ledger read is a flush barrier
    assert row.calls == 2 and _ledger_total(engine) == (2, 1_234)
    leases.close()


def test_idle_leases_go_back_by_themselves(engine: Any) -> None:
    store = SqlBudgetStore(engine)
    leases = LeasedBudgets(store, ttl_s=60, idle_s=0.2, linger_s=0.01)
    cap = BudgetScope(key="run:idle", limit_nanos=10**6)
    leases.settle(leases.reserve([cap], 1_000, ttl_s=60), 700)
    deadline = time.monotonic() + 10
    while store.status(["run:idle"])[0].reserved_nanos and time.monotonic() < deadline:
        time.sleep(0.05)
    (status,) = store.status(["run:idle"])
    assert (status.spent_nanos, status.reserved_nanos) == (700, 0) and _open_rows(engine) == 0


CHILD = """
import os, signal, sys, time
from brandcrew.llm.budgets import BudgetScope, SqlBudgetStore
from brandcrew.llm.leases import LeasedBudgets
from brandcrew.store.engine import make_engine
from brandcrew.store.tables import LlmCall

engine = make_engine(sys.argv[1])
leases = LeasedBudgets(SqlBudgetStore(engine), ttl_s=1, linger_s=60)
cap = BudgetScope(key="run:crash", limit_nanos=10**9)

def row(i):
    r = LlmCall(workspace_id="w", model="m", provider="p", run_id="crash", cost_nanousd=100, status="ok").model_dump()
    r["id"] = f"crash-{i}"
    return r

for i in range(3):
    leases.settle(leases.reserve([cap], 1_000, ttl_s=1), 100, ledger_row=row(i))
leases.flush()  # three calls committed
for i in range(3, 5):
    leases.settle(leases.reserve([cap], 1_000, ttl_s=1), 100, ledger_row=row(i))
in_flight = leases.reserve([cap], 1_000, ttl_s=1)
os.kill(os.getpid(), signal.SIGKILL)  # before the next batch: two settled calls and one in flight lost
"""


def test_a_crash_before_the_flush_leaves_ledger_and_counters_equal_once_the_lease_expires(
    engine: Any, tmp_path: Path
) -> None:
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    url = engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, str(script), url]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, timeout=120)
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    store = SqlBudgetStore(engine)
    (status,) = store.status(["run:crash"])
    assert status.spent_nanos == 300 and status.reserved_nanos > 0, "the dead process's lease is still held"
    assert store.release_expired(datetime.now(UTC) + timedelta(seconds=5)) == 1
    (status,) = store.status(["run:crash"])
    assert (status.spent_nanos, status.reserved_nanos) == (300, 0)
    assert _ledger_total(engine) == (3, 300), "the ledger sums to the spend"
    assert _open_rows(engine) == 0
