"""The services a tool or job works with, built once per process from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from brandcrew.services.accounts import AccountsService, default_accounts_service
from brandcrew.services.media import MediaStore
from brandcrew.settings import Settings, get_settings
from brandcrew.store.crypto import load_cipher
from brandcrew.store.tables import utcnow


@dataclass(kw_only=True)
class Services:
    """Engine, accounts (with their connectors), media and the clock, shared by tools and jobs."""

    engine: Engine
    accounts: AccountsService
    media: MediaStore
    settings: Settings
    clock: Callable[[], datetime] = utcnow
    """Sandbox worlds run on their own clock; everything that asks "now" asks this."""
    extras: dict[str, Any] = field(default_factory=dict)
    """Optional services added by later layers (vector memory, listening), by name."""

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> Services:
        """Services on the configured database, with connectors from the registry."""
        from brandcrew.store.engine import get_engine

        settings = settings or get_settings()
        engine = overrides.pop("engine", None) or get_engine(settings)
        accounts = overrides.pop("accounts", None) or default_accounts_service(
            engine, load_cipher(settings.data_dir)
        )
        media = overrides.pop("media", None) or MediaStore(settings.data_dir / "media")
        return cls(engine=engine, accounts=accounts, media=media, settings=settings, **overrides)
