"""A live brandcrew server on localhost for tests that drive it with real clients."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn


def free_port() -> int:
    """A localhost port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Run `app` with uvicorn in a thread; yields its base URL; stops it on exit."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@dataclass
class Account:
    """A registered user of a fresh workspace, with an access token and an API key."""

    user_id: str
    workspace_id: str
    email: str
    password: str
    access_token: str
    refresh_token: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        """Bearer access-token headers."""
        return {"Authorization": f"Bearer {self.access_token}"}


def register(client: httpx.Client | Any, *, name: str = "Ada", workspace: str = "Northwind") -> Account:
    """Register a new owner and workspace through the API, and give them an API key."""
    email = f"{name.lower()}-{time.monotonic_ns()}@example.com"
    password = "correct horse battery"
    res = client.post(
        "/api/auth/register",
        json={"email": email, "password": password, "name": name, "workspaceName": workspace},
    )
    assert res.status_code == 201, res.text
    body = res.json()
    headers = {"Authorization": f"Bearer {body['accessToken']}"}
    key = client.post("/api/api-keys", json={"name": "tests"}, headers=headers)
    assert key.status_code == 201, key.text
    return Account(
        user_id=body["user"]["id"],
        workspace_id=body["workspace"]["id"],
        email=email,
        password=password,
        access_token=body["accessToken"],
        refresh_token=body["refreshToken"],
        api_key=key.json()["key"],
    )
