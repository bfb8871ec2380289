"""Tenancy: every resource route of the published API, called by another workspace's owner with the
first workspace's ids, must not find, change or show anything of the first workspace."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient

from tests.utils.openapi_bodies import request_body
from tests.utils.server import Account
from tests.utils.tenancy_seed import SeededWorkspace, seed_workspace, snapshot

# Routes that are not about a workspace's resources (no ids of anyone's to leak).
_PUBLIC = {"/health", "/ready", "/metrics", "/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"}
_AUTH = re.compile(r"^/api/auth/")
# Path ids that name something every workspace shares (an agent exposed as a model), not a resource.
_GLOBAL = {"models": "strategy"}


def _id_for(path: str, param: str, seeded: SeededWorkspace) -> str:
    """The first workspace's id for a path parameter, chosen by the resource the path names."""
    segments = [s for s in path.split("/") if s]
    index = segments.index("{" + param + "}")
    if index > 0 and segments[index - 1] in _GLOBAL:
        return _GLOBAL[segments[index - 1]]
    nested = "/".join(segments[max(0, index - 2) : index])
    if nested in seeded.ids:
        return seeded.ids[nested]
    resource = segments[index - 1] if index > 0 else ""
    if resource not in seeded.ids:
        raise AssertionError(
            f"{path}: no seeded resource for {{{param}}} after '{resource}' — seed one in tests/utils/tenancy_seed.py"
        )
    return seeded.ids[resource]


def _calls(spec: dict[str, Any], seeded: SeededWorkspace) -> list[tuple[str, str, Any]]:
    calls = []
    for template, operations in spec["paths"].items():
        if template in _PUBLIC or _AUTH.match(template) or template.startswith("/app"):
            continue
        path = template
        for param in re.findall(r"{(\w+)}", template):
            path = path.replace("{" + param + "}", _id_for(template, param, seeded))
        for method, operation in operations.items():
            if method in ("get", "post", "put", "patch", "delete"):
                calls.append((method.upper(), path, request_body(spec, operation)))
    return calls


def test_no_route_leaks_another_workspaces_data(
    client: TestClient, owner: Account, second_owner: Account
) -> None:
    seeded = seed_workspace(client, owner)
    spec = client.get("/openapi.json").json()
    calls = _calls(spec, seeded)
    assert len(calls) >= len(spec["paths"]) - len(_PUBLIC), "every resource route is tried"
    leaks: list[str] = []
    reached = 0
    for method, path, body in calls:
        res = client.request(method, path, json=body, headers=second_owner.headers)
        text = res.text
        found = [marker for marker in seeded.markers if marker in text]
        has_foreign_id = any(foreign in path for foreign in seeded.ids.values())
        if found:
            leaks.append(f"{method} {path} -> {res.status_code} shows {found}")
        elif has_foreign_id and res.is_success:
            leaks.append(f"{method} {path} -> {res.status_code} accepted another workspace's id")
        if res.status_code != 422:
            reached += 1
        assert res.status_code < 500, f"{method} {path} -> {res.status_code}: {text[:300]}"
    assert leaks == [], "\n".join(leaks)
    # The first workspace's data is untouched and still its own.
    after = snapshot(client, owner)
    assert after == seeded.snapshot, json.dumps({"before": seeded.snapshot, "after": after})[:2000]
    assert reached >= len(calls) // 2, f"only {reached} of {len(calls)} calls got past input validation"
