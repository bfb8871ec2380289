"""What a channel sends: one alert, already worded, with the facts a receiver may want to act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = ("Notification", "Severity")

Severity = Literal["low", "medium", "high"]


@dataclass(frozen=True, kw_only=True)
class Notification:
    """An alert as channels see it; `id` is stable, so a receiver can drop a repeated delivery."""

    id: str
    title: str
    """One line: what happened to which brand."""
    text: str
    """A few lines: why it fired and what was done (publishing paused, statement drafted)."""
    severity: Severity = "medium"
    kind: str = "alert"
    workspace_id: str = ""
    created_at: datetime | None = None
    facts: dict[str, str] = field(default_factory=dict)
    """Short labelled values (query, window, topic) shown as fields where the channel has them."""
    people: tuple[str, ...] = ()
    """Email addresses of the people a notice is for (a step's approvers, the requester): an email
    channel set to `to_people` sends to them too."""

    def as_dict(self) -> dict[str, Any]:
        """The JSON body of a webhook delivery."""
        return {
            "id": self.id,
            "type": "brandcrew.alert",
            "kind": self.kind,
            "severity": self.severity,
            "title": self.title,
            "text": self.text,
            "workspace_id": self.workspace_id,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "facts": dict(self.facts),
        }

    def one_line(self, limit: int = 320) -> str:
        """Title and text squeezed onto one short line (SMS)."""
        line = f"[{self.severity.upper()}] {self.title}: {' '.join(self.text.split())}"
        return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
