"""Offline content plans: goals, pillars, cadence per platform, a dated calendar and KPIs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from brandcrew.llm._offline_context import BrandProfile
from brandcrew.llm._offline_posts import clean_topic, embed_phrase, read_brief
from brandcrew.llm._offline_text import (
    PLATFORM_LABELS,
    capitalize,
    find_datetimes,
    find_period_days,
    find_platforms,
    keywords,
    normalize_platform,
    pick,
    sentences,
    stable_int,
)

DEFAULT_PLATFORMS = ("instagram", "linkedin", "x")
DEFAULT_CADENCE = {
    "x": 5,
    "linkedin": 3,
    "instagram": 4,
    "facebook": 3,
    "threads": 5,
    "tiktok": 4,
    "youtube": 1,
    "pinterest": 5,
    "reddit": 1,
}
POST_TIMES = {
    "x": "09:00",
    "linkedin": "08:30",
    "instagram": "11:00",
    "facebook": "13:00",
    "threads": "10:00",
    "tiktok": "19:00",
    "youtube": "16:00",
    "pinterest": "20:00",
    "reddit": "10:00",
}
FORMATS = {
    "x": ("text post", "thread", "poll"),
    "linkedin": ("text post", "carousel", "article"),
    "instagram": ("reel", "carousel", "story"),
    "facebook": ("post", "video", "event"),
    "threads": ("text post",),
    "tiktok": ("short video",),
    "youtube": ("video", "short"),
    "pinterest": ("pin", "idea pin"),
    "reddit": ("discussion post",),
}
# Which weekdays (Mon=0) a cadence of N posts a week uses; LinkedIn's audience is there mid-week.
_POSTING_DAYS = {1: (3,), 2: (1, 3), 3: (0, 2, 4), 4: (0, 2, 4, 5), 5: (0, 1, 2, 3, 4), 6: (0, 1, 2, 3, 4, 5)}
_WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

_GOAL_RULES = (
    ("awareness", r"aware|reach|visib|brand|launch|impression"),
    ("engagement", r"engag|community|conversation|interact|comment"),
    ("growth", r"follower|grow|audience size|subscriber"),
    ("traffic", r"traffic|click|visit|website|sign.?up|lead|download"),
    ("sales", r"\bsales?\b|revenue|conversion|purchase|buy|shop|order|% off|discount"),
)
_GENERIC_TOPIC_WORDS = frozenset(
    {"launch", "release", "rollout", "promotion", "new", "plan", "posts", "post", "week", "month", "content"}
)
_DEFAULT_PILLARS = ("Education", "Product spotlight", "Community", "Behind the scenes")
_IDEAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        r"educat|tip|how|learn|guide|expert",
        ("3 quick tips to get more from {subject}", "Myth vs fact: {subject}",
         "A beginner's guide to {subject}"),
    ),
    (
        r"product|offer|launch|feature|promo|sale",
        ("Feature spotlight: {product}", "Why people choose {product}", "{Topic}: what's new"),
    ),
    (
        r"communit|customer|ugc|proof|testimonial|fan",
        ("Customer story: {product} in real life", "Ask your audience: how do you enjoy {subject}?",
         "Reshare of the week from our community"),
    ),
    (
        r"behind|team|culture|bts|stor|people|origin",
        ("Behind the scenes: the story of {product}", "Meet the team behind {brand}",
         "A day in the life at {brand}"),
    ),
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class PlanEntry:
    """One planned post."""

    day: date
    platform: str
    pillar: str
    idea: str
    format: str
    time: str


@dataclass(frozen=True, kw_only=True)
class ContentPlan:
    """A content plan the offline model drafted."""

    title: str
    topic: str
    goals: tuple[str, ...]
    goal_kinds: tuple[str, ...]
    pillars: tuple[str, ...]
    cadence: dict[str, int]
    entries: tuple[PlanEntry, ...]
    kpis: tuple[str, ...]
    start: date
    end: date
    days: int
    audience: str

    @property
    def weeks(self) -> int:
        """Calendar weeks the plan spans (rounded up)."""
        return max(1, -(-self.days // 7))

    def week_of(self, entry: PlanEntry) -> int:
        """0-based week index of an entry."""
        return (entry.day - self.start).days // 7


def _cadence(text: str, platforms: Sequence[str]) -> dict[str, int]:
    cadence = {p: DEFAULT_CADENCE[p] for p in platforms}
    for sentence in sentences(text):
        named = [p for p in find_platforms(sentence) if p in cadence] or list(platforms)
        match = re.search(r"\b(\d{1,2})\s*(?:posts?|times|x)?\s*(?:a|per|each|/)\s*week\b", sentence, re.I)
        if match:
            for p in named:
                cadence[p] = max(1, min(14, int(match.group(1))))
        elif re.search(r"\bdaily\b|\bevery day\b", sentence, re.I):
            for p in named:
                cadence[p] = 7
    return cadence


_PLAN_TOPIC_RE = re.compile(
    r"\b(?:plan|strategy|calendar|campaign|roadmap|schedule)\s+"
    r"(?:for|about|around|on|to (?:promote|launch))\s+(.+)",
    re.I | re.S,
)
_PLAN_TAIL_RE = re.compile(
    r"\s*\b(?:(?:for|over|in|during|across)\s+(?:the\s+)?(?:next|coming|first)\s+.*|(?:this|next)\s+(?:week|month|quarter)"
    r"|starting\b.*|from\s+\d{4}-.*)$",
    re.I,
)


_LAUNCH_RE = re.compile(
    r"\b((?:the\s+)?(?:launch|release|rollout|promotion|opening|debut)\s+of\s+.+)", re.I | re.S
)


def _plan_topic(request: str) -> str:
    """The subject of a plan request: `a 4-week plan for our spring launch on X` -> `our spring launch`."""
    first = sentences(request)[0] if sentences(request) else request
    match = _LAUNCH_RE.search(first) or _PLAN_TOPIC_RE.search(first)
    if not match:
        return ""
    topic = clean_topic(match.group(1))
    topic = _PLAN_TAIL_RE.sub("", topic)
    topic = clean_topic(topic)
    return embed_phrase(topic) if keywords(topic) else ""


def _idea(pillar: str, *, topic: str, subject: str, product: str, brand: str, n: int) -> str:
    label = capitalize(pillar)
    templates: tuple[str, ...] = (f"{label}: a fresh take on {{subject}}", f"{label}: {{topic}}")
    for pattern, ideas in _IDEAS:
        if re.search(pattern, pillar, re.I):
            templates = ideas
            break
    template = templates[n % len(templates)]
    return template.format(
        subject=subject, topic=topic, Topic=capitalize(topic), product=product, brand=brand
    )


def build_plan(
    request: str,
    brand: BrandProfile,
    platforms: Sequence[str],
    *,
    today: date,
    seed: str,
    max_entries: int = 120,
) -> ContentPlan:
    """A plan from the request and brand: goals, pillars, cadence, a dated calendar and KPIs."""
    chosen = [p for p in platforms if p in DEFAULT_CADENCE] or [
        p for p in (normalize_platform(x) for x in brand.platforms) if p
    ]
    chosen = chosen or list(DEFAULT_PLATFORMS)
    brief = read_brief(request, brand)
    topic = _plan_topic(request) or brief.topic
    product = brand.products[0] if brand.products else topic
    # What tips and questions are about: the named product, else the topic's leading content word.
    words = [w for w in keywords(topic, limit=4) if w not in _GENERIC_TOPIC_WORDS]
    named = next((p for p in brand.products if p.lower() in topic.lower()), "")
    subject = named or (brand.products[0] if brand.products else " ".join(words[:2]) or topic)
    audience = brand.audience or "our audience"
    days = max(1, min(find_period_days(request) or 28, 90))
    dates = [d.date() for d in find_datetimes(request, today) if d.date() >= today]
    start = dates[0] if dates else today + timedelta(days=(7 - today.weekday()) or 7)
    low = request.lower()
    kinds = [kind for kind, pattern in _GOAL_RULES if re.search(pattern, low)]
    # A plan pursues at least three goals; the defaults complete what the request names.
    for default in ("awareness", "engagement", "traffic", *(["sales"] if brief.angle == "promo" else [])):
        if len(kinds) >= 3 and default != "sales":
            break
        if default not in kinds:
            kinds.append(default)
    labels = ", ".join(PLATFORM_LABELS[p] for p in chosen)
    goal_text = {
        "awareness": f"Grow awareness of {topic} among {audience}",
        "engagement": f"Spark conversations with {audience} on {labels}",
        "growth": f"Grow followers on {labels} by at least 5% over the plan",
        "traffic": f"Drive qualified traffic to {brand.website or 'our site'} from every platform",
        "sales": f"Turn social attention into sales of {product}"
        if brief.angle != "promo"
        else f"Turn social attention into sales during {topic}",
    }
    kpi_text = {
        "awareness": "Reach and impressions: +20% versus the previous period",
        "engagement": "Engagement rate: at least 3% per post",
        "growth": "Follower growth: at least 5% over the plan",
        "traffic": "Link clicks: CTR of at least 1.5% on UTM-tagged links",
        "sales": "Conversions from social (UTM-attributed): +10% week over week",
    }
    pillars = brand.pillars or _DEFAULT_PILLARS[: 3 if days <= 7 else 4]
    cadence = _cadence(request, chosen)
    offset = stable_int(seed, "plan") % len(pillars)
    entries: list[PlanEntry] = []
    for day_index in range(days):
        day = start + timedelta(days=day_index)
        for p_index, platform in enumerate(chosen):
            per_week = cadence[platform]
            if per_week < 7 and day.weekday() not in _POSTING_DAYS.get(per_week, (0, 1, 2, 3, 4)):
                continue
            n = len(entries)
            pillar = pillars[(day_index + p_index + offset) % len(pillars)]
            entries.append(
                PlanEntry(
                    day=day,
                    platform=platform,
                    pillar=pillar,
                    idea=_idea(
                        pillar, topic=topic, subject=subject, product=product, brand=brand.name or "us", n=n
                    ),
                    format=pick(FORMATS[platform], seed, day.isoformat(), platform),
                    time=POST_TIMES[platform],
                )
            )
            if len(entries) >= max_entries:
                break
        if len(entries) >= max_entries:
            break
    title = f"{brand.name + ' ' if brand.name else ''}content plan: {topic}"
    return ContentPlan(
        title=capitalize(title),
        topic=topic,
        goals=tuple(goal_text[k] for k in kinds),
        goal_kinds=tuple(kinds),
        pillars=tuple(pillars),
        cadence=cadence,
        entries=tuple(entries),
        kpis=(*(kpi_text[k] for k in kinds), "Sentiment: at least 70% of brand mentions positive or neutral"),
        start=start,
        end=start + timedelta(days=days - 1),
        days=days,
        audience=audience,
    )


def _day(d: date) -> str:
    return f"{_WEEKDAY_NAMES[d.weekday()]} {d.isoformat()}"


def render_plan(plan: ContentPlan) -> str:
    """The plan as Markdown: day by day for up to two weeks, week by week beyond."""
    labels = ", ".join(PLATFORM_LABELS[p] for p in plan.cadence)
    lines = [
        f"# {plan.title}",
        f"Period: {plan.start.isoformat()} to {plan.end.isoformat()} ({plan.days} days)",
        f"Platforms: {labels}",
        "",
        "## Goals",
        *(f"{i}. {goal}" for i, goal in enumerate(plan.goals, 1)),
        "",
        "## Content pillars",
        *(f"- {pillar}" for pillar in plan.pillars),
        "",
        "## Cadence",
    ]
    for platform, per_week in plan.cadence.items():
        days = (
            "every day"
            if per_week >= 7
            else ", ".join(_WEEKDAY_NAMES[d] for d in _POSTING_DAYS.get(per_week, ()))
        )
        lines.append(f"- {PLATFORM_LABELS[platform]}: {per_week} posts/week ({days}, {POST_TIMES[platform]})")
    lines += ["", "## Calendar"]
    if plan.days <= 14:
        for entry in plan.entries:
            lines.append(
                f"- {_day(entry.day)} {entry.time} · {PLATFORM_LABELS[entry.platform]} · {entry.pillar} · "
                f"{capitalize(entry.format)}: {entry.idea}"
            )
    else:
        for week in range(plan.weeks):
            in_week = [e for e in plan.entries if plan.week_of(e) == week]
            if not in_week:
                continue
            first = plan.start + timedelta(days=7 * week)
            last = min(first + timedelta(days=6), plan.end)
            focus = plan.pillars[week % len(plan.pillars)]
            counts = ", ".join(
                f"{PLATFORM_LABELS[p]} {sum(1 for e in in_week if e.platform == p)}" for p in plan.cadence
            )
            lines.append(f"### Week {week + 1} ({_day(first)} – {_day(last)}): focus {focus}")
            lines.append(f"- Posts: {counts}")
            key = next((e for e in in_week if e.pillar == focus), in_week[0])
            lines.append(f"- Key post: {_day(key.day)} on {PLATFORM_LABELS[key.platform]}: {key.idea}")
    lines += [
        "",
        "## KPIs",
        *(f"- {kpi}" for kpi in plan.kpis),
        "",
        "## Next steps",
        "- Draft the first week's posts and send them for approval.",
        "- Tag every link with UTM parameters so the KPIs can be measured.",
        "- Review results weekly and shift effort to the best-performing pillar.",
    ]
    return "\n".join(lines)
