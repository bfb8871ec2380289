"""MCP tools from a real MCP server process, over stdio and streamable HTTP, used by an agent."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from brandcrew.agents.spec import AgentSpec
from brandcrew.graphs.agent import build_agent_graph, task_message
from brandcrew.llm.testing import reply, tool_call
from brandcrew.tools.registry import ToolRegistry

pytest.importorskip("langchain_mcp_adapters")

SERVER = Path(__file__).with_name("mcp_server.py")
SHORT = "https://brc.rw/9z700"  # what the server's shorten_link gives for LONG
LONG = "https://x.org/a"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def http_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The MCP server running over streamable HTTP on a free localhost port."""
    port = _free_port()
    log = tmp_path_factory.mktemp("mcp") / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, str(SERVER), str(port)], stdout=sink, stderr=sink)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"MCP server exited: {log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _stdio() -> dict[str, Any]:
    return {"transport": "stdio", "command": sys.executable, "args": [str(SERVER)]}


@pytest.fixture(params=["stdio", "streamable_http"])
def server(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The connection config of the server over each transport."""
    if request.param == "stdio":
        return _stdio()
    return {"transport": "streamable_http", "url": request.getfixturevalue("http_url")}


def _text(result: Any) -> str:
    """An MCP tool's result (content blocks) as text."""
    if isinstance(result, str):
        return result
    return "".join(block.get("text", "") for block in result)


async def test_mcp_tools_register_and_return_their_results(server: dict[str, Any]) -> None:
    registry = ToolRegistry()
    tools = await registry.load_mcp({"links": server})
    assert sorted(t.name for t in tools) == ["shorten_link", "word_count"]
    assert sorted(registry.names()) == ["shorten_link", "word_count"]
    assert "url" in registry.get("shorten_link").args
    assert _text(await registry.get("shorten_link").ainvoke({"url": LONG})) == SHORT
    assert _text(await registry.get("word_count").ainvoke({"text": "fresh beans are in"})) == "4"


async def test_an_agent_calls_an_mcp_tool_and_reads_its_result(
    server: dict[str, Any], agent_world: Any
) -> None:
    registry = ToolRegistry()
    await registry.load_mcp({"links": server}, agents=["promoter"])
    spec = AgentSpec(
        name="promoter",
        description="Writes short promotional posts with tracked links.",
        prompt="You promote {brand_name}'s events.",
    )
    tools = registry.for_agent(spec)
    assert [t.name for t in tools] == ["shorten_link", "word_count"], "attached by load_mcp(agents=...)"
    world = agent_world([tool_call("shorten_link", {"url": LONG}), reply(f"Tasting on Saturday: {SHORT}")])
    graph = build_agent_graph(spec, tools, model=world.model)

    out = await graph.ainvoke(
        {"messages": [task_message("Promote the tasting, link " + LONG)]}, world.config()
    )

    (result,) = [m for m in out["messages"] if isinstance(m, ToolMessage)]
    assert result.name == "shorten_link" and _text(result.content) == SHORT
    second = world.llm.calls[1].messages
    assert any(m.get("role") == "tool" and SHORT in str(m.get("content")) for m in second), (
        "the model's next request carries the MCP tool's answer"
    )
    assert out["answer"] == f"Tasting on Saturday: {SHORT}"
