"""`brandcrew alerts list|ack|resolve|poll` on the configured database."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from brandcrew.cli import app
from brandcrew.services import alerts
from brandcrew.store.engine import get_engine
from brandcrew.store.tables import Workspace
from tests.utils.listening import make_listening_world

runner = CliRunner()


def last_json(output: str) -> Any:
    return json.loads(output.strip().splitlines()[-1])


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Any:
    # The CLI decrypts account tokens with the configured keys: use the tests' key.
    monkeypatch.setenv("BRANDCREW_ENCRYPTION_KEYS", "test:" + base64.urlsafe_b64encode(b"k" * 32).decode())
    return make_listening_world(get_engine())


def test_list_ack_and_resolve_an_alert_that_paused_publishing(world: Any) -> None:
    at = world.pw.world.now()
    with Session(world.engine, expire_on_commit=False) as session:
        alert = alerts.record_alert(
            session,
            workspace_id=world.workspace_id,
            query_id=world.query_id,
            query_name="Brand mentions",
            kind="crisis",
            rule_key="crisis",
            severity="high",
            reason="volume spike and sentiment drop",
            details={},
            window_start=at,
            window_end=at + timedelta(minutes=5),
            cooldown=timedelta(hours=6),
            pause=True,
        )
        session.commit()
    assert alert is not None

    listed = runner.invoke(app, ["alerts", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    (row,) = last_json(listed.output)["alerts"]
    assert (row["id"], row["status"], row["paused_publishing"], row["query"]) == (
        alert.id,
        "open",
        True,
        "Brand mentions",
    )

    acked = runner.invoke(app, ["alerts", "ack", alert.id, "--by", "ana", "--keep-paused", "--json"])
    assert acked.exit_code == 0, acked.output
    assert last_json(acked.output)["publishing_paused_reason"].startswith(f"crisis alert {alert.id}")
    acked = runner.invoke(app, ["alerts", "ack", alert.id, "--by", "ana", "--json"])
    assert last_json(acked.output)["status"] == "acknowledged"
    assert last_json(acked.output)["publishing_paused_reason"] is None
    assert "publishing is running" in acked.output

    resolved = runner.invoke(
        app, ["alerts", "resolve", alert.id, "--by", "ana", "--note", "refunds sent", "--json"]
    )
    assert resolved.exit_code == 0 and last_json(resolved.output)["status"] == "resolved"
    assert last_json(runner.invoke(app, ["alerts", "list", "--json"]).output)["alerts"] == []
    everything = runner.invoke(app, ["alerts", "list", "--all", "-w", world.workspace_id, "--json"])
    assert [a["status"] for a in last_json(everything.output)["alerts"]] == ["resolved"]
    with Session(world.engine) as session:
        workspace = session.get(Workspace, world.workspace_id)
        assert workspace is not None and workspace.publishing_paused_reason is None

    again = runner.invoke(app, ["alerts", "ack", alert.id])
    assert again.exit_code == 2 and "already resolved" in again.output
    missing = runner.invoke(app, ["alerts", "resolve", "al_nope"])
    assert missing.exit_code == 2 and "not found" in missing.output


def test_poll_runs_one_listening_round(world: Any) -> None:
    result = runner.invoke(app, ["alerts", "poll", "-w", world.workspace_id, "--json"])
    assert result.exit_code == 0, result.output
    summary = last_json(result.output)
    assert summary["stored"] > 0 and summary["alerts"] == [] and summary["errors"] == []
    assert "new mentions" in result.output
