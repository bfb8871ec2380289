"""Which tool the offline model calls, and with what arguments.

Tools are ranked by keyword overlap (stemmed, stop words dropped) between the request and each
tool's name and description; arguments are filled from the conversation through the schema filler.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from brandcrew.llm._offline_context import canonical_args
from brandcrew.llm._offline_insights import AGENT_KEYWORDS
from brandcrew.llm._offline_knowledge import Knowledge
from brandcrew.llm._offline_schema import Mode, fill_schema
from brandcrew.llm._offline_text import GENERIC_STEMS, overlap_score, split_identifier, stem, stems, word_set

# A first call needs a name word, or a description word and a generic one, in common with the
# request; a follow-up call after tool results needs more, and a name word, so the model stops rather than
# wandering through loosely related tools.
FIRST_CALL_THRESHOLD = 1.5
FOLLOW_UP_THRESHOLD = 3.0
MAX_PARALLEL_CALLS = 5

_CARRIER_NAMES = frozenset(
    {"final_result", "final_answer", "final_output", "structured_output", "output", "respond", "response",
     "submit", "answer", "return_result", "json", "result", "format_response", "formatted_response"}
)  # fmt: skip
_TEXT_KINDS = (
    (("reply", "respond", "comment", "dm", "message"), "reply"),
    (("statement", "crisis", "holding"), "crisis"),
    (("post", "draft", "publish", "schedule", "tweet", "caption", "content", "write"), "post"),
)


@dataclass(frozen=True, kw_only=True)
class ToolSpec:
    """An OpenAI function tool, reduced to what selection needs."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_openai(cls, tool: Mapping[str, Any]) -> ToolSpec:
        """Read `{"type": "function", "function": {...}}` (or a bare function dict)."""
        function = tool.get("function", tool)
        parameters = function.get("parameters") or {"type": "object", "properties": {}}
        return cls(
            name=str(function.get("name", "")),
            description=str(function.get("description") or ""),
            parameters=parameters,
        )

    @property
    def is_carrier(self) -> bool:
        """Whether the tool only carries the final structured answer (pydantic-ai's `final_result`)."""
        low = self.name.lower()
        return low in _CARRIER_NAMES or low.startswith(("final_result", "final_answer", "structured_output"))

    @property
    def text_kind(self) -> str | None:
        """What a `text` argument of this tool holds, judged by its name."""
        words = set(split_identifier(self.name).lower().split())
        for markers, kind in _TEXT_KINDS:
            if words & set(markers):
                return kind
        return None

    def platform_param(self) -> str | None:
        """The scalar parameter that names a platform, if any."""
        props = self.parameters.get("properties") or {}
        for name, prop in props.items():
            scalar = isinstance(prop, Mapping) and prop.get("type") != "array"
            if name.lower() in ("platform", "channel", "network") and scalar:
                return str(name)
        return None


# What each agent usually needs from its tools; it tips the balance when the request is vague
# ("how do people feel about X" asked of the sentiment agent means: search the mentions).
AGENT_TOOL_HINTS = {
    "sentiment_analysis": "mentions comments listening",
    "crisis_management": "mentions comments listening",
    "trend_detection": "trending topics hashtags",
    "analytics": "metrics performance",
    "competitor_analysis": "competitor benchmark",
    "engagement": "comments messages inbox",
}


def score_tool(spec: ToolSpec, request: str, *, agent: str | None = None) -> tuple[float, int]:
    """(score, specific name words in common) of a tool for a request (and the asking agent)."""
    wanted = stems(request)
    name_stems = stems(split_identifier(spec.name))
    known = AGENT_KEYWORDS.get(spec.name.lower().replace("-", "_"), "")
    described = (stems(spec.description) | stems(known)) - name_stems
    score = 2.0 * overlap_score(wanted, name_stems) + overlap_score(wanted, described)
    hints = stems(AGENT_TOOL_HINTS.get(agent or "", "")) - wanted
    score += 0.5 * (2.0 * overlap_score(hints, name_stems) + overlap_score(hints, described))
    return score, len((wanted & name_stems) - GENERIC_STEMS)


def rank_tools(
    specs: Sequence[ToolSpec], request: str, *, agent: str | None = None
) -> list[tuple[float, int, ToolSpec]]:
    """Tools by descending score; ties keep the order they were offered in."""
    scored = [(*score_tool(spec, request, agent=agent), i, spec) for i, spec in enumerate(specs)]
    scored.sort(key=lambda item: (-item[0], item[2]))
    return [(score, hits, spec) for score, hits, _, spec in scored]


