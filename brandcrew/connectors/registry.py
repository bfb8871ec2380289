"""Which connector serves an account: the sandbox world it lives in, or the platform's real API."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine

from brandcrew.connectors.base import Connector
from brandcrew.connectors.capabilities import CAPABILITIES, Platform

# Real API connectors, imported only when an account needs one (httpx clients are not free).
API_CONNECTORS: Mapping[str, str] = {
    "x": "brandcrew.connectors.x:XConnector",
    "linkedin": "brandcrew.connectors.linkedin:LinkedInConnector",
    "facebook": "brandcrew.connectors.meta:FacebookConnector",
    "instagram": "brandcrew.connectors.meta:InstagramConnector",
    "threads": "brandcrew.connectors.threads:ThreadsConnector",
}


class ConnectorInfo(BaseModel):
    """What `brandcrew connectors list` shows for a platform."""

    platform: str
    name: str
    can_publish: bool
    via: str
    """How posts reach it: the real API, or only validation; every platform can be simulated."""
    text_limit: str
    daily_post_quota: int | None


def _load(path: str) -> type[Connector]:
    module, _, name = path.partition(":")
    cls: type[Connector] = getattr(importlib.import_module(module), name)
    return cls


def connector_for(platform: str, extra: Mapping[str, Any], *, engine: Engine) -> Connector:
    """The connector for an account on `platform` whose stored extras are `extra`."""
    if extra.get("sandbox_world"):
        from brandcrew.connectors.sandbox import SandboxConnector

        return SandboxConnector(engine, str(extra["sandbox_world"]), platform)
    path = API_CONNECTORS.get(platform)
    if path is None:
        raise NotImplementedError(
            f"{platform}: no publishing connector yet (capabilities and validation only); "
            "use the sandbox or one of: " + ", ".join(sorted(API_CONNECTORS))
        )
    return _load(path)()


def list_connectors() -> list[ConnectorInfo]:
    """Every known platform, saying plainly which can publish and how."""
    out = []
    for platform, caps in CAPABILITIES.items():
        if platform == Platform.SANDBOX:
            via, can = "sandbox", True
        elif platform.value in API_CONNECTORS:
            via, can = "real API (+ sandbox)", True
        else:
            via, can = "validation only (+ sandbox)", False
        limit = f"{caps.text.max_length} {caps.text.count.value}" if caps.text else "-"
        out.append(
            ConnectorInfo(
                platform=platform.value,
                name=caps.name,
                can_publish=can,
                via=via,
                text_limit=limit,
                daily_post_quota=caps.daily_post_quota,
            )
        )
    return out
