"""Everything the offline model knows about one request, computed lazily and shared by all outputs.

Plain-text answers, structured output and tool arguments all draw on the same `Knowledge`, so a
post in a JSON field reads exactly like the post in a text answer.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

from brandcrew.llm._offline_context import AGENTS, Conversation, Task
from brandcrew.llm._offline_insights import (
    OFFLINE_HELP,
    Digest,
    analyze_text,
    choose_option,
    digest_all,
    extract_entities,
    sentiment_line,
    summarize_results,
)
from brandcrew.llm._offline_plan import ContentPlan, build_plan, render_plan
from brandcrew.llm._offline_posts import (
    Brief,
    comment_of,
    compose_post,
    compose_reply,
    compose_statement,
    copy_facts,
    crisis_issue,
    pick_hashtags,
    read_brief,
)
from brandcrew.llm._offline_sentiment import NEGATIVE, Sentiment, classify, score_sentiment, severity
from brandcrew.llm._offline_text import (
    PLATFORM_LABELS,
    TEXT_LIMITS,
    capitalize,
    find_emoji,
    find_ids,
    find_mentions,
    find_urls,
    first_sentence,
    keywords,
)

_INTENT_LABELS = ("question", "complaint", "praise", "purchase", "support", "spam", "feedback", "other")


class Knowledge:
    """Lazily computed facts and drafts for one request."""

    def __init__(self, conv: Conversation, task: Task) -> None:
        self.conv = conv
        self.task = task

    # --- inputs ---

    @cached_property
    def platforms(self) -> list[str]:
        """Platforms to write or plan for; never empty."""
        if self.conv.platforms:
            return list(self.conv.platforms)
        if self.conv.brand.platforms and self.task == "plan":
            return list(self.conv.brand.platforms)
        return ["x"]

    @cached_property
    def brief(self) -> Brief:
        """The writing brief read from the request."""
        return read_brief(self.conv.request, self.conv.brand)

    @cached_property
    def digests(self) -> list[Digest]:
        """Digests of the tool results since the last user message."""
        return digest_all(self.conv.results)

    @cached_property
    def copy(self) -> tuple[list[str], list[str]]:
        """Post-ready facts and hashtags from tool results."""
        facts: list[str] = []
        tags: list[str] = []
        for result in self.conv.results:
            if result.data is not None and not result.is_error:
                more_facts, more_tags = copy_facts(result.data, tool_name=result.name)
                facts.extend(more_facts)
                tags.extend(more_tags)
        return facts, tags

    @cached_property
    def subject_text(self) -> str:
        """The text a classifier judges: a quoted or `comment:` text, else the request."""
        return comment_of(self.conv.request)

    @cached_property
    def sentiment(self) -> Sentiment:
        """Lexicon sentiment of the subject text."""
        return score_sentiment(self.subject_text)

    @cached_property
    def severity(self) -> str:
        """Crisis severity from the request and any mention data."""
        counts = self.sentiment_counts
        share = counts[NEGATIVE] / sum(counts.values()) if counts else None
        volume = max(
            (v for d in self.digests for k, v in d.totals.items() if "mention" in k or k == "volume"),
            default=None,
        )
        level = severity(self.conv.request, negative_share=share, volume=volume)
        # Someone asked for a crisis response: treat it as at least medium until facts say otherwise.
        return "medium" if self.task == "crisis" and level == "low" else level

    @cached_property
    def plan(self) -> ContentPlan:
        """The content plan for this request."""
        return build_plan(
            self.conv.request, self.conv.brand, self.platforms, today=self.conv.today, seed=self.conv.seed
        )

    @cached_property
    def topic(self) -> str:
        """What the request is about, as a short phrase."""
        if self.task == "plan":
            return self.plan.topic
        if self.task == "crisis":
            return crisis_issue(self.conv.request)
        return self.brief.headline

    # --- drafts ---

    def post(self, platform: str, *, limit: int | None = None, variant: int = 0) -> str:
        """A post for `platform` (a different template family per `variant`)."""
        facts, tags = self.copy
        seed = self.conv.seed if variant == 0 else f"{self.conv.seed}:{variant}"
        return compose_post(
            self.brief, self.conv.brand, platform, seed=seed, facts=facts, extra_tags=tags, limit=limit
        )

    def reply(self, platform: str) -> str:
        """A reply to the comment in the request."""
        facts, _ = self.copy
        return compose_reply(self.conv.request, self.conv.brand, platform, seed=self.conv.seed, facts=facts)

    def statement(self, limit: int | None = None) -> str:
        """A crisis holding statement."""
        return compose_statement(self.conv.request, self.conv.brand, seed=self.conv.seed, limit=limit)

    def hashtags(self, platform: str, count: int | None = None) -> list[str]:
        """Hashtags for `platform`."""
        _, tags = self.copy
        return pick_hashtags(self.brief, self.conv.brand, platform, extra=tags, count=count)

    def main_text(self, platform: str, *, kind: str | None = None, limit: int | None = None) -> str:
        """The primary text of the task: a post, reply, statement or summary."""
        kind = kind or self.task
        if kind == "reply":
            return self.reply(platform)
        if kind == "crisis":
            return self.statement(limit)
        if kind in ("write", "post"):
            return self.post(platform, limit=limit)
        return self.summary

    # --- readings ---

    def label(self, options: Sequence[str], descriptions: Sequence[str] = ()) -> str:
        """The option that best labels the subject text."""
        return classify(self.subject_text, options, descriptions)

    def intent(self) -> str:
        """question / complaint / praise / purchase / support / spam / feedback / other."""
        return classify(self.subject_text, _INTENT_LABELS)

    def route(self, names: Sequence[str] = ()) -> str:
        """The listed option (or one of `names`) that fits the request."""
        described = dict(self.conv.options)
        options = [(n, described.get(n, "")) for n in names] if names else list(self.conv.options)
        # No list offered: the eight built-in agents are the choices.
        return choose_option(self.conv.request, options or [(a, "") for a in AGENTS])

    @cached_property
    def entities(self) -> dict[str, list[Any]]:
        """Entities found in the user messages."""
        return extract_entities(self.conv.all_user_text, self.conv.today)

    def ids(self, key: str = "") -> list[str]:
        """Record ids from the conversation and tool results, those matching `key`'s prefix first."""
        found = find_ids(self.conv.request) + find_ids(self.conv.all_user_text)
        for result in self.conv.results:
            found.extend(_values_for(result.data, key) if key else [])
            found.extend(_values_for(result.data, "id"))
        found = [
            str(x) for x in dict.fromkeys(found) if isinstance(x, (str, int)) and not isinstance(x, bool)
        ]
        prefix = key.lower().removesuffix("_id").removesuffix("id").rstrip("_-")
        if prefix:
            found.sort(key=lambda x: 0 if x.lower().startswith(prefix) else 1)
        return found

    def lookup(self, key: str) -> Any:
        """The first value stored under `key` in tool results or JSON in the request, else None."""
        for result in self.conv.results:
            values = _values_for(result.data, key)
            if values:
                return values[0]
        for digest in self.digests:
            if key in digest.totals:
                return digest.totals[key]
        return None

    def records(self, key: str, props: Sequence[str]) -> list[Mapping[str, Any]]:
        """Records in tool results that an array named `key` with item fields `props` should mirror."""
        best: list[Mapping[str, Any]] = []
        best_score = 0
        for result in self.conv.results:
            for name, items in _record_lists(result.data, result.name):
                overlap = len(set(props) & {k for item in items for k in item})
                score = overlap + (3 if name.lower() == key.lower() else 0)
                if score > best_score and (overlap >= 2 or name.lower() == key.lower()):
                    best, best_score = items, score
        return best

    # --- prose ---

    @cached_property
    def summary(self) -> str:
        """A one-paragraph summary fitting the task."""
        conv = self.conv
        if conv.results:
            lines = summarize_results(conv.results, agent=conv.agent).splitlines()
            return first_sentence(" ".join(line.lstrip("- ") for line in lines), 600) if lines else ""
        if self.task == "plan":
            plan = self.plan
            labels = ", ".join(PLATFORM_LABELS[p] for p in plan.cadence)
            return (
                f"{plan.days}-day plan for {plan.topic} on {labels}: {len(plan.goals)} goals, "
                f"{len(plan.entries)} posts across pillars {', '.join(plan.pillars)}."
            )
        if self.task == "write":
            labels = ", ".join(PLATFORM_LABELS[p] for p in self.platforms)
            return f"Post drafts about {self.brief.headline} for {labels}."
        if self.task == "crisis":
            return (
                f"Severity {self.severity}: concerns about {self.topic}. A holding statement is ready; "
                "the response team should verify facts before any further comment."
            )
        if self.task in ("classify", "reply"):
            reading = self.sentiment
            kind = self.intent()
            return f"The message reads as {reading.label} ({reading.score:+.2f}) and looks like a {kind}."
        return analyze_text(conv.request, agent=conv.agent)

    @cached_property
    def reason(self) -> str:
        """Why the answer is what it is, in one or two sentences."""
        task = self.task
        if task == "route":
            about = ", ".join(keywords(self.conv.request, 3)) or "general help"
            return f"The request is about {about}, which fits that option best."
        if task == "classify":
            reading = self.sentiment
            if reading.drivers:
                return f"Lexicon score {reading.score:+.2f}, driven by: {', '.join(reading.drivers)}."
            return "No strongly positive or negative words were found, so the text reads as neutral."
        if task == "write":
            brand = self.conv.brand
            tone = f"the brand's {brand.tone} tone" if brand.tone else "a clear, friendly tone"
            return f"Written in {tone}, leads with the key message and fits each platform's length limit."
        if task == "plan":
            return (
                "Cadence follows when each platform's audience is active; pillars rotate to balance the mix."
            )
        if task == "crisis":
            return "The statement acknowledges concerns and commits to an update without guessing at causes."
        if self.conv.results:
            return f"Based on {len(self.conv.results)} tool result(s)."
        return "Based on the request text only; no data source was consulted."

    @cached_property
    def title(self) -> str:
        """A short title."""
        if self.task == "plan":
            return self.plan.title
        if self.task == "crisis":
            return f"Holding statement: {self.topic}"
        if self.task in ("analyze", "general") and self.conv.results:
            return "Summary of results"
        return capitalize(first_sentence(self.brief.headline, 100).rstrip("."))

    @cached_property
    def next_steps(self) -> list[str]:
        """Concrete next steps for the task."""
        if self.task == "crisis":
            return [
                "Pause scheduled posts until the situation is clear.",
                "Route new mentions and DMs to the response team.",
                "Verify the facts with product, support and legal before saying more.",
                "Post an update within 24 hours and monitor sentiment hourly.",
            ]
        if self.task == "plan":
            return [
                "Draft the first week's posts and send them for approval.",
                "Tag every link with UTM parameters.",
                "Review results weekly and shift effort to the best pillar.",
            ]
        if self.task == "write":
            return [
                "Review the drafts for accuracy.",
                "Send them for approval.",
                "Schedule at the best posting time.",
            ]
        return [
            "Review the findings with the team.",
            "Pick one change to test this week.",
            "Measure again in 7 days.",
        ]

    def answer(self) -> str:
        """The plain-text answer of the task."""
        conv = self.conv
        task = self.task
        delegated = [r for r in conv.results if _is_delegation(r.name, r.arguments) and r.data is None]
        if delegated and len(delegated) == len(conv.results):
            # Agents called as tools answered: forward their words, do not paraphrase them.
            return "\n\n".join(r.content.strip() for r in delegated if r.content.strip()) or OFFLINE_HELP
        if task == "route":
            return self.route() or "strategy"
        if task == "classify":
            return self._classify_answer()
        if task == "extract":
            return json.dumps(self.entities, ensure_ascii=False)
        if task == "plan":
            return render_plan(self.plan)
        if task == "write":
            if len(self.platforms) == 1:
                return self.post(self.platforms[0])
            return "\n\n".join(f"### {PLATFORM_LABELS[p]}\n{self.post(p)}" for p in self.platforms)
        if task == "reply":
            return self.reply(self.platforms[0])
        if task == "crisis":
            return self._crisis_answer()
        if conv.results:
            return summarize_results(conv.results, agent=conv.agent)
        if task == "analyze":
            return analyze_text(conv.request, agent=conv.agent)
        return OFFLINE_HELP

    def _classify_answer(self) -> str:
        options = [name for name, _ in self.conv.options]
        descriptions = [desc for _, desc in self.conv.options]
        items = _listed_items(self.conv.request)
        if len(items) >= 2:
            return "\n".join(f"{i}. {classify(t, options, descriptions)}" for i, t in enumerate(items, 1))
        return self.label(options, descriptions)

    def _crisis_answer(self) -> str:
        parts = [f"Severity: {self.severity}.", "", "Holding statement:", self.statement()]
        if self.conv.results:
            parts += ["", summarize_results(self.conv.results, agent="crisis_management")]
        parts += ["", "Next steps:", *(f"{i}. {s}" for i, s in enumerate(self.next_steps, 1))]
        return "\n".join(parts)

    def emoji(self) -> list[str]:
        """Emoji to use: the brand's, the request's, or a default pair (none if the brand avoids them)."""
        if self.conv.brand.emoji is False:
            return []
        return list(self.conv.brand.emoji_set) or find_emoji(self.conv.request) or ["✨", "🚀"]

    def urls(self) -> list[str]:
        """URLs from the request, else the brand website."""
        return find_urls(self.conv.all_user_text) or (
            [self.conv.brand.website] if self.conv.brand.website else []
        )

    def mentions(self) -> list[str]:
        """@handles in the conversation."""
        return find_mentions(self.conv.all_user_text)

    def limit_for(self, platform: str) -> int:
        """The text limit of `platform`."""
        return TEXT_LIMITS.get(platform, 280)

    @cached_property
    def sentiment_counts(self) -> Counter[str]:
        """Sentiment labels counted over the texts in tool results."""
        total: Counter[str] = Counter()
        for digest in self.digests:
            total.update(digest.sentiment)
        return total

    def sentiment_text(self) -> str:
        """A one-line sentiment distribution of tool results, if any."""
        return sentiment_line(self.sentiment_counts)


