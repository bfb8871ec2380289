"""Social accounts: connect, refresh, disconnect; tokens encrypted at rest; the connector for each."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session, select

from brandcrew.connectors.base import AccountAuth, Connector, TokenSet
from brandcrew.connectors.errors import AuthExpired
from brandcrew.services import audit
from brandcrew.services.errors import NotFound
from brandcrew.store.crypto import FieldCipher
from brandcrew.store.engine import session_scope
from brandcrew.store.tables import SocialAccount, utcnow

ConnectorFactory = Callable[[SocialAccount], Connector]
T = TypeVar("T")


class AccountsService:
    """Stores accounts with encrypted tokens and hands out ready-to-use connectors."""

    def __init__(self, engine: Engine, cipher: FieldCipher, *, connector_factory: ConnectorFactory) -> None:
        self.engine = engine
        self.cipher = cipher
        self.connector_factory = connector_factory
        self._connectors: dict[str, Connector] = {}
        # One refresh per account at a time, per event loop (an asyncio lock belongs to one loop).
        self._refreshing: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
            weakref.WeakKeyDictionary()
        )

    def connect(
        self,
        session: Session,
        *,
        workspace_id: str,
        platform: str,
        platform_account_id: str,
        username: str,
        tokens: TokenSet,
        display_name: str | None = None,
        extra: dict[str, Any] | None = None,
        user_id: str | None = None,
    ) -> SocialAccount:
        """Connect (or reconnect) an account; a reconnect never wipes a stored refresh token."""
        existing = session.exec(
            select(SocialAccount).where(
                SocialAccount.workspace_id == workspace_id,
                SocialAccount.platform == platform,
                SocialAccount.platform_account_id == platform_account_id,
            )
        ).first()
        account = existing or SocialAccount(
            workspace_id=workspace_id,
            platform=platform,
            platform_account_id=platform_account_id,
            username=username,
            access_token="",
        )
        context = f"{workspace_id}:{platform}:{platform_account_id}"
        account.username = username
        account.display_name = display_name or account.display_name
        account.access_token = self.cipher.encrypt(tokens.access_token, context=context)
        # Postiz lost refresh tokens on reconnect (PR #1884): keep the old one unless a new one came.
        if tokens.refresh_token:
            account.refresh_token = self.cipher.encrypt(tokens.refresh_token, context=context)
        account.token_expiry = tokens.expires_at
        account.extra = {**(account.extra or {}), **(extra or {})}
        account.is_active = True
        account.status = "connected"
        account.updated_at = utcnow()
        session.add(account)
        session.flush()
        audit.record(
            session,
            workspace_id=workspace_id,
            user_id=user_id,
            action="reconnect" if existing else "connect",
            resource="social_account",
            resource_id=account.id,
            changes={"platform": platform, "username": username},
        )
        return account

    def get(self, session: Session, workspace_id: str, account_id: str) -> SocialAccount:
        """One account of the workspace."""
        account = session.get(SocialAccount, account_id)
        if account is None or account.workspace_id != workspace_id:
            raise NotFound(f"social account {account_id} not found")
        return account

    def list(self, session: Session, workspace_id: str) -> list[SocialAccount]:
        """The workspace's accounts."""
        return list(
            session.exec(select(SocialAccount).where(SocialAccount.workspace_id == workspace_id)).all()
        )

    def disconnect(
        self, session: Session, workspace_id: str, account_id: str, *, user_id: str | None = None
    ) -> None:
        """Deactivate an account and forget its tokens."""
        account = self.get(session, workspace_id, account_id)
        account.is_active = False
        account.status = "disconnected"
        account.access_token = ""
        account.refresh_token = None
        account.updated_at = utcnow()
        session.add(account)
        audit.record(
            session,
            workspace_id=workspace_id,
            user_id=user_id,
            action="disconnect",
            resource="social_account",
            resource_id=account_id,
        )

    def auth(self, account: SocialAccount) -> AccountAuth:
        """The decrypted credentials a connector needs for `account`."""
        context = f"{account.workspace_id}:{account.platform}:{account.platform_account_id}"
        return AccountAuth(
            account_id=account.id,
            platform=account.platform,
            platform_account_id=account.platform_account_id,
            username=account.username,
            access_token=self.cipher.decrypt(account.access_token, context=context)
            if account.access_token
            else "",
            refresh_token=self.cipher.decrypt(account.refresh_token, context=context)
            if account.refresh_token
            else None,
            token_expiry=account.token_expiry,
            extra={k: str(v) for k, v in (account.extra or {}).items()},
        )

    def connector(self, account: SocialAccount) -> Connector:
        """The connector serving `account` (one instance per account, reused)."""
        connector = self._connectors.get(account.id)
        if connector is None:
            connector = self._connectors.setdefault(account.id, self.connector_factory(account))
        return connector

    def current_auth(self, account_id: str) -> AccountAuth:
        """The credentials stored for an account now (another caller may have refreshed them)."""
        return self.auth(self._stored(account_id))

    def _stored(self, account_id: str) -> SocialAccount:
        with Session(self.engine, expire_on_commit=False) as session:
            row = session.get(SocialAccount, account_id)
        if row is None:
            raise NotFound(f"social account {account_id} not found")
        return row

    async def refresh(
        self, account_id: str, *, failed_token: str | None = None, now: datetime | None = None
    ) -> AccountAuth:
        """Refresh an account's tokens through its connector and store them encrypted.

        With `failed_token` (the access token a platform just refused) the refresh happens only while
        that token is still the stored one; otherwise the stored, newer credentials are returned.
        """
        auth, _ = await self.refresh_after(account_id, failed_token=failed_token, now=now)
        return auth

    async def refresh_after(
        self, account_id: str, *, failed_token: str | None = None, now: datetime | None = None
    ) -> tuple[AccountAuth, bool]:
        """`refresh`, and whether this call refreshed: False when another refreshed since `failed_token`
        was used (waiting for a refresh in flight included), so the refusal was not the caller's."""
        loop = asyncio.get_running_loop()
        lock = self._refreshing.setdefault(loop, {}).setdefault(account_id, asyncio.Lock())
        async with lock:
            row = self._stored(account_id)
            current = self.auth(row)
            if failed_token is not None and current.access_token != failed_token:
                # Someone refreshed since the failed call was made. A refresh revokes the token it
                # replaces, so refreshing again would break every call now holding the new token.
                return current, False
            # The platform call happens outside any transaction; the write takes the lock afterwards.
            tokens = await self.connector(row).refresh_token(current)
            return self._store_tokens(account_id, tokens, now=now), True

    def _store_tokens(self, account_id: str, tokens: TokenSet, *, now: datetime | None) -> AccountAuth:
        with session_scope(self.engine) as session:
            account = session.get(SocialAccount, account_id)
            assert account is not None
            context = f"{account.workspace_id}:{account.platform}:{account.platform_account_id}"
            account.access_token = self.cipher.encrypt(tokens.access_token, context=context)
            if tokens.refresh_token:
                account.refresh_token = self.cipher.encrypt(tokens.refresh_token, context=context)
            account.token_expiry = tokens.expires_at
            account.status = "connected"
            account.updated_at = now or utcnow()
            session.add(account)
            audit.record(
                session,
                workspace_id=account.workspace_id,
                actor="system",
                action="refresh_token",
                resource="social_account",
                resource_id=account.id,
            )
            session.flush()
            return self.auth(account)

    async def with_auth(self, account: SocialAccount, call: Callable[[AccountAuth], Awaitable[T]]) -> T:
        """`call(auth)`; when the platform says the token expired, refresh it once and call again."""
        auth = self.auth(account)
        try:
            return await call(auth)
        except AuthExpired:
            return await call(await self.refresh(account.id, failed_token=auth.access_token))

    def mark_auth_expired(self, account_id: str) -> None:
        """Flag an account whose token could not be refreshed: it needs reconnecting."""
        with session_scope(self.engine) as session:
            account = session.get(SocialAccount, account_id)
            if account is not None:
                account.status = "auth_expired"
                account.updated_at = utcnow()
                session.add(account)
                audit.record(
                    session,
                    workspace_id=account.workspace_id,
                    actor="system",
                    action="auth_expired",
                    resource="social_account",
                    resource_id=account.id,
                )


def default_accounts_service(engine: Engine, cipher: FieldCipher) -> AccountsService:
    """Accounts whose connectors come from the registry (sandbox worlds or real platform APIs)."""
    from brandcrew.connectors.registry import connector_for

    def factory(account: SocialAccount) -> Connector:
        return connector_for(account.platform, account.extra or {}, engine=engine)

    return AccountsService(engine, cipher, connector_factory=factory)
