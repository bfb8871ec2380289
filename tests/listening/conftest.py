"""Fixtures for the listening tests: the shared development data, when this machine has it."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals._data import find_shared_data


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`BRANDCREW_SHARED_DATA` or `shared/data` above the repository; skips when absent."""
    path = find_shared_data()
    if path is None or not (path / "nab-realtweets" / "windows.json").exists():
        pytest.skip(
            "shared development data not found (set BRANDCREW_SHARED_DATA or place it at ../shared/data)"
        )
    return path
