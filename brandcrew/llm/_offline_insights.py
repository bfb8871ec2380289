"""Offline reading of data: digests of tool results, analysis answers, routing and extraction."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from brandcrew.llm._offline_context import ToolResult
from brandcrew.llm._offline_sentiment import NEGATIVE, NEUTRAL, POSITIVE, score_sentiment, severity
from brandcrew.llm._offline_text import (
    PLATFORM_LABELS,
    capitalize,
    find_datetimes,
    find_hashtags,
    find_ids,
    find_mentions,
    find_numbers,
    find_platforms,
    find_quoted,
    find_urls,
    first_sentence,
    format_number,
    keywords,
    overlap_score,
    split_identifier,
    stems,
)

# Fields that measure an item, most telling first; the first one present ranks the items.
METRIC_KEYS = (
    "engagements", "engagement", "engagement_rate", "impressions", "reach", "views", "likes", "volume",
    "mentions", "mention_count", "score", "growth", "growth_rate", "followers", "clicks", "shares",
    "comments", "reposts", "saves", "ctr", "conversions", "revenue", "count", "posts",
)  # fmt: skip
LABEL_KEYS = (
    "name", "title", "topic", "hashtag", "keyword", "term", "handle", "username", "account", "competitor",
    "brand", "platform", "text", "content", "caption", "message", "id",
)  # fmt: skip
TEXT_KEYS = ("text", "content", "message", "body", "caption", "comment", "review")
_NOT_SUMMED = ("rate", "score", "growth", "ctr", "average", "avg", "percent", "pct", "sentiment")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _humanize(key: str) -> str:
    return split_identifier(key).lower()


def label_of(item: Mapping[str, Any]) -> str:
    """A short human label for one record."""
    for key in LABEL_KEYS:
        value = item.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            text = str(value)
            return f"“{first_sentence(text, 60)}”" if key in TEXT_KEYS else text
    return "item"


def main_metric(items: Sequence[Mapping[str, Any]]) -> str | None:
    """The field that ranks `items`: the most telling known metric, else the first numeric field."""
    numeric: Counter[str] = Counter(k for item in items for k, v in item.items() if _is_number(v))
    if not numeric:
        return None
    for key in METRIC_KEYS:
        if numeric.get(key, 0) * 2 >= len(items):
            return key
    return numeric.most_common(1)[0][0]


@dataclass(kw_only=True)
class Digest:
    """What one tool result says, reduced to facts a person can read."""

    tool: str
    facts: list[str] = field(default_factory=list)
    count: int | None = None
    top: list[str] = field(default_factory=list)
    metric: str | None = None
    totals: dict[str, float] = field(default_factory=dict)
    sentiment: Counter[str] = field(default_factory=Counter)
    error: str | None = None
    text: str | None = None
    """The result itself when it is plain text rather than JSON."""


def _describe_items(key: str, items: list[Mapping[str, Any]], digest: Digest) -> None:
    noun = _humanize(key) if key else "items"
    digest.facts.append(f"{len(items)} {noun}")
    digest.count = len(items) if digest.count is None else digest.count
    metric = main_metric(items)
    if metric:
        values = [float(item[metric]) for item in items if _is_number(item.get(metric))]
        if values and not any(word in metric for word in _NOT_SUMMED):
            digest.totals[metric] = sum(values)
            digest.facts.append(f"total {_humanize(metric)} {format_number(sum(values), key=metric)}")
        if values:
            mean = sum(values) / len(values)
            digest.totals.setdefault(f"avg_{metric}", mean)
            digest.facts.append(f"average {_humanize(metric)} {format_number(mean, key=metric)}")
        ranked = sorted((i for i in items if _is_number(i.get(metric))), key=lambda i: -float(i[metric]))[:3]
        digest.metric = digest.metric or metric
        tops = [f"{label_of(i)} ({format_number(float(i[metric]), key=metric)})" for i in ranked]
        if tops:
            digest.top = digest.top or [label_of(i) for i in ranked]
            digest.facts.append(f"top by {_humanize(metric)}: " + ", ".join(tops))
    elif items:
        digest.top = digest.top or [label_of(i) for i in items[:3]]
        digest.facts.append("first: " + ", ".join(label_of(i) for i in items[:3]))
    if len(items) <= 5:
        for item in items:
            numbers = [(k, v) for k, v in item.items() if _is_number(v)][:5]
            if numbers:
                shown = ", ".join(f"{format_number(float(v), key=k)} {_humanize(k)}" for k, v in numbers)
                digest.facts.append(f"{label_of(item)}: {shown}")
    texts = [str(i[k]) for i in items for k in TEXT_KEYS if isinstance(i.get(k), str)]
    if texts and not any("sentiment" in k for i in items for k in i):
        digest.sentiment.update(score_sentiment(t).label for t in texts)
    labelled = [
        str(i.get("sentiment") or i.get("label"))
        for i in items
        if isinstance(i.get("sentiment") or i.get("label"), str)
    ]
    digest.sentiment.update(x.lower() for x in labelled)
    if digest.sentiment:
        digest.facts.append(
            "sentiment " + ", ".join(f"{n} {label}" for label, n in digest.sentiment.most_common())
        )


def _describe(value: Any, key: str, digest: Digest, depth: int = 0) -> None:
    if depth > 3:
        return
    if isinstance(value, Mapping):
        if value.get("error"):
            digest.error = str(value["error"])
            return
        if len(value) >= 2 and all(isinstance(v, Mapping) for v in value.values()):
            # {"x": {...}, "linkedin": {...}}: records keyed by their name.
            keyed: list[Mapping[str, Any]] = [{"name": str(k), **v} for k, v in value.items()]
            _describe_items(key, keyed, digest)
            return
        scalars = [(k, v) for k, v in value.items() if _is_number(v) or (isinstance(v, str) and len(v) <= 80)]
        for k, v in scalars[:6]:
            if _is_number(v):
                digest.totals.setdefault(str(k), float(v))
                digest.facts.append(f"{_humanize(str(k))} {format_number(float(v), key=str(k))}")
            elif str(k).lower() not in ("id", "status", "type", "url"):
                digest.facts.append(f"{_humanize(str(k))}: {v}")
        for k, v in value.items():
            if isinstance(v, (Mapping, list)):
                _describe(v, str(k), digest, depth + 1)
    elif isinstance(value, list):
        records = [v for v in value if isinstance(v, Mapping)]
        texts = [v for v in value if isinstance(v, str)]
        if records and len(records) * 2 >= len(value):
            _describe_items(key, records, digest)
        elif texts and sum(len(t) for t in texts) / len(texts) > 30:
            # Free texts (mentions, comments): count them, read their sentiment and themes.
            noun = _humanize(key) if key else "texts"
            digest.count = len(texts) if digest.count is None else digest.count
            digest.sentiment.update(score_sentiment(t).label for t in texts)
            themes = keywords(re.sub(r"@\w+|https?://\S+", " ", " ".join(texts)), limit=5)
            digest.top = digest.top or themes[:3]
            digest.facts.append(f"{len(texts)} {noun}")
            digest.facts.append(
                "sentiment " + ", ".join(f"{n} {lab}" for lab, n in digest.sentiment.most_common())
            )
            if themes:
                digest.facts.append("recurring themes: " + ", ".join(themes))
        elif value:
            shown = ", ".join(str(v) for v in value[:5])
            more = f" (+{len(value) - 5} more)" if len(value) > 5 else ""
            digest.facts.append(f"{len(value)} {_humanize(key) if key else 'items'}: {shown}{more}")
            digest.count = len(value) if digest.count is None else digest.count
            digest.top = digest.top or [str(v) for v in value[:3]]
        else:
            digest.facts.append(f"no {_humanize(key) if key else 'items'}")
            digest.count = 0 if digest.count is None else digest.count


def digest_result(result: ToolResult) -> Digest:
    """Facts, counts and top items of one tool result."""
    digest = Digest(tool=result.name or "tool")
    if result.is_error:
        digest.error = first_sentence(result.content, 200) if result.data is None else None
    if result.data is None:
        if not result.is_error:
            digest.text = result.content.strip()
        return digest
    _describe(result.data, "", digest)
    return digest


def digest_all(results: Sequence[ToolResult]) -> list[Digest]:
    """Digests of every tool result, in order."""
    return [digest_result(r) for r in results]


def sentiment_line(counts: Counter[str]) -> str:
    """`62% positive, 25% negative, 13% neutral (24 mentions)`."""
    total = sum(counts.values())
    if not total:
        return ""
    parts = [
        f"{round(100 * counts.get(label, 0) / total)}% {label}" for label in (POSITIVE, NEGATIVE, NEUTRAL)
    ]
    return ", ".join(parts) + f" ({total} mentions)"


def summarize_results(results: Sequence[ToolResult], *, agent: str | None) -> str:
    """A concise answer built from tool results: key facts, counts and top items per tool."""
    digests = digest_all(results)
    plain = [d for d in digests if d.text is not None]
    if len(digests) == 1 and plain:
        # A worker's or tool's plain-text answer is forwarded as is, not paraphrased.
        return plain[0].text or "The tool returned no content."
    lines: list[str] = []
    for d in digests:
        name = capitalize(_humanize(d.tool))
        if d.error:
            lines.append(f"- {name}: failed ({d.error}).")
        elif d.text is not None:
            lines.append(f"- {name}: {first_sentence(d.text, 300) or 'no content'}")
        elif d.facts:
            lines.append(f"- {name}: " + "; ".join(d.facts[:8]) + ".")
        else:
            lines.append(f"- {name}: returned no data.")
    headline = _headline(digests, agent)
    takeaway = _takeaway(digests, agent)
    return "\n".join(x for x in (headline, *lines, takeaway) if x)


def _headline(digests: Sequence[Digest], agent: str | None) -> str:
    sentiment: Counter[str] = Counter()
    for d in digests:
        sentiment.update(d.sentiment)
    if agent == "sentiment_analysis" and sentiment:
        return f"Sentiment: {sentiment_line(sentiment)}."
    titles = {
        "analytics": "Performance summary:",
        "trend_detection": "Trends worth watching:",
        "competitor_analysis": "Competitor snapshot:",
        "crisis_management": "Situation summary:",
    }
    return titles.get(agent or "", "Here's what I found:")


def _takeaway(digests: Sequence[Digest], agent: str | None) -> str:
    lead = next((d for d in digests if d.top and d.metric), None)
    sentiment: Counter[str] = Counter()
    for d in digests:
        sentiment.update(d.sentiment)
    total = sum(sentiment.values())
    if agent in ("sentiment_analysis", "crisis_management") and total:
        share = sentiment.get(NEGATIVE, 0) / total
        percent = round(share * 100)
        if share >= 0.4:
            return f"Takeaway: negative share is {percent}%; escalate and prepare a holding statement."
        return f"Takeaway: negative share is {percent}%; keep monitoring, no escalation needed."
    if lead is None or lead.metric is None:
        return ""
    metric = _humanize(lead.metric)
    if agent == "trend_detection":
        return (
            f"Takeaway: {lead.top[0]} is the strongest trend by {metric}; consider an on-brand post about it."
        )
    if agent == "competitor_analysis":
        return f"Takeaway: {lead.top[0]} leads on {metric}."
    return f"Takeaway: {lead.top[0]} leads on {metric}; do more of what worked there."


def analyze_text(text: str, *, agent: str | None) -> str:
    """An analysis without tool data: of JSON pasted in the request, else a reading of the text."""
    data = _embedded_json(text)
    if data is not None:
        result = ToolResult(
            call_id="", name="provided data", arguments={}, content="", data=data, is_error=False
        )
        return summarize_results([result], agent=agent)
    reading = score_sentiment(text)
    themes = keywords(text, limit=5)
    lines = [
        f"Quick read (offline, no data source was called): sentiment {reading.label} ({reading.score:+.2f})",
    ]
    if themes:
        lines.append("key themes: " + ", ".join(themes))
    platforms = find_platforms(text)
    if platforms:
        lines.append("platforms: " + ", ".join(PLATFORM_LABELS[p] for p in platforms))
    if agent == "crisis_management" or agent == "sentiment_analysis":
        lines.append(f"risk level: {severity(text)}")
    numbers = find_numbers(text)
    if numbers:
        lines.append("figures mentioned: " + ", ".join(format_number(n) for n in numbers[:5]))
    return "; ".join(lines) + ". Connect analytics or listening tools for measured numbers."


def _embedded_json(text: str) -> Any:
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if start < 0:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(text[start:])
    except ValueError:
        return None
    return value if isinstance(value, (dict, list)) else None


# --- routing between the options a prompt lists ---

AGENT_KEYWORDS = {
    "content_creator": "write draft post caption copy content create tweet thread reel video script blog",
    "strategy": "plan strategy calendar campaign goal cadence roadmap pillar audience launch positioning",
    "engagement": "reply respond comment dm message inbox customer question community review",
    "analytics": "metric analytics performance report kpi impression reach click growth engagement number",
    "trend_detection": "trend trending viral hashtag popular emerging meme moment",
    "competitor_analysis": "competitor rival benchmark compare competition market share",
    "crisis_management": "crisis backlash boycott outrage scandal emergency recall breach statement angry",
    "sentiment_analysis": "sentiment feel perception opinion mood positive negative mention think",
}
_FALLBACK_OPTIONS = ("general", "default", "fallback", "strategy", "other", "supervisor")


def choose_option(text: str, options: Sequence[tuple[str, str]]) -> str:
    """The option whose name and description best match `text` (ties go to the earlier one)."""
    if not options:
        return ""
    wanted = stems(text)
    best, best_score = options[0][0], 0.0
    for name, description in options:
        key = name.lower().replace("-", "_").replace(" ", "_")
        known = AGENT_KEYWORDS.get(key, "")
        score = (
            2.0 * overlap_score(wanted, stems(split_identifier(name)))
            + overlap_score(wanted, stems(description))
            + 1.5 * overlap_score(wanted, stems(known))
        )
        if score > best_score:
            best, best_score = name, score
    if best_score == 0:
        for name, _ in options:
            if name.lower() in _FALLBACK_OPTIONS:
                return name
    return best


# --- extraction ---


def extract_entities(text: str, today: date) -> dict[str, list[Any]]:
    """Entities in `text`: platforms, URLs, hashtags, mentions, dates, ids, numbers, quotes, keywords."""
    return {
        "platforms": find_platforms(text),
        "urls": find_urls(text),
        "hashtags": find_hashtags(text),
        "mentions": find_mentions(text),
        "dates": [d.date().isoformat() for d in find_datetimes(text, today)],
        "ids": find_ids(text),
        "numbers": [int(n) if float(n).is_integer() else n for n in find_numbers(text)],
        "emails": re.findall(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b", text),
        "quoted": find_quoted(text),
        "keywords": keywords(re.sub(r"https?://\S+|[@#]\w+|\b\w+[_-]\d\w*", " ", text)),
    }


OFFLINE_HELP = (
    "I'm brandcrew's built-in offline model: no LLM provider key is configured, so I answer from "
    "templates, your brand profile and tool results rather than a language model. I can draft posts "
    "for X, LinkedIn, Instagram, Facebook, Threads, TikTok, YouTube, Pinterest and Reddit, plan a "
    "content calendar, summarise metrics and mentions, classify sentiment, and draft replies or "
    'holding statements. Try: "Write a LinkedIn post about our spring launch".'
)
