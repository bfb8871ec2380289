"""Graph values as JSON, the way the LangGraph server sends them (messages as their `model_dump()`)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import json
import uuid
from decimal import Decimal
from typing import Any

from langchain_core.messages import BaseMessage
from langgraph.types import Command, Interrupt, Send
from pydantic import BaseModel

_MAX_DEPTH = 64


def to_jsonable(value: Any, _depth: int = 0) -> Any:
    """`value` as plain JSON data: messages, interrupts, sends, pydantic models, dataclasses, dates."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if _depth > _MAX_DEPTH:
        return repr(value)
    depth = _depth + 1
    if isinstance(value, dict):
        return {str(k): to_jsonable(v, depth) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v, depth) for v in value]
    if isinstance(value, BaseMessage):
        return to_jsonable(value.model_dump(), depth)
    if isinstance(value, Interrupt):
        return {"value": to_jsonable(value.value, depth), "id": value.id}
    if isinstance(value, Send):
        return {"node": value.node, "arg": to_jsonable(value.arg, depth)}
    if isinstance(value, Command):
        return {
            k: to_jsonable(v, depth)
            for k, v in (
                ("graph", value.graph),
                ("update", value.update),
                ("resume", value.resume),
                ("goto", value.goto),
            )
            if v not in (None, (), [])
        }
    if isinstance(value, BaseModel):
        return to_jsonable(value.model_dump(), depth)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value, depth)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name), depth) for f in dataclasses.fields(value)}
    if hasattr(value, "_asdict"):
        return to_jsonable(value._asdict(), depth)
    return repr(value)


def dumps(value: Any) -> str:
    """Compact JSON text of `value` (after `to_jsonable`)."""
    return json.dumps(to_jsonable(value), ensure_ascii=False, separators=(",", ":"))
