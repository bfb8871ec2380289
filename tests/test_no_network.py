"""Importing brandcrew and running the demo opens no network connection at all."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Runs in a fresh interpreter so that nothing imported by the test session hides an import-time
# connection. Every socket connect (TCP, UDP or DNS lookup) is recorded and refused.
PROBE = textwrap.dedent(
    """
    import socket, sys
    attempts = []
    def refuse(self, address, *a):
        attempts.append(repr(address))
        raise OSError("network blocked by test")
    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    real_getaddrinfo = socket.getaddrinfo
    def lookup(host, *a, **k):
        attempts.append(f"dns:{host}")
        raise OSError("dns blocked by test")
    socket.getaddrinfo = lookup
    import brandcrew
    import brandcrew.llm.runtime, brandcrew.llm.chat, brandcrew.cli
    from typer.testing import CliRunner
    result = CliRunner().invoke(brandcrew.cli.app, ["demo", "--json"])
    sys.stdout.write(result.output[-400:])
    if result.exit_code != 0:
        sys.stdout.write(repr(result.exception))
        sys.exit(3)
    if attempts:
        sys.stdout.write("CONNECTIONS: " + ", ".join(attempts))
        sys.exit(4)
    """
)


def test_import_and_demo_attempt_no_connection(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update({"BRANDCREW_DATA_DIR": str(tmp_path), "BRANDCREW_CONFIGS_DIR": str(REPO / "configs")})
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.pop("LITELLM_LOCAL_MODEL_COST_MAP", None)  # brandcrew must set it itself
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"calls": 22' in done.stdout and '"cache_hits": 11' in done.stdout
