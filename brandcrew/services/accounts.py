"""Social accounts: connect, refresh, disconnect; tokens encrypted at rest; the connector for each."""

from __future__ import annotations

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

    async def refresh(self, account_id: str, *, now: datetime | None = None) -> AccountAuth:
        """Refresh an account's tokens through its connector and store them encrypted."""
        with Session(self.engine, expire_on_commit=False) as session:
            current = session.get(SocialAccount, account_id)
        if current is None:
            raise NotFound(f"social account {account_id} not found")
        # The platform call happens outside any transaction; the write takes the lock afterwards.
        tokens = await self.connector(current).refresh_token(self.auth(current))
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
        try:
            return await call(self.auth(account))
        except AuthExpired:
            return await call(await self.refresh(account.id))

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
