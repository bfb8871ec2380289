"""VectorMemoryStore: the port as a LangGraph BaseStore (put/get/search/delete/list, semantic search, graphs)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, TypedDict

import pytest
from langgraph.graph import END, START, StateGraph
from langgraph.store.base import BaseStore, InvalidNamespaceError

from brandcrew.memory import (
    STORE_METADATA_FIELDS,
    DimensionMismatchError,
    HashingEmbedder,
    InvalidFilterError,
    SqliteVecMemory,
    VectorMemoryStore,
)

NOTES = {
    "n1": {
        "text": "Customers love the cotton rag paper and the hand stitching",
        "topic": "product",
        "stars": 5,
    },
    "n2": {"text": "Parcels to Ireland were delayed by the postal strike", "topic": "shipping", "stars": 2},
    "n3": {"text": "Fountain pen ink does not feather on the 120 gsm sheet", "topic": "product", "stars": 4},
}


@pytest.fixture
def store(vec_path: Path, hashing: HashingEmbedder) -> VectorMemoryStore:
    return VectorMemoryStore.sqlite(vec_path, embedder=hashing)


def test_put_get_update_delete(store: VectorMemoryStore) -> None:
    ns = ("ws_1", "memories", "writer")
    store.put(ns, "n1", NOTES["n1"])
    item = store.get(ns, "n1")
    assert item is not None
    assert (item.namespace, item.key, item.value) == (ns, "n1", NOTES["n1"])
    created = item.created_at
    time.sleep(0.01)
    store.put(ns, "n1", {**NOTES["n1"], "stars": 3})
    updated = store.get(ns, "n1")
    assert updated is not None and updated.value["stars"] == 3
    assert updated.created_at == created and updated.updated_at > created
    assert store.get(("ws_1", "memories", "other"), "n1") is None  # another namespace, another item
    store.delete(ns, "n1")
    assert store.get(ns, "n1") is None


def test_semantic_search_ranks_by_meaning_within_a_namespace_prefix(store: VectorMemoryStore) -> None:
    for key, value in NOTES.items():
        store.put(("ws_1", "memories", "writer"), key, value)
    store.put(
        ("ws_1", "archive"), "old", {"text": "cotton rag paper and stitching, archived", "topic": "product"}
    )
    store.put(("ws_2", "memories", "writer"), "n1", NOTES["n1"])

    hits = store.search(("ws_1", "memories"), query="ink feathering on paper", limit=2)
    assert [h.key for h in hits] == ["n3", "n1"]
    assert all(h.namespace == ("ws_1", "memories", "writer") for h in hits)
    assert hits[0].score is not None and hits[0].score > hits[1].score  # type: ignore[operator]

    filtered = store.search(("ws_1",), query="paper", filter={"topic": "product", "stars": {"$gte": 5}})
    assert [h.key for h in filtered] == ["n1"]
    everything = store.search(("ws_1",), query="paper", limit=10)
    assert {h.namespace[1] for h in everything} == {"memories", "archive"}
    assert len(store.search((), query="cotton rag paper", limit=10)) == 5  # every workspace


def test_filter_only_search_and_unindexed_items(store: VectorMemoryStore) -> None:
    ns = ("ws_1", "profile")
    store.put(ns, "tone", {"text": "warm and plain-spoken", "kind": "voice"}, index=False)
    store.put(ns, "cta", {"text": "invite, never pressure", "kind": "voice"})
    # index=False items are not in semantic results ...
    assert [h.key for h in store.search(ns, query="warm plain-spoken voice")] == ["cta"]
    # ... but a filter-only search finds both, newest first, with no score
    listed = store.search(ns, filter={"kind": "voice"})
    assert [h.key for h in listed] == ["cta", "tone"] and listed[0].score is None
    assert [h.key for h in store.search(ns, filter={"kind": "voice"}, limit=1, offset=1)] == ["tone"]


def test_list_namespaces_with_prefix_suffix_and_depth(store: VectorMemoryStore) -> None:
    for ns in [
        ("ws_1", "memories", "writer"),
        ("ws_1", "memories", "strategist"),
        ("ws_1", "profile"),
        ("ws_2", "profile"),
    ]:
        store.put(ns, "k", {"text": "x"}, index=False)
    assert store.list_namespaces(prefix=("ws_1",)) == [
        ("ws_1", "memories", "strategist"),
        ("ws_1", "memories", "writer"),
        ("ws_1", "profile"),
    ]
    assert store.list_namespaces(suffix=("profile",)) == [("ws_1", "profile"), ("ws_2", "profile")]
    assert store.list_namespaces(prefix=("ws_1", "*"), max_depth=2) == [
        ("ws_1", "memories"),
        ("ws_1", "profile"),
    ]


async def test_async_api_goes_through_abatch(store: VectorMemoryStore) -> None:
    await store.aput(("ws_1", "memories"), "n2", NOTES["n2"])
    item = await store.aget(("ws_1", "memories"), "n2")
    assert item is not None and item.value == NOTES["n2"]
    hits = await store.asearch(("ws_1",), query="late parcels postal strike")
    assert hits[0].key == "n2"


def test_agents_use_it_as_the_graph_store(store: VectorMemoryStore) -> None:
    class State(TypedDict):
        note: str
        recalled: list[str]

    def remember(state: State, *, store: BaseStore) -> dict[str, Any]:
        store.put(("ws_1", "memories", "writer"), "latest", {"text": state["note"]})
        return {}

    def recall(state: State, *, store: BaseStore) -> dict[str, Any]:
        return {
            "recalled": [h.value["text"] for h in store.search(("ws_1", "memories"), query="shipping delays")]
        }

    graph = StateGraph(State)
    graph.add_node("remember", remember)
    graph.add_node("recall", recall)
    graph.add_edge(START, "remember")
    graph.add_edge("remember", "recall")
    graph.add_edge("recall", END)
    out = graph.compile(store=store).invoke(
        {"note": "Shipping delays expected over the holidays", "recalled": []}
    )
    assert out["recalled"] == ["Shipping delays expected over the holidays"]


def test_misuse_is_a_clear_error(store: VectorMemoryStore, vec_path: Path) -> None:
    with pytest.raises(InvalidNamespaceError):
        store.put(("ws.1", "x"), "k", {"a": 1})
    with pytest.raises(InvalidFilterError, match="nested"):
        store.search(("ws_1",), filter={"meta": {"a": 1}})
    with pytest.raises(NotImplementedError):
        store.put(("ws_1", "x"), "k", {"a": 1}, ttl=5)
    memory = SqliteVecMemory(vec_path, index="store", dimension=384, metadata_fields=STORE_METADATA_FIELDS)
    with pytest.raises(DimensionMismatchError):
        VectorMemoryStore(memory, embedder=HashingEmbedder(64))
