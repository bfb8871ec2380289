"""Routing evaluation: does each marketer request reach the right agent(s)?

    brandcrew eval routing [--data FILE.jsonl] [--misses] [--json]

A request counts as correct when the set of agents chosen equals the labelled set; for requests
with several agents, `multi_order` is the share chosen in the labelled working order too. Decisions
are made as on a first turn of the real graph: the fast router when it is confident, else the
supervisor's model (the offline model when no provider key is set, which follows the router's
best guess).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

DEFAULT_DATA = Path(__file__).resolve().parent / "routing" / "requests.jsonl"


class Labelled(BaseModel):
    """One labelled request."""

    request: str
    agents: list[str]
    kind: str = "clear"


def load(path: Path) -> list[Labelled]:
    """Read a JSONL file of {"request", "agents"} rows, naming the line of any bad row."""
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip():
            try:
                rows.append(Labelled.model_validate_json(line))
            except ValueError as exc:
                raise SystemExit(f"{path}:{number}: not a labelled request: {exc}") from exc
    return rows


async def _decide(rows: list[Labelled]) -> tuple[list[tuple[list[str], str]], str]:
    from brandcrew.agents import default_agents
    from brandcrew.graphs.supervisor import default_router, route_decision
    from brandcrew.llm.chat import ChatBrandcrew
    from brandcrew.llm.context import llm_context
    from brandcrew.settings import get_settings

    agents = default_agents(get_settings().configs_dir)
    router = default_router(agents)
    specs = [s for s in agents.all() if s.name != "supervisor"]
    model = ChatBrandcrew(response_cache=False)
    out = []
    with llm_context(workspace_id="eval", run_id="eval-routing"):
        for row in rows:
            out.append(await route_decision(row.request, router=router, model=model, specs=specs))
    # Figures depend on what the router reads meaning with (installed models): say which.
    return out, router.encoder


class Miss(BaseModel):
    """A request the router sent elsewhere than its label."""

    request: str
    kind: str
    wanted: list[str]
    got: list[str]
    decided_by: str


def run_routing_eval(path: Path | None = None) -> dict[str, Any]:
    """Score the router on a labelled set; returns the figures."""
    figures, _ = score_routing(path)
    return figures


def score_routing(path: Path | None = None) -> tuple[dict[str, Any], list[Miss]]:
    """Score the router on a labelled set; returns the figures and every miss, in file order."""
    rows = load(path or DEFAULT_DATA)
    decisions, encoder = asyncio.run(_decide(rows))
    misses: list[Miss] = []
    per_agent: dict[str, list[bool]] = defaultdict(list)
    per_kind: dict[str, list[bool]] = defaultdict(list)
    by: Counter[str] = Counter()
    correct = 0
    in_order: list[bool] = []
    for row, (agents, how) in zip(rows, decisions, strict=True):
        ok = set(agents) == set(row.agents)
        correct += ok
        if not ok:
            misses.append(
                Miss(request=row.request, kind=row.kind, wanted=row.agents, got=agents, decided_by=how)
            )
        if len(row.agents) > 1:
            in_order.append(agents == row.agents)
        by[how] += 1
        per_kind[row.kind].append(ok)
        for agent in row.agents:
            per_agent[agent].append(ok)
    figures = {
        "accuracy": round(correct / len(rows), 4),
        "n": len(rows),
        "per_agent": {a: round(sum(v) / len(v), 4) for a, v in sorted(per_agent.items())},
        "per_kind": {k: round(sum(v) / len(v), 4) for k, v in sorted(per_kind.items())},
        "decided_by": dict(by),
        "encoder": encoder,
        **({"multi_order": round(sum(in_order) / len(in_order), 4)} if in_order else {}),
    }
    return figures, misses


def main(path: Path | None = None, *, as_json: bool = False, show_misses: bool = False) -> dict[str, Any]:
    """Print the routing table, optionally every miss, and the JSON line."""
    figures, misses = score_routing(path)
    console = Console()
    if show_misses and misses:
        # One unwrapped line per miss, so the list can be grepped and diffed between runs.
        console.print(f"{len(misses)} misses (labelled -> routed to, decided by):")
        for miss in misses:
            console.print(
                f"  [{miss.kind}] {miss.request}  ::  {', '.join(miss.wanted)} -> {', '.join(miss.got) or '-'}"
                f" ({miss.decided_by})",
                soft_wrap=True,
                markup=False,
                highlight=False,
            )
    table = Table(title=f"Routing accuracy on {figures['n']} labelled requests", title_justify="left")
    table.add_column("agent / kind")
    table.add_column("accuracy", justify="right")
    for name, value in [*figures["per_agent"].items(), *figures["per_kind"].items()]:
        table.add_row(name, f"{value:.1%}")
    table.add_row("all", f"{figures['accuracy']:.1%}")
    console.print(table)
    console.print(f"decided by: {figures['decided_by']}; meaning read with: {figures['encoder']}")
    if "multi_order" in figures:
        console.print(f"several agents, in the labelled order: {figures['multi_order']:.1%}")
    if as_json:
        print(json.dumps(figures))
    return figures