def _is_delegation(name: str, arguments: Mapping[str, Any]) -> bool:
    """Whether a tool call handed work to an agent (an agent's name, or a `task`-style payload)."""
    low = name.lower()
    return (
        low in AGENTS
        or low.startswith(("transfer_to", "delegate", "ask_", "handoff"))
        or bool({"task", "request", "instructions"} & set(arguments))
    )


def _listed_items(text: str) -> list[str]:
    """Numbered or bulleted items after the first line, for classifying several texts at once."""
    lines = [s for s in text.splitlines()[1:] if s.strip()]
    items = [
        line.split(maxsplit=1)[1]
        for line in lines
        if line.strip()[:1] in "-*•" or line.strip()[:2].rstrip(".)").isdigit()
    ]
    return [i for i in items if i.strip()] if len(items) >= 2 else []


def _values_for(data: Any, key: str, depth: int = 0) -> list[Any]:
    """Values stored under `key` anywhere in `data`, outermost first."""
    if depth > 5 or data is None:
        return []
    out: list[Any] = []
    if isinstance(data, Mapping):
        if key in data and data[key] not in (None, "", [], {}):
            out.append(data[key])
        for value in data.values():
            out.extend(_values_for(value, key, depth + 1))
    elif isinstance(data, list):
        for value in data[:50]:
            out.extend(_values_for(value, key, depth + 1))
    return out


def _record_lists(data: Any, name: str, depth: int = 0) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """Every list of records in `data`, with the key it was stored under."""
    if depth > 4:
        return []
    found: list[tuple[str, list[Mapping[str, Any]]]] = []
    if isinstance(data, list):
        records = [x for x in data if isinstance(x, Mapping)]
        if records:
            found.append((name, records))
    elif isinstance(data, Mapping):
        for key, value in data.items():
            found.extend(_record_lists(value, str(key), depth + 1))
    return found
