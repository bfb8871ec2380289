"""What the runs API's routes share: assistants by id or graph name, the run's tool policy from the
caller's permissions, creating a run, and the SDK's JSON shapes of the records."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from brandcrew.jobs.runs import RunManager
from brandcrew.jobs.runs.executor import GRAPH_MODES
from brandcrew.jobs.runs.graphs import GraphCatalog
from brandcrew.server.deps import Principal
from brandcrew.server.errors import ApiError
from brandcrew.server.runs_schemas import AssistantOut, RunCreate, RunOut, ThreadOut
from brandcrew.services import runs as records
from brandcrew.services.errors import NotFound
from brandcrew.store.engine import session_scope
from brandcrew.store.tables import Run, RunAssistant, RunThread, as_utc, utcnow

_ASSISTANTS = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")
SCOPE_PERMISSIONS: dict[str, str | None] = {
    "read": None,
    "write": "post:create",
    "publish": "post:publish",
    "reply": "inbox:reply",
    "delete": "post:delete",
    "spend": "billing:manage",
}
"""Which permission lets a caller grant a run's tools each scope."""
DEFAULT_SCOPES = ("read", "write")
ALWAYS_APPROVE = ("publish", "reply", "delete", "spend")
BACKGROUND_MODES = ["values", "updates", "messages-tuple", "custom"]
"""What a background run (`runs.create`) records when it names no stream mode, for later joins."""


def run_manager(request: Request) -> RunManager:
    """The app's run manager."""
    manager: RunManager = request.app.state.runs
    return manager


def system_assistant_id(graph_id: str) -> str:
    """The id of a graph's built-in assistant (the same everywhere, as LangGraph's server does)."""
    return str(uuid.uuid5(_ASSISTANTS, graph_id))


def system_assistant(catalog: GraphCatalog, graph_id: str) -> AssistantOut:
    """A graph's built-in assistant."""
    entry = catalog.get(graph_id)
    return AssistantOut(
        assistant_id=system_assistant_id(graph_id),
        graph_id=graph_id,
        config={},
        context={},
        metadata={"created_by": "system"},
        version=1,
        name=graph_id,
        description=entry.description,
        created_at=_EPOCH,
        updated_at=_EPOCH,
    )


def assistant_out(row: RunAssistant) -> AssistantOut:
    """A stored assistant as the SDK reads it."""
    return AssistantOut(
        assistant_id=row.assistant_id,
        graph_id=row.graph_id,
        config=row.config,
        context=row.context,
        metadata=row.meta,
        version=row.version,
        name=row.name,
        description=row.description,
        created_at=as_utc(row.created_at) or utcnow(),
        updated_at=as_utc(row.updated_at) or utcnow(),
    )


def resolve_assistant(
    session: Session, catalog: GraphCatalog, *, workspace_id: str, assistant_id: str
) -> AssistantOut:
    """An assistant by id, or a graph's built-in assistant by graph name or its id; 404 otherwise."""
    if assistant_id in catalog.entries:
        return system_assistant(catalog, assistant_id)
    for graph_id in catalog.names():
        if system_assistant_id(graph_id) == assistant_id:
            return system_assistant(catalog, graph_id)
    row = records.get_assistant(session, workspace_id=workspace_id, assistant_id=assistant_id)
    if row is None:
        raise ApiError(404, "NOT_FOUND", f"assistant {assistant_id} not found")
    return assistant_out(row)


def thread_out(row: RunThread) -> ThreadOut:
    """A thread as the SDK reads it."""
    return ThreadOut(
        thread_id=row.thread_id,
        created_at=as_utc(row.created_at) or utcnow(),
        updated_at=as_utc(row.updated_at) or utcnow(),
        metadata=row.meta,
        status=row.status,
        values=row.values,
        interrupts=row.interrupts,
    )


