"""JSON values that validate against a JSON schema, filled with sensible content from `Knowledge`.

Field names carry the meaning (`text` gets a post, `hashtags` the brand's tags, `sentiment` a
lexicon label); types, enums, bounds, lengths and item counts make the value valid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from brandcrew.llm._offline_fields import (
    CALENDAR_KEYS,
    POST_KEYS,
    POST_LIST_KEYS,
    QUERY_KEYS,
    REPLY_KEYS,
    VARIANT_KEYS,
    FieldValues,
    Mode,
    Scope,
    last_word,
    mentioned,
    norm_key,
)
from brandcrew.llm._offline_knowledge import Knowledge
from brandcrew.llm._offline_plan import PlanEntry
from brandcrew.llm._offline_text import (
    find_datetimes,
    find_numbers,
    find_quoted,
    find_urls,
    normalize_platform,
    trim_to,
)

__all__ = ("Mode", "SchemaFiller", "fill_schema")
_MAX_DEPTH = 10


def _types(schema: Mapping[str, Any]) -> list[str]:
    raw = schema.get("type")
    if isinstance(raw, list):
        return [str(t) for t in raw]
    if isinstance(raw, str):
        return [raw]
    if "properties" in schema or "additionalProperties" in schema:
        return ["object"]
    if "items" in schema or "prefixItems" in schema:
        return ["array"]
    return []


class SchemaFiller:
    """Builds a value for a JSON schema (with `$ref`/`$defs`, unions, enums and bounds)."""

    def __init__(
        self,
        knowledge: Knowledge,
        root: Mapping[str, Any],
        *,
        mode: Mode = "all",
        text_kind: str | None = None,
    ) -> None:
        self.k = knowledge
        self.root = root
        self.mode = mode
        self.text_kind = text_kind
        """What `text`-like fields hold: `post`, `reply`, `crisis` or the task's own kind."""
        self.fields = FieldValues(knowledge, mode=mode, text_kind=text_kind)

    def fill(self, *, platform: str | None = None) -> Any:
        """A value for the root schema (written for `platform`, else the first known platform)."""
        return self._value(self.root, Scope(platform=platform or self.k.platforms[0]), 0)

    # --- schema plumbing ---

    def _resolve(self, raw: Any) -> Mapping[str, Any]:
        """`raw` with `$ref`s followed (siblings kept) and `allOf` merged; `{}` for `true`/missing."""
        if not isinstance(raw, Mapping):
            return {}
        schema: Mapping[str, Any] = raw
        seen = 0
        while "$ref" in schema and seen < 20:
            seen += 1
            target: Any = self.root
            for part in str(schema["$ref"]).lstrip("#/").split("/"):
                target = (
                    target.get(part.replace("~1", "/").replace("~0", "~"), {})
                    if isinstance(target, Mapping)
                    else {}
                )
            extra = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **extra} if isinstance(target, Mapping) else extra
        if "allOf" in schema:
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                resolved = self._resolve(part)
                merged.setdefault("properties", {}).update(resolved.get("properties", {}))
                merged["required"] = list(
                    dict.fromkeys([*merged.get("required", []), *resolved.get("required", [])])
                )
                for key, value in resolved.items():
                    if key not in ("properties", "required"):
                        merged.setdefault(key, value)
            if not merged.get("properties"):
                merged.pop("properties", None)
            if not merged.get("required"):
                merged.pop("required", None)
            return merged
        return schema

    def _value(self, raw: Any, scope: Scope, depth: int) -> Any:
        ref = raw.get("$ref") if isinstance(raw, Mapping) else None
        if isinstance(ref, str):
            if ref in scope.refs:
                target = self._resolve(raw)
                return self._minimal(target, (_types(target) or ["object"])[0], depth)
            scope = replace(scope, refs=scope.refs | {ref})
        schema = self._resolve(raw)
        if "const" in schema:
            return schema["const"]
        union = schema.get("anyOf") or schema.get("oneOf")
        if union:
            branches = [self._resolve(b) for b in union]
            real = [
                b
                for raw_branch, b in zip(union, branches, strict=True)
                if _types(b) != ["null"]
                and not (isinstance(raw_branch, Mapping) and raw_branch.get("$ref") in scope.refs)
            ]
            if not real:
                if any(_types(b) == ["null"] for b in branches):
                    return None
                return self._minimal(branches[0], (_types(branches[0]) or ["object"])[0], depth)
            base = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
            return self._value({**base, **real[0]}, scope, depth)
        if "enum" in schema:
            return self.fields.enum(list(schema["enum"]), schema, scope)
        types = [t for t in _types(schema) if t != "null"] or (["null"] if _types(schema) == ["null"] else [])
        kind = types[0] if types else "string"
        if depth > _MAX_DEPTH:
            return self._minimal(schema, kind, depth)
        if kind == "null":
            return None
        if kind == "object":
            return self._object(schema, scope, depth)
        if kind == "array":
            return self._array(schema, scope, depth)
        if kind == "boolean":
            return self.fields.boolean(schema, scope)
        if kind in ("integer", "number"):
            return self._clamp(self.fields.number(schema, scope), schema, integer=kind == "integer")
        return self._string(schema, scope)

    def _minimal(self, schema: Mapping[str, Any], kind: str, depth: int) -> Any:
        """The smallest valid value: used when a schema recurses or nests too deep."""
        if "null" in _types(schema):
            return None
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return schema["enum"][0]
        if depth > 3 * _MAX_DEPTH:
            return {} if kind == "object" else [] if kind == "array" else None
        if kind == "array":
            item = self._resolve(schema.get("items", {}))
            kind_of_item = (_types(item) or ["string"])[0]
            return [
                self._minimal(item, kind_of_item, depth + 1) for _ in range(int(schema.get("minItems", 0)))
            ]
        if kind == "object":
            props = schema.get("properties") or {}
            out: dict[str, Any] = {}
            for name in schema.get("required") or ():
                prop = self._resolve(props.get(name, {}))
                out[name] = self._minimal(prop, (_types(prop) or ["string"])[0], depth + 1)
            return out
        if kind in ("integer", "number"):
            return self._clamp(0, schema, integer=kind == "integer")
        if kind == "boolean":
            return False
        return "x" * int(schema.get("minLength", 0))

    def _has_evidence(self, name: str, prop: Any) -> bool:
        """Whether the conversation says something about the optional tool argument `name`."""
        schema = self._resolve(prop)
        key = norm_key(name)
        last = last_word(key)
        k = self.k
        request = k.conv.request
        if last in ("platform", "channel", "network", "platforms", "channels"):
            return bool(k.conv.platforms)
        if last in ("id", "ids") or key.endswith("_id"):
            return bool(k.ids(key))
        if last in ("hashtags", "tags"):
            return bool(k.brief.hashtags)
        if last in ("url", "link"):
            return bool(find_urls(request))
        dated = last in ("date", "at", "when", "since", "until", "start", "end") or key.endswith(
            ("_at", "_date")
        )
        if dated or schema.get("format") in ("date", "date-time"):
            return bool(find_datetimes(request, k.conv.today))
        values = _enum_values(schema, self._resolve)
        if values:
            return mentioned(values, request) is not None
        if last in ("limit", "top", "k", "n", "count", "days", "max_results", "top_k"):
            return bool(find_numbers(request))
        if key in QUERY_KEYS or last in POST_KEYS or last in REPLY_KEYS:
            return bool(find_quoted(request))
        return False

    # --- objects and arrays ---

    def _object(self, schema: Mapping[str, Any], scope: Scope, depth: int) -> dict[str, Any]:
        props: Mapping[str, Any] = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        out: dict[str, Any] = {}
        platform_key = next((p for p in props if last_word(p) in ("platform", "channel", "network")), None)
        if platform_key is not None:
            # Decide this object's platform first: its text fields are written for it.
            value = self._value(
                props[platform_key], replace(scope, key=platform_key, parent=scope.key), depth + 1
            )
            platform = normalize_platform(str(value)) if isinstance(value, str) else None
            scope = replace(scope, platform=platform or scope.platform)
            if platform_key in required or self.mode == "all" or self.k.conv.platforms:
                out[platform_key] = value
        for name, prop in props.items():
            if name == platform_key:
                continue
            if self.mode == "evidence" and name not in required and not self._has_evidence(name, prop):
                continue
            out[name] = self._value(prop, replace(scope, key=name, parent=scope.key), depth + 1)
        out = {name: out[name] for name in props if name in out}
        extra = schema.get("additionalProperties")
        if not props and isinstance(extra, Mapping) and extra:
            out.update(self._mapping(extra, scope, depth))
        return out

    def _mapping(self, value_schema: Mapping[str, Any], scope: Scope, depth: int) -> dict[str, Any]:
        key = norm_key(scope.key)
        kinds = _types(self._resolve(value_schema))
        numeric = bool(kinds) and kinds[0] in ("integer", "number")
        if any(w in key for w in ("cadence", "frequency", "per_week", "schedule")) and numeric:
            return {p: n for p, n in self.k.plan.cadence.items()}
        if any(w in key for w in ("sentiment", "distribution", "breakdown")) and numeric:
            return dict(self.k.sentiment_counts)
        if numeric:
            totals = {k: v for d in self.k.digests for k, v in d.totals.items()}
            if totals:
                integer = kinds[0] == "integer"
                return {k: round(v) if integer else v for k, v in list(totals.items())[:10]}
        return {}

    def _array(self, schema: Mapping[str, Any], scope: Scope, depth: int) -> list[Any]:
        key = norm_key(scope.key)
        item_schema = self._resolve(schema.get("items", {}))
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list):
            return [self._value(s, replace(scope, index=i), depth + 1) for i, s in enumerate(prefix)]
        low = int(schema.get("minItems", 0))
        high = int(schema.get("maxItems", 10_000))
        raw_items = schema.get("items")
        if isinstance(raw_items, Mapping) and raw_items.get("$ref") in scope.refs:
            high = low  # a recursive list (a tree's children): as few items as allowed
        unique = bool(schema.get("uniqueItems"))
        item_kind = (_types(item_schema) or ["string"])[0] if "enum" not in item_schema else "enum"
        if item_kind == "object" or "anyOf" in item_schema or "oneOf" in item_schema:
            items = self._object_items(key, item_schema, scope, depth, low, high)
        else:
            natural = self.fields.natural_list(key, scope)
            count = max(low, min(high, len(natural) if natural is not None else max(1, low)))
            items = []
            for i in range(count):
                sub = replace(scope, index=i, key=scope.key, parent=scope.parent)
                if natural is not None and i < len(natural):
                    items.append(self._coerce(natural[i], item_schema, sub))
                else:
                    items.append(self._value(item_schema, sub, depth + 1))
        if unique:
            items = _dedupe(items)
            while len(items) < low:
                items.append(self._value(item_schema, replace(scope, index=len(items) + 7), depth + 1))
                items = _dedupe(items)
                if len(items) < low and all(isinstance(x, str) for x in items):
                    items = [*items[:-1], f"{items[-1]} ({len(items)})"] if items else items
        return items[: max(high, 0)] if high < 10_000 else items

    def _object_items(
        self, key: str, item_schema: Mapping[str, Any], scope: Scope, depth: int, low: int, high: int
    ) -> list[Any]:
        props = list((item_schema.get("properties") or {}).keys())
        last = last_word(key)
        records = self.k.records(key, props) if self.k.conv.results else []
        entries: Sequence[PlanEntry] = ()
        platforms = self.k.platforms
        if records and last not in VARIANT_KEYS:
            natural = len(records)
        elif (last in CALENDAR_KEYS or key in CALENDAR_KEYS) and self.k.task == "plan":
            entries = self.k.plan.entries
            natural = len(entries) if last != "weeks" else self.k.plan.weeks
        elif last == "weeks":
            natural = self.k.plan.weeks
        elif last in VARIANT_KEYS and len(platforms) == 1:
            natural = 3
        elif (
            last in POST_LIST_KEYS
            or last in VARIANT_KEYS
            or any(last_word(p) in ("platform", "channel") for p in props)
        ):
            natural = len(platforms)
        elif last in ("goals", "objectives"):
            natural = len(self.k.plan.goals)
        elif last in ("pillars", "themes"):
            natural = len(self.k.plan.pillars)
        elif last in ("kpis", "metrics"):
            natural = len(self.k.plan.kpis)
        else:
            natural = 2 if self.mode == "all" else max(1, low)
        count = max(low, min(high, natural, 60))
        out = []
        for i in range(count):
            sub = replace(
                scope,
                index=i,
                parent=scope.key,
                platform=platforms[i % len(platforms)],
                entry=entries[i] if i < len(entries) else None,
                record=records[i] if i < len(records) else None,
                variant=i if last in VARIANT_KEYS and len(platforms) == 1 else 0,
            )
            if sub.entry is not None:
                sub = replace(sub, platform=sub.entry.platform)
            out.append(self._value(item_schema, sub, depth + 1))
        return out

    # --- scalars ---

    def _clamp(self, value: float, schema: Mapping[str, Any], *, integer: bool) -> int | float:
        step = 1 if integer else 0.01
        low, high = schema.get("minimum"), schema.get("maximum")
        ex_low, ex_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
        if isinstance(ex_low, bool):  # draft-4 style booleans
            ex_low, low = (low if ex_low else None), (None if ex_low else low)
        if isinstance(ex_high, bool):
            ex_high, high = (high if ex_high else None), (None if ex_high else high)
        if low is not None:
            value = max(value, float(low))
        if ex_low is not None and value <= float(ex_low):
            value = float(ex_low) + step
        if high is not None:
            value = min(value, float(high))
        if ex_high is not None and value >= float(ex_high):
            value = float(ex_high) - step
        multiple = schema.get("multipleOf")
        if multiple:
            value = round(value / float(multiple)) * float(multiple)
            if (high is not None and value > float(high)) or (
                ex_high is not None and value >= float(ex_high)
            ):
                value -= float(multiple)
            if (low is not None and value < float(low)) or (ex_low is not None and value <= float(ex_low)):
                value += float(multiple)
        if integer:
            rounded = round(value)
            if (low is not None and rounded < float(low)) or (
                ex_low is not None and rounded <= float(ex_low)
            ):
                rounded += 1
            if (high is not None and rounded > float(high)) or (
                ex_high is not None and rounded >= float(ex_high)
            ):
                rounded -= 1
            return rounded
        return round(value, 4)

    def _string(self, schema: Mapping[str, Any], scope: Scope) -> str:
        fmt = schema.get("format")
        max_len = schema.get("maxLength")
        value = self.fields.formatted(str(fmt), scope) if fmt else None
        if value is None:
            value = self.fields.string(scope, max_len if isinstance(max_len, int) else None)
        return self._constrain(value, schema, scope)

    # --- constraints ---

    def _coerce(self, value: Any, schema: Mapping[str, Any], scope: Scope) -> Any:
        """A natural list item made to fit the item schema."""
        resolved = self._resolve(schema)
        if "enum" in resolved:
            values = list(resolved["enum"])
            return value if value in values else self.fields.enum(values, resolved, scope)
        kinds = [t for t in _types(resolved) if t != "null"] or ["string"]
        if kinds[0] == "string":
            return self._constrain(str(value), resolved, scope)
        if kinds[0] in ("integer", "number") and isinstance(value, (int, float)):
            return self._clamp(float(value), resolved, integer=kinds[0] == "integer")
        return self._value(resolved, scope, _MAX_DEPTH)

    def _constrain(self, value: str, schema: Mapping[str, Any], scope: Scope) -> str:
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            value = _match_pattern(value, pattern)
        min_len = int(schema.get("minLength", 0))
        max_len = schema.get("maxLength")
        if len(value) < min_len:
            for extra in (self.k.summary, self.k.reason, self.k.topic):
                if len(value) >= min_len:
                    break
                if extra and extra not in value:
                    value = f"{value} {extra}".strip()
            while len(value) < min_len:
                value = f"{value} More details to follow.".strip()
        if isinstance(max_len, int) and len(value) > max_len:
            value = trim_to(value, max_len) or value[:max_len]
        return value


