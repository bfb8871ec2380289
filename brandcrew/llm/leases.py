"""Budget leases: a process reserves budget in blocks and carves each call's reservation from them in memory.

The per-call cost of hard budgets used to be two write transactions (reserve, then settle with the
ledger row). `LeasedBudgets` wraps a `SqlBudgetStore` the way distributed rate limiters work:

- A *lease* is one ordinary store reservation (same table, same TTL and sweeper) on a tuple of
  scope keys, sized for several calls (`calls_per_lease` x the call's worst case) but never more
  than `headroom_fraction` of the tightest scope's headroom, and never less than the call needs
  (when the headroom is below the need, BudgetExceeded is raised exactly as without leases). Hard
  budgets hold across processes because the database only ever holds leases that fit.
- A call's reservation is carved from its lease in memory under a lock. Settling is local too:
  the unspent part goes back to the lease, and the spend and the ledger row join a write-behind
  queue. One writer thread commits the queue in batches, one transaction per batch that lowers each
  lease row by what it consumed, moves that money from `reserved` to `spent` on each counter and
  inserts the ledger rows: after every commit the ledger sums to the counters' spend.
- Routing sees the database's figures (read when a lease was taken or a batch committed) with the
  lease's unused part added back, so downgrades and refusals happen as they did.
- `flush()` is the barrier before a same-process read of spend or ledger (`flush_pending()` flushes
  every instance; `CostLedger` reads call it); `status()` also returns unused lease money, so the
  figures it reports hold only what calls in flight reserved.
- Leases are returned when idle (`idle_s`), when they cannot satisfy a call, on `close()` and at
  interpreter exit, and renewed (their expiry pushed back) while this process lives. A lease is only
  carved from while its last renewal is younger than half the TTL, so the sweeper of another process
  never frees money a live process still hands out.

Failure class: a process killed between a call and the next batch commit loses that call's spend
and ledger row (at most `linger_s` of calls, plus calls in flight). That is the failure class of a
crash between a call and its settlement without leases, only with a wider window; the invariant
(ledger total == counters' spend) holds after every commit, and the dead process's leases expire by
TTL through `release_expired` like any reservation. A lease the sweeper closed anyway (a stalled
process) still gets its flushed spend and rows recorded, as spend beyond the reservation.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func

from brandcrew.errors import BudgetExceeded
from brandcrew.llm.budgets import _SPEND, BudgetScope, BudgetStatus, Reservation, SqlBudgetStore
from brandcrew.llm.ledger import _LLM_CALLS, ledger_values, register_pending
from brandcrew.store.engine import write_transaction
from brandcrew.store.tables import BudgetReservation, LlmCall

log = logging.getLogger("brandcrew.llm.leases")

_RESERVATIONS: Any = BudgetReservation.__table__  # type: ignore[attr-defined]
# One statement per lease and batch: consume `u` of the lease, add `x` to its actual spend, push its
# expiry back, close it when asked; only while the sweeper has not closed it.
_ADJUST = (
    _RESERVATIONS.update()
    .where(_RESERVATIONS.c.id == bindparam("rid"), _RESERVATIONS.c.status == "reserved")
    .values(
        amount_nanousd=_RESERVATIONS.c.amount_nanousd - bindparam("u"),
        actual_nanousd=func.coalesce(_RESERVATIONS.c.actual_nanousd, 0) + bindparam("x"),
        expires_at=bindparam("e"),
        status=bindparam("s"),
    )
)


class LeaseShare(Reservation):
    """A call's reservation carved from a lease (its `id` is the lease's reservation row)."""

    token: int


@dataclass(eq=False)
class _Lease:
    """One lease row and what this process did with it that the database does not know yet."""

    id: str
    keys: tuple[str, ...]
    limits: tuple[int, ...]
    free: int
    """Reserved in the database and not handed to any call."""
    renewed_at: float
    last_used: float
    inflight: int = 0
    consumed: int = 0
    """Reserved money settled calls used, not yet taken off the lease row."""
    spent: int = 0
    """Settled calls' actual spend, not yet moved to the counters."""
    retired: bool = False
    """No new carves: its free money goes back at the next commit, and it closes once empty."""
    lost: bool = False
    """The sweeper closed its row (this process stalled past the TTL): spend is still recorded."""


