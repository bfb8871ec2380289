"""Metadata filters: validation and an evaluator with Pinecone's semantics.

A filter is a mapping of field name to either a plain value (shorthand for `$eq`) or an
operator mapping such as `{"$gte": 10, "$lt": 20}`; `$and` / `$or` take lists of filters.
Every backend validates with `validate_filter`. sqlite-vec pushes what its `vec0` table can
evaluate into SQL and checks the rest here (`matches`), so both backends agree on the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from brandcrew.errors import UserError

COMPARISON_OPS = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte"})
LIST_OPS = frozenset({"$in", "$nin"})
OPERATORS = COMPARISON_OPS | LIST_OPS
LOGICAL_OPS = frozenset({"$and", "$or"})

Filter = Mapping[str, Any]
Scalar = str | int | float | bool


class InvalidFilterError(UserError):
    """A metadata filter uses an unknown operator or a value it cannot compare."""


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def validate_filter(filter: Filter | None) -> dict[str, Any] | None:
    """Check a filter and return it in canonical form: every field maps to an operator dict."""
    if filter is None:
        return None
    if not isinstance(filter, Mapping):
        raise InvalidFilterError(f"a filter must be a mapping, got {type(filter).__name__}")
    out: dict[str, Any] = {}
    for field, cond in filter.items():
        if not isinstance(field, str) or not field:
            raise InvalidFilterError(f"filter field names must be non-empty strings, got {field!r}")
        if field in LOGICAL_OPS:
            if not isinstance(cond, Sequence) or isinstance(cond, (str, bytes)) or not cond:
                raise InvalidFilterError(f"{field} takes a non-empty list of filters")
            out[field] = [validate_filter(sub) for sub in cond]
            continue
        if field.startswith("$"):
            raise InvalidFilterError(
                f"unknown top-level operator {field!r}; use one of {sorted(LOGICAL_OPS)} or a field name"
            )
        out[field] = _validate_condition(field, cond)
    return out


def _validate_condition(field: str, cond: Any) -> dict[str, Any]:
    if _is_scalar(cond):
        return {"$eq": cond}
    if not isinstance(cond, Mapping) or not cond:
        raise InvalidFilterError(
            f"filter on {field!r} must be a string, number, boolean or an operator mapping, got {cond!r}"
        )
    ops: dict[str, Any] = {}
    for op, value in cond.items():
        if op not in OPERATORS:
            raise InvalidFilterError(
                f"unsupported operator {op!r} on {field!r}; supported: {', '.join(sorted(OPERATORS))}"
            )
        if op in LIST_OPS:
            if not isinstance(value, Sequence) or isinstance(value, (str, bytes)) or not value:
                raise InvalidFilterError(f"{op} on {field!r} takes a non-empty list, got {value!r}")
            if not all(_is_scalar(v) for v in value):
                raise InvalidFilterError(f"{op} on {field!r} takes strings, numbers or booleans")
            ops[op] = list(value)
        else:
            if not _is_scalar(value):
                raise InvalidFilterError(
                    f"{op} on {field!r} takes a string, number or boolean, got {value!r}"
                )
            if op in {"$gt", "$gte", "$lt", "$lte"} and isinstance(value, bool):
                raise InvalidFilterError(f"{op} on {field!r} cannot order booleans")
            ops[op] = value
    return ops


def _same_kind(a: Any, b: Any) -> bool:
    """Booleans only compare with booleans, numbers with numbers, strings with strings."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return True
    return isinstance(a, str) and isinstance(b, str)


def _scalar_op(op: str, value: Any, target: Any) -> bool:
    if op == "$in":
        return any(_same_kind(value, t) and value == t for t in target)
    if op == "$nin":
        return not any(_same_kind(value, t) and value == t for t in target)
    if op == "$ne":
        return not (_same_kind(value, target) and value == target)
    if not _same_kind(value, target):
        return False
    if op == "$eq":
        return bool(value == target)
    if op == "$gt":
        return bool(value > target)
    if op == "$gte":
        return bool(value >= target)
    if op == "$lt":
        return bool(value < target)
    if op == "$lte":
        return bool(value <= target)
    raise InvalidFilterError(f"unsupported operator {op!r}")


def op_matches(op: str, value: Any, target: Any) -> bool:
    """Whether one stored value satisfies one operator (lists match on any element, as in Pinecone)."""
    if isinstance(value, list):
        if op in {"$ne", "$nin"}:
            return all(_scalar_op(op, v, target) for v in value)
        if op in {"$eq", "$in"}:
            return any(_scalar_op(op, v, target) for v in value)
        return False
    return _scalar_op(op, value, target)


def matches(filter: Filter | None, metadata: Mapping[str, Any]) -> bool:
    """Whether `metadata` satisfies a canonical filter; a missing field only satisfies `$ne`/`$nin`."""
    if not filter:
        return True
    for field, cond in filter.items():
        if field == "$and":
            if not all(matches(sub, metadata) for sub in cond):
                return False
        elif field == "$or":
            if not any(matches(sub, metadata) for sub in cond):
                return False
        else:
            value = metadata.get(field)
            for op, target in cond.items():
                if value is None:
                    if op not in {"$ne", "$nin"}:
                        return False
                elif not op_matches(op, value, target):
                    return False
    return True


def check_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Metadata without `None` values, checked to hold only what both backends can store."""
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        if value is None:
            continue  # Pinecone has no null; a missing field is how "no value" is spelled
        if not isinstance(key, str) or not key or key.startswith("$"):
            raise InvalidFilterError(
                f"metadata keys must be non-empty strings not starting with '$': {key!r}"
            )
        if _is_scalar(value):
            if isinstance(value, float) and value != value:
                raise InvalidFilterError(f"metadata {key!r} is NaN, which no filter can match")
            out[key] = value
        elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            out[key] = list(value)
        else:
            raise InvalidFilterError(
                f"metadata {key!r} must be a string, number, boolean or list of strings, "
                f"got {type(value).__name__}; put structured data in a JSON string"
            )
    return out