def run_out(row: Run) -> RunOut:
    """A run as the SDK reads it (its internal bookkeeping left out)."""
    return RunOut(
        run_id=row.run_id,
        thread_id=row.thread_id,
        assistant_id=row.assistant_id,
        created_at=as_utc(row.created_at) or utcnow(),
        updated_at=as_utc(row.updated_at) or utcnow(),
        status=row.status,
        metadata=row.meta,
        multitask_strategy=row.multitask_strategy,
        cancel_reason=row.cancel_action if row.cancel_action and row.status == "interrupted" else None,
        error=row.error,
        attempt=row.attempt,
    )


def grantable_scopes(principal: Principal) -> set[str]:
    """The tool scopes this caller may grant a run."""
    return {s for s, p in SCOPE_PERMISSIONS.items() if p is None or principal.can(p)}


def run_policy(principal: Principal, configurable: dict[str, Any]) -> dict[str, list[str]]:
    """The run's tool policy: scopes asked in `config.configurable.allowed_scopes` (default read,
    write), never beyond what the caller may grant; `require_approval_for` adds approvals, and only
    a caller who decides approvals may drop the default ones (publish, reply, delete, spend)."""
    grantable = grantable_scopes(principal)
    asked = configurable.get("allowed_scopes")
    if asked is None:
        allowed = {s for s in DEFAULT_SCOPES if s in grantable}
    else:
        allowed = set(_scopes(asked, "allowed_scopes"))
        beyond = allowed - grantable
        if beyond:
            raise ApiError(
                403,
                "FORBIDDEN",
                f"your role cannot grant a run the scopes {sorted(beyond)}",
                {"role": principal.role, "grantable": sorted(grantable)},
            )
    approvals = set(_scopes(configurable.get("require_approval_for") or [], "require_approval_for"))
    if configurable.get("require_approval_for") is None or not principal.can("approval:decide"):
        approvals |= set(ALWAYS_APPROVE)
    return {"allowed_scopes": sorted(allowed), "require_approval_for": sorted(approvals)}


def _scopes(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise ApiError(422, "VALIDATION_ERROR", f"config.configurable.{name} must be a list of scopes")
    unknown = sorted(set(value) - set(SCOPE_PERMISSIONS))
    if unknown:
        raise ApiError(
            422, "VALIDATION_ERROR", f"unknown scopes {unknown}", {"known": sorted(SCOPE_PERMISSIONS)}
        )
    return list(value)


def check_resume(principal: Principal, thread: RunThread) -> None:
    """A caller may answer only approvals whose scopes they could have granted themselves."""
    grantable = grantable_scopes(principal)
    for pending in thread.interrupts.values():
        for item in pending or []:
            value = item.get("value") if isinstance(item, dict) else None
            if isinstance(value, dict) and value.get("type") == "tool_approval":
                needed = set(value.get("scopes") or []) - grantable
                if needed:
                    raise ApiError(
                        403,
                        "FORBIDDEN",
                        f"approving {value.get('tool')} needs a role that may grant {sorted(needed)}",
                        {"role": principal.role},
                    )


def stream_modes(body: RunCreate, *, background: bool) -> list[str]:
    """The run's stream modes as a list; modes this server cannot stream are a 422."""
    if body.stream_mode is None:
        return list(BACKGROUND_MODES) if background else ["values"]
    modes = [body.stream_mode] if isinstance(body.stream_mode, str) else list(body.stream_mode)
    unsupported = sorted({m for m in modes if m not in GRAPH_MODES})
    if unsupported:
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            f"stream modes {unsupported} are not supported",
            {"supported": sorted(GRAPH_MODES)},
        )
    return list(dict.fromkeys(modes))