@dataclass
class _Batch:
    """What one commit takes from the local state (given back when the commit fails)."""

    ops: list[tuple[_Lease, int, int, int, bool]] = field(default_factory=list)
    """(lease, consumed, returned, spent, close)."""
    rows: list[dict[str, Any]] = field(default_factory=list)


_live: weakref.WeakSet[LeasedBudgets] = weakref.WeakSet()


def _close_all() -> None:
    for leases in list(_live):
        try:
            leases.close()
        except Exception:  # at exit: the TTL sweeper is the fallback
            log.exception("returning budget leases at exit failed")


def _forget_all_in_child() -> None:
    # A forked child must not carve from its parent's leases (both would spend the same money).
    for leases in list(_live):
        leases._reset_after_fork()


atexit.register(_close_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_all_in_child)


class LeasedBudgets:
    """A BudgetStore over a SqlBudgetStore that reserves in leases and settles write-behind."""

    def __init__(
        self,
        store: SqlBudgetStore,
        *,
        ttl_s: int,
        calls_per_lease: int = 8,
        headroom_fraction: float = 0.25,
        idle_s: float = 1.0,
        linger_s: float = 0.1,
    ) -> None:
        self.store = store
        self.engine = store.engine
        self.ttl_s = ttl_s
        self.calls_per_lease = calls_per_lease
        self.headroom_fraction = headroom_fraction
        self.idle_s = idle_s
        self.linger_s = linger_s
        # Renewed well before it could be swept; carved from only while surely not swept.
        self._renew_s = ttl_s / 5
        self._usable_s = ttl_s / 2
        self._tick_s = min(0.25, ttl_s / 10)
        self._lock = threading.Lock()
        self._commit_lock = threading.Lock()
        self._wake = threading.Event()
        self._writer: threading.Thread | None = None
        self._closing = False
        self._tokens = itertools.count()
        self._leases: dict[tuple[tuple[str, ...], tuple[int, ...]], _Lease] = {}
        self._all: dict[str, _Lease] = {}
        self._open: dict[int, _Lease] = {}
        self._rows: list[dict[str, Any]] = []
        self._seen: dict[str, BudgetStatus] = {}
        """The counters as the last lease or commit transaction read them (routing's figures)."""
        _live.add(self)
        register_pending(self)

    # -- carving -----------------------------------------------------------------------------
    def reserve_local(
        self, scopes: Sequence[BudgetScope], choose: Callable[[list[BudgetStatus]], int]
    ) -> tuple[bool, Reservation | None]:
        """Route and carve from memory alone: (True, share or None) or (False, None) when the store is needed."""
        slot = _slot(scopes)
        with self._lock:
            lease = self._leases.get(slot)
            statuses = self._statuses(slot[0], lease)
        if statuses is None:
            return False, None
        amount = choose(statuses)
        if not amount:
            return True, None
        with self._lock:
            share = self._carve(self._leases.get(slot), amount)
        return share is not None, share

    def reserve_routed(
        self,
        scopes: Sequence[BudgetScope],
        choose: Callable[[list[BudgetStatus]], int],
        *,
        ttl_s: int,
    ) -> Reservation | None:
        """`SqlBudgetStore.reserve_routed` served from a lease, taking a new one when needed (blocking)."""
        ok, share = self.reserve_local(scopes, choose)
        if ok:
            return share
        return self._acquire(scopes, choose)

    def reserve(self, scopes: Sequence[BudgetScope], amount_nanos: int, *, ttl_s: int) -> Reservation:
        """Hold `amount_nanos` on every scope (from a lease), or raise BudgetExceeded."""
        share = self.reserve_routed(scopes, lambda _statuses: amount_nanos, ttl_s=ttl_s)
        assert share is not None
        return share

    def _statuses(self, keys: tuple[str, ...], lease: _Lease | None) -> list[BudgetStatus] | None:
        """Routing's figures: the last read ones, with this lease's unused money added back."""
        out = []
        free = lease.free if lease is not None and not lease.retired else 0
        for key in keys:
            seen = self._seen.get(key)
            if seen is None:
                return None
            out.append(
                BudgetStatus(
                    key=key,
                    limit_nanos=seen.limit_nanos,
                    spent_nanos=seen.spent_nanos,
                    reserved_nanos=max(0, seen.reserved_nanos - free),
                )
            )
        return out

    def _carve(self, lease: _Lease | None, amount: int) -> LeaseShare | None:
        """A share of `amount` from the lease, or None when it cannot give one (caller holds the lock)."""
        if lease is None or lease.retired or lease.lost or lease.free < amount:
            return None
        now = time.monotonic()
        if now - lease.renewed_at > self._usable_s:
            return None
        lease.free -= amount
        lease.inflight += amount
        lease.last_used = now
        token = next(self._tokens)
        self._open[token] = lease
        return LeaseShare.model_construct(id=lease.id, keys=lease.keys, amount_nanos=amount, token=token)

    def _acquire(
        self, scopes: Sequence[BudgetScope], choose: Callable[[list[BudgetStatus]], int]
    ) -> Reservation | None:
        """Retire the slot's lease, take a new one sized for several calls, and carve the call's share."""
        slot = _slot(scopes)
        for attempt in range(2):
            with self._lock:
                old = self._leases.pop(slot, None)
                if old is not None:
                    old.retired = True
                # Leases on other limits of the same keys (a cap was changed) go back too.
                for other_slot in [s for s in self._leases if s[0] == slot[0]]:
                    self._leases.pop(other_slot).retired = True
            self._commit()
            try:
                return self._take(scopes, slot, choose)
            except BudgetExceeded:
                # Unused money of this process's other leases on the same keys may be what is missing.
                with self._lock:
                    shared = [
                        s for s, lease in self._leases.items() if set(s[0]) & set(slot[0]) and lease.free
                    ]
                    for s in shared:
                        self._leases.pop(s).retired = True
                if attempt or not shared:
                    raise
        raise AssertionError("unreachable")

    def _take(
        self,
        scopes: Sequence[BudgetScope],
        slot: tuple[tuple[str, ...], tuple[int, ...]],
        choose: Callable[[list[BudgetStatus]], int],
    ) -> Reservation | None:
        keys = list(slot[0])
        started = time.monotonic()
        with write_transaction(self.engine) as conn:
            statuses = [_status(r) for r in self.store._read_status(conn, keys)]
            need = choose(statuses)
            if not need:
                self._remember(statuses)
                return None
            by_key = {s.key: s for s in statuses}
            headroom = min(
                s.limit_nanos
                - (by_key[s.key].spent_nanos + by_key[s.key].reserved_nanos if s.key in by_key else 0)
                for s in scopes
            )
            size = max(need, min(need * self.calls_per_lease, int(headroom * self.headroom_fraction)))
            row = self.store._hold(conn, scopes, size, self.ttl_s)  # BudgetExceeded when `need` does not fit
            after = [_status(r) for r in self.store._read_status(conn, keys)]
        lease = _Lease(
            id=row.id, keys=slot[0], limits=slot[1], free=size, renewed_at=started, last_used=started
        )
        with self._lock:
            self._remember(after)
            self._all[lease.id] = lease
            previous = self._leases.get(slot)
            if previous is not None:  # another thread took one at the same time: one slot, one lease
                previous.retired = True
            self._leases[slot] = lease
            share = self._carve(lease, need)
        self._start_writer()
        assert share is not None
        return share

    def _remember(self, statuses: list[BudgetStatus]) -> None:
        for s in statuses:
            self._seen[s.key] = s

    # -- settling ----------------------------------------------------------------------------
    def settle(
        self,
        reservation: Reservation,
        actual_nanos: int,
        *,
        ledger_row: LlmCall | dict[str, Any] | None = None,
    ) -> bool:
        """Settle a share locally; its spend and ledger row are committed with the next batch."""
        token = getattr(reservation, "token", None)
        with self._lock:
            lease = self._open.pop(token, None) if token is not None else None
            if lease is None:
                return False
            amount = reservation.amount_nanos
            lease.inflight -= amount
            used = min(actual_nanos, amount)
            # A call above its worst case takes the excess from the lease's free money while it lasts;
            # beyond that it is spend without a reservation, recorded as such (and logged by the runtime).
            extra = min(max(0, actual_nanos - amount), lease.free)
            lease.free += amount - used - extra
            lease.consumed += used + extra
            lease.spent += actual_nanos
            if ledger_row is not None:
                self._rows.append(ledger_values(ledger_row))
        self._start_writer()
        self._wake.set()
        return True

    def release(self, reservation: Reservation) -> bool:
        """Give a share back to its lease unspent; False if it was already closed."""
        token = getattr(reservation, "token", None)
        with self._lock:
            lease = self._open.pop(token, None) if token is not None else None
            if lease is None:
                return False
            lease.inflight -= reservation.amount_nanos
            lease.free += reservation.amount_nanos
        return True

    def record(self, row: LlmCall | dict[str, Any]) -> None:
        """Queue a ledger row that carries no reserved spend (cache hits, failures, uncapped calls)."""
        with self._lock:
            self._rows.append(ledger_values(row))
        self._start_writer()
        self._wake.set()

    # -- reading -----------------------------------------------------------------------------
    def status(self, keys: Sequence[str]) -> list[BudgetStatus]:
        """Current figures after committing everything and returning unused lease money."""
        self.flush(release=True)
        return self.store.status(keys)

    def routing_status(self, keys: Sequence[str]) -> list[BudgetStatus]:
        """The figures routing works with: the last read ones, or the store's when none were read yet."""
        with self._lock:
            known = self._statuses(tuple(keys), None)
        return known if known is not None else self.store.status(keys)

    def release_expired(self, now: datetime | None = None) -> int:
        """Release reservations (leases too) left behind by dead processes; the number released."""
        return self.store.release_expired(now)

    # -- committing --------------------------------------------------------------------------
    def flush(self, *, release: bool = False) -> None:
        """Commit every settled call's spend and ledger row; with `release`, return unused lease money too."""
        if release:
            with self._lock:
                for slot in [s for s, lease in self._leases.items()]:
                    self._leases.pop(slot).retired = True
        self._commit()

    def close(self) -> None:
        """Commit everything and return every lease's unused money (the store stays usable)."""
        self._closing = True
        self._wake.set()
        writer = self._writer
        if writer is not None and writer is not threading.current_thread():
            writer.join(timeout=5)
        self._closing = False
        self.flush(release=True)

    def _commit(self) -> None:
        """One transaction for everything pending: lease rows, counters, ledger rows (blocking)."""
        with self._commit_lock:
            batch = self._take_batch()
            if not batch.ops and not batch.rows:
                return
            started = time.monotonic()
            expires = datetime.now(UTC) + timedelta(seconds=self.ttl_s)
            try:
                with write_transaction(self.engine) as conn:
                    lost: list[_Lease] = []
                    for lease, consumed, returned, spent, close in batch.ops:
                        params = {
                            "rid": lease.id,
                            "u": consumed + returned,
                            "x": spent,
                            "e": expires,
                            "s": "settled" if close else "reserved",
                        }
                        held = not lease.lost and conn.execute(_ADJUST, params).rowcount == 1
                        if not held and not lease.lost:
                            lost.append(lease)
                        # A lost lease's money went back with the sweep: only its spend is left to record.
                        off = consumed + returned if held else 0
                        if off or spent:
                            for key in lease.keys:
                                self.store._run(conn, _SPEND, {"a": off, "x": spent, "k": key})
                    if batch.rows:
                        conn.execute(_LLM_CALLS.insert(), batch.rows)
                    keys = sorted({k for lease in self._all.values() for k in lease.keys})
                    seen = [_status(r) for r in self.store._read_status(conn, keys)] if keys else []
            except BaseException:
                self._give_back(batch)
                raise
            with self._lock:
                self._remember(seen)
                for lease in lost:
                    log.error("budget lease %s expired while in use; its spend is recorded anyway", lease.id)
                    lease.lost = lease.retired = True
                    lease.free = 0
                for lease, *_rest, close in batch.ops:
                    lease.renewed_at = max(lease.renewed_at, started)
                    if close or (lease.lost and not lease.inflight and not lease.spent):
                        self._all.pop(lease.id, None)

    def _take_batch(self) -> _Batch:
        batch = _Batch()
        now = time.monotonic()
        with self._lock:
            for slot, lease in list(self._leases.items()):
                if not lease.inflight and now - lease.last_used > self.idle_s:
                    self._leases.pop(slot)
                    lease.retired = True
            for lease in list(self._all.values()):
                returned = lease.free if lease.retired else 0
                close = lease.retired and not lease.inflight and not lease.lost
                renew = now - lease.renewed_at > self._renew_s
                if not (lease.consumed or lease.spent or returned or close or renew):
                    continue
                batch.ops.append((lease, lease.consumed, returned, lease.spent, close))
                lease.consumed = lease.spent = 0
                lease.free -= returned
                if close:
                    self._all.pop(lease.id)
            batch.rows, self._rows = self._rows, []
        return batch

    def _give_back(self, batch: _Batch) -> None:
        """Put a failed batch back in the local state, for the next commit to try again."""
        with self._lock:
            for lease, consumed, returned, spent, _close in batch.ops:
                lease.consumed += consumed
                lease.spent += spent
                lease.free += returned
                self._all.setdefault(lease.id, lease)
            self._rows[:0] = batch.rows

    def pending(self) -> bool:
        """Whether anything settled locally waits for a commit."""
        with self._lock:
            return bool(self._rows) or any(lease.spent or lease.consumed for lease in self._all.values())

    # -- the writer thread -------------------------------------------------------------------
    def _start_writer(self) -> None:
        writer = self._writer
        if writer is not None and writer.is_alive():
            return
        with self._lock:
            if self._writer is not None and self._writer.is_alive():
                return
            self._writer = threading.Thread(
                target=_write_behind, args=(weakref.ref(self),), name="brandcrew-budget-writer", daemon=True
            )
            self._writer.start()

    def _idle(self) -> bool:
        with self._lock:
            return not self._all and not self._rows

    def _reset_after_fork(self) -> None:
        self._lock = threading.Lock()
        self._commit_lock = threading.Lock()
        self._wake = threading.Event()
        self._writer = None
        self._leases.clear()
        self._all.clear()
        self._open.clear()
        self._rows.clear()


def _write_behind(ref: weakref.ref[LeasedBudgets]) -> None:
    """Commit batches until nothing is held or pending (the thread starts again when needed)."""
    while True:
        leases = ref()
        if leases is None:
            return
        woken = leases._wake.wait(leases._tick_s)
        if woken and not leases._closing:
            # Linger: a batch of many calls costs one transaction, not one each.
            time.sleep(leases.linger_s)
        leases._wake.clear()
        try:
            leases._commit()
        except Exception:
            log.exception("committing budget settlements failed; retrying")
        if leases._closing or leases._idle():
            with leases._lock:
                if leases._closing or (not leases._all and not leases._rows):
                    leases._writer = None
                    return
        del leases


def _slot(scopes: Sequence[BudgetScope]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    ordered = sorted(scopes, key=lambda s: s.key)
    return tuple(s.key for s in ordered), tuple(s.limit_nanos for s in ordered)


def _status(row: Any) -> BudgetStatus:
    return BudgetStatus(key=row[0], limit_nanos=row[1], spent_nanos=row[2], reserved_nanos=row[3])
