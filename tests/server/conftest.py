"""Fixtures for server tests: the app on the test's own data dir, an in-process client, a live server
on localhost, and registered owners of two workspaces."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.notify.conftest import smtp_server  # noqa: F401  (a local SMTP server, for approval mail)
from tests.utils.server import Account, register, serve_in_thread


@pytest.fixture
def app() -> Any:
    """The brandcrew app on the test's isolated settings."""
    from brandcrew.server.app import create_app

    return create_app()


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    """An in-process client (lifespan run)."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    """The app served by uvicorn on a free localhost port; yields its base URL."""
    with serve_in_thread(app) as url:
        yield url


@pytest.fixture
def owner(app: Any) -> Account:
    """The owner of a fresh workspace (registered without running the app's lifespan)."""
    return register(TestClient(app), name="Ada", workspace="Northwind Coffee")


@pytest.fixture
def second_owner(app: Any) -> Account:
    """The owner of another workspace."""
    return register(TestClient(app), name="Grace", workspace="Southwind Tea")
