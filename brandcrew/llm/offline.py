"""The built-in offline model: deterministic answers from templates, the brand profile and tool results.

It answers when no provider key is configured, so every flow runs end to end on one machine with
no network and no LLM. It never pretends to be one: every response has `offline=True` and
provider `"offline"`. The same request always gets the same answer; variety between requests
comes only from a hash of the request.

What it does, in order:
1. a forced tool (`tool_choice` naming a function, or `"required"`) gets a call with arguments
   built from the tool's JSON schema and the conversation; tools a local router suggests in the
   metadata (`suggested_tools`, the fast router's guess of agents) are called first;
2. with tools on `"auto"`, the tool whose name and description best match the request is called
   (one call per platform when it takes a single platform); after tool results, another clearly
   relevant tool at most, up to `max_tool_rounds`, then an answer that uses the results;
3. `response_format` (JSON schema or JSON object) gets JSON that validates;
4. otherwise a text answer for the task: posts within each platform's limit, a dated content
   plan, summaries of tool results, a sentiment or option label, a route, a holding statement.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Mapping
from datetime import date
from typing import Any

from brandcrew.llm._offline_context import infer_task, parse_conversation
from brandcrew.llm._offline_knowledge import Knowledge
from brandcrew.llm._offline_plan import ContentPlan
from brandcrew.llm._offline_schema import fill_schema
from brandcrew.llm._offline_text import find_hashtags, measure_for, x_length
from brandcrew.llm._offline_tools import ToolSpec, choose_calls, suggested_calls
from brandcrew.llm.messages import ModelRequest, ModelResponse, ResponseChunk, ToolCall
from brandcrew.llm.tokens import count_message_tokens, count_text_tokens
from brandcrew.llm.usage import LlmUsage

__all__ = ("OFFLINE_MODEL", "OFFLINE_PROVIDER", "OfflineBackend", "platform_length", "x_length")

OFFLINE_MODEL = "offline"
OFFLINE_PROVIDER = "offline"


def platform_length(text: str, platform: str) -> int:
    """`text`'s length as `platform` counts it (X weighs URLs 23 and emoji/CJK 2)."""
    return measure_for(platform)(text)


