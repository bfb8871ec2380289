"""What a schema field holds, judged from its name: a post, a label, a date, a count, a hashtag list.

`SchemaFiller` handles the JSON-schema mechanics; `FieldValues` supplies the content.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Literal

from brandcrew.llm._offline_knowledge import Knowledge
from brandcrew.llm._offline_plan import FORMATS, PlanEntry
from brandcrew.llm._offline_sentiment import NEGATIVE, POSITIVE
from brandcrew.llm._offline_text import (
    find_datetimes,
    find_numbers,
    find_quoted,
    normalize_platform,
    split_identifier,
    stem,
    word_set,
)

Mode = Literal["all", "evidence"]
"""`all` fills every field (structured output); `evidence` only what the conversation supports
(tool arguments)."""

POST_KEYS = word_set("text content caption post body draft copy tweet post_text final_text message variant")
REPLY_KEYS = word_set("reply response reply_text response_text suggested_reply")
STATEMENT_KEYS = word_set("statement holding_statement public_statement")
TITLE_KEYS = word_set("title headline subject heading")
SUMMARY_KEYS = word_set(
    "summary overview description abstract tldr synopsis analysis assessment situation findings "
    "insight context answer output result"
)
REASON_KEYS = word_set("reason reasoning rationale explanation justification why")
TOPIC_KEYS = word_set("topic theme idea angle concept focus hook subject_matter")
LABEL_KEYS = word_set("label sentiment polarity category classification class intent type_label")
ROUTE_KEYS = word_set(
    "agent next next_agent route destination target worker assignee choice option selected "
    "handler selected_agent"
)
SEVERITY_KEYS = word_set("severity priority urgency risk risk_level level impact")
REQUEST_KEYS = word_set("task request instructions instruction prompt input brief question")
QUERY_KEYS = word_set("query q search keyword term search_query")
STEP_KEYS = word_set("steps next_steps actions action_items recommendations recommended_actions todo")
FACT_KEYS = word_set("facts key_points highlights bullets points insights takeaways")
VARIANT_KEYS = word_set("variants variations versions options alternatives")
POST_LIST_KEYS = word_set("posts drafts items")
NAME_LIST_KEYS = word_set("competitors brands accounts names companies rivals")
CALENDAR_KEYS = word_set("calendar schedule entries slots days posts content_calendar items")


@dataclass(frozen=True, kw_only=True)
class Scope:
    """Where in the schema a value is being filled: its field, list position and context."""

    key: str = ""
    parent: str = ""
    index: int = 0
    platform: str = "x"
    entry: PlanEntry | None = None
    record: Mapping[str, Any] | None = None
    variant: int = 0
    refs: frozenset[str] = frozenset()
    """`$ref`s being expanded above this point; meeting one again means the schema recurses."""


def norm_key(key: str) -> str:
    """`postText` or `post-text` -> `post_text`."""
    return "_".join(split_identifier(key).lower().split())


def last_word(key: str) -> str:
    """The last word of a field name (`next_steps` -> `steps`): what the field holds."""
    parts = norm_key(key).split("_")
    return parts[-1] if parts else ""


class FieldValues:
    """Content for schema fields, drawn from one request's `Knowledge`."""

    def __init__(self, knowledge: Knowledge, *, mode: Mode, text_kind: str | None) -> None:
        self.k = knowledge
        self.mode = mode
        self.text_kind = text_kind

    def natural_list(self, key: str, scope: Scope) -> list[Any] | None:
        """The list a field named `key` naturally holds, or None when its name says nothing."""
        k = self.k
        last = last_word(key)
        if last in ("hashtags", "tags") or key.endswith("hashtags"):
            return list(k.hashtags(scope.platform))
        if last in ("platforms", "channels", "networks"):
            return list(k.platforms)
        if last in ("goals", "objectives"):
            return list(k.plan.goals)
        if last in ("pillars", "themes") or key == "content_pillars":
            return list(k.plan.pillars)
        if last in ("kpis", "kpi") or key in ("success_metrics", "metrics"):
            return list(k.plan.kpis)
        if key in STEP_KEYS or last in STEP_KEYS:
            return list(k.next_steps)
        if key in FACT_KEYS or last in FACT_KEYS:
            facts = [f for d in k.digests for f in d.facts]
            return facts[:5] if facts else [k.summary]
        if last in ("keywords", "topics", "terms", "entities", "trends"):
            tops = [t for d in k.digests for t in d.top]
            return tops[:5] if tops and last in ("topics", "trends") else k.entities["keywords"] or [k.topic]
        if last in ("emojis", "emoji"):
            return list(k.emoji())
        if last in ("urls", "links"):
            return list(k.urls())
        if last in ("mentions", "handles"):
            return list(k.mentions())
        if last in ("ids",):
            return list(k.ids())
        if last in ("dates",):
            return list(k.entities["dates"])
        if last in ("drivers",):
            return list(k.sentiment.drivers)
        if last in ("ideas",):
            return [e.idea for e in k.plan.entries[:5]]
        if last in ("risks",):
            return [
                "Negative sentiment spreading before a response is out.",
                "Inconsistent answers across channels.",
            ]
        if last in VARIANT_KEYS:
            return [k.post(scope.platform, variant=i) for i in range(3)]
        quoted = find_quoted(k.conv.request)
        if quoted and (self.mode == "evidence" or last in NAME_LIST_KEYS):
            return quoted  # "compare us with "Blue Bottle" and "Stumptown"": the quotes are the items
        if last in ("posts", "drafts"):
            return [k.post(p) for p in k.platforms]
        if last in ("labels", "categories"):
            return [k.label([n for n, _ in k.conv.options])]
        return None

    def enum(self, values: list[Any], schema: Mapping[str, Any], scope: Scope) -> Any:
        """The enum value that fits the field: the platform, a label, a route, one the text names."""
        if not values:
            return None
        strings = [v for v in values if isinstance(v, str)]
        key = norm_key(scope.key)
        last = last_word(key)
        if scope.record is not None and scope.record.get(scope.key) in values:
            return scope.record[scope.key]
        if strings:
            if last in ("platform", "channel", "network"):
                for v in strings:
                    if normalize_platform(v) == scope.platform:
                        return v
            if scope.entry is not None and last in (
                "pillar",
                "format",
                "content_type",
                "post_type",
                "media_type",
            ):
                wanted = scope.entry.pillar if last == "pillar" else scope.entry.format
                close = closest_option(strings, wanted)
                if close is not None:
                    return close
            lowered = [v.lower() for v in strings]
            if set(lowered) & {"positive", "negative", "neutral"} or last in ("sentiment", "polarity"):
                return self.pick_label(strings)
            if last in ROUTE_KEYS:
                return self.k.route(strings) or strings[0]
            if last in LABEL_KEYS or (last in ("type", "kind", "status") and self.k.task == "classify"):
                return self.pick_label(strings)
            if last in SEVERITY_KEYS:
                return closest_level(strings, self.k.severity)
            named = mentioned(strings, self.k.conv.request)
            if named is not None:
                return named
            if self.k.task == "route" and len(strings) > 1:
                return self.k.route(strings) or strings[0]
        if "default" in schema and schema["default"] in values:
            return schema["default"]
        if scope.parent and self.mode == "all":
            return values[scope.index % len(values)]  # rotate through an enum across list items
        return values[0]

    def pick_label(self, options: list[str]) -> str:
        """The option that labels the subject text, using option descriptions when the prompt gave them."""
        described = dict(self.k.conv.options)
        return self.k.label(options, [described.get(o, "") for o in options])

    def boolean(self, schema: Mapping[str, Any], scope: Scope) -> bool:
        """A flag judged from its name: escalation, approval, question, spam, sentiment, validity."""
        key = norm_key(scope.key)
        k = self.k
        if scope.record is not None and isinstance(scope.record.get(scope.key), bool):
            return bool(scope.record[scope.key])
        if any(w in key for w in ("crisis", "escalat", "urgent", "alert")):
            return k.severity in ("high", "critical")
        if "approv" in key or "review" in key:
            return True
        if "question" in key:
            return k.intent() == "question"
        if "spam" in key:
            return k.intent() == "spam"
        if "complaint" in key:
            return k.intent() == "complaint"
        if "positive" in key:
            return k.sentiment.label == POSITIVE
        if "negative" in key:
            return k.sentiment.label == NEGATIVE
        if any(w in key for w in ("reply", "respond", "response")):
            return k.intent() != "spam"
        if "link" in key or "url" in key:
            return bool(k.brief.link)
        if "emoji" in key:
            return bool(k.emoji())
        if any(w in key for w in ("valid", "within", "fits", "success", "ok", "compliant")):
            return True
        default = schema.get("default")
        return bool(default) if isinstance(default, bool) else False

    def number(self, schema: Mapping[str, Any], scope: Scope) -> float:
        """A number for the field: from a mirrored record, the task, the plan, tool results or the text."""
        key = norm_key(scope.key)
        last = last_word(key)
        k = self.k
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        value: float | None = None
        recorded = scope.record.get(scope.key) if scope.record is not None else None
        if isinstance(recorded, (int, float)) and not isinstance(recorded, bool):
            value = float(recorded)
        elif "sentiment" in key or (last == "score" and k.task in ("classify", "reply")):
            value = k.sentiment.score
            if isinstance(low, (int, float)) and not isinstance(low, bool) and low >= 0:
                value = (value + 1) / 2 * (float(high) if isinstance(high, (int, float)) and high > 1 else 1)
        elif last in (
            "confidence",
            "probability",
            "certainty",
            "likelihood",
            "score",
            "relevance",
            "quality",
        ):
            strength = 0.6 + 0.3 * min(1.0, abs(k.sentiment.score)) if k.task == "classify" else 0.8
            scale = (
                float(high)
                if isinstance(high, (int, float)) and not isinstance(high, bool) and high > 1
                else 1.0
            )
            value = strength * scale
        elif any(w in key for w in ("per_week", "frequency", "cadence", "posts_per")):
            value = float(k.plan.cadence.get(scope.platform, 3))
        elif last in ("week", "week_number"):
            value = float(k.plan.week_of(scope.entry) + 1 if scope.entry else scope.index + 1)
        elif last in ("index", "rank", "position", "order", "day_number", "number") and scope.parent:
            value = float(scope.index + 1)
        elif last == "year":
            value = float(k.conv.today.year)
        elif "char" in key or last == "length":
            value = float(len(k.main_text(scope.platform, kind=self.text_kind)))
        elif "hashtag" in key:
            value = float(len(k.hashtags(scope.platform)))
        elif last in ("days", "duration", "duration_days"):
            value = float(k.plan.days)
        elif last == "weeks":
            value = float(k.plan.weeks)
        elif last in ("limit", "max_length", "max_chars", "character_limit"):
            value = (
                float(k.limit_for(scope.platform))
                if "length" in key or "char" in key
                else self.asked_number(10)
            )
        elif last in ("top", "k", "n", "max_results", "top_k", "count") and self.mode == "evidence":
            value = self.asked_number(10)
        else:
            found = k.lookup(scope.key)
            if isinstance(found, (int, float)) and not isinstance(found, bool):
                value = float(found)
            elif last in ("count", "total", "num", "size", "volume"):
                counts = [d.count for d in k.digests if d.count is not None]
                value = float(counts[0]) if counts else float(len(k.platforms))
            elif "default" in schema and isinstance(schema["default"], (int, float)):
                value = float(schema["default"])
            elif self.mode == "evidence":
                value = self.asked_number(1)
            else:
                value = 1.0
        return value

    def asked_number(self, fallback: float) -> float:
        """A number the user wrote ("top 5", "last 30 days"), else `fallback`."""
        numbers = find_numbers(self.k.conv.request)
        return numbers[0] if numbers else fallback

    def formatted(self, fmt: str, scope: Scope) -> str | None:
        """A value for a string `format` (date, date-time, time, email, uri, uuid), else None."""
        when = self.when(scope)
        if fmt == "date":
            return when.date().isoformat()
        if fmt == "date-time":
            return when.strftime("%Y-%m-%dT%H:%M:%SZ")
        if fmt == "time":
            return when.strftime("%H:%M:%S")
        if fmt == "email":
            slug = re.sub(r"[^a-z0-9]", "", (self.k.conv.brand.name or "brand").lower()) or "brand"
            return f"hello@{slug}.com"
        if fmt in ("uri", "url", "iri"):
            links = self.k.urls()
            link = links[0] if links else "https://example.com"
            return link if "://" in link else f"https://{link}"
        if fmt == "uuid":
            ids = [i for i in self.k.ids(scope.key) if re.fullmatch(r"[0-9a-fA-F-]{36}", i)]
            if ids:
                return ids[0]
            digest = hashlib.sha256(f"{self.k.conv.seed}:{scope.key}:{scope.index}".encode()).digest()
            return str(uuid.UUID(bytes=digest[:16], version=4))
        return None

    def when(self, scope: Scope) -> datetime:
        """The date and time a field refers to: a plan slot, a date in the text, else the next slot."""
        if scope.entry is not None:
            hour, minute = (int(x) for x in scope.entry.time.split(":"))
            return datetime.combine(scope.entry.day, time(hour, minute))
        found = find_datetimes(self.k.conv.request, self.k.conv.today)
        if found:
            return found[min(scope.index, len(found) - 1)]
        key = norm_key(scope.key)
        today = self.k.conv.today
        # "since"/"start" look back, "end"/"until" look ahead; anything else is the next posting slot.
        offset = (
            -30
            if any(w in key for w in ("since", "from", "start")) and self.k.task == "analyze"
            else 1 + scope.index
        )
        day = today + timedelta(days=offset)
        return datetime.combine(day, time(9, 0))

    def string(self, scope: Scope, max_len: int | None) -> str:
        """Text for the field, by what its name says it holds."""
        k = self.k
        key = norm_key(scope.key)
        last = last_word(key)
        parent = last_word(norm_key(scope.parent))
        if scope.record is not None and isinstance(scope.record.get(scope.key), str):
            return str(scope.record[scope.key])
        if self.mode == "evidence" and (last in POST_KEYS or last in REPLY_KEYS or key in QUERY_KEYS):
            quoted = find_quoted(k.conv.request)
            if quoted:
                return quoted[0]
        if last in ("platform", "channel", "network"):
            return scope.platform
        if key in STATEMENT_KEYS or last == "statement":
            return k.statement(max_len)
        if key in REPLY_KEYS or last == "reply":
            return k.main_text(
                scope.platform, kind="reply" if k.task != "crisis" else "crisis", limit=max_len
            )
        if key in POST_KEYS or last in POST_KEYS:
            if scope.variant:
                return k.post(scope.platform, limit=max_len, variant=scope.variant)
            kind = self.text_kind or (
                "post" if k.task in ("plan", "general") and scope.entry is None else None
            )
            return k.main_text(scope.platform, kind=kind, limit=max_len)
        if last in ("hashtags", "tags"):
            return " ".join(k.hashtags(scope.platform))
        if last in ("hashtag", "tag"):
            tags = k.hashtags(scope.platform)
            return tags[scope.index % len(tags)] if tags else "#news"
        if last == "id" or key.endswith("_id"):
            ids = k.ids(key)
            if ids:
                return ids[scope.index % len(ids)]
            prefix = key.removesuffix("_id").removesuffix("id").strip("_") or "item"
            return f"{prefix}_{scope.index + 1}"
        if key in REQUEST_KEYS:
            return k.conv.request
        if key in QUERY_KEYS or last in ("keyword", "query"):
            return " ".join(k.entities["keywords"][:3]) or k.topic
        if last == "name":
            return self.name(parent, scope)
        if key in TITLE_KEYS or last in TITLE_KEYS:
            return k.title
        if key in SUMMARY_KEYS or last in SUMMARY_KEYS:
            if k.task == "write" and parent in ("posts", "variants", "drafts"):
                return k.post(scope.platform, limit=max_len)
            return self.describe_item(parent, scope) or k.summary
        if key in REASON_KEYS or last in REASON_KEYS:
            return k.reason
        if last in ("pillar",):
            return scope.entry.pillar if scope.entry else k.plan.pillars[scope.index % len(k.plan.pillars)]
        if last in ("format", "content_type", "post_type", "media_type"):
            return scope.entry.format if scope.entry else FORMATS.get(scope.platform, ("post",))[0]
        if key in TOPIC_KEYS or last in TOPIC_KEYS:
            return scope.entry.idea if scope.entry else k.topic
        if last in ("goal", "objective"):
            return k.plan.goals[scope.index % len(k.plan.goals)]
        if last in ("kpi", "metric"):
            return k.plan.kpis[scope.index % len(k.plan.kpis)]
        if last in ("cta", "action") or key == "call_to_action":
            return k.conv.brand.call_to_action or "Learn more"
        if last in ("url", "link", "href", "website", "page"):
            links = k.urls()
            return links[0] if links else "https://example.com"
        if last in LABEL_KEYS:
            return self.label_text(last)
        if last in ROUTE_KEYS:
            return k.route() or "strategy"
        if last in SEVERITY_KEYS:
            return k.severity
        if last in ("audience", "audiences", "persona"):
            return k.conv.brand.audience or "our audience"
        if last in ("tone", "voice", "style"):
            return k.conv.brand.tone or "friendly"
        if last in ("brand", "company", "organization", "author") and k.conv.brand.name:
            return k.conv.brand.name
        if last in ("handle", "username", "account", "user"):
            handles = k.mentions()
            return handles[0] if handles else "@" + re.sub(r"\W", "", (k.conv.brand.name or "brand").lower())
        if last in ("language", "lang", "locale"):
            return "en"
        if last in ("timezone", "tz") or key == "time_zone":
            return "UTC"
        if last == "currency":
            return "USD"
        if last in ("date", "day", "when", "at") or key.endswith(("_at", "_date")):
            return self.when(scope).date().isoformat()
        if last in ("time", "slot"):
            return scope.entry.time if scope.entry else "09:00"
        if last in ("weekday",):
            return self.when(scope).strftime("%A")
        if last == "status":
            return {"plan": "proposed", "write": "draft", "crisis": "monitoring"}.get(k.task, "ok")
        if last in ("emoji",):
            emoji = k.emoji()
            return emoji[0] if emoji else ""
        found = k.lookup(scope.key)
        if isinstance(found, (str, int, float)) and not isinstance(found, bool):
            return str(found)
        return k.topic

    def describe_item(self, parent: str, scope: Scope) -> str:
        """A description for an item of a named list (a pillar, goal or KPI), or "" for none."""
        k = self.k
        i = scope.index
        if parent in ("pillars", "themes"):
            pillar = k.plan.pillars[i % len(k.plan.pillars)]
            return f"Posts on {pillar} that tie back to {k.plan.topic} and speak to {k.plan.audience}."
        if parent in ("goals", "objectives"):
            return f"Measured by: {k.plan.kpis[i % len(k.plan.kpis)]}."
        if parent in ("kpis", "metrics"):
            return f"Tracked weekly against the goal: {k.plan.goals[i % len(k.plan.goals)]}."
        return ""

    def name(self, parent: str, scope: Scope) -> str:
        """A `name` field, by the list it sits in (pillars, goals, KPIs, records)."""
        k = self.k
        if parent in ("pillars", "themes", "pillar"):
            return k.plan.pillars[scope.index % len(k.plan.pillars)]
        if parent in ("goals", "objectives"):
            return k.plan.goals[scope.index % len(k.plan.goals)]
        if parent in ("kpis", "metrics"):
            return k.plan.kpis[scope.index % len(k.plan.kpis)]
        if parent in ("brand", "company") and k.conv.brand.name:
            return k.conv.brand.name
        if parent in ("campaign", "plan"):
            return k.title
        tops = [t for d in k.digests for t in d.top]
        if tops:
            return tops[scope.index % len(tops)]
        return k.title

    def label_text(self, last: str) -> str:
        """A free-text label: sentiment, an offered option, or an intent."""
        options = [n for n, _ in self.k.conv.options]
        if last in ("sentiment", "polarity"):
            return self.k.sentiment.label
        if options:
            return self.pick_label(options)
        if last in ("intent", "category", "class", "classification"):
            return self.k.intent()
        return self.k.sentiment.label


