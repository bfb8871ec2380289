"""`brandcrew alerts ...`: list listening alerts, acknowledge or resolve them (which lifts the
publishing pause a crisis set), and run one listening round by hand."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from brandcrew.errors import BrandcrewError

alerts_app = typer.Typer(
    help="Listening alerts: crises, spikes, sentiment drops, influencers.", no_args_is_help=True
)
console = Console(width=None if sys.stdout.isatty() else 130)
JsonOpt = Annotated[bool, typer.Option("--json", help="End with one line holding a JSON object.")]
WorkspaceOpt = Annotated[str | None, typer.Option("--workspace", "-w", help="Only this workspace.")]
ByOpt = Annotated[str | None, typer.Option("--by", help="Who is acting (recorded in the audit trail).")]


def _fail(exc: BrandcrewError) -> None:
    console.print(f"[red]error:[/red] {exc}")
    raise typer.Exit(2)


def _row(alert: Any) -> dict[str, Any]:
    return {
        "id": alert.id,
        "workspace_id": alert.workspace_id,
        "kind": alert.kind,
        "severity": alert.severity,
        "status": alert.status,
        "query": (alert.details or {}).get("query_name") or alert.query_id,
        "window_start": alert.window_start.isoformat() if alert.window_start else None,
        "paused_publishing": alert.paused_publishing,
        "reason": alert.reason,
    }


@alerts_app.command("list")
def list_alerts(
    workspace: WorkspaceOpt = None,
    status: Annotated[
        list[str] | None, typer.Option("--status", "-s", help="open, acknowledged, resolved (repeatable).")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include resolved alerts.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Alerts, newest first (open and acknowledged ones unless --all or --status)."""
    from sqlmodel import Session

    from brandcrew.services import alerts
    from brandcrew.store.engine import get_engine

    statuses = status or (None if all_ else ["open", "acknowledged"])
    with Session(get_engine()) as session:
        rows = [
            _row(a) for a in alerts.list_alerts(session, workspace_id=workspace, status=statuses, limit=limit)
        ]
    table = Table(title="Listening alerts", title_justify="left")
    for name in ("id", "workspace", "kind", "severity", "status", "query", "bucket (UTC)", "paused", "why"):
        table.add_column(name, overflow="fold")
    for r in rows:
        table.add_row(
            r["id"],
            r["workspace_id"],
            r["kind"],
            r["severity"],
            r["status"],
            str(r["query"]),
            (r["window_start"] or "")[:16],
            "yes" if r["paused_publishing"] else "-",
            r["reason"][:160],
        )
    console.print(table if rows else "no alerts")
    if as_json:
        print(json.dumps({"alerts": rows}))


def _decide(action: str, alert_id: str, **kwargs: Any) -> dict[str, Any]:
    from brandcrew.services import alerts
    from brandcrew.store.engine import get_engine, session_scope
    from brandcrew.store.tables import Workspace

    with session_scope(get_engine()) as session:
        fn = alerts.acknowledge_alert if action == "ack" else alerts.resolve_alert
        alert = fn(session, alert_id=alert_id, **kwargs)
        workspace = session.get(Workspace, alert.workspace_id)
        paused = workspace.publishing_paused_reason if workspace else None
        return {**_row(alert), "publishing_paused_reason": paused}


def _report(result: dict[str, Any], as_json: bool) -> None:
    console.print(f"alert {result['id']} is {result['status']}")
    paused = result["publishing_paused_reason"]
    console.print(f"publishing is paused: {paused}" if paused else "publishing is running")
    if as_json:
        print(json.dumps(result))


@alerts_app.command("ack")
def ack(
    alert_id: Annotated[str, typer.Argument(help="The alert's id (see `brandcrew alerts list`).")],
    by: ByOpt = None,
    keep_paused: Annotated[bool, typer.Option(help="Acknowledge but keep publishing paused.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Acknowledge an alert; the publishing pause it set is lifted unless --keep-paused."""
    try:
        result = _decide("ack", alert_id, user_id=by, keep_paused=keep_paused)
    except BrandcrewError as exc:
        _fail(exc)
        return
    _report(result, as_json)


@alerts_app.command("resolve")
def resolve(
    alert_id: Annotated[str, typer.Argument(help="The alert's id (see `brandcrew alerts list`).")],
    by: ByOpt = None,
    note: Annotated[str | None, typer.Option(help="What was done about it.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Close an alert; the publishing pause it set is lifted."""
    try:
        result = _decide("resolve", alert_id, user_id=by, note=note)
    except BrandcrewError as exc:
        _fail(exc)
        return
    _report(result, as_json)


@alerts_app.command("poll")
def poll(
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="The workspace to poll.")],
    as_json: JsonOpt = False,
) -> None:
    """Run one listening round now (the worker does this every 5 minutes)."""
    from brandcrew.jobs.listening import poll_listening
    from brandcrew.store.engine import get_engine

    try:
        result = asyncio.run(poll_listening(get_engine(), workspace)).summary()
    except BrandcrewError as exc:
        _fail(exc)
        return
    console.print(
        f"{result['stored']} new mentions, {len(result['alerts'])} alerts, "
        f"{result['sent']} notifications sent, {len(result['statements'])} statements drafted"
    )
    for error in result["errors"]:
        console.print(f"[yellow]warning:[/yellow] {error}")
    if as_json:
        print(json.dumps(result))