def create_run(
    session: Session,
    catalog: GraphCatalog,
    principal: Principal,
    body: RunCreate,
    *,
    thread_id: str | None,
    background: bool,
) -> tuple[Run, list[Run]]:
    """Create a pending run (on a thread, or stateless on a temporary thread); also returns the runs
    it displaces (multitask `interrupt`/`rollback`), which the caller cancels."""
    if body.webhook:
        raise ApiError(422, "VALIDATION_ERROR", "webhooks are not supported; poll or stream the run")
    if body.input is not None and body.command is not None:
        raise ApiError(422, "VALIDATION_ERROR", "send either input or command, not both")
    assistant = resolve_assistant(
        session, catalog, workspace_id=principal.workspace_id, assistant_id=body.assistant_id
    )
    if assistant.graph_id not in catalog.entries:
        raise ApiError(422, "VALIDATION_ERROR", f"graph {assistant.graph_id} does not exist")
    config = _merge_config(assistant.config, body.config or {})
    configurable = dict(config.get("configurable") or {})
    policy = run_policy(principal, configurable)
    if thread_id is None:
        thread = records.create_thread(
            session,
            workspace_id=principal.workspace_id,
            graph_id=assistant.graph_id,
            temporary=body.on_completion == "delete",
            metadata={"graph_id": assistant.graph_id, "assistant_id": assistant.assistant_id},
        )
    else:
        try:
            thread = records.get_thread(session, workspace_id=principal.workspace_id, thread_id=thread_id)
        except NotFound:
            if body.if_not_exists != "create" or session.get(RunThread, thread_id) is not None:
                raise
            thread = records.create_thread(
                session,
                workspace_id=principal.workspace_id,
                thread_id=thread_id,
                graph_id=assistant.graph_id,
                metadata={"graph_id": assistant.graph_id, "assistant_id": assistant.assistant_id},
            )
    command = None
    if body.command is not None:
        command = body.command.model_dump(exclude_unset=True)
        if "resume" in command:
            check_resume(principal, thread)
    kwargs: dict[str, Any] = {
        "input": body.input,
        "command": command,
        "config": config,
        "context": {**assistant.context, **(body.context or {})} or None,
        "stream_mode": stream_modes(body, background=background),
        "stream_subgraphs": body.stream_subgraphs,
        "stream_resumable": body.stream_resumable,
        "checkpoint": body.checkpoint,
        "checkpoint_id": body.checkpoint_id,
        "interrupt_before": body.interrupt_before,
        "interrupt_after": body.interrupt_after,
        "durability": body.durability,
        "on_disconnect": body.on_disconnect,
        "policy": policy,
        "principal": {
            "user_id": principal.user_id,
            "api_key_id": principal.api_key_id,
            "role": principal.role,
        },
    }
    metadata = dict(body.metadata or {})
    return records.create_run(
        session,
        workspace_id=principal.workspace_id,
        thread_id=thread.thread_id,
        assistant_id=assistant.assistant_id,
        graph_id=assistant.graph_id,
        params={k: v for k, v in kwargs.items() if v is not None},
        metadata=metadata,
        multitask_strategy=body.multitask_strategy,
        after_seconds=body.after_seconds,
    )


async def start_run(
    request: Request, principal: Principal, body: RunCreate, *, thread_id: str | None, background: bool
) -> Run:
    """Create the run (and its temporary thread when stateless), cancel what it displaces, wake an executor."""
    manager = run_manager(request)
    catalog = await manager.graphs()

    def create() -> tuple[Run, list[Run]]:
        with session_scope(manager.engine) as session:
            return create_run(session, catalog, principal, body, thread_id=thread_id, background=background)

    run, displaced = await run_in_threadpool(create)
    if displaced:
        await manager.cancel(displaced, body.multitask_strategy)
    await manager.created()
    return run


def _merge_config(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **override}
    merged["configurable"] = {**(base.get("configurable") or {}), **(override.get("configurable") or {})}
    return merged


def run_location(run: Run) -> str:
    """The run's path."""
    return f"/threads/{run.thread_id}/runs/{run.run_id}"


_EPOCH = utcnow().replace(year=2026, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