def build_calls(knowledge: Knowledge, spec: ToolSpec, *, mode: Mode = "evidence") -> list[dict[str, Any]]:
    """Argument sets for one tool: one per requested platform when it takes a single platform."""
    platforms = knowledge.platforms
    fan_out = spec.platform_param() is not None and len(knowledge.conv.platforms) > 1
    targets = platforms[:MAX_PARALLEL_CALLS] if fan_out else platforms[:1]
    out: list[dict[str, Any]] = []
    for platform in targets:
        args = fill_schema(
            knowledge,
            spec.parameters,
            mode=mode,
            text_kind=spec.text_kind,
            platform=platform,
        )
        value = args if isinstance(args, dict) else {"value": args}
        if value not in out:
            out.append(value)
    return out


# Verbs of tools that change the world; the offline model calls them only when the request uses
# the same verb, so "write a tweet" never schedules or publishes anything by accident.
_EFFECT_VERBS = word_set("schedul publish delet remov send approv reject cancel updat archiv ban block")


def acts_unasked(spec: ToolSpec, request: str) -> bool:
    """Whether `spec` changes something (by its verb) that the request did not ask to change."""
    words = split_identifier(spec.name).lower().split()
    wanted = stems(request)
    verbs = {stem(w) for w in words[:1]} & _EFFECT_VERBS
    return bool(verbs - wanted)


def lacks_ids(knowledge: Knowledge, spec: ToolSpec) -> bool:
    """Whether a required id argument has no id anywhere in the conversation to fill it with."""
    props = spec.parameters.get("properties") or {}
    for name in spec.parameters.get("required") or ():
        low = str(name).lower()
        is_id = low == "id" or low.endswith(("_id", "_ids"))
        if is_id and isinstance(props.get(name), Mapping) and not knowledge.ids(low):
            return True
    return False


def new_calls(knowledge: Knowledge, spec: ToolSpec) -> list[dict[str, Any]]:
    """Argument sets for `spec` that were not already called since the last user message."""
    done = knowledge.conv.calls
    return [args for args in build_calls(knowledge, spec) if (spec.name, canonical_args(args)) not in done]


def suggested_calls(knowledge: Knowledge, specs: Sequence[ToolSpec]) -> list[tuple[ToolSpec, dict[str, Any]]]:
    """Calls to the tools a local router suggested (metadata `suggested_tools`, e.g. the fast router's
    best guess of agents for the supervisor), first round only; offered tools only, in that order."""
    conv = knowledge.conv
    names = conv.metadata.get("suggested_tools")
    if not isinstance(names, (list, tuple)) or conv.rounds or conv.results:
        return []
    offered = {s.name: s for s in specs if not s.is_carrier}
    out: list[tuple[ToolSpec, dict[str, Any]]] = []
    for name in dict.fromkeys(str(n) for n in names):
        spec = offered.get(name)
        if spec is not None and not acts_unasked(spec, conv.request):
            out.extend((spec, args) for args in build_calls(knowledge, spec)[:1])
    return out[:MAX_PARALLEL_CALLS]


def choose_calls(
    knowledge: Knowledge, specs: Sequence[ToolSpec], *, required: bool, max_rounds: int
) -> tuple[ToolSpec, list[dict[str, Any]]] | None:
    """The tool to call next and its argument sets, or None to answer instead."""
    conv = knowledge.conv
    actions = [s for s in specs if not s.is_carrier]
    if conv.rounds >= max_rounds and not required:
        return None
    follow_up = conv.rounds > 0 or bool(conv.results)
    for score, name_hits, spec in rank_tools(actions, conv.request, agent=conv.agent):
        if follow_up and (score < FOLLOW_UP_THRESHOLD or name_hits == 0):
            continue
        if not follow_up and score < FIRST_CALL_THRESHOLD:
            break
        if acts_unasked(spec, conv.request) or lacks_ids(knowledge, spec):
            continue
        calls = new_calls(knowledge, spec)
        if calls:
            return spec, calls
    if not required:
        return None
    carriers = [s for s in specs if s.is_carrier]
    if carriers:
        return carriers[0], build_calls(knowledge, carriers[0], mode="all")[:1]
    ranked = rank_tools(actions, conv.request, agent=conv.agent)
    for _, _, spec in ranked:
        calls = new_calls(knowledge, spec)
        if calls:
            return spec, calls
    spec = ranked[0][2] if ranked else specs[0]
    return spec, build_calls(knowledge, spec)[:1]
