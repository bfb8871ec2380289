from __future__ import annotations

from collections.abc import Iterator

import pytest

from brandcrew.jobs._dbos import shutdown_dbos


@pytest.fixture(autouse=True)
def _dbos_down() -> Iterator[None]:
    """Each autopilot run launches DBOS on its own data dir; stop it after the test."""
    yield
    shutdown_dbos()
