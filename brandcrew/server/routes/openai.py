"""OpenAI-compatible chat: every agent (and the `supervisor` team) is a model at `/v1`.

A chat completion is a stateless run of that graph on the run executor, like any other run: the
client's messages are its input, the graph's last answer is the reply, the cost ledger's tokens are
the `usage`. `stream: true` answers in OpenAI's chunk format, ending with `data: [DONE]`.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from brandcrew.jobs.runs import END
from brandcrew.jobs.runs.graphs import GraphCatalog
from brandcrew.server.deps import Principal, require
from brandcrew.server.errors import ApiError
from brandcrew.server.runs_schemas import RunCreate
from brandcrew.server.runs_support import run_manager, start_run
from brandcrew.store.tables import Run, RunThread

router = APIRouter(prefix="/v1", tags=["openai"])
Reader = Annotated[Principal, require("runs:read")]
Creator = Annotated[Principal, require("runs:create")]
_CREATED = 1767225600  # 2026-01-01: when these models were "made"


class ChatMessage(BaseModel):
    """An OpenAI chat message (text content, or a list of content parts)."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None


class StreamOptions(BaseModel):
    """`stream_options`."""

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """The fields of `POST /v1/chat/completions` brandcrew reads (sampling knobs are the router's)."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=128)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int = Field(default=1, ge=1, le=1)
    user: str | None = None


def _model(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": _CREATED, "owned_by": "brandcrew"}


async def _catalog(request: Request) -> GraphCatalog:
    return await run_manager(request).graphs()


@router.get("/models")
async def list_models(request: Request, principal: Reader) -> dict[str, Any]:
    """One model per agent, plus `supervisor` (the whole team)."""
    return {"object": "list", "data": [_model(name) for name in (await _catalog(request)).names()]}


@router.get("/models/{model_id}")
async def get_model(model_id: str, request: Request, principal: Reader) -> dict[str, Any]:
    """One model."""
    if model_id not in (await _catalog(request)).entries:
        raise ApiError(404, "NOT_FOUND", f"model {model_id} does not exist")
    return _model(model_id)


def _text(content: str | list[dict[str, Any]] | None) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(str(p.get("text", "")) for p in content if p.get("type") in ("text", "input_text"))


def graph_messages(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """The chat as graph input: user and assistant turns; system instructions go before the first user turn."""
    instructions = [_text(m.content) for m in messages if m.role in ("system", "developer") and m.content]
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role in ("user", "assistant"):
            out.append({"role": message.role, "content": _text(message.content)})
        elif message.role == "tool":
            out.append({"role": "user", "content": f"(tool result) {_text(message.content)}"})
    if instructions:
        first_user = next((i for i, m in enumerate(out) if m["role"] == "user"), None)
        preface = "Instructions: " + "\n".join(instructions)
        if first_user is None:
            out.insert(0, {"role": "user", "content": preface})
        else:
            out[first_user] = {"role": "user", "content": f"{preface}\n\n{out[first_user]['content']}"}
    if not out or out[-1]["role"] != "user":
        raise ApiError(422, "VALIDATION_ERROR", "the last message must come from the user")
    return out


def _answer(values: Any) -> str:
    if not isinstance(values, dict):
        return ""
    if values.get("answer"):
        return str(values["answer"])
    for message in reversed(values.get("messages") or []):
        if isinstance(message, dict) and message.get("type") in ("ai", "AIMessageChunk"):
            return _content_text(message.get("content"))
    return ""


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return ""


def _usage(run: Run | None) -> dict[str, int]:
    usage = (run.meta.get("usage") if run is not None else None) or {}
    prompt, completion = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _outcome(engine: Any, run_id: str) -> tuple[Run | None, str, dict[str, Any]]:
    """The run, its reply, and brandcrew's extras (run, thread, pending approvals, cost)."""
    with Session(engine) as session:
        run = session.get(Run, run_id)
        thread = session.get(RunThread, run.thread_id) if run is not None else None
    if run is None or thread is None:
        raise ApiError(500, "INTERNAL_ERROR", "the run disappeared")
    if run.status == "error":
        raise ApiError(502, "AGENT_ERROR", f"the agent failed: {run.error}")
    reply = _answer(thread.values)
    pending = [i for items in thread.interrupts.values() for i in items]
    if pending and not reply:
        tools = ", ".join(str((i.get("value") or {}).get("tool", "an action")) for i in pending)
        reply = f"Paused: {tools} needs a person's approval (thread {thread.thread_id})."
    extras = {
        "run_id": run.run_id,
        "thread_id": run.thread_id,
        "status": run.status,
        "interrupts": pending,
        "cost_usd": (run.meta.get("usage") or {}).get("cost_usd"),
        "agents": (run.meta.get("usage") or {}).get("agents", []),
    }
    return run, reply, extras


