"""Hard budgets: reserve the worst case before a call, settle to the actual after, release on failure.

Every operation is one atomic step on the backing store (a single write transaction on SQLite or
PostgreSQL, one Lua script on Redis), so any number of concurrent callers can never commit more
than a cap between them. Money is integer nano-dollars so sums are exact.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, Engine, TextClause, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite

from brandcrew.errors import BudgetExceeded
from brandcrew.llm._cost import from_nanos
from brandcrew.llm.ledger import _LLM_CALLS, ledger_values
from brandcrew.store.engine import write_transaction
from brandcrew.store.tables import BudgetCounter, BudgetReservation, LlmCall, new_id


class BudgetScope(BaseModel):
    """One cap that a call must fit under."""

    model_config = ConfigDict(frozen=True)

    key: str
    limit_nanos: int


class Reservation(BaseModel):
    """Money held on some budget keys while one call is in flight."""

    model_config = ConfigDict(frozen=True)

    id: str
    keys: tuple[str, ...]
    amount_nanos: int


class BudgetStatus(BaseModel):
    """Where one budget key stands."""

    key: str
    limit_nanos: int
    spent_nanos: int
    reserved_nanos: int

    @property
    def remaining_nanos(self) -> int:
        """What can still be reserved."""
        return max(0, self.limit_nanos - self.spent_nanos - self.reserved_nanos)


class BudgetStore(Protocol):
    """Atomic counters behind the budgets."""

    def reserve(self, scopes: Sequence[BudgetScope], amount_nanos: int, *, ttl_s: int) -> Reservation:
        """Hold `amount_nanos` on every scope, or on none and raise BudgetExceeded."""
        ...

    def settle(
        self,
        reservation: Reservation,
        actual_nanos: int,
        *,
        ledger_row: LlmCall | dict[str, Any] | None = None,
    ) -> bool:
        """Turn a reservation into spend of `actual_nanos`, writing its ledger row; False if closed already."""
        ...

    def release(self, reservation: Reservation) -> bool:
        """Give a reservation back unspent; False if it was already closed."""
        ...

    def status(self, keys: Sequence[str]) -> list[BudgetStatus]:
        """Current figures of the given keys (unknown keys are left out)."""
        ...

    def release_expired(self, now: datetime | None = None) -> int:
        """Release reservations left behind by dead processes; the number released."""
        ...


# Statements built once: building and caching a statement per call costs more than running it.
_HOLD = text(
    "UPDATE budget_counters SET reserved_nanousd = reserved_nanousd + :a "
    "WHERE key = :k AND spent_nanousd + reserved_nanousd + :a <= limit_nanousd"
)
# The common case in one statement: the counter exists; its limit is set to the scope's as it holds.
_SET_LIMIT_AND_HOLD = text(
    "UPDATE budget_counters SET reserved_nanousd = reserved_nanousd + :a, limit_nanousd = :l "
    "WHERE key = :k AND spent_nanousd + reserved_nanousd + :a <= :l"
)
_COMMITTED = text("SELECT spent_nanousd + reserved_nanousd FROM budget_counters WHERE key = :k")
_OPEN_RESERVATION = text(
    "SELECT keys, amount_nanousd FROM budget_reservations WHERE id = :id AND status = 'reserved'"
)
_CLOSE_RESERVATION = text(
    "UPDATE budget_reservations SET status = :s, actual_nanousd = :x WHERE id = :id AND status = 'reserved'"
)
_CLOSE_RESERVATION_RETURNING = text(
    "UPDATE budget_reservations SET status = :s, actual_nanousd = :x WHERE id = :id AND status = 'reserved' "
    "RETURNING keys, amount_nanousd"
)
_SPEND = text(
    "UPDATE budget_counters SET reserved_nanousd = reserved_nanousd - :a, "
    "spent_nanousd = spent_nanousd + :x WHERE key = :k"
)
_EXPIRED = text("SELECT id FROM budget_reservations WHERE status = 'reserved' AND expires_at < :now")


def _status_of(row: Any) -> BudgetStatus:
    return BudgetStatus(key=row[0], limit_nanos=row[1], spent_nanos=row[2], reserved_nanos=row[3])


def _exceeded(key: str, limit: int, committed: int, amount: int) -> BudgetExceeded:
    return BudgetExceeded(
        f"budget {key} cannot fit ${from_nanos(amount):.6f}: "
        f"${from_nanos(committed):.6f} of ${from_nanos(limit):.6f} already spent or reserved",
        scope=key,
        limit_usd=from_nanos(limit),
        committed_usd=from_nanos(committed),
        requested_usd=from_nanos(amount),
    )


class SqlBudgetStore:
    """Budget counters in the application database (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = engine.dialect.name
        insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
        counters = BudgetCounter.__table__  # type: ignore[attr-defined]
        new_counter = insert(counters).values(
            key=bindparam("key"), limit_nanousd=bindparam("limit"), spent_nanousd=0, reserved_nanousd=0
        )
        self._upsert = new_counter.on_conflict_do_update(
            index_elements=["key"], set_={"limit_nanousd": new_counter.excluded.limit_nanousd}
        )
        self._status_by_count: dict[int, Any] = {}
        self._driver_sql: dict[str, str] = {}
        # The hot statements (integers and strings only, nothing for SQLAlchemy to convert) go
        # straight to the driver's cursor, inside the transaction SQLAlchemy began.
        self._driver = {"named": "named", "qmark": "named", "pyformat": "pyformat"}.get(
            engine.dialect.paramstyle
        )
        # UPDATE ... RETURNING: PostgreSQL, and SQLite from 3.35.
        self._returning = dialect == "postgresql" or (
            dialect == "sqlite" and engine.dialect.dbapi.sqlite_version_info >= (3, 35)  # type: ignore[union-attr]
        )

    def reserve(self, scopes: Sequence[BudgetScope], amount_nanos: int, *, ttl_s: int) -> Reservation:
        """Hold `amount_nanos` on every scope, or on none and raise BudgetExceeded."""
        with write_transaction(self.engine) as conn:
            return self._hold(conn, scopes, amount_nanos, ttl_s)

    def reserve_routed(
        self,
        scopes: Sequence[BudgetScope],
        choose: Callable[[list[BudgetStatus]], int],
        *,
        ttl_s: int,
    ) -> Reservation | None:
        """Read the scopes' figures, let `choose` turn them into an amount, and hold it: one transaction.

        The same as `status` then `reserve` (nothing is held when `choose` returns 0), with one
        transaction fewer per call; the figures `choose` sees cannot move before the hold.
        """
        with write_transaction(self.engine) as conn:
            rows = self._read_status(conn, [s.key for s in scopes])
            amount = choose([_status_of(r) for r in rows])
            if not amount:
                return None
            return self._hold(conn, scopes, amount, ttl_s)

    def _hold(
        self, conn: Connection, scopes: Sequence[BudgetScope], amount_nanos: int, ttl_s: int
    ) -> Reservation:
        ordered = sorted(scopes, key=lambda s: s.key)  # one global lock order: no deadlocks on Postgres
        reservation = Reservation(id=new_id(), keys=tuple(s.key for s in ordered), amount_nanos=amount_nanos)
        for scope in ordered:
            # The check and the increment are one statement: nobody can slip in between.
            params = {"a": amount_nanos, "k": scope.key, "l": scope.limit_nanos}
            held = self._run(conn, _SET_LIMIT_AND_HOLD, params)[0]
            if held != 1:
                # A new counter, or a full one: create it (or set its limit), then hold again.
                conn.execute(self._upsert, {"key": scope.key, "limit": scope.limit_nanos})
                held = conn.execute(_HOLD, {"a": amount_nanos, "k": scope.key}).rowcount
            if held != 1:
                row = conn.execute(_COMMITTED, {"k": scope.key}).one()
                raise _exceeded(scope.key, scope.limit_nanos, int(row[0]), amount_nanos)
        now = datetime.now(UTC)
        conn.execute(
            BudgetReservation.__table__.insert(),  # type: ignore[attr-defined]
            {
                "id": reservation.id,
                "keys": json.dumps(reservation.keys),
                "amount_nanousd": amount_nanos,
                "status": "reserved",
                "created_at": now,
                "expires_at": now + timedelta(seconds=ttl_s),
            },
        )
        return reservation

    def _close(
        self,
        reservation_id: str,
        actual_nanos: int | None,
        ledger_row: LlmCall | dict[str, Any] | None = None,
    ) -> bool:
        close = {
            "s": "released" if actual_nanos is None else "settled",
            "x": actual_nanos,
            "id": reservation_id,
        }
        with write_transaction(self.engine) as conn:
            if self._returning:
                # Close and read the reservation in one statement.
                rows = self._run(conn, _CLOSE_RESERVATION_RETURNING, close, fetch=True)[1]
                row = rows[0] if rows else None
                if row is None:
                    return False
            else:
                row = conn.execute(_OPEN_RESERVATION, {"id": reservation_id}).first()
                if row is None or conn.execute(_CLOSE_RESERVATION, close).rowcount != 1:
                    return False
            keys, amount = json.loads(row[0]), int(row[1])
            for key in sorted(keys):
                self._run(conn, _SPEND, {"a": amount, "x": actual_nanos or 0, "k": key})
            if ledger_row is not None:
                # Same transaction as the spend: the ledger always sums to what the budgets say.
                conn.execute(_LLM_CALLS.insert(), ledger_values(ledger_row))
        return True

    def settle(
        self,
        reservation: Reservation,
        actual_nanos: int,
        *,
        ledger_row: LlmCall | dict[str, Any] | None = None,
    ) -> bool:
        """Turn a reservation into spend of `actual_nanos`, writing its ledger row; False if closed already."""
        return self._close(reservation.id, actual_nanos, ledger_row)

    def release(self, reservation: Reservation) -> bool:
        """Give a reservation back unspent; False if it was already closed."""
        return self._close(reservation.id, None)

    def status(self, keys: Sequence[str]) -> list[BudgetStatus]:
        """Current figures of the given keys (unknown keys are left out)."""
        if not keys:
            return []
        with self.engine.connect() as conn:
            rows = self._read_status(conn, list(keys))
        return [_status_of(r) for r in rows]

    def _read_status(self, conn: Connection, keys: list[str]) -> list[Any]:
        # One statement per number of keys, built once: an expanding IN is compiled on every call.
        stmt = self._status_by_count.get(len(keys))
        if stmt is None:
            marks = ", ".join(f":k{i}" for i in range(len(keys)))
            stmt = text(
                "SELECT key, limit_nanousd, spent_nanousd, reserved_nanousd FROM budget_counters "
                f"WHERE key IN ({marks})"
            )
            self._status_by_count[len(keys)] = stmt
        return self._run(conn, stmt, {f"k{i}": key for i, key in enumerate(keys)}, fetch=True)[1]

    def _run(
        self, conn: Connection, stmt: TextClause, params: dict[str, Any], *, fetch: bool = False
    ) -> tuple[int, list[Any]]:
        """Execute a `:name`-style text statement: its rowcount, and its rows when `fetch`."""
        if self._driver is None:
            result = conn.execute(stmt, params)
            return result.rowcount, list(result.all()) if fetch else []
        sql = self._driver_sql.get(stmt.text)
        if sql is None:
            sql = stmt.text if self._driver == "named" else re.sub(r":(\w+)", r"%(\1)s", stmt.text)
            self._driver_sql[stmt.text] = sql
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, params)
            rows = list(cursor.fetchall()) if fetch else []
            return cursor.rowcount, rows
        finally:
            cursor.close()

    def release_expired(self, now: datetime | None = None) -> int:
        """Release reservations left behind by dead processes; the number released."""
        now = now or datetime.now(UTC)
        with self.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(_EXPIRED, {"now": now})]
        return sum(1 for rid in ids if self._close(rid, None))


