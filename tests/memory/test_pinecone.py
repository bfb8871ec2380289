"""PineconeMemory against hand-written cassettes in Pinecone's documented 2026-07 wire format.

Each cassette under tests/cassettes/memory/ says at its top which documentation pages it follows.
Replay only: an unexpected request fails the test instead of reaching the network, and every
recorded interaction must be played.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import vcr

from brandcrew.memory import DimensionMismatchError, IndexSpec, PineconeMemory, Record

pytest.importorskip("pinecone")

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes" / "memory"
API_VERSION = "2026-07"
FAKE_KEY = "pcsk_test_not_a_real_key"


def _api_version(r1: Any, r2: Any) -> None:
    """Both requests carry the same X-Pinecone-Api-Version header (the SDK pins the API version)."""
    h1 = {k.lower(): v for k, v in r1.headers.items()}
    h2 = {k.lower(): v for k, v in r2.headers.items()}
    assert h1.get("x-pinecone-api-version") == h2.get("x-pinecone-api-version") == API_VERSION


WIRE = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="none",
    match_on=("method", "scheme", "host", "port", "path", "query", "body", "api_version"),
    filter_headers=("api-key",),
)
WIRE.register_matcher("api_version", _api_version)


@contextmanager
def replay(name: str) -> Iterator[Any]:
    """Replay one cassette; every interaction in it must be used."""
    with WIRE.use_cassette(name, allow_playback_repeats=False) as cass:
        yield cass
    assert cass.all_played, f"unplayed interactions in {name}"


def unit(*values: float) -> list[float]:
    return [*values, *([0.0] * (8 - len(values)))]


def test_pinecone_roundtrip_uses_one_namespace_per_workspace() -> None:
    with replay("pinecone_roundtrip.yaml"):
        _roundtrip()


def _roundtrip() -> None:
    mem = PineconeMemory("brandcrew-test", dimension=8, api_key=FAKE_KEY)
    assert mem.index == IndexSpec(name="brandcrew-test", dimension=8, metric="cosine")

    written = mem.upsert(
        "ws_a",
        [
            Record(id="post:1", vector=unit(1.0), metadata={"kind": "post", "platform": "x", "likes": 12},
                   text="Maud ran the beater for six hours today."),
            Record(id="post:2", vector=unit(0.5, 0.5, 0.5, 0.5),
                   metadata={"kind": "post", "platform": "linkedin", "likes": 40},
                   text="Why our notebooks cost what they cost."),
            Record(id="mention:7", vector=unit(0.0, 1.0), metadata={"kind": "mention", "platform": "x", "likes": 3},
                   text="Loving my Quillmoss journal."),
        ],
    )  # fmt: skip
    assert written == 3

    # The shorthand `"kind": "post"` goes out in canonical form, and Pinecone evaluates the filter.
    matches = mem.query(
        "ws_a", unit(0.5, 0.5, 0.5, 0.5), top_k=2, filter={"kind": "post", "likes": {"$gte": 10}}
    )
    assert [(m.id, m.score) for m in matches] == [("post:2", 1.0), ("post:1", 0.5)]
    assert matches[0].text == "Why our notebooks cost what they cost."
    assert matches[0].metadata == {"kind": "post", "platform": "linkedin", "likes": 40}  # `_text` stripped

    fetched = mem.fetch("ws_a", ["post:1", "post:9"])
    assert [r.id for r in fetched] == ["post:1"]
    assert list(fetched[0].vector) == unit(1.0)

    scanned = mem.scan("ws_a", filter={"platform": "x"})
    assert [r.id for r in scanned] == ["mention:7", "post:1"]

    mem.delete("ws_a", ids=["mention:7"])
    assert mem.namespaces() == ["ws_a", "ws_b"]
    mem.delete_namespace("ws_a")
    mem.close()


def test_pinecone_request_that_differs_from_the_cassette_never_reaches_the_network() -> None:
    with pytest.raises(Exception, match=r"(?i)cassette|match"), replay("pinecone_roundtrip.yaml"):
        mem = PineconeMemory("brandcrew-test", dimension=8, api_key=FAKE_KEY)
        mem.query("ws_a", unit(0.5, 0.5, 0.5, 0.5), top_k=2, filter={"kind": "mention"})


def test_pinecone_index_of_another_dimension_is_refused_at_open() -> None:
    with replay("pinecone_dimension_mismatch.yaml"), pytest.raises(DimensionMismatchError) as err:
        PineconeMemory("brandcrew-memory", dimension=384, api_key=FAKE_KEY)
    assert (err.value.expected, err.value.got) == (1536, 384)
    assert "1536" in str(err.value) and "384" in str(err.value)


def test_pinecone_without_a_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PINECONE_API_KEY", raising=False)
    with pytest.raises(Exception, match="PINECONE_API_KEY"):
        PineconeMemory("brandcrew-memory", dimension=384)
