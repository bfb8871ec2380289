"""What brandcrew remembers, and the semantic search agents run over it.

Four kinds of records share one index per workspace, told apart by metadata `kind`:

- `post`: a published post with its performance (impressions, likes, ..., engagement rate);
- `mention`: a social-listening mention with author, sentiment and reach;
- `message`: an inbox message (direction, conversation, sentiment);
- `document` / `guideline`: brand documents and written guidelines, split into chunks.

Inputs are plain pydantic models that also validate from the store's table rows
(`from_attributes`), so services hand rows over without this package importing them.
Re-remembering the same source replaces its records (ids are derived from the source id).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from brandcrew.memory._filters import Filter, validate_filter
from brandcrew.memory.embedders import Embedder
from brandcrew.memory.port import Record, VectorMemory, check_dimension
from brandcrew.memory.sqlite_vec import FieldType

__all__ = (
    "MEMORY_METADATA_FIELDS",
    "DocumentMemory",
    "MemoryHit",
    "MemoryKind",
    "MentionMemory",
    "MessageMemory",
    "PostMemory",
    "chunk_text",
    "remember_documents",
    "remember_mentions",
    "remember_messages",
    "remember_posts",
    "search_memory",
)

MemoryKind = Literal["post", "mention", "message", "document", "guideline"]

MEMORY_METADATA_FIELDS: dict[str, FieldType] = {
    "kind": "text",
    "platform": "text",
    "source_id": "text",
    "created_at": "integer",
    "engagement_rate": "float",
    "impressions": "integer",
    "sentiment": "text",
    "campaign_id": "text",
    "direction": "text",
}
"""Columns the sqlite-vec memory index declares, so the usual filters run inside the KNN scan."""

_ROW = ConfigDict(from_attributes=True, extra="ignore", populate_by_name=True)


def _epoch(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value is not None else None


class PostMemory(BaseModel):
    """A published post and how it performed."""

    model_config = _ROW

    id: str
    platform: str
    text: str = Field(validation_alias=AliasChoices("text", "content"))
    published_at: datetime | None = None
    url: str | None = None
    campaign_id: str | None = None
    tags: list[str] = Field(default_factory=list)
    impressions: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    saves: int = 0
    clicks: int = 0
    engagement_rate: float | None = None
    """Interactions per impression; computed from the counts when not given."""

    def rate(self) -> float | None:
        """The engagement rate, given or computed."""
        if self.engagement_rate is not None:
            return self.engagement_rate
        if self.impressions <= 0:
            return None
        return (self.likes + self.comments + self.shares + self.saves + self.clicks) / self.impressions


class MentionMemory(BaseModel):
    """A mention of the brand found by social listening."""

    model_config = _ROW

    id: str
    platform: str
    text: str = Field(validation_alias=AliasChoices("text", "content"))
    author_username: str = ""
    sentiment: str | None = None
    reach: int = 0
    engagement: int = 0
    url: str | None = None
    created_at: datetime | None = None


class MessageMemory(BaseModel):
    """An inbox message (DM, comment or reply)."""

    model_config = _ROW

    id: str
    platform: str = ""
    text: str = Field(validation_alias=AliasChoices("text", "content"))
    conversation_id: str | None = None
    direction: str = "inbound"
    author_id: str | None = None
    sentiment: float | str | None = None
    created_at: datetime | None = None


class DocumentMemory(BaseModel):
    """A brand document or written guideline, chunked on the way in."""

    model_config = _ROW

    id: str
    title: str = ""
    text: str = Field(validation_alias=AliasChoices("text", "content", "body"))
    kind: Literal["document", "guideline"] = "document"
    source: str | None = None
    created_at: datetime | None = None


class MemoryHit(BaseModel):
    """One search result: what was found, where it came from, and how close it is."""

    kind: str
    source_id: str
    text: str
    score: float
    platform: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


def chunk_text(text: str, *, max_chars: int = 1000) -> list[str]:
    """Split on paragraphs, then sentences, into chunks of at most about `max_chars`."""
    pieces: list[str] = []
    for para in re.split(r"\n\s*\n", text.strip()):
        para = para.strip()
        if len(para) <= max_chars:
            if para:
                pieces.append(para)
            continue
        pieces += [s.strip() for s in re.split(r"(?<=[.!?])\s+", para) if s.strip()]
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        while len(piece) > max_chars:  # one enormous sentence: cut it
            chunks.append(piece[:max_chars])
            piece = piece[max_chars:]
        if current and len(current) + 2 + len(piece) > max_chars:
            chunks.append(current)
            current = piece
        else:
            current = f"{current}\n\n{piece}" if current else piece
    if current:
        chunks.append(current)
    return chunks


def _upsert(
    memory: VectorMemory, embedder: Embedder, workspace_id: str, items: list[tuple[str, str, dict[str, Any]]]
) -> int:
    if not items:
        return 0
    check_dimension(memory.index, embedder.dimension, what=f"embedder {embedder.name!r}")
    vectors = embedder.embed([text for _, text, _ in items])
    records = [
        Record(id=rid, vector=vec, text=text, metadata={k: v for k, v in meta.items() if v is not None})
        for (rid, text, meta), vec in zip(items, vectors, strict=True)
    ]
    return memory.upsert(workspace_id, records)


def remember_posts(
    memory: VectorMemory, workspace_id: str, posts: Iterable[PostMemory | Any], *, embedder: Embedder
) -> int:
    """Index published posts with their performance; returns how many were written."""
    items = []
    for raw in posts:
        post = raw if isinstance(raw, PostMemory) else PostMemory.model_validate(raw)
        if not post.text.strip():
            continue
        meta = {
            "kind": "post",
            "platform": post.platform,
            "source_id": post.id,
            "created_at": _epoch(post.published_at),
            "engagement_rate": post.rate(),
            "impressions": post.impressions,
            "likes": post.likes,
            "comments": post.comments,
            "shares": post.shares,
            "saves": post.saves,
            "clicks": post.clicks,
            "campaign_id": post.campaign_id,
            "url": post.url,
            "tags": post.tags or None,
        }
        items.append((f"post:{post.id}", post.text, meta))
    return _upsert(memory, embedder, workspace_id, items)


def remember_mentions(
    memory: VectorMemory, workspace_id: str, mentions: Iterable[MentionMemory | Any], *, embedder: Embedder
) -> int:
    """Index listening mentions; returns how many were written."""
    items = []
    for raw in mentions:
        m = raw if isinstance(raw, MentionMemory) else MentionMemory.model_validate(raw)
        meta = {
            "kind": "mention",
            "platform": m.platform,
            "source_id": m.id,
            "created_at": _epoch(m.created_at),
            "sentiment": m.sentiment,
            "author": m.author_username or None,
            "reach": m.reach,
            "engagement": m.engagement,
            "url": m.url,
        }
        items.append((f"mention:{m.id}", m.text, meta))
    return _upsert(memory, embedder, workspace_id, items)


def remember_messages(
    memory: VectorMemory, workspace_id: str, messages: Iterable[MessageMemory | Any], *, embedder: Embedder
) -> int:
    """Index inbox messages; returns how many were written."""
    items = []
    for raw in messages:
        msg = raw if isinstance(raw, MessageMemory) else MessageMemory.model_validate(raw)
        sentiment = msg.sentiment
        if isinstance(sentiment, float):
            # The inbox stores a polarity score; the filterable column holds a label.
            sentiment = "positive" if sentiment > 0.05 else "negative" if sentiment < -0.05 else "neutral"
        meta = {
            "kind": "message",
            "platform": msg.platform or None,
            "source_id": msg.id,
            "created_at": _epoch(msg.created_at),
            "sentiment": sentiment,
            "direction": msg.direction,
            "conversation_id": msg.conversation_id,
            "author": msg.author_id,
        }
        items.append((f"message:{msg.id}", msg.text, meta))
    return _upsert(memory, embedder, workspace_id, items)


def remember_documents(
    memory: VectorMemory,
    workspace_id: str,
    documents: Iterable[DocumentMemory | Any],
    *,
    embedder: Embedder,
    max_chars: int = 1000,
) -> int:
    """Index brand documents and guidelines in chunks; returns how many chunks were written."""
    items = []
    for raw in documents:
        doc = raw if isinstance(raw, DocumentMemory) else DocumentMemory.model_validate(raw)
        # A shorter new version must not leave the old version's tail chunks behind.
        memory.delete(workspace_id, filter={"source_id": doc.id, "kind": doc.kind})
        for n, chunk in enumerate(chunk_text(doc.text, max_chars=max_chars)):
            meta = {
                "kind": doc.kind,
                "source_id": doc.id,
                "title": doc.title or None,
                "source": doc.source,
                "created_at": _epoch(doc.created_at),
                "chunk": n,
            }
            text = f"{doc.title}\n\n{chunk}" if doc.title and n == 0 else chunk
            items.append((f"{doc.kind}:{doc.id}:{n}", text, meta))
    return _upsert(memory, embedder, workspace_id, items)


def search_memory(
    memory: VectorMemory,
    workspace_id: str,
    query: str,
    *,
    embedder: Embedder,
    kinds: Sequence[MemoryKind] | None = None,
    platform: str | None = None,
    top_k: int = 5,
    filter: Filter | None = None,
) -> list[MemoryHit]:
    """Semantic search over what the workspace remembers, optionally by kind and platform."""
    check_dimension(memory.index, embedder.dimension, what=f"embedder {embedder.name!r}")
    user = validate_filter(filter) or {}
    extra: dict[str, Any] = {}
    if kinds:
        extra["kind"] = {"$in": list(kinds)}
    if platform:
        extra["platform"] = {"$eq": platform}
    conditions = {"$and": [user, extra]} if set(user) & set(extra) else {**user, **extra}
    vector = embedder.embed([query])[0]
    matches = memory.query(workspace_id, vector, top_k=top_k, filter=conditions or None)
    return [
        MemoryHit(
            kind=str(m.metadata.get("kind", "")),
            source_id=str(m.metadata.get("source_id", m.id)),
            text=m.text,
            score=round(m.score, 4),
            platform=m.metadata.get("platform"),
            metadata=m.metadata,
        )
        for m in matches
    ]
