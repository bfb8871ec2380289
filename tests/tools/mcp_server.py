"""A tiny MCP server for the tests, on the official `mcp` package's FastMCP.

python tests/tools/mcp_server.py            # stdio
python tests/tools/mcp_server.py 8765       # streamable HTTP on 127.0.0.1:8765/mcp
"""

from __future__ import annotations

import sys

from mcp.server.fastmcp import FastMCP

server = FastMCP(
    "brandcrew-test-tools",
    host="127.0.0.1",
    port=int(sys.argv[1]) if len(sys.argv) > 1 else 0,
    log_level="WARNING",
)


@server.tool()
def shorten_link(url: str) -> str:
    """Shorten a link for a social post (deterministic: the same URL gives the same short link)."""
    digest = sum(ord(c) * (i + 1) for i, c in enumerate(url)) % 36**5
    code = ""
    for _ in range(5):
        digest, rest = divmod(digest, 36)
        code += "0123456789abcdefghijklmnopqrstuvwxyz"[rest]
    return f"https://brc.rw/{code}"


@server.tool()
def word_count(text: str) -> int:
    """Count the words of a text."""
    return len(text.split())


if __name__ == "__main__":
    server.run(transport="streamable-http" if len(sys.argv) > 1 else "stdio")
