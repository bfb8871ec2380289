"""The orchestration benchmark keeps running (behaviour only: no timing is asserted)."""

from __future__ import annotations

import json
from typing import Any

from bench import orchestration


def test_the_benchmark_runs_every_contender_and_ends_with_its_json_line(capsys: Any) -> None:
    figures = orchestration.main(["--rounds", "2", "--warmup", "1", "--json"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last) == figures
    for key in ("roundtrip_ms", "fast_roundtrip_ms", "langgraph_ms", "langgraph_direct_ms"):
        assert figures[key] > 0, key
    assert figures["ratio_vs_langgraph"] > 0 and "ratio_vs_crewai" in figures and "crewai_ms" in figures
    assert figures["ledger_rows"] == 3 * (4 + 2), "one ledger row per brandcrew model call"
