"""Accounts keep tokens encrypted, never lose a refresh token on reconnect, and refresh through the connector."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlmodel import Session

from brandcrew.connectors.base import AccountAuth, TokenSet
from brandcrew.connectors.errors import AuthExpired
from brandcrew.services.errors import NotFound
from brandcrew.store.tables import SocialAccount
from tests.utils.domain import accounts_with, connect, make_workspace
from tests.utils.fakes import FakeConnector


async def test_connect_reconnect_refresh_disconnect(sqlite_engine: Any) -> None:
    fake = FakeConnector(platform="x")
    accounts = accounts_with(sqlite_engine, {"brand": fake})
    ws = make_workspace(sqlite_engine)
    account = connect(sqlite_engine, accounts, ws.id, platform="x", username="brand", page="p1")
    with Session(sqlite_engine) as session:
        row = session.get(SocialAccount, account.id)
        assert (
            row is not None and "token-brand" not in row.access_token and row.access_token.startswith("v1:")
        )
        # A reconnect without a refresh token keeps the stored one (Postiz PR #1884).
        accounts.connect(
            session,
            workspace_id=ws.id,
            platform="x",
            platform_account_id="x-brand",
            username="brand",
            tokens=TokenSet(access_token="new-access"),
        )
        session.commit()
        auth = accounts.auth(session.get(SocialAccount, account.id))  # type: ignore[arg-type]
    assert (auth.access_token, auth.refresh_token, auth.extra["page"]) == (
        "new-access",
        "refresh-brand",
        "p1",
    )
    refreshed = await accounts.refresh(account.id)
    assert refreshed.access_token == "fresh-1" and fake.refreshes == 1
    accounts.mark_auth_expired(account.id)
    with Session(sqlite_engine) as session:
        assert accounts.get(session, ws.id, account.id).status == "auth_expired"
        assert [a.id for a in accounts.list(session, ws.id)] == [account.id]
        accounts.disconnect(session, ws.id, account.id)
        session.commit()
        gone = accounts.get(session, ws.id, account.id)
        assert (gone.is_active, gone.access_token, gone.refresh_token) == (False, "", None)
        with pytest.raises(NotFound):
            accounts.get(session, "another-workspace", account.id)
    assert accounts.connector(gone) is accounts.connector(gone)


class RevokingPlatform(FakeConnector):
    """Accepts only the newest access token: a refresh revokes the one before, as real platforms do."""

    valid: str = "fresh-0"
    served: int = 0

    async def refresh_token(self, account: AccountAuth) -> TokenSet:
        await asyncio.sleep(0.01)  # the platform round trip, long enough for other calls to fail meanwhile
        tokens = await super().refresh_token(account)
        self.valid = tokens.access_token
        return tokens

    async def read(self, auth: AccountAuth) -> str:
        await asyncio.sleep(0)  # let concurrent calls overlap
        if auth.access_token != self.valid:
            raise AuthExpired("401 access token revoked", platform=self.platform, status_code=401)
        self.served += 1
        return auth.access_token


async def test_concurrent_calls_on_an_expired_token_refresh_it_once(sqlite_engine: Any) -> None:
    platform = RevokingPlatform(platform="x")
    accounts = accounts_with(sqlite_engine, {"brand": platform})
    ws = make_workspace(sqlite_engine)
    account = connect(sqlite_engine, accounts, ws.id, platform="x", username="brand")
    # Eight calls hold the stored token, which the platform no longer accepts; each gets a 401. Were each
    # to refresh, every refresh would revoke the token the calls before it had just been given.
    used = await asyncio.gather(*(accounts.with_auth(account, platform.read) for _ in range(8)))
    assert platform.refreshes == 1 and platform.served == 8
    assert set(used) == {"fresh-1"}
    # A caller whose failed token is no longer stored gets the stored one, without a platform call.
    assert (await accounts.refresh(account.id, failed_token="token-brand")).access_token == "fresh-1"
    assert platform.refreshes == 1
    # A failure of the stored token itself still refreshes.
    assert (await accounts.refresh(account.id, failed_token="fresh-1")).access_token == "fresh-2"
    with pytest.raises(NotFound):
        await accounts.refresh("no-such-account")
