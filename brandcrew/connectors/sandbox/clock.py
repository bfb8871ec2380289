"""The sandbox clock: one per world, persisted, manual or running at a chosen speed.

Sandbox time is `base + (wall - anchor) x speed`: with speed 0 the clock stands still until
`advance` or `set` moves it (tests, simulations of weeks in seconds); with speed 1 it follows wall
time; with speed 60 a wall second is a sandbox minute. Every sandbox timestamp comes from here, and
everything time-dependent is computed from it on demand, so advancing 14 days costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from brandcrew.store.engine import write_transaction
from brandcrew.store.tables._base import as_utc, utcnow
from brandcrew.store.tables.sandbox import SandboxWorldRow

__all__ = ("SandboxClock", "clock_time", "to_utc")


def to_utc(value: datetime) -> datetime:
    """`value` as an aware UTC datetime (a naive one is taken to be UTC already)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def clock_time(row: SandboxWorldRow, wall: datetime) -> datetime:
    """Sandbox time of a world row at wall time `wall`."""
    return _time_at(row.clock_base, row.clock_anchor, row.clock_speed, wall)


def _time_at(base_at: datetime | None, anchor_at: datetime | None, speed: float, wall: datetime) -> datetime:
    base = to_utc(as_utc(base_at) or wall)
    if not speed:
        return base
    anchor = to_utc(as_utc(anchor_at) or wall)
    return base + (wall - anchor) * speed


class SandboxClock:
    """The controllable clock of one sandbox world (state lives in the database)."""

    def __init__(self, engine: Engine, world_id: str, *, wall: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.world_id = world_id
        self._wall = wall
        # Three columns, not the ORM row, built once: every sandbox call and publisher step asks the time.
        self._now_query = select(
            col(SandboxWorldRow.clock_base),
            col(SandboxWorldRow.clock_anchor),
            col(SandboxWorldRow.clock_speed),
        ).where(SandboxWorldRow.id == world_id)

    def _row(self, session: Session, *, lock: bool = False) -> SandboxWorldRow:
        query = select(SandboxWorldRow).where(SandboxWorldRow.id == self.world_id)
        row = session.exec(query.with_for_update() if lock else query).first()
        if row is None:
            raise LookupError(f"sandbox world {self.world_id!r} does not exist")
        return row

    def now(self) -> datetime:
        """Current sandbox time (aware UTC)."""
        with self.engine.connect() as conn:
            row = conn.execute(self._now_query).first()
        if row is None:
            raise LookupError(f"sandbox world {self.world_id!r} does not exist")
        return _time_at(row[0], row[1], row[2], to_utc(self._wall()))

    @property
    def speed(self) -> float:
        """Sandbox seconds per wall second (0: manual)."""
        with Session(self.engine) as session:
            return self._row(session).clock_speed

    def _update(self, change: Callable[[datetime], datetime], speed: float | None = None) -> datetime:
        with write_transaction(self.engine) as conn, Session(bind=conn) as session:
            row = self._row(session, lock=True)
            wall = to_utc(self._wall())
            new = change(clock_time(row, wall))
            row.clock_base, row.clock_anchor = new, wall
            if speed is not None:
                row.clock_speed = speed
            session.add(row)
            session.flush()
            return new

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by `delta`; returns the new time."""
        if delta < timedelta(0):
            raise ValueError("the sandbox clock only moves forward; use set(..., allow_backwards=True)")
        return self._update(lambda now: now + delta)

    def set(self, when: datetime, *, allow_backwards: bool = False) -> datetime:
        """Set the clock to `when` (forward only unless `allow_backwards`); returns it."""
        target = to_utc(when)

        def change(now: datetime) -> datetime:
            if target < now and not allow_backwards:
                raise ValueError(f"{target.isoformat()} is before the sandbox time {now.isoformat()}")
            return target

        return self._update(change)

    def set_speed(self, speed: float) -> None:
        """Run the clock at `speed` sandbox seconds per wall second from now (0 stops it, 1 is real time)."""
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._update(lambda now: now, speed=speed)
