"""What the offline model reads from a request: the conversation, the brand profile and the task."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from brandcrew.llm._offline_text import PLATFORMS, find_emoji, find_platforms, normalize_platform
from brandcrew.llm.messages import ModelRequest

Task = Literal["write", "reply", "crisis", "plan", "analyze", "classify", "route", "extract", "general"]

AGENTS: tuple[str, ...] = (
    "content_creator",
    "strategy",
    "engagement",
    "analytics",
    "trend_detection",
    "competitor_analysis",
    "crisis_management",
    "sentiment_analysis",
)
_AGENT_TASKS: dict[str, Task] = {
    "content_creator": "write",
    "strategy": "plan",
    "engagement": "reply",
    "analytics": "analyze",
    "trend_detection": "analyze",
    "competitor_analysis": "analyze",
    "crisis_management": "crisis",
    "sentiment_analysis": "analyze",
}


def _strings(value: Any) -> tuple[str, ...]:
    """Strings out of a profile value: a list, a comma list, or dicts carrying a name."""
    if value is None or isinstance(value, bool):
        return ()
    if isinstance(value, str):
        parts = re.split(r"[,;\n]", value) if re.search(r"[,;\n]", value) else [value]
        return tuple(p.strip() for p in parts if p.strip())
    if isinstance(value, Mapping):
        named = value.get("name") or value.get("title")
        return (str(named),) if named else tuple(str(k) for k in value)
    if isinstance(value, (list, tuple, set, frozenset)):
        out: list[str] = []
        for item in value:
            out.extend(_strings(item))
        return tuple(dict.fromkeys(out))
    return (str(value),)


def _first(raw: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if raw.get(key) not in (None, "", [], {}):
            return raw[key]
    return None


@dataclass(frozen=True, kw_only=True)
class BrandProfile:
    """The brand facts the offline model writes with; every field may be empty."""

    name: str = ""
    tone: str = ""
    audience: str = ""
    hashtags: tuple[str, ...] = ()
    emoji: bool | None = None
    """True: use emoji, False: never, None: follow the platform's habit."""
    emoji_set: tuple[str, ...] = ()
    banned: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    pillars: tuple[str, ...] = ()
    call_to_action: str = ""
    website: str = ""
    platforms: tuple[str, ...] = ()
    description: str = ""

    @classmethod
    def from_raw(cls, raw: Any) -> BrandProfile:
        """Read a brand profile dict in any of the shapes configs use (voice as text or dict, ...)."""
        if isinstance(raw, str):
            return cls(name=raw)
        if not isinstance(raw, Mapping):
            return cls()
        voice = raw.get("voice") or raw.get("brand_voice")
        voice_map: Mapping[str, Any] = voice if isinstance(voice, Mapping) else {}
        tone_value = _first(raw, "tone") or _first(voice_map, "tone", "style", "adjectives")
        if tone_value is None and isinstance(voice, (str, list)):
            tone_value = voice
        emoji_value = _first(raw, "emoji", "emojis", "use_emoji", "emoji_usage")
        if emoji_value is None:
            emoji_value = _first(voice_map, "emoji", "emojis", "use_emoji")
        emoji, emoji_set = _read_emoji(emoji_value)
        hashtags = tuple(
            dict.fromkeys(
                "#" + h.lstrip("#").replace(" ", "")
                for h in _split_tags(_first(raw, "hashtags", "tags", "default_hashtags"))
                if h.strip("# ")
            )
        )
        banned_keys = ("banned_words", "banned", "banned_phrases", "avoid", "forbidden_words", "do_not_use")
        banned = _strings(_first(raw, *banned_keys)) + _strings(_first(voice_map, *banned_keys))
        platforms = tuple(p for p in (normalize_platform(s) for s in _strings(raw.get("platforms"))) if p)
        return cls(
            name=str(_first(raw, "name", "brand", "brand_name", "company") or ""),
            tone=", ".join(_strings(tone_value)),
            audience=", ".join(_strings(_first(raw, "audience", "target_audience", "audiences"))),
            hashtags=hashtags,
            emoji=emoji,
            emoji_set=emoji_set,
            banned=tuple(dict.fromkeys(banned)),
            products=_strings(_first(raw, "products", "product", "offerings")),
            pillars=_strings(_first(raw, "pillars", "content_pillars", "themes")),
            call_to_action=str(_first(raw, "call_to_action", "cta", "default_cta") or ""),
            website=str(_first(raw, "website", "url", "link", "site") or ""),
            platforms=platforms,
            description=str(_first(raw, "description", "about", "mission", "tagline") or ""),
        )