def _enum_values(schema: Mapping[str, Any], resolve: Any) -> list[str]:
    """String enum values of a schema, looking inside unions."""
    if "enum" in schema:
        return [v for v in schema["enum"] if isinstance(v, str)]
    out: list[str] = []
    for branch in schema.get("anyOf") or schema.get("oneOf") or ():
        resolved = resolve(branch)
        out.extend(v for v in resolved.get("enum", ()) if isinstance(v, str))
    return out


def _match_pattern(value: str, pattern: str) -> str:
    try:
        regex = re.compile(pattern)
    except re.error:
        return value
    slug = re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")
    candidates = [
        value, value.lstrip("#"), value.lower(), value.lstrip("#").lower(), slug, slug.replace("_", "-"),
        slug.replace("_", ""), "#" + slug.replace("_", ""), re.sub(r"\D", "", value), value.upper(),
        "09:00", "item_1", "a",
    ]  # fmt: skip
    for candidate in candidates:
        if candidate and regex.search(candidate):
            return candidate
    return value


def _dedupe(items: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def fill_schema(
    knowledge: Knowledge,
    schema: Mapping[str, Any],
    *,
    mode: Mode = "all",
    text_kind: str | None = None,
    platform: str | None = None,
) -> Any:
    """A value valid under `schema`, filled from `knowledge`."""
    return SchemaFiller(knowledge, schema, mode=mode, text_kind=text_kind).fill(platform=platform)
