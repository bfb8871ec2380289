"""Fixtures of the sandbox tests: a migrated database (SQLite, and PostgreSQL where marked) and worlds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from brandcrew.connectors.base import AccountAuth
from brandcrew.connectors.sandbox import SandboxWorld

START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
"""A Monday, midnight UTC: the default start of test worlds."""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Any:
    """A migrated database of the test's own, on SQLite and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_engine")


@pytest.fixture
def make_world(sqlite_engine: Any) -> Callable[..., SandboxWorld]:
    """Build a world on the test's SQLite database (UTC audience, clock at START unless told)."""

    def make(engine: Any = None, **kwargs: Any) -> SandboxWorld:
        kwargs.setdefault("seed", 7)
        kwargs.setdefault("brand", {"name": "Acme", "utc_offset": 0.0})
        kwargs.setdefault("start", START)
        return SandboxWorld.create(engine or sqlite_engine, **kwargs)

    return make


def auth(world: SandboxWorld, platform: str) -> AccountAuth:
    """The brand's current credentials on `platform`."""
    return world.own_account(platform).auth()
