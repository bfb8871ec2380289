"""Assistants, as langgraph-sdk's `client.assistants` calls them.

Every graph (`supervisor` and each agent) is an assistant, reachable by its graph name; a workspace
adds its own assistants (a graph with saved config, context and metadata).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from sqlmodel import Session

from brandcrew.jobs.runs.graphs import GraphCatalog
from brandcrew.server.deps import Principal, SessionDep, require
from brandcrew.server.errors import ApiError
from brandcrew.server.runs_schemas import AssistantCreate, AssistantOut, AssistantPatch, AssistantSearch
from brandcrew.server.runs_support import (
    assistant_out,
    resolve_assistant,
    run_manager,
    system_assistant,
    system_assistant_id,
)
from brandcrew.services import runs as records

router = APIRouter(prefix="/assistants", tags=["assistants"])
Reader = Annotated[Principal, require("runs:read")]
Creator = Annotated[Principal, require("runs:create")]


async def _catalog(request: Request) -> GraphCatalog:
    return await run_manager(request).graphs()


def _all(
    session: Session, catalog: GraphCatalog, principal: Principal, body: AssistantSearch
) -> list[AssistantOut]:
    builtin = [
        system_assistant(catalog, g)
        for g in catalog.names()
        if (not body.graph_id or g == body.graph_id)
        and (not body.name or body.name.lower() in g.lower())
        and records.matches({"created_by": "system"}, body.metadata or {})
    ]
    own = records.search_assistants(
        session,
        workspace_id=principal.workspace_id,
        graph_id=body.graph_id,
        name=body.name,
        metadata=body.metadata,
    )
    items = builtin + [assistant_out(r) for r in own]
    if body.sort_by:
        key = body.sort_by
        items.sort(key=lambda a: str(getattr(a, key)), reverse=body.sort_order == "desc")
    return items


@router.post("/search", response_model=list[AssistantOut])
async def search_assistants(
    body: AssistantSearch, request: Request, response: Response, session: SessionDep, principal: Reader
) -> list[AssistantOut]:
    """The graphs' assistants and the workspace's own, filtered; `X-Pagination-Next` has the next offset."""
    items = _all(session, await _catalog(request), principal, body)
    page = items[body.offset : body.offset + body.limit]
    if body.offset + body.limit < len(items):
        response.headers["X-Pagination-Next"] = str(body.offset + body.limit)
    return page


@router.post("/count")
async def count_assistants(
    body: AssistantSearch, request: Request, session: SessionDep, principal: Reader
) -> int:
    """How many assistants match."""
    return len(_all(session, await _catalog(request), principal, body))


@router.post("", response_model=AssistantOut)
async def create_assistant(
    body: AssistantCreate, request: Request, session: SessionDep, principal: Creator
) -> AssistantOut:
    """A workspace assistant on one of the graphs."""
    catalog = await _catalog(request)
    if body.graph_id not in catalog.entries:
        raise ApiError(
            422, "VALIDATION_ERROR", f"unknown graph {body.graph_id!r}", {"graphs": catalog.names()}
        )
    if body.assistant_id and (
        body.assistant_id in catalog.entries
        or body.assistant_id in {system_assistant_id(g) for g in catalog.names()}
    ):
        raise ApiError(409, "CONFLICT", f"assistant {body.assistant_id} is a built-in assistant")
    row = records.create_assistant(
        session,
        workspace_id=principal.workspace_id,
        graph_id=body.graph_id,
        assistant_id=body.assistant_id,
        name=body.name,
        description=body.description,
        config=body.config,
        context=body.context,
        metadata=body.metadata,
        if_exists=body.if_exists,
    )
    session.commit()
    return assistant_out(row)


@router.get("/{assistant_id}", response_model=AssistantOut)
async def get_assistant(
    assistant_id: str, request: Request, session: SessionDep, principal: Reader
) -> AssistantOut:
    """An assistant by id, or a graph's assistant by the graph's name."""
    return resolve_assistant(
        session, await _catalog(request), workspace_id=principal.workspace_id, assistant_id=assistant_id
    )


@router.patch("/{assistant_id}", response_model=AssistantOut)
async def update_assistant(
    assistant_id: str, body: AssistantPatch, request: Request, session: SessionDep, principal: Creator
) -> AssistantOut:
    """Change a workspace assistant (built-in ones are read-only)."""
    catalog = await _catalog(request)
    _own_only(catalog, assistant_id)
    if body.graph_id and body.graph_id not in catalog.entries:
        raise ApiError(422, "VALIDATION_ERROR", f"unknown graph {body.graph_id!r}")
    row = records.update_assistant(
        session,
        workspace_id=principal.workspace_id,
        assistant_id=assistant_id,
        changes=body.model_dump(exclude_unset=True),
    )
    session.commit()
    return assistant_out(row)


@router.delete("/{assistant_id}", status_code=204)
async def delete_assistant(
    assistant_id: str, request: Request, session: SessionDep, principal: Creator
) -> Response:
    """Delete a workspace assistant."""
    _own_only(await _catalog(request), assistant_id)
    records.delete_assistant(session, workspace_id=principal.workspace_id, assistant_id=assistant_id)
    session.commit()
    return Response(status_code=204)


@router.get("/{assistant_id}/graph")
async def get_graph(
    assistant_id: str, request: Request, session: SessionDep, principal: Reader, xray: bool = False
) -> dict[str, Any]:
    """The assistant's graph: nodes and edges."""
    catalog = await _catalog(request)
    assistant = resolve_assistant(
        session, catalog, workspace_id=principal.workspace_id, assistant_id=assistant_id
    )
    drawable = catalog.get(assistant.graph_id).graph.get_graph(xray=xray)
    data: dict[str, Any] = drawable.to_json()
    return data


@router.get("/{assistant_id}/schemas")
async def get_schemas(
    assistant_id: str, request: Request, session: SessionDep, principal: Reader
) -> dict[str, Any]:
    """JSON Schemas of the assistant's input, output, state and config."""
    catalog = await _catalog(request)
    assistant = resolve_assistant(
        session, catalog, workspace_id=principal.workspace_id, assistant_id=assistant_id
    )
    graph = catalog.get(assistant.graph_id).graph
    return {
        "graph_id": assistant.graph_id,
        "input_schema": _schema(graph.get_input_jsonschema),
        "output_schema": _schema(graph.get_output_jsonschema),
        "state_schema": _schema(lambda: graph.get_input_jsonschema()),
        "config_schema": _schema(graph.get_config_jsonschema),
        "context_schema": _schema(graph.get_context_jsonschema),
    }


@router.post("/{assistant_id}/versions", response_model=list[AssistantOut])
async def get_versions(
    assistant_id: str, request: Request, session: SessionDep, principal: Reader
) -> list[AssistantOut]:
    """The assistant's versions (its current one: brandcrew keeps no older versions)."""
    catalog = await _catalog(request)
    return [
        resolve_assistant(session, catalog, workspace_id=principal.workspace_id, assistant_id=assistant_id)
    ]


def _schema(get: Any) -> Any:
    try:
        return get()
    except Exception:  # a schema LangGraph cannot express
        return None


def _own_only(catalog: GraphCatalog, assistant_id: str) -> None:
    if assistant_id in catalog.entries or assistant_id in {system_assistant_id(g) for g in catalog.names()}:
        raise ApiError(409, "CONFLICT", "built-in assistants cannot be changed")
