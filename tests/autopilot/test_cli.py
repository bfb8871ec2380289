"""`brandcrew autopilot ...`: run with --json, status, pause/resume, and the approval queue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from brandcrew.cli import app

runner = CliRunner()


def last_json(output: str) -> Any:
    return json.loads(output.strip().splitlines()[-1])


def test_run_status_pause_resume_and_approve(tmp_path: Path) -> None:
    from tests.utils.autopilot import campaign_file

    path = campaign_file(tmp_path, approval="human", days=2)
    report = tmp_path / "report.html"
    ran = runner.invoke(
        app, ["autopilot", "run", str(path), "--simulate-days", "1", "--report", str(report), "--json"]
    )
    assert ran.exit_code == 0, ran.output
    figures = last_json(ran.output)
    assert figures["cycles"] == 1 and figures["duplicates"] == 0 and figures["lost"] == 0
    assert figures["posts_published"] == 0 and figures["waiting_approval"] == 3  # a person approves all
    assert figures["report_path"] == str(report) and "<svg" in report.read_text()
    assert "autopilot report" in ran.output

    items = last_json(runner.invoke(app, ["autopilot", "approve", "list", "--json"]).output)
    assert len(items) == 3 and all(i["reason"].startswith("policy: a person approves") for i in items)
    shown = runner.invoke(app, ["autopilot", "approve", "show", items[0]["id"][:10]])
    assert shown.exit_code == 0 and items[0]["text"][:30] in shown.output
    assert (
        "1 more items" not in runner.invoke(app, ["autopilot", "approve", "approve", items[0]["id"]]).output
    )
    edited = runner.invoke(
        app, ["autopilot", "approve", "edit", items[1]["id"], "--text", "Fresh Guji, roasted Monday."]
    )
    assert edited.exit_code == 0 and "1 more items" in edited.output
    done = runner.invoke(app, ["autopilot", "approve", "reject", items[2]["id"], "--reason", "off brand"])
    assert done.exit_code == 0 and "2 posts are scheduled" in done.output
    again = runner.invoke(app, ["autopilot", "approve", "approve", items[2]["id"]])
    assert again.exit_code == 2 and "already decided" in again.output

    status = last_json(runner.invoke(app, ["autopilot", "status", "--json"]).output)
    assert status[0]["status"] == "running" and status[0]["posts_open"] == 2
    cid = status[0]["campaign_id"]
    assert runner.invoke(app, ["autopilot", "pause", cid, "--reason", "holiday"]).exit_code == 0
    paused = last_json(runner.invoke(app, ["autopilot", "status", "--json"]).output)[0]
    assert paused["status"] == "paused" and paused["paused_reason"] == "holiday"
    # A paused campaign plans nothing new.
    idle = runner.invoke(app, ["autopilot", "run", str(path), "--json"])
    assert last_json(idle.output)["cycles"] == 1 and last_json(idle.output)["status"] == "paused"
    assert runner.invoke(app, ["autopilot", "resume", cid]).exit_code == 0
    assert last_json(runner.invoke(app, ["autopilot", "status", "--json"]).output)[0]["status"] == "running"


def test_bad_campaign_file_and_unknown_ids_get_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nworkspace: demo\n")
    result = runner.invoke(app, ["autopilot", "run", str(bad)])
    assert result.exit_code == 2 and "platforms: Field required" in result.output
    assert "no autopilot run 'nope'" in runner.invoke(app, ["autopilot", "pause", "nope"]).output
    assert "no approval starts with" in runner.invoke(app, ["autopilot", "approve", "show", "zzz"]).output
