"""`brandcrew chat`: a terminal conversation with the team, led by the strategy agent's supervisor."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from langgraph.types import Command
from rich.console import Console
from rich.table import Table
from sqlmodel import Session, select

from brandcrew.graphs.team import Team
from brandcrew.llm.context import llm_context
from brandcrew.llm.ledger import CostFilter
from brandcrew.llm.runtime import get_runtime
from brandcrew.services.brand import load_brand_profile
from brandcrew.services.workspaces import connect_sandbox_world, ensure_workspace
from brandcrew.store.engine import session_scope
from brandcrew.store.tables import SocialAccount


def prepare_workspace(team: Team, workspace: str) -> str:
    """The workspace of a brand profile, with a sandbox world connected when it has no accounts."""
    profile = load_brand_profile(team.settings.configs_dir / "workspaces" / f"{workspace}.yaml")
    with session_scope(team.services.engine) as session:
        ensure_workspace(session, profile)
    with Session(team.services.engine) as session:
        has_accounts = session.exec(
            select(SocialAccount).where(SocialAccount.workspace_id == profile.workspace_id)
        ).first()
    if has_accounts is None:
        from brandcrew.connectors.sandbox import SandboxWorld

        world = SandboxWorld.create(
            team.services.engine,
            seed=profile.workspace_id,
            brand=profile.model_dump(),
            platforms=tuple(profile.platforms or ["x", "linkedin", "instagram"]),
            speed=1.0,
        )
        with session_scope(team.services.engine) as session:
            connect_sandbox_world(
                session, team.services.accounts, workspace_id=profile.workspace_id, world=world
            )
    return profile.workspace_id


async def chat_turn(
    team: Team,
    *,
    workspace_id: str,
    thread_id: str,
    text: str,
    approve: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """Run one user turn (answering approval pauses with `approve`); returns the answer and its costs."""
    run_id = f"{thread_id}:{uuid.uuid4().hex[:8]}"
    config = team.config(workspace_id=workspace_id, thread_id=thread_id, run_id=run_id)
    payload: Any = {"messages": [("user", text)]}
    with llm_context(workspace_id=workspace_id, run_id=run_id):
        while True:
            out = await team.graph.ainvoke(payload, config)
            pending = out.get("__interrupt__") or []
            if not pending:
                break
            payload = Command(resume={p.id: approve(p.value) for p in pending})
    message = out["messages"][-1]
    rows = get_runtime().ledger.totals(["agent", "model"], CostFilter(run_id=run_id))
    return {
        "answer": message.content,
        "agents": message.response_metadata.get("agents", []),
        "route": message.response_metadata.get("route_reason", ""),
        "costs": [r.model_dump(mode="json") for r in rows],
        "cost_usd": str(sum((r.cost_usd for r in rows), start=0)),
        "run_id": run_id,
    }


def print_turn(console: Console, turn: dict[str, Any]) -> None:
    """The answer, then who worked on it, with which models, at what cost."""
    console.print(turn["answer"])
    table = Table(show_header=True, header_style="dim", box=None)
    for name in ("agent", "model", "calls", "tokens in/out", "USD"):
        table.add_column(name, style="dim")
    for row in turn["costs"]:
        table.add_row(
            row["group"]["agent"] or "-",
            row["group"]["model"] or "-",
            str(row["calls"]),
            f"{row['input_tokens']}/{row['output_tokens']}",
            row["cost_usd"],
        )
    console.print(
        f"[dim]agents: {', '.join(turn['agents']) or '-'} ({turn['route']}); cost ${turn['cost_usd']}[/dim]"
    )
    console.print(table)
