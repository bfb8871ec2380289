"""What is remembered (posts with performance, mentions, messages, documents) and the search over it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from brandcrew.memory import (
    MEMORY_METADATA_FIELDS,
    DocumentMemory,
    HashingEmbedder,
    PostMemory,
    SqliteVecMemory,
    VectorMemoryStore,
    open_memory,
    open_store,
    remember_documents,
    remember_mentions,
    remember_messages,
    remember_posts,
    search_memory,
)
from brandcrew.memory.remember import chunk_text
from brandcrew.store.tables.community import Message
from brandcrew.store.tables.listening import Mention


@pytest.fixture
def mem(vec_path: Path) -> SqliteVecMemory:
    return SqliteVecMemory(vec_path, dimension=384, metadata_fields=MEMORY_METADATA_FIELDS)


def test_posts_mentions_messages_and_documents_are_searchable_by_kind(
    mem: SqliteVecMemory, hashing: HashingEmbedder
) -> None:
    ws = "ws_1"
    posts = [
        PostMemory(id="p1", platform="x", text="Ink test Tuesday: iron gall ink on cotton rag, no feathering",
                   impressions=2000, likes=80, comments=12, shares=8, published_at=datetime(2026, 5, 1, tzinfo=UTC)),
        PostMemory(id="p2", platform="linkedin", text="Why our notebooks cost what they cost: the honest breakdown",
                   impressions=5000, likes=40, engagement_rate=0.02),
    ]  # fmt: skip
    assert remember_posts(mem, ws, posts, embedder=hashing) == 2
    # rows from the store's tables validate as they are (services hand them over unchanged)
    mention = Mention(workspace_id=ws, platform="x", platform_mention_id="m-9", author_username="penpal",
                      content="My Quillmoss journal arrived with a crushed corner, the parcel was soaked", sentiment="negative")  # fmt: skip
    message = Message(workspace_id=ws, conversation_id="c1", direction="inbound", platform_message_id="dm-1",
                      content="Do you ship to Ireland? My parcel has been stuck for two weeks", sentiment=-0.4)  # fmt: skip
    assert remember_mentions(mem, ws, [mention], embedder=hashing) == 1
    assert remember_messages(mem, ws, [message], embedder=hashing) == 1
    doc = DocumentMemory(id="d1", title="Shipping policy", kind="guideline",
                         text="We post within two days.\n\nParcels to Ireland take five to seven days.")  # fmt: skip
    assert remember_documents(mem, ws, [doc], embedder=hashing) == 1

    hits = search_memory(mem, ws, "my parcel to Ireland is stuck", embedder=hashing, top_k=5)
    assert len(hits) == 5 and hits[0].kind == "message" and hits[0].source_id == message.id
    assert hits[0].text == message.content and hits[0].score > hits[-1].score

    only_posts = search_memory(mem, ws, "iron gall ink feathering", embedder=hashing, kinds=["post"])
    assert [h.source_id for h in only_posts] == ["p1", "p2"]
    assert only_posts[0].metadata["engagement_rate"] == pytest.approx(100 / 2000)
    assert only_posts[0].platform == "x"
    best = search_memory(
        mem, ws, "notebooks", embedder=hashing, kinds=["post"], filter={"engagement_rate": {"$gte": 0.03}}
    )
    assert [h.source_id for h in best] == ["p1"]

    (msg_hit,) = search_memory(mem, ws, "shipping", embedder=hashing, kinds=["message"])
    assert msg_hit.metadata["sentiment"] == "negative" and msg_hit.metadata["direction"] == "inbound"
    assert search_memory(mem, "ws_2", "shipping", embedder=hashing) == []  # other workspaces see nothing


def test_a_shorter_document_version_leaves_no_stale_chunks(
    mem: SqliteVecMemory, hashing: HashingEmbedder
) -> None:
    long_text = "\n\n".join(f"Paragraph {i}: " + "cotton rag paper " * 30 for i in range(6))
    assert remember_documents(mem, "ws", [{"id": "brand-book", "text": long_text}], embedder=hashing) > 3
    assert remember_documents(mem, "ws", [{"id": "brand-book", "text": "Short now."}], embedder=hashing) == 1
    assert [r.id for r in mem.scan("ws")] == ["document:brand-book:0"]


def test_chunks_respect_the_size_and_keep_every_word() -> None:
    text = "\n\n".join(["Short paragraph.", "A sentence about paper. " * 80])
    chunks = chunk_text(text, max_chars=300)
    assert all(len(c) <= 300 for c in chunks)
    assert " ".join(chunks).split() == text.split()


def test_open_memory_uses_the_application_database(
    hashing: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PINECONE_API_KEY", raising=False)
    mem = open_memory(embedder=hashing)
    assert isinstance(mem, SqliteVecMemory)
    assert mem.path.endswith("brandcrew.db") and mem.index.dimension == 384
    assert set(mem.metadata_fields) == set(MEMORY_METADATA_FIELDS)
    mem.close()
    store = open_store(embedder=hashing)
    assert isinstance(store, VectorMemoryStore)
    store.put(("ws_1", "memories"), "k", {"text": "hello"})
    assert store.memory.index.name == "store" and store.get(("ws_1", "memories"), "k") is not None


def test_pinecone_is_chosen_by_settings_not_code(
    hashing: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from brandcrew.memory import pinecone_backend

    opened: list[tuple[str, int]] = []

    class FakePinecone:
        def __init__(self, index: str, *, dimension: int) -> None:
            opened.append((index, dimension))

    monkeypatch.setenv("PINECONE_API_KEY", "pcsk_test_not_a_real_key")
    monkeypatch.setenv("BRANDCREW_PINECONE_INDEX_PREFIX", "acme")
    monkeypatch.setattr(pinecone_backend, "PineconeMemory", FakePinecone)
    open_memory(embedder=hashing)
    assert opened == [("acme-memory", 384)]