class OfflineBackend:
    """A `ModelBackend` that answers every request locally and deterministically."""

    provider: str = OFFLINE_PROVIDER
    model: str = OFFLINE_MODEL

    def __init__(self, *, today: date | None = None, max_tool_rounds: int = 3) -> None:
        self.today = today
        """The date plans and relative dates start from; None means the real date at call time.
        A request's `metadata["today"]` wins over both."""
        self.max_tool_rounds = max_tool_rounds
        """Assistant turns with tool calls after the last user message before it must answer."""

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Answer a request in full."""
        return self.respond(request)

    async def stream(self, request: ModelRequest) -> AsyncIterator[ResponseChunk]:
        """The same answer as `complete`, as word chunks, tool-call deltas, then usage."""
        response = self.respond(request)
        for piece in re.findall(r"\s*\S+\s*|\s+", response.content):
            yield ResponseChunk(content=piece)
        if response.tool_calls:
            yield ResponseChunk(
                tool_call_deltas=[
                    {
                        "index": i,
                        "id": call.id,
                        "name": call.name,
                        "arguments": json.dumps(call.arguments, ensure_ascii=False),
                    }
                    for i, call in enumerate(response.tool_calls)
                ]
            )
        yield ResponseChunk(usage=response.usage, finish_reason=response.finish_reason)

    def respond(self, request: ModelRequest) -> ModelResponse:
        """Answer a request synchronously (what `complete` awaits)."""
        seed = _request_seed(request)
        conv = parse_conversation(request, seed=seed, today=self.today or date.today())
        knowledge = Knowledge(conv, infer_task(conv))
        calls = self._tool_calls(request, knowledge)
        content = "" if calls else _apply_stop(self._content(request, knowledge), request.stop)
        output_tokens = count_text_tokens(content) + sum(
            count_text_tokens(call.name + json.dumps(call.arguments, ensure_ascii=False)) for call in calls
        )
        usage = LlmUsage(
            input_tokens=count_message_tokens(request.messages, tools=request.tools or None),
            output_tokens=output_tokens,
            requests=1,
        )
        return ModelResponse(
            model=OFFLINE_MODEL,
            provider=OFFLINE_PROVIDER,
            content=content,
            tool_calls=calls,
            finish_reason="tool_calls" if calls else "stop",
            usage=usage,
            offline=True,
        )

    def _tool_calls(self, request: ModelRequest, knowledge: Knowledge) -> list[ToolCall]:
        choice = request.tool_choice
        if choice == "none":
            return []
        specs = [ToolSpec.from_openai(t) for t in request.tools]
        forced = _forced_name(choice)
        if forced is not None:
            spec = next((s for s in specs if s.name == forced), ToolSpec(name=forced))
            # A named tool is how LangChain asks for structured output: fill every field.
            arguments = fill_schema(knowledge, spec.parameters, mode="all", text_kind=spec.text_kind)
            return [self._call(knowledge, spec.name, arguments if isinstance(arguments, dict) else {}, 0)]
        if not specs:
            return []
        suggested = suggested_calls(knowledge, specs)
        if suggested:
            return [self._call(knowledge, spec.name, args, i) for i, (spec, args) in enumerate(suggested)]
        picked = choose_calls(
            knowledge, specs, required=choice == "required", max_rounds=self.max_tool_rounds
        )
        if picked is None:
            carriers = [s for s in specs if s.is_carrier]
            if not carriers:
                return []
            spec = carriers[0]
            arguments = fill_schema(knowledge, spec.parameters, mode="all", text_kind=spec.text_kind)
            return [self._call(knowledge, spec.name, arguments if isinstance(arguments, dict) else {}, 0)]
        spec, argument_sets = picked
        return [self._call(knowledge, spec.name, args, i) for i, args in enumerate(argument_sets)]

    def _call(self, knowledge: Knowledge, name: str, arguments: dict[str, Any], index: int) -> ToolCall:
        conv = knowledge.conv
        key = f"{conv.seed}:{conv.rounds}:{name}:{index}"
        return ToolCall(
            id="call_" + hashlib.sha256(key.encode()).hexdigest()[:24], name=name, arguments=arguments
        )

    def _content(self, request: ModelRequest, knowledge: Knowledge) -> str:
        fmt = request.response_format or {}
        kind = fmt.get("type")
        if kind == "json_schema":
            spec: Mapping[str, Any] = fmt.get("json_schema") or {}
            inner = spec.get("schema")
            schema: Mapping[str, Any] = inner if isinstance(inner, Mapping) else spec
            return json.dumps(fill_schema(knowledge, schema, mode="all"), ensure_ascii=False)
        if kind == "json_object":
            return json.dumps(_json_object(knowledge), ensure_ascii=False)
        return knowledge.answer()


def _request_seed(request: ModelRequest) -> str:
    """A hash of everything in the request but the model name: the only source of variety."""
    payload = json.dumps(request.model_dump(exclude={"model"}), sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _forced_name(choice: str | dict[str, Any] | None) -> str | None:
    if isinstance(choice, Mapping):
        function = choice.get("function") or {}
        name = function.get("name") if isinstance(function, Mapping) else None
        return str(name or choice.get("name") or "") or None
    return None


def _apply_stop(content: str, stop: list[str] | None) -> str:
    """Cut the answer at the first stop sequence, as providers do."""
    for sequence in stop or ():
        if sequence and sequence in content:
            content = content[: content.index(sequence)]
    return content


def _plan_dict(plan: ContentPlan) -> dict[str, Any]:
    return {
        "title": plan.title,
        "start": plan.start.isoformat(),
        "end": plan.end.isoformat(),
        "goals": list(plan.goals),
        "pillars": list(plan.pillars),
        "cadence": dict(plan.cadence),
        "calendar": [
            {
                "date": e.day.isoformat(),
                "time": e.time,
                "platform": e.platform,
                "pillar": e.pillar,
                "format": e.format,
                "idea": e.idea,
            }
            for e in plan.entries
        ],
        "kpis": list(plan.kpis),
    }


def _json_object(k: Knowledge) -> dict[str, Any]:
    """A JSON answer shaped for the task when the caller asked for JSON without a schema."""
    task = k.task
    if task == "write":
        posts = []
        for platform in k.platforms:
            text = k.post(platform)
            posts.append({"platform": platform, "text": text, "hashtags": find_hashtags(text)})
        return {"posts": posts}
    if task == "plan":
        return _plan_dict(k.plan)
    if task == "classify":
        options = [name for name, _ in k.conv.options]
        return {"label": k.label(options), "score": k.sentiment.score, "reason": k.reason}
    if task == "route":
        return {"next": k.route(), "reason": k.reason}
    if task == "extract":
        return dict(k.entities)
    if task == "crisis":
        return {"severity": k.severity, "statement": k.statement(), "next_steps": k.next_steps}
    if task == "reply":
        return {"reply": k.reply(k.platforms[0]), "sentiment": k.sentiment.label, "intent": k.intent()}
    facts = [f for d in k.digests for f in d.facts]
    return {"summary": k.summary, "facts": facts[:10], "next_steps": k.next_steps}