_RESERVE_LUA = """
-- KEYS: budget counter keys..., reservation key, expiry index key
-- ARGV: amount, limit_1..limit_n, reservation id, expires_at (epoch s), keys json
local n = #KEYS - 2
local amount = tonumber(ARGV[1])
for i = 1, n do
  local limit = tonumber(ARGV[1 + i])
  redis.call('HSETNX', KEYS[i], 'spent', 0)
  redis.call('HSETNX', KEYS[i], 'reserved', 0)
  redis.call('HSET', KEYS[i], 'limit', limit)
  local committed = tonumber(redis.call('HGET', KEYS[i], 'spent'))
    + tonumber(redis.call('HGET', KEYS[i], 'reserved'))
  if committed + amount > limit then
    return {0, i, committed}
  end
end
for i = 1, n do
  redis.call('HINCRBY', KEYS[i], 'reserved', amount)
end
redis.call('HSET', KEYS[n + 1], 'amount', amount, 'status', 'reserved', 'keys', ARGV[n + 4])
redis.call('ZADD', KEYS[n + 2], ARGV[n + 3], ARGV[n + 2])
return {1, 0, 0}
"""

_CLOSE_LUA = """
-- KEYS: reservation key, expiry index key; ARGV: reservation id, actual (or -1 to release), prefix
if redis.call('HGET', KEYS[1], 'status') ~= 'reserved' then
  return 0
end
local amount = tonumber(redis.call('HGET', KEYS[1], 'amount'))
local actual = tonumber(ARGV[2])
local keys = cjson.decode(redis.call('HGET', KEYS[1], 'keys'))
for _, key in ipairs(keys) do
  redis.call('HINCRBY', ARGV[3] .. key, 'reserved', -amount)
  if actual >= 0 then
    redis.call('HINCRBY', ARGV[3] .. key, 'spent', actual)
  end
end
if actual >= 0 then
  redis.call('HSET', KEYS[1], 'status', 'settled', 'actual', actual)
else
  redis.call('HSET', KEYS[1], 'status', 'released')
end
redis.call('EXPIRE', KEYS[1], 86400)
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""


class RedisBudgetStore:
    """Budget counters in Redis, for many workers; each operation is one Lua script."""

    def __init__(self, client: Any, *, prefix: str = "brandcrew:budget:", ledger: Any = None) -> None:
        self.client = client
        self.ledger = ledger
        """A CostLedger for the rows passed to `settle` (written first; the sweeper reconciles)."""
        self.prefix = prefix
        self._reserve = client.register_script(_RESERVE_LUA)
        self._close_script = client.register_script(_CLOSE_LUA)

    def _expiry_key(self) -> str:
        return f"{self.prefix}reservations:expiry"

    def _resv_key(self, reservation_id: str) -> str:
        return f"{self.prefix}reservation:{reservation_id}"

    def reserve(self, scopes: Sequence[BudgetScope], amount_nanos: int, *, ttl_s: int) -> Reservation:
        """Hold `amount_nanos` on every scope, or on none and raise BudgetExceeded."""
        ordered = sorted(scopes, key=lambda s: s.key)
        reservation = Reservation(id=new_id(), keys=tuple(s.key for s in ordered), amount_nanos=amount_nanos)
        expires = datetime.now(UTC).timestamp() + ttl_s
        keys = [self.prefix + s.key for s in ordered] + [self._resv_key(reservation.id), self._expiry_key()]
        args: list[Any] = [amount_nanos, *[s.limit_nanos for s in ordered], reservation.id, expires]
        args.append(json.dumps(list(reservation.keys)))
        ok, index, committed = self._reserve(keys=keys, args=args)
        if not ok:
            scope = ordered[int(index) - 1]
            raise _exceeded(scope.key, scope.limit_nanos, int(committed), amount_nanos)
        return reservation

    def _close(self, reservation_id: str, actual_nanos: int) -> bool:
        keys = [self._resv_key(reservation_id), self._expiry_key()]
        return bool(self._close_script(keys=keys, args=[reservation_id, actual_nanos, self.prefix]))

    def settle(
        self,
        reservation: Reservation,
        actual_nanos: int,
        *,
        ledger_row: LlmCall | dict[str, Any] | None = None,
    ) -> bool:
        """Turn a reservation into spend of `actual_nanos`, writing its ledger row; False if closed already."""
        if ledger_row is not None and self.ledger is not None:
            self.ledger.record(ledger_row)
        return self._close(reservation.id, actual_nanos)

    def release(self, reservation: Reservation) -> bool:
        """Give a reservation back unspent; False if it was already closed."""
        return self._close(reservation.id, -1)

    def status(self, keys: Sequence[str]) -> list[BudgetStatus]:
        """Current figures of the given keys (unknown keys are left out)."""
        out = []
        for key in keys:
            data = self.client.hgetall(self.prefix + key)
            if not data:
                continue
            get = {k.decode() if isinstance(k, bytes) else k: int(v) for k, v in data.items()}
            out.append(
                BudgetStatus(
                    key=key,
                    limit_nanos=get["limit"],
                    spent_nanos=get["spent"],
                    reserved_nanos=get["reserved"],
                )
            )
        return out

    def release_expired(self, now: datetime | None = None) -> int:
        """Release reservations left behind by dead processes; the number released."""
        cutoff = (now or datetime.now(UTC)).timestamp()
        ids = self.client.zrangebyscore(self._expiry_key(), "-inf", cutoff)
        return sum(1 for rid in ids if self._close(rid.decode() if isinstance(rid, bytes) else rid, -1))