def mentioned(values: Sequence[str], text: str) -> str | None:
    """The enum value the text names first (whole word, or by stem)."""
    low = text.lower()
    best: tuple[int, str] | None = None
    text_stems = {stem(w) for w in re.findall(r"[a-z]+", low)}
    for value in values:
        spaced = split_identifier(value).lower()
        match = re.search(rf"(?<![\w]){re.escape(spaced)}(?![\w])", low)
        position = match.start() if match else None
        if position is None and spaced.isalpha() and len(spaced) > 3 and stem(spaced) in text_stems:
            position = len(low)
        if position is not None and (best is None or position < best[0]):
            best = (position, value)
    return best[1] if best else None


# Formats the plan uses, and the plainer media words an enum may use for them.
_FORMAT_SYNONYMS = {
    "reel": "video",
    "short video": "video",
    "short": "video",
    "story": "image",
    "pin": "image",
    "idea pin": "image",
    "text post": "text",
    "thread": "text",
    "poll": "text",
    "article": "text",
    "discussion post": "text",
    "post": "text",
}


def closest_option(values: Sequence[str], wanted: str) -> str | None:
    """The enum value equal to `wanted`, contained in it, or naming the same kind of media."""
    lowered = {v.lower(): v for v in values}
    low = wanted.lower()
    if low in lowered:
        return lowered[low]
    for value_low, value in lowered.items():
        if value_low in low or low in value_low:
            return value
    plain = _FORMAT_SYNONYMS.get(low)
    if plain is not None:
        for value_low, value in lowered.items():
            if plain in value_low:
                return value
    return None


_LEVELS = ("low", "medium", "high", "critical")


def closest_level(values: Sequence[str], level: str) -> str:
    lowered = {v.lower(): v for v in values}
    if level in lowered:
        return lowered[level]
    rank = _LEVELS.index(level)
    for offset in (1, -1, 2, -2, 3, -3):
        near = rank + offset
        if 0 <= near < len(_LEVELS) and _LEVELS[near] in lowered:
            return lowered[_LEVELS[near]]
    return values[0]
