"""The exactly-once publisher: turns each outbox row into at most one platform post, and into exactly
one when the platform allows it.

State machine of an outbox row (`publish_outbox.status`):

    pending --claim--> publishing --ok--> published
       ^                   |  \\--rejected/too many failures--> failed
       |                   |---retryable/rate-limited---> pending (next_attempt_at)
       |                   `--timeout after send--> unknown --reconcile--> published | pending
       `------ a claim older than the lease (dead worker) is reconciled like `unknown` ------'

Rule: a row that was ever claimed is never published again until the account has been searched
for the post (normalised text hash in the attempt's time window). That is what makes crashes,
timeouts-after-create and two workers safe, whatever the job runner does.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from brandcrew.connectors.base import AccountAuth, Connector, PublishResult
from brandcrew.connectors.capabilities import get_capabilities
from brandcrew.connectors.drafts import PostDraft
from brandcrew.connectors.errors import AuthExpired, OutcomeUnknown, RateLimited, Rejected, RetryableError
from brandcrew.services import audit
from brandcrew.services.accounts import AccountsService
from brandcrew.services.errors import NotFound
from brandcrew.services.publishing import published_count, sync_post_status, text_hash
from brandcrew.store.engine import session_scope, write_transaction
from brandcrew.store.tables import OutboxEntry, PostVariant, SocialAccount, Workspace, as_utc, utcnow

log = logging.getLogger("brandcrew.publisher")

Outcome = Literal["published", "failed", "retry", "not_due", "in_flight", "paused", "absent", "done"]
TERMINAL = frozenset({"published", "failed", "cancelled"})


@dataclass(kw_only=True)
class PublisherPolicy:
    """How hard to try, and how long a claim is trusted."""

    max_attempts: int = 5
    lease_s: float = 120.0
    """A claim older than this belongs to a dead worker (must exceed the longest publish call)."""
    retry_base_s: float = 30.0
    retry_max_s: float = 1800.0
    reconcile_slack_s: float = 300.0
    """Search window around the attempt, for clock skew between us and the platform."""
    unknown_grace_s: float = 0.0
    """Wait this long after an outcome-unknown before trusting a search that finds nothing
    (platform timelines can lag; 0 for the sandbox, ~60 s for real platforms)."""


def _daily_quota(platform: str) -> int | None:
    try:
        return get_capabilities(platform).daily_post_quota
    except (KeyError, ValueError):
        return None  # a platform without documented limits (e.g. a test double)


def worker_identity() -> str:
    """This process's claim owner id: host, pid and a per-start nonce."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Publisher:
    """Processes outbox rows; safe to call for the same key from many places, any number of times."""

    def __init__(
        self,
        engine: Engine,
        accounts: AccountsService,
        *,
        clock: Callable[[], datetime] = utcnow,
        policy: PublisherPolicy | None = None,
        worker_id: str | None = None,
        enforce_quotas: bool = True,
    ) -> None:
        self.engine = engine
        self.accounts = accounts
        self.clock = clock
        self.policy = policy or PublisherPolicy()
        self.worker_id = worker_id or worker_identity()
        self.enforce_quotas = enforce_quotas
        """Hold posts over the platform's documented daily quota (benchmarks of the scheduler lift it)."""

    # -- queries -------------------------------------------------------------------------------
    def due_keys(self, *, limit: int = 500) -> list[str]:
        """Keys that need work now: due pending rows, unknown rows, and claims of dead workers."""
        now = self.clock()
        stale = now - timedelta(seconds=self.policy.lease_s)
        paused = select(Workspace.id).where(col(Workspace.publishing_paused_reason).is_not(None))
        with Session(self.engine) as session:
            rows = session.exec(
                select(OutboxEntry.key)
                .where(
                    (
                        (col(OutboxEntry.status) == "pending")
                        & (col(OutboxEntry.due_at) <= now)
                        & (
                            col(OutboxEntry.next_attempt_at).is_(None)
                            | (col(OutboxEntry.next_attempt_at) <= now)
                        )
                    )
                    | (
                        (col(OutboxEntry.status) == "unknown")
                        & (
                            col(OutboxEntry.next_attempt_at).is_(None)
                            | (col(OutboxEntry.next_attempt_at) <= now)
                        )
                    )
                    | ((col(OutboxEntry.status) == "publishing") & (col(OutboxEntry.claimed_at) < stale))
                )
                # A paused brand's rows wait (not due) until a person resumes its publishing.
                .where(col(OutboxEntry.workspace_id).not_in(paused))
                .order_by(col(OutboxEntry.due_at))
                .limit(limit)
            ).all()
        return list(rows)

    def next_wakeup(self) -> datetime | None:
        """When the earliest not-yet-due row becomes due (for a scheduler's sleep)."""
        with Session(self.engine) as session:
            entry = session.exec(
                select(OutboxEntry)
                .where(col(OutboxEntry.status).in_(["pending", "unknown"]))
                .order_by(col(OutboxEntry.due_at))
                .limit(1)
            ).first()
        if entry is None:
            return None
        return max(as_utc(entry.due_at) or self.clock(), as_utc(entry.next_attempt_at) or self.clock())

    # -- the work ------------------------------------------------------------------------------
    async def process(self, key: str) -> Outcome:
        """Move one outbox row as far as it can go now."""
        now = self.clock()
        with Session(self.engine) as session:
            entry = session.get(OutboxEntry, key)
            if entry is None:
                return "absent"
            if entry.status in TERMINAL:
                return "done"
            account = session.get(SocialAccount, entry.account_id)
            workspace = session.get(Workspace, entry.workspace_id)
            status, claimed_at = entry.status, as_utc(entry.claimed_at)
        if account is None:
            self._finish(key, "failed", error="social account no longer exists", kind="rejected")
            return "failed"
        if status == "publishing":
            if claimed_at is not None and now - claimed_at < timedelta(seconds=self.policy.lease_s):
                return "in_flight"
            log.warning("outbox %s: claim of a dead worker (since %s); reconciling", key[:12], claimed_at)
            return await self._reconcile(key, account)
        if status == "unknown":
            return await self._reconcile(key, account)
        # pending
        due = as_utc(entry.next_attempt_at) or as_utc(entry.due_at)
        if due is not None and due > now:
            return "not_due"
        if workspace is not None and workspace.publishing_paused_reason:
            return "paused"
        quota = _daily_quota(account.platform) if self.enforce_quotas else None
        if quota is not None:
            with Session(self.engine) as session:
                used = published_count(session, account_id=account.id, since=now - timedelta(hours=24))
            if used >= quota:
                self._defer(
                    key, now + timedelta(hours=1), f"daily quota of {quota} posts reached", "rate_limited"
                )
                return "retry"
        if not self._claim(key, now):
            return "in_flight"
        return await self._attempt(key, account, now)

    def _claim(self, key: str, now: datetime) -> bool:
        with write_transaction(self.engine) as conn:
            claimed = conn.execute(
                text(
                    "UPDATE publish_outbox SET status = 'publishing', attempts = attempts + 1, "
                    "claimed_by = :w, claimed_at = :now, updated_at = :now "
                    "WHERE key = :k AND status = 'pending'"
                ),
                {"w": self.worker_id, "now": now, "k": key},
            ).rowcount
        return claimed == 1

    async def _attempt(self, key: str, account: SocialAccount, now: datetime) -> Outcome:
        with Session(self.engine) as session:
            entry = session.get(OutboxEntry, key)
            assert entry is not None
            draft = PostDraft.model_validate(entry.payload)
            attempts = entry.attempts
        connector = self.accounts.connector(account)
        auth = self.accounts.auth(account)
        try:
            result = await connector.publish(auth, draft, key)
        except OutcomeUnknown as exc:
            self._set_unknown(key, str(exc))
            if self.policy.unknown_grace_s > 0:
                return "retry"
            return await self._reconcile(key, account)
        except RateLimited as exc:
            reset = as_utc(exc.reset_at) or (self.clock() + timedelta(seconds=60))
            # A rate limit is the account's, not the post's: hold every pending post of the account
            # until the reset, and do not count this try against the post's attempts.
            self._defer(key, reset, str(exc), "rate_limited", release=True, refund_attempt=True)
            self._hold_account(account.id, reset, str(exc))
            return "retry"
        except RetryableError as exc:
            return self._retry_or_fail(key, attempts, str(exc), "retryable")
        except AuthExpired as exc:
            if self._token_replaced(account, auth.access_token):
                # Another worker refreshed the account's token while this call was in flight (a refresh
                # revokes the old token): retry at once with the new one, and do not count the try.
                # Refreshing again here would revoke the token every other in-flight post now holds.
                self._defer(key, self.clock(), str(exc), "auth_expired", release=True, refund_attempt=True)
                return "retry"
            return await self._after_auth_expired(key, account, attempts, str(exc), auth.access_token)
        except Rejected as exc:
            if "duplicate" in str(exc).lower():
                # X refuses identical recent text: it may be our own earlier, unrecorded publish.
                self._set_unknown(key, str(exc))
                return await self._reconcile(key, account, after_duplicate=True)
            self._finish(key, "failed", error=str(exc), kind="rejected")
            return "failed"
        self._published(key, result)
        return "published"

    def _token_replaced(self, account: SocialAccount, used: str) -> bool:
        """Whether the account's stored access token is no longer the one a call used."""
        try:
            return self.accounts.current_auth(account.id).access_token != used
        except NotFound:
            return False

    async def _after_auth_expired(
        self, key: str, account: SocialAccount, attempts: int, error: str, failed_token: str
    ) -> Outcome:
        try:
            _, refreshed = await self.accounts.refresh_after(
                account.id, failed_token=failed_token, now=self.clock()
            )
        except RateLimited as exc:
            reset = as_utc(exc.reset_at) or (self.clock() + timedelta(seconds=60))
            self._defer(
                key,
                reset,
                f"{error}; refresh rate-limited",
                "auth_expired",
                release=True,
                refund_attempt=True,
            )
            return "retry"
        except (RetryableError, OutcomeUnknown) as exc:  # try the refresh again later
            return self._retry_or_fail(
                key, attempts, f"{error}; token refresh failed for now: {exc}", "auth_expired"
            )
        except Exception as exc:  # the refresh itself was refused: a person must reconnect
            self.accounts.mark_auth_expired(account.id)
            self._finish(key, "failed", error=f"{error}; token refresh failed: {exc}", kind="auth_expired")
            return "failed"
        if not refreshed:
            # Another worker's refresh, still in flight when this call's token was refused, revoked it
            # (the stored token was the old one until it finished): not the post's fault, as above.
            self._defer(key, self.clock(), error, "auth_expired", release=True, refund_attempt=True)
            return "retry"
        # Nothing was published under an expired token: retry at once with the new one.
        return self._retry_or_fail(key, attempts, error, "auth_expired", delay_s=0.0)

    def _retry_or_fail(
        self, key: str, attempts: int, error: str, kind: str, *, delay_s: float | None = None
    ) -> Outcome:
        if attempts >= self.policy.max_attempts:
            self._finish(key, "failed", error=f"gave up after {attempts} attempts: {error}", kind=kind)
            return "failed"
        delay = (
            delay_s
            if delay_s is not None
            else min(self.policy.retry_max_s, self.policy.retry_base_s * 2 ** (attempts - 1))
        )
        self._defer(key, self.clock() + timedelta(seconds=delay), error, kind, release=True)
        return "retry"

    async def _reconcile(self, key: str, account: SocialAccount, *, after_duplicate: bool = False) -> Outcome:
        """Search the account for the post; publish is only retried when it is surely absent."""
        with Session(self.engine) as session:
            entry = session.get(OutboxEntry, key)
            assert entry is not None
            # Nothing can have been published before the row was due.
            due = as_utc(entry.due_at) or self.clock()
            wanted, attempts, updated = entry.text_hash, entry.attempts, as_utc(entry.updated_at)
        slack = timedelta(seconds=self.policy.reconcile_slack_s)
        since = due - slack
        until = self.clock() + slack
        connector: Connector = self.accounts.connector(account)
        auth: AccountAuth = self.accounts.auth(account)
        try:
            found = await connector.find_posts(auth, since, until)
        except (RetryableError, OutcomeUnknown) as exc:
            self._defer(
                key,
                self.clock() + timedelta(seconds=self.policy.retry_base_s),
                str(exc),
                "reconcile",
                status="unknown",
            )
            return "retry"
        except AuthExpired:
            try:
                await self.accounts.refresh(account.id, failed_token=auth.access_token, now=self.clock())
            except Exception:
                self.accounts.mark_auth_expired(account.id)
            self._defer(
                key, self.clock(), "token expired during reconciliation", "reconcile", status="unknown"
            )
            return "retry"
        for post in found:
            if text_hash(post.text) == wanted:
                self._published(
                    key,
                    PublishResult(remote_id=post.remote_id, url=post.url, published_at=post.created_at),
                    reconciled=True,
                )
                return "published"
        if after_duplicate:
            self._finish(
                key,
                "failed",
                error="platform reports duplicate content but the post is not on the "
                "account; change the text and schedule again",
                kind="rejected",
            )
            return "failed"
        grace = timedelta(seconds=self.policy.unknown_grace_s)
        if grace and updated is not None and self.clock() - updated < grace:
            self._defer(
                key, updated + grace, "waiting before trusting the search", "reconcile", status="unknown"
            )
            return "retry"
        log.info("outbox %s: not on the account after reconciliation; safe to publish again", key[:12])
        return self._retry_or_fail(
            key, attempts, "previous attempt did not create the post", "reconciled", delay_s=0.0
        )

    # -- state writes --------------------------------------------------------------------------
    def _set_unknown(self, key: str, error: str) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(
                text(
                    "UPDATE publish_outbox SET status = 'unknown', error = :e, error_kind = 'outcome_unknown', "
                    "updated_at = :now WHERE key = :k AND status = 'publishing'"
                ),
                {"e": error[:2000], "k": key, "now": self.clock()},
            )

    def _defer(
        self,
        key: str,
        when: datetime,
        error: str,
        kind: str,
        *,
        release: bool = False,
        status: str | None = None,
        refund_attempt: bool = False,
    ) -> None:
        new_status = status or "pending"
        with write_transaction(self.engine) as conn:
            conn.execute(
                text(
                    "UPDATE publish_outbox SET status = :s, next_attempt_at = :when, error = :e, error_kind = :kind, "
                    "claimed_by = CASE WHEN :rel THEN NULL ELSE claimed_by END, updated_at = :now, "
                    "attempts = CASE WHEN :refund AND attempts > 0 THEN attempts - 1 ELSE attempts END "
                    "WHERE key = :k AND status NOT IN ('published', 'failed', 'cancelled')"
                ),
                {
                    "s": new_status,
                    "when": when,
                    "e": error[:2000],
                    "kind": kind,
                    "rel": release,
                    "k": key,
                    "now": self.clock(),
                    "refund": refund_attempt,
                },
            )

    def _hold_account(self, account_id: str, until: datetime, error: str) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(
                text(
                    "UPDATE publish_outbox SET next_attempt_at = :until, error = :e, error_kind = 'rate_limited', "
                    "updated_at = :now WHERE account_id = :a AND status = 'pending' "
                    "AND (next_attempt_at IS NULL OR next_attempt_at < :until)"
                ),
                {
                    "until": until,
                    "e": f"account rate-limited: {error}"[:2000],
                    "a": account_id,
                    "now": self.clock(),
                },
            )

    def _finish(self, key: str, status: str, *, error: str, kind: str) -> None:
        now = self.clock()
        with session_scope(self.engine) as session:
            entry = session.get(OutboxEntry, key)
            if entry is None or entry.status in TERMINAL:
                return
            entry.status, entry.error, entry.error_kind, entry.updated_at = status, error[:2000], kind, now
            session.add(entry)
            variant = session.get(PostVariant, entry.variant_id)
            if variant is not None:
                variant.publish_status, variant.error = status, error[:2000]
                session.add(variant)
            session.flush()
            sync_post_status(session, entry.post_id)
            audit.record(
                session,
                workspace_id=entry.workspace_id,
                actor="system",
                action="publish_failed",
                resource="post",
                resource_id=entry.post_id,
                changes={
                    "platform": entry.platform,
                    "account_id": entry.account_id,
                    "kind": kind,
                    "error": error[:500],
                },
            )
        log.warning("outbox %s failed (%s): %s", key[:12], kind, error)

    def _published(self, key: str, result: PublishResult, *, reconciled: bool = False) -> None:
        now = self.clock()
        with session_scope(self.engine) as session:
            entry = session.get(OutboxEntry, key)
            if entry is None or entry.status in TERMINAL:
                return
            entry.status = "published"
            entry.remote_id, entry.remote_url = result.remote_id, result.url
            entry.published_at = as_utc(result.published_at) or now
            entry.error = None if not reconciled else "published (found on the account by reconciliation)"
            entry.error_kind = None if not reconciled else "reconciled"
            entry.updated_at = now
            session.add(entry)
            variant = session.get(PostVariant, entry.variant_id)
            if variant is not None:
                variant.publish_status = "published"
                variant.platform_post_id, variant.url = result.remote_id, result.url
                variant.published_at, variant.error = entry.published_at, None
                session.add(variant)
            session.flush()
            sync_post_status(session, entry.post_id)
            audit.record(
                session,
                workspace_id=entry.workspace_id,
                actor="system",
                action="published",
                resource="post",
                resource_id=entry.post_id,
                changes={
                    "platform": entry.platform,
                    "account_id": entry.account_id,
                    "remote_id": result.remote_id,
                    "reconciled": reconciled,
                },
            )
