"""How every sandbox call runs: resolve the world and account, check the token, apply faults, log it.

Writes run in one database transaction that holds the account's row lock (SQLite: BEGIN IMMEDIATE;
PostgreSQL: SELECT ... FOR UPDATE), so concurrent workers in any number of processes create a post at
most once per call, never exceed a quota and never both pass the duplicate check. Errors are raised
only after the commit, so what a failed call changed (a post created before a lost response, a revoked
token, a rate-limit window, the attempt log) is kept, exactly as a real platform would keep it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, TypeVar

from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from brandcrew.connectors.base import AccountAuth
from brandcrew.connectors.capabilities import Platform
from brandcrew.connectors.errors import (
    AuthExpired,
    ConnectorError,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    RetryableError,
)
from brandcrew.connectors.sandbox import _state
from brandcrew.connectors.sandbox._rng import rng
from brandcrew.connectors.sandbox.clock import clock_time, to_utc
from brandcrew.connectors.sandbox.faults import FaultKind, FaultPlan, decide_fault
from brandcrew.connectors.validation import Violation
from brandcrew.store.engine import write_transaction
from brandcrew.store.tables.sandbox import SandboxAccountRow, SandboxCallRow, SandboxTokenRow, SandboxWorldRow

_WRITE_RETRIES: Final = 8
CREATING_OPERATIONS: Final = frozenset({"publish", "reply", "delete"})
"""Operations whose timeouts leave the outcome unknown; other calls time out as plain retryable errors."""
ResultT = TypeVar("ResultT")


class DraftRejected(Rejected):
    """The draft breaks its platform's rules; `violations` lists every one."""

    def __init__(self, message: str, *, violations: Sequence[Violation], platform: str = "") -> None:
        field = violations[0].field if violations else None
        super().__init__(message, platform=platform, status_code=400, field=field)
        self.violations = list(violations)


@dataclass
class CallContext:
    """One call's open session, world, (locked) account and sandbox time."""

    session: Session
    world: SandboxWorldRow
    acct: SandboxAccountRow
    now: datetime


def fault_error(fault: FaultKind, platform: str, reset_at: datetime | None) -> ConnectorError:
    """The error a platform would answer with for `fault`."""
    if fault is FaultKind.RATE_LIMITED:
        return RateLimited("429 Too Many Requests (sandbox fault)", reset_at=reset_at, platform=platform)
    if fault is FaultKind.SERVER_ERROR:
        return RetryableError("503 Service Unavailable (sandbox fault)", platform=platform, status_code=503)
    if fault is FaultKind.AUTH_EXPIRED:
        return AuthExpired("401 token expired or revoked (sandbox fault)", platform=platform, status_code=401)
    return OutcomeUnknown(f"request timed out (sandbox fault: {fault.value})", platform=platform)


