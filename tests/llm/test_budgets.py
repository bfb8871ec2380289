"""Hard budgets: reservations never let concurrent callers commit more than a cap."""

from __future__ import annotations

import contextlib
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from brandcrew.errors import BudgetExceeded
from brandcrew.llm.budgets import BudgetScope, BudgetStore, RedisBudgetStore, SqlBudgetStore
from brandcrew.llm.ledger import CostLedger
from brandcrew.store.tables import LlmCall


@pytest.fixture(params=["sqlite", "postgres", "redis"])
def store(request: pytest.FixtureRequest) -> BudgetStore:
    if request.param == "sqlite":
        return SqlBudgetStore(request.getfixturevalue("sqlite_engine"))
    if request.param == "postgres":
        return SqlBudgetStore(request.getfixturevalue("postgres_engine"))
    client = request.getfixturevalue("redis_client")
    prefix = request.getfixturevalue("redis_prefix")
    return RedisBudgetStore(client, prefix=prefix)


def test_reserve_settle_release_move_money_between_reserved_and_spent(store: BudgetStore) -> None:
    cap = BudgetScope(key="run:r1", limit_nanos=1_000)
    first = store.reserve([cap], 600, ttl_s=60)
    (status,) = store.status(["run:r1"])
    assert (status.spent_nanos, status.reserved_nanos, status.remaining_nanos) == (0, 600, 400)

    assert store.settle(first, 250)
    assert not store.settle(first, 250), "a reservation settles once"
    second = store.reserve([cap], 700, ttl_s=60)
    assert store.release(second)
    assert not store.release(second)
    (status,) = store.status(["run:r1"])
    assert (status.spent_nanos, status.reserved_nanos) == (250, 0)


def test_exceeding_any_scope_reserves_on_none_and_says_which(store: BudgetStore) -> None:
    roomy = BudgetScope(key="workspace:w:day:2026-11-25", limit_nanos=10_000)
    tight = BudgetScope(key="run:r2", limit_nanos=500)
    store.reserve([roomy, tight], 400, ttl_s=60)
    with pytest.raises(BudgetExceeded) as info:
        store.reserve([roomy, tight], 200, ttl_s=60)
    assert info.value.scope == "run:r2"
    assert info.value.limit_usd == Decimal("0.0000005")
    assert info.value.committed_usd == Decimal("0.0000004")
    by_key = {s.key: s for s in store.status([roomy.key, tight.key])}
    assert by_key[roomy.key].reserved_nanos == 400, "the roomy scope was not charged for the refused call"


def test_expired_reservations_of_dead_processes_are_released(store: BudgetStore) -> None:
    cap = BudgetScope(key="campaign:c1", limit_nanos=1_000)
    store.reserve([cap], 900, ttl_s=1)
    with pytest.raises(BudgetExceeded):
        store.reserve([cap], 200, ttl_s=60)
    assert store.release_expired(datetime.now(UTC) + timedelta(seconds=5)) == 1
    store.reserve([cap], 200, ttl_s=60)


def test_200_concurrent_reservations_never_exceed_the_cap(store: BudgetStore) -> None:
    cap = BudgetScope(key="run:hot", limit_nanos=5_000_000)
    other = BudgetScope(key="workspace:w:month:2026-11", limit_nanos=10**12)
    rng = random.Random(7)
    amounts = [rng.randint(10_000, 90_000) for _ in range(200)]
    barrier = threading.Barrier(50)
    refused = 0
    lock = threading.Lock()

    def one(amount: int) -> None:
        nonlocal refused
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=30)
        try:
            reservation = store.reserve([cap, other], amount, ttl_s=60)
        except BudgetExceeded:
            with lock:
                refused += 1
            return
        # Real calls usually cost less than the worst case.
        store.settle(reservation, amount * rng.randint(30, 100) // 100)

    with ThreadPoolExecutor(max_workers=50) as pool:
        list(pool.map(one, amounts))
    (status,) = store.status([cap.key])
    assert status.reserved_nanos == 0
    assert status.spent_nanos <= cap.limit_nanos
    assert refused > 0, "the workload must be big enough to hit the cap"
    (month,) = store.status([other.key])
    assert month.spent_nanos == status.spent_nanos, "both scopes saw exactly the same settled spend"


def test_sql_settle_writes_the_ledger_row_in_the_same_transaction(sqlite_engine: Any) -> None:
    store = SqlBudgetStore(sqlite_engine)
    reservation = store.reserve([BudgetScope(key="run:r", limit_nanos=10**9)], 5_000, ttl_s=60)
    row = LlmCall(workspace_id="w", run_id="r", model="m", provider="p", cost_nanousd=1_234)
    store.settle(reservation, 1_234, ledger_row=row)
    (total,) = CostLedger(sqlite_engine).totals()
    (status,) = store.status(["run:r"])
    assert total.cost_usd * 10**9 == status.spent_nanos == 1_234


@pytest.mark.redis
def test_redis_settle_records_the_ledger_row(
    sqlite_engine: Any, redis_client: Any, redis_prefix: str
) -> None:
    ledger = CostLedger(sqlite_engine)
    store = RedisBudgetStore(redis_client, prefix=redis_prefix, ledger=ledger)
    reservation = store.reserve([BudgetScope(key="run:r", limit_nanos=10**9)], 5_000, ttl_s=60)
    store.settle(
        reservation, 777, ledger_row=LlmCall(workspace_id="w", model="m", provider="p", cost_nanousd=777)
    )
    assert ledger.totals()[0].cost_usd == Decimal("0.000000777")
