"""An autopilot process for crash tests: the real driver on a priced model (killed and restarted)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from brandcrew.jobs.autopilot import AutopilotOptions, run_autopilot
from brandcrew.llm.runtime import set_runtime
from brandcrew.settings import get_settings
from brandcrew.store.engine import get_engine
from tests.utils.autopilot import priced_runtime


def main() -> None:
    """`python -m tests.utils.autopilot_child CAMPAIGN_FILE [EXECUTOR_ID]`"""
    settings = get_settings()
    set_runtime(priced_runtime(get_engine(settings), settings=settings))
    executor = sys.argv[2] if len(sys.argv) > 2 else "local"
    summary = asyncio.run(run_autopilot(Path(sys.argv[1]), options=AutopilotOptions(executor_id=executor)))
    print(summary.model_dump_json())


if __name__ == "__main__":
    main()
