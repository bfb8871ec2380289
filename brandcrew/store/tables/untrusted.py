"""Fingerprints of outside text a thread's models were shown (for the copied-content check)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from brandcrew.store.tables._base import json_column, new_id, ts_column, utcnow


class UntrustedSeen(SQLModel, table=True):
    """One tool result of outside text, as fingerprints (hashes only: the text itself stays where it was)."""

    __tablename__ = "untrusted_seen"
    __table_args__ = (Index("idx_untrusted_seen_thread", "workspace_id", "thread_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    workspace_id: str = Field(max_length=64)
    thread_id: str = Field(max_length=128)
    source: str = Field(max_length=128)
    """The tool (or path) the text came through."""
    fingerprints: list[int] = Field(default_factory=list, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
