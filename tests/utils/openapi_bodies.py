"""Minimal valid JSON bodies from an OpenAPI schema, for tests that call every route."""

from __future__ import annotations

from typing import Any


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def minimal_instance(spec: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> Any:
    """A small value satisfying `schema` (required fields only, first enum value, lower bounds)."""
    schema = _resolve(spec, schema)
    if depth > 8:
        return None
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [_resolve(spec, s) for s in schema[key]]
            chosen = next((s for s in options if s.get("type") != "null"), options[0])
            return minimal_instance(spec, chosen, depth + 1)
    if "allOf" in schema:
        return minimal_instance(spec, schema["allOf"][0], depth + 1)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {name: minimal_instance(spec, props[name], depth + 1) for name in schema.get("required", [])}
    if kind == "array":
        count = schema.get("minItems", 0)
        return [minimal_instance(spec, schema.get("items", {}), depth + 1) for _ in range(count)]
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date-time":
            return "2030-01-01T12:00:00Z"
        if fmt == "date":
            return "2030-01-01"
        if fmt == "email":
            return "someone@example.com"
        if fmt in ("uri", "url"):
            return "https://example.com/"
        return "x" * max(1, schema.get("minLength", 1))
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return False
    return None


def request_body(spec: dict[str, Any], operation: dict[str, Any]) -> Any:
    """A minimal JSON body for an operation, or None when it takes none."""
    body = operation.get("requestBody")
    if not body:
        return None
    content = body.get("content", {})
    media = content.get("application/json")
    if media is None:
        return None
    return minimal_instance(spec, media.get("schema", {}))