@router.post("/chat/completions")
async def chat_completions(body: ChatCompletionRequest, request: Request, principal: Creator) -> Any:
    """Chat with an agent (`model` is its name) or the team (`supervisor`)."""
    catalog = await _catalog(request)
    if body.model not in catalog.entries:
        raise ApiError(404, "NOT_FOUND", f"model {body.model} does not exist", {"models": catalog.names()})
    run_body = RunCreate(
        assistant_id=body.model,
        input={"messages": graph_messages(body.messages)},
        stream_mode=["messages-tuple", "custom"] if body.stream else ["custom"],
        multitask_strategy="reject",
        metadata={"source": "openai", **({"user": body.user} if body.user else {})},
    )
    run = await start_run(request, principal, run_body, thread_id=None, background=True)
    manager = run_manager(request)
    completion_id = f"chatcmpl-{run.run_id}"
    if not body.stream:
        await manager.wait(run.run_id)
        done, reply, extras = await run_in_threadpool(_outcome, manager.engine, run.run_id)
        return {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}
            ],
            "usage": _usage(done),
            "brandcrew": extras,
        }
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    return StreamingResponse(
        _chunks(request, run.run_id, completion_id, body.model, include_usage),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Run-Id": run.run_id},
    )


async def _chunks(
    request: Request, run_id: str, completion_id: str, model: str, include_usage: bool
) -> AsyncIterator[bytes]:
    """OpenAI's streaming chunks: the role, the answer's text as it comes, the stop, usage, [DONE]."""
    manager = run_manager(request)
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        body = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()

    yield chunk({"role": "assistant", "content": ""})
    streamed: dict[str, str] = {}
    async for event in manager.events(run_id, after=0):
        if event.event == END:
            break
        if event.event != "messages":  # root-level messages only: sub-agents' drafts are not the reply
            continue
        message, _meta = json.loads(event.data)
        if (
            message.get("type") not in ("AIMessageChunk", "ai")
            or message.get("tool_calls")
            or message.get("tool_call_chunks")
        ):
            continue
        text = _content_text(message.get("content"))
        if not text:
            continue
        key = str(message.get("id"))
        if message.get("type") == "ai" and key in streamed:
            continue  # the whole message again, after its chunks
        streamed[key] = streamed.get(key, "") + text
        yield chunk({"content": text})
    try:
        done, reply, extras = await run_in_threadpool(_outcome, manager.engine, run_id)
    except ApiError as exc:  # the agent failed mid-stream: OpenAI's error chunk, then the end
        error = {"error": {"message": exc.message, "type": "server_error", "code": exc.code}}
        yield f"data: {json.dumps(error)}\n\n".encode()
        yield b"data: [DONE]\n\n"
        return
    sent = "".join(streamed.values())
    if not sent:
        if reply:
            yield chunk({"content": reply})
    elif reply.startswith(sent) and len(reply) > len(sent):
        yield chunk({"content": reply[len(sent) :]})
    yield chunk({}, "stop", brandcrew=extras)
    if include_usage:
        body = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [],
            "usage": _usage(done),
        }
        yield f"data: {json.dumps(body)}\n\n".encode()
    yield b"data: [DONE]\n\n"
