"""Accounts keep tokens encrypted, never lose a refresh token on reconnect, and refresh through the connector."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from brandcrew.connectors.base import TokenSet
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
