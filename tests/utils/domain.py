"""Builders for workspaces and connected accounts in tests."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from brandcrew.connectors.base import Connector, TokenSet
from brandcrew.services.accounts import AccountsService
from brandcrew.store.crypto import FieldCipher
from brandcrew.store.tables import SocialAccount, Workspace

TEST_CIPHER = FieldCipher([("test", base64.urlsafe_b64decode(base64.urlsafe_b64encode(b"k" * 32)))])


def make_workspace(engine: Engine, slug: str = "acme") -> Workspace:
    """A workspace row."""
    with Session(engine, expire_on_commit=False) as session:
        workspace = Workspace(name=slug.title(), slug=slug)
        session.add(workspace)
        session.commit()
        return workspace


def accounts_with(engine: Engine, connectors: dict[str, Connector]) -> AccountsService:
    """An accounts service whose connector for each account is looked up by username."""

    def factory(account: SocialAccount) -> Connector:
        return connectors[account.username]

    return AccountsService(engine, TEST_CIPHER, connector_factory=factory)


def connect(
    engine: Engine,
    accounts: AccountsService,
    workspace_id: str,
    *,
    platform: str,
    username: str,
    **extra: Any,
) -> SocialAccount:
    """Connect an account with dummy tokens."""
    with Session(engine, expire_on_commit=False) as session:
        account = accounts.connect(
            session,
            workspace_id=workspace_id,
            platform=platform,
            platform_account_id=f"{platform}-{username}",
            username=username,
            tokens=TokenSet(access_token="token-" + username, refresh_token="refresh-" + username),
            extra=extra,
        )
        session.commit()
        return account
