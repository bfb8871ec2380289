"""Metadata filters: validation and Pinecone-style evaluation shared by every backend."""

from __future__ import annotations

from typing import Any

import pytest

from brandcrew.memory import InvalidFilterError, validate_filter
from brandcrew.memory._filters import matches

META: dict[str, Any] = {
    "kind": "post",
    "likes": 12,
    "rate": 0.031,
    "pinned": False,
    "tags": ["launch", "spring"],
}


@pytest.mark.parametrize(
    ("filt", "expected"),
    [
        ({"kind": "post"}, True),
        ({"kind": {"$eq": "mention"}}, False),
        ({"kind": {"$ne": "mention"}}, True),
        ({"likes": {"$gt": 12}}, False),
        ({"likes": {"$gte": 12, "$lte": 12}}, True),
        ({"rate": {"$lt": 0.05}}, True),
        ({"kind": {"$in": ["post", "document"]}}, True),
        ({"kind": {"$nin": ["post"]}}, False),
        ({"pinned": False}, True),
        ({"pinned": 0}, False),  # booleans never equal numbers
        ({"likes": "12"}, False),  # nor strings numbers
        ({"tags": "spring"}, True),  # list metadata: any element
        ({"tags": {"$nin": ["autumn"]}}, True),
        ({"tags": {"$ne": "launch"}}, False),
        ({"missing": {"$ne": "x"}}, True),  # a missing field satisfies only $ne / $nin
        ({"missing": {"$nin": ["x"]}}, True),
        ({"missing": {"$lt": 5}}, False),
        ({"$or": [{"kind": "mention"}, {"likes": {"$gt": 10}}]}, True),
        ({"$and": [{"kind": "post"}, {"likes": {"$gt": 100}}]}, False),
    ],
)
def test_filter_semantics(filt: dict[str, Any], expected: bool) -> None:
    assert matches(validate_filter(filt), META) is expected


@pytest.mark.parametrize(
    ("filt", "message"),
    [
        ({"kind": {"$regex": "p"}}, "unsupported operator"),
        ({"$not": {"kind": "post"}}, "unknown top-level operator"),
        ({"kind": {"$in": []}}, "non-empty list"),
        ({"kind": None}, "must be a string"),
        ({"kind": {"$eq": ["a"]}}, "takes a string"),
        ({"pinned": {"$gt": True}}, "cannot order booleans"),
        ({"$or": []}, "non-empty list"),
    ],
)
def test_invalid_filters_name_the_problem(filt: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidFilterError, match=message):
        validate_filter(filt)


def test_shorthand_is_canonicalised() -> None:
    assert validate_filter({"kind": "post", "$or": [{"a": 1}]}) == {
        "kind": {"$eq": "post"},
        "$or": [{"a": {"$eq": 1}}],
    }