def _split_tags(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(t for t in re.split(r"[\s,;]+", value) if t)
    return _strings(value)


def _read_emoji(value: Any) -> tuple[bool | None, tuple[str, ...]]:
    if value is None:
        return None, ()
    if isinstance(value, bool):
        return value, ()
    if isinstance(value, (int, float)):
        return value > 0, ()
    if isinstance(value, str):
        found = tuple(find_emoji(value))
        if found:
            return True, found
        low = value.lower()
        if any(w in low for w in ("never", "no", "none", "avoid", "off", "false")):
            return False, ()
        return True, ()
    if isinstance(value, (list, tuple)):
        found = tuple(e for item in value for e in find_emoji(str(item)))
        return bool(found), found
    return None, ()


@dataclass(frozen=True, kw_only=True)
class ToolResult:
    """One tool answer that came back after the last user message."""

    call_id: str
    name: str
    arguments: dict[str, Any]
    content: str
    data: Any
    """The content parsed as JSON, or None when it is plain text."""
    is_error: bool


@dataclass(frozen=True, kw_only=True)
class Conversation:
    """The parts of a request the offline model decides with."""

    system: str
    request: str
    """The last user message (the system prompt when there is none)."""
    user_texts: tuple[str, ...]
    calls: frozenset[tuple[str, str]]
    """(tool name, canonical JSON arguments) already called since the last user message."""
    results: tuple[ToolResult, ...]
    rounds: int
    """Assistant turns with tool calls since the last user message."""
    agent: str | None
    step: str | None
    platforms: tuple[str, ...]
    """Platforms named by metadata or the conversation; may be empty."""
    brand: BrandProfile
    seed: str
    today: date
    options: tuple[tuple[str, str], ...]
    """(name, description) choices offered by the system prompt or metadata, for route/classify."""
    metadata: Mapping[str, Any]

    @property
    def all_user_text(self) -> str:
        """Every user message, oldest first."""
        return "\n".join(self.user_texts)


def text_of(content: Any) -> str:
    """The text of a message's content, whether a string or a list of OpenAI content parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            str(p.get("text", "")) for p in content if isinstance(p, Mapping) and p.get("type") == "text"
        ]
        return "\n".join(p for p in parts if p)
    return str(content)


def canonical_args(arguments: Mapping[str, Any]) -> str:
    """A stable JSON text of tool arguments, for spotting repeated calls."""
    return json.dumps(arguments, sort_keys=True, separators=(",", ":"), default=str)


def _parse_arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, Mapping):
        return dict(raw)
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except ValueError:
            return {}
        return dict(parsed) if isinstance(parsed, Mapping) else {}
    return {}


def _parse_json(text: str) -> Any:
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{":
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        return None


def _is_error(content: str, data: Any) -> bool:
    if isinstance(data, Mapping):
        return bool(data.get("error")) or str(data.get("status", "")).lower() in ("error", "failed")
    return bool(re.match(r"\s*(error|exception|failed)\b", content, re.I))


def _read_today(metadata: Mapping[str, Any], fallback: date) -> date:
    raw = metadata.get("today") or metadata.get("now") or metadata.get("date")
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw[:10])
        except ValueError:
            return fallback
    return fallback


_OPTION_LINE_RE = re.compile(
    r"^\s*(?:[-*•]|\d+[.)])\s*[`*\"']*([A-Za-z][\w\-]*)[`*\"']*\s*(?::|—|–|-|=)\s+(.+?)\s*$"
)
_OPTION_HEADER_RE = re.compile(
    r"agent|option|label|categor|route|team|worker|specialist|choose|pick|select|one of|destination", re.I
)
_INLINE_OPTIONS_RE = re.compile(
    r"(?:one of|options?|labels?|categories|choose from|choices|agents?)\s*(?:are|is)?\s*[:\-]?\s*\[?"
    r"([\w\-]+(?:\s*(?:,|\||/|\bor\b)\s*[\w\-]+)+)",
    re.I,
)


def parse_options(system: str, metadata: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """Choices a prompt offers: metadata `options`, `- name: description` lines, or an inline list."""
    raw = metadata.get("options") or metadata.get("agents") or metadata.get("labels")
    if isinstance(raw, Mapping):
        return tuple((str(k), str(v)) for k, v in raw.items())
    if isinstance(raw, (list, tuple)):
        out: list[tuple[str, str]] = []
        for item in raw:
            if isinstance(item, Mapping) and item.get("name"):
                out.append((str(item["name"]), str(item.get("description", ""))))
            elif isinstance(item, str):
                out.append((item, ""))
        if out:
            return tuple(out)
    blocks: list[tuple[str, list[tuple[str, str]]]] = []
    header = ""
    current: list[tuple[str, str]] = []
    for line in system.splitlines():
        match = _OPTION_LINE_RE.match(line)
        if match:
            current.append((match.group(1), match.group(2)))
            continue
        if current:
            blocks.append((header, current))
            current = []
        if line.strip():
            header = line
    if current:
        blocks.append((header, current))
    blocks = [b for b in blocks if len(b[1]) >= 2]
    if blocks:
        # A list introduced by "agents:", "labels:", "choose one of" is the one the prompt offers.
        flagged = [items for head, items in blocks if _OPTION_HEADER_RE.search(head)]
        return tuple(flagged[-1] if flagged else blocks[-1][1])
    match = _INLINE_OPTIONS_RE.search(system)
    if match:
        names = [n for n in re.split(r"\s*(?:,|\||/|\bor\b)\s*", match.group(1)) if n]
        return tuple((n, "") for n in dict.fromkeys(names))
    return ()


def parse_conversation(request: ModelRequest, *, seed: str, today: date) -> Conversation:
    """Read the messages, tool traffic and metadata hints of `request`."""
    messages = request.messages
    metadata = request.metadata
    system = "\n".join(
        text_of(m.get("content")) for m in messages if m.get("role") in ("system", "developer")
    )
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    user_texts = tuple(text_of(m.get("content")) for m in messages if m.get("role") == "user")
    request_text = user_texts[-1] if user_texts else system

    names: dict[str, tuple[str, dict[str, Any]]] = {}
    calls: set[tuple[str, str]] = set()
    results: list[ToolResult] = []
    rounds = 0
    for message in messages[last_user + 1 :]:
        role = message.get("role")
        if role == "assistant" and message.get("tool_calls"):
            rounds += 1
            for call in message["tool_calls"]:
                function = call.get("function") or {}
                name = str(function.get("name") or call.get("name") or "")
                arguments = _parse_arguments(function.get("arguments", call.get("arguments")))
                names[str(call.get("id", ""))] = (name, arguments)
                calls.add((name, canonical_args(arguments)))
        elif role == "tool":
            content = text_of(message.get("content"))
            call_id = str(message.get("tool_call_id", ""))
            name, arguments = names.get(call_id, (str(message.get("name", "")), {}))
            data = _parse_json(content)
            results.append(
                ToolResult(
                    call_id=call_id,
                    name=name,
                    arguments=arguments,
                    content=content,
                    data=data,
                    is_error=_is_error(content, data),
                )
            )

    brand = BrandProfile.from_raw(metadata.get("brand") or metadata.get("brand_profile"))
    platforms = _known_platforms(metadata, request_text, user_texts)
    agent = metadata.get("agent")
    step = metadata.get("step")
    return Conversation(
        system=system,
        request=request_text,
        user_texts=user_texts,
        calls=frozenset(calls),
        results=tuple(results),
        rounds=rounds,
        agent=str(agent) if agent else None,
        step=str(step) if step else None,
        platforms=platforms,
        brand=brand,
        seed=seed,
        today=_read_today(metadata, today),
        options=parse_options(system, metadata),
        metadata=metadata,
    )


def _known_platforms(
    metadata: Mapping[str, Any], request: str, user_texts: tuple[str, ...]
) -> tuple[str, ...]:
    hinted: list[str] = []
    for key in ("platforms", "platform"):
        for name in _strings(metadata.get(key)):
            platform = normalize_platform(name)
            if platform and platform not in hinted:
                hinted.append(platform)
    if hinted:
        return tuple(hinted)
    found = find_platforms(request)
    if not found:
        for text in reversed(user_texts):
            found = find_platforms(text)
            if found:
                break
    return tuple(p for p in found if p in PLATFORMS)


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


_CRISIS_RE = _rx(
    r"\b(?:crisis|backlash|boycott|outrage|scandal|holding statement|pr (?:disaster|fire)|lawsuit|"
    r"product recall|data breach|going viral for)\b"
)
_ROUTE_RE = _rx(r"\b(?:which agent|route (?:this|the request)|who should handle)\b")
_REPLY_RE = _rx(
    r"\b(?:reply|replies|respond|response to|answer (?:this|the|a|that) (?:comment|dm|message|review|"
    r"question|customer))\b"
)
_PLAN_RE = _rx(r"\b(?:plan|planning|strategy|strategi[sz]e|calendar|roadmap|cadence)\b")
_POST_OBJECT_RE = _rx(r"\b(?:posts?|tweets?|captions?|threads?|copy|announcements?)\b")
_WRITE_RE = _rx(
    r"\b(?:write|draft|compose|craft|rewrite|(?:create|make|generate|give me|prepare|need)\b.{0,40}?"
    r"\b(?:posts?|tweets?|captions?|copy|threads?|announcements?|content))\b"
)
_LATER_RULES: tuple[tuple[Task, re.Pattern[str]], ...] = (
    (
        "classify",
        _rx(r"\b(?:classify|categori[sz]e|label (?:this|these|the)|is this (?:positive|negative))\b"),
    ),
    ("extract", _rx(r"\b(?:extract|pull out|parse)\b")),
    (
        "analyze",
        _rx(
            r"\b(?:analy[sz]e|analysis|report|summar(?:y|i[sz]e)|metrics|performance|how (?:did|are|is|was)|"
            r"insights?|trends?|trending|competitors?|sentiment|stats|engagement rate|what are people saying)\b"
        ),
    ),
)
_GREETING_RE = _rx(r"^\s*(?:hi|hello|hey|help|thanks|thank you|what can you do)\b")


def text_intent(text: str) -> Task | None:
    """The task a request's wording asks for, if it says so plainly."""
    if _GREETING_RE.match(text) and len(text.split()) <= 6:
        return "general"
    if _CRISIS_RE.search(text):
        return "crisis"
    if _ROUTE_RE.search(text):
        return "route"
    if _REPLY_RE.search(text):
        return "reply"
    # Plan or post: whichever the request names first as its object. Words after "about" are the
    # topic ("a post about our strategy" is a post), so they do not count.
    head = re.split(r"\b(?:about|regarding|on the topic of)\b", text, maxsplit=1, flags=re.I)[0]
    plan = _PLAN_RE.search(head)
    post = _POST_OBJECT_RE.search(head)
    if plan and (post is None or plan.start() < post.start()):
        return "plan"
    if _WRITE_RE.search(text):
        return "write"
    if _PLAN_RE.search(text):
        return "plan"
    for task, pattern in _LATER_RULES:
        if pattern.search(text):
            return task
    return None


_STEP_TASKS: dict[str, Task] = {
    "route": "route",
    "classify": "classify",
    "extract": "extract",
    "plan": "plan",
}


def infer_task(conv: Conversation) -> Task:
    """What to produce: the step hint first, then the wording of the request, then the agent's habit."""
    intent = text_intent(conv.request)
    agent_task = _AGENT_TASKS.get(conv.agent or "")
    step = conv.step
    if step is not None and step in _STEP_TASKS:
        return _STEP_TASKS[step]
    if step == "write":
        if agent_task in ("crisis", "reply"):
            return agent_task
        return intent if intent in ("reply", "crisis", "plan") else "write"
    if step == "analyze":
        return "crisis" if agent_task == "crisis" else "analyze"
    if intent == "general" and agent_task is not None and len(conv.request.split()) > 6:
        return agent_task
    return intent or agent_task or "general"
