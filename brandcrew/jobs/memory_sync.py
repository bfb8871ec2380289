"""Keeping long-term memory current: published posts with their latest results, mentions and inbox
messages are (re)indexed into vector memory. Upserts are keyed by source id, so running it again
refreshes rather than duplicates."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from brandcrew.memory.embedders import Embedder
from brandcrew.memory.port import VectorMemory
from brandcrew.memory.remember import (
    MentionMemory,
    MessageMemory,
    PostMemory,
    remember_mentions,
    remember_messages,
    remember_posts,
)
from brandcrew.services.analytics import post_performance
from brandcrew.store.tables import Mention, Message


class MemorySyncResult(BaseModel):
    """How many items of each kind were (re)indexed."""

    posts: int = 0
    mentions: int = 0
    messages: int = 0


def sync_memory(
    engine: Engine, memory: VectorMemory, embedder: Embedder, *, workspace_id: str, since: datetime
) -> MemorySyncResult:
    """Index what the workspace published, heard and was told since `since`."""
    with Session(engine) as session:
        posts = post_performance(session, workspace_id=workspace_id, since=since)
        mentions = session.exec(
            select(Mention).where(Mention.workspace_id == workspace_id, col(Mention.created_at) >= since)
        ).all()
        messages = session.exec(
            select(Message).where(
                Message.workspace_id == workspace_id,
                col(Message.created_at) >= since,
                Message.direction == "inbound",
            )
        ).all()
    post_items = [
        PostMemory(
            id=f"{p.post_id}:{p.platform}",
            platform=p.platform,
            text=p.text,
            published_at=p.published_at,
            impressions=p.impressions,
            likes=p.likes,
            comments=p.comments,
            shares=p.shares,
            saves=p.saves,
            clicks=p.clicks,
            engagement_rate=round(p.engagement_rate, 5),
        )
        for p in posts
        if p.text
    ]
    mention_items = [
        MentionMemory(
            id=m.id,
            platform=m.platform,
            text=m.content,
            author_username=m.author_username,
            sentiment=m.sentiment,
            reach=m.reach,
            engagement=m.engagement,
            url=m.url,
            created_at=m.created_at,
        )
        for m in mentions
    ]
    message_items = [
        MessageMemory(
            id=m.id,
            text=m.content,
            conversation_id=m.conversation_id,
            direction=m.direction,
            sentiment=m.sentiment,
            created_at=m.created_at,
        )
        for m in messages
    ]
    return MemorySyncResult(
        posts=remember_posts(memory, workspace_id, post_items, embedder=embedder) if post_items else 0,
        mentions=remember_mentions(memory, workspace_id, mention_items, embedder=embedder)
        if mention_items
        else 0,
        messages=remember_messages(memory, workspace_id, message_items, embedder=embedder)
        if message_items
        else 0,
    )
