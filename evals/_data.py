"""Where the shared development data lives: `BRANDCREW_SHARED_DATA`, else `shared/data` above the repo."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["find_shared_data"]


def find_shared_data(start: Path | None = None) -> Path | None:
    """The shared data folder, or None when this machine does not have it."""
    env = os.environ.get("BRANDCREW_SHARED_DATA")
    if env:
        path = Path(env).expanduser()
        return path if path.is_dir() else None
    here = (start or Path(__file__)).resolve()
    for parent in [here, *here.parents]:
        candidate = parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return None