class CallGate:
    """Runs reads and writes of one connector against its world."""

    def __init__(
        self, engine: Engine, world_id: str | None, platform: str | None, wall: Callable[[], datetime]
    ) -> None:
        self.engine = engine
        self.world_id = world_id
        self.platform = platform
        self._wall = wall

    def _world_id(self, account: AccountAuth) -> str:
        world_id = account.extra.get("sandbox_world") or self.world_id
        if not world_id:
            raise Rejected(
                "no sandbox world: pass world_id or extra['sandbox_world']", platform=self.platform or ""
            )
        return world_id

    def context(self, session: Session, account: AccountAuth, *, lock: bool) -> CallContext:
        """The world, the (optionally row-locked) account and the sandbox time for a call."""
        world = session.get(SandboxWorldRow, self._world_id(account))
        if world is None:
            raise Rejected(f"sandbox world {self._world_id(account)!r} does not exist", status_code=404)
        query = select(SandboxAccountRow).where(
            SandboxAccountRow.world_id == world.id,
            SandboxAccountRow.account_id == account.platform_account_id,
        )
        acct = session.exec(query.with_for_update() if lock else query).first()
        if acct is None:
            raise Rejected(f"unknown sandbox account {account.platform_account_id!r}", status_code=404)
        if self.platform and acct.platform != self.platform:
            raise Rejected(
                f"account {acct.account_id} is on {acct.platform}, this connector serves {self.platform}",
                platform=self.platform,
            )
        if account.platform not in (acct.platform, Platform.SANDBOX.value):
            raise Rejected(f"account {acct.account_id} is on {acct.platform}, not {account.platform}")
        if acct.kind != "own":
            raise AuthExpired(
                f"no credentials for {acct.username}: it is not the brand's account", status_code=403
            )
        return CallContext(session, world, acct, clock_time(world, to_utc(self._wall())))

    def check_token(self, ctx: CallContext, token: str) -> SandboxTokenRow:
        """The presented access token's row; AuthExpired when unknown, revoked or expired."""
        row = ctx.session.get(SandboxTokenRow, token) if token else None
        if row is None or row.world_id != ctx.world.id or row.account_id != ctx.acct.account_id:
            raise AuthExpired("401 invalid access token", platform=ctx.acct.platform, status_code=401)
        if row.revoked:
            raise AuthExpired("401 access token revoked", platform=ctx.acct.platform, status_code=401)
        if _state.ts(row.expires_at) <= ctx.now:
            raise AuthExpired("401 access token expired", platform=ctx.acct.platform, status_code=401)
        return row

    def _next_attempt(self, ctx: CallContext, operation: str, key: str) -> int:
        last = ctx.session.exec(
            select(func.max(SandboxCallRow.attempt)).where(
                SandboxCallRow.world_id == ctx.world.id,
                SandboxCallRow.operation == operation,
                SandboxCallRow.call_key == key,
            )
        ).one()
        return int(last or 0) + 1

    def write(
        self,
        operation: str,
        account: AccountAuth,
        key: str,
        action: Callable[[CallContext], tuple[ResultT, str | None]],
        *,
        needs_token: bool = True,
    ) -> ResultT:
        """Run a write in one locked transaction: gate (token, rate limit, fault), act, log the call.

        `action` returns its result and the remote id it created (for the call log).
        """
        for retry in range(_WRITE_RETRIES):
            try:
                with write_transaction(self.engine) as conn, Session(bind=conn) as session:
                    ctx = self.context(session, account, lock=True)
                    result, error = self._gated(ctx, operation, account, key, action, needs_token)
                    session.flush()
                break
            except IntegrityError:
                if retry == _WRITE_RETRIES - 1:
                    raise
            except OperationalError as exc:  # PostgreSQL deadlock or serialization failure
                if retry == _WRITE_RETRIES - 1 or "deadlock" not in str(exc).lower():
                    raise
        if error is not None:
            raise error
        return result  # type: ignore[return-value]  # set whenever no error was

    def _gated(
        self,
        ctx: CallContext,
        operation: str,
        account: AccountAuth,
        key: str,
        action: Callable[[CallContext], tuple[ResultT, str | None]],
        needs_token: bool,
    ) -> tuple[ResultT | None, ConnectorError | None]:
        attempt = self._next_attempt(ctx, operation, key)
        result: ResultT | None = None
        error: ConnectorError | None = None
        remote_id: str | None = None
        platform = ctx.acct.platform
        plan = FaultPlan.model_validate(ctx.world.faults)
        fault = decide_fault(plan, seed=ctx.world.seed, operation=operation, key=key, attempt=attempt)
        limited = _state.ts(ctx.acct.limited_until) if ctx.acct.limited_until else None
        try:
            token = self.check_token(ctx, account.access_token) if needs_token else None
            if limited is not None and limited > ctx.now:
                outcome = "rate_limited"
                error = RateLimited("429 rate limit window still open", reset_at=limited, platform=platform)
            elif fault is FaultKind.RATE_LIMITED:
                lo, hi = plan.rate_limit_reset_s
                wait = rng(ctx.world.seed, "reset", operation, key, attempt).randint(lo, hi)
                reset_at = ctx.now + timedelta(seconds=wait)
                ctx.acct.limited_until = reset_at
                ctx.session.add(ctx.acct)
                outcome, error = fault.value, fault_error(fault, platform, reset_at)
            elif fault is FaultKind.AUTH_EXPIRED:
                if token is not None:
                    token.revoked = True
                    ctx.session.add(token)
                outcome, error = fault.value, fault_error(fault, platform, None)
            elif fault is FaultKind.SERVER_ERROR or (
                fault is not None and operation not in CREATING_OPERATIONS
            ):
                # A timed-out lookup or token refresh changed nothing the caller relies on: just retry.
                outcome, error = fault.value, fault_error(FaultKind.SERVER_ERROR, platform, None)
            elif fault is FaultKind.TIMEOUT_BEFORE_CREATE:
                outcome, error = fault.value, fault_error(fault, platform, None)
            else:
                result, remote_id = action(ctx)
                outcome = "ok"
                if fault is FaultKind.TIMEOUT_AFTER_CREATE:
                    outcome, error = fault.value, fault_error(fault, platform, None)
        except ConnectorError as exc:
            outcome, error = exc.kind if not isinstance(exc, DraftRejected) else "invalid", exc
            if isinstance(exc, RateLimited):
                outcome = "quota_exceeded"
        ctx.session.add(
            SandboxCallRow(
                world_id=ctx.world.id,
                operation=operation,
                call_key=key[:255],
                attempt=attempt,
                account_id=ctx.acct.account_id,
                outcome=outcome,
                remote_id=remote_id,
                at=ctx.now,
            )
        )
        return result, error

    def read(self, operation: str, account: AccountAuth, action: Callable[[CallContext], ResultT]) -> ResultT:
        """Run a lookup (through the write path when the fault plan covers reads)."""
        with Session(self.engine) as session:
            ctx = self.context(session, account, lock=False)
            if "read" not in FaultPlan.model_validate(ctx.world.faults).operations:
                self.check_token(ctx, account.access_token)
                return action(ctx)
        # Faulted reads need the attempt log, so they take the write path.
        key = f"{operation}:{ctx.acct.account_id}:{ctx.now.isoformat()}"
        return self.write(operation, account, key, lambda c: (action(c), None))
