"""Process settings, read from the environment (prefix `BRANDCREW_`) and `.env`."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# LiteLLM must never fetch its price map at run time (offline machines, reproducible costs).
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

_REPO_CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def _default_configs_dir() -> Path:
    here = Path.cwd() / "configs"
    return here if here.is_dir() else _REPO_CONFIGS


class Settings(BaseSettings):
    """Everything a process needs to know about where things live and what it may do."""

    model_config = SettingsConfigDict(env_prefix="BRANDCREW_", env_file=".env", extra="ignore")

    data_dir: Path = Path(".brandcrew")
    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="SQLAlchemy URL; default is a SQLite file in data_dir.",
    )
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    configs_dir: Path = Field(default_factory=_default_configs_dir)
    allow_model_requests: bool = True
    """False blocks every real provider request (tests set this); the offline model still answers."""
    offline: bool = False
    """True forces the offline model even when provider keys are present."""
    dbos_schema: str = "dbos"
    """PostgreSQL schema of DBOS's workflow tables (SQLite keeps them in their own file)."""
    cache_ttl_s: int = 24 * 3600
    reservation_ttl_s: int = 15 * 60
    """A reservation older than this was left by a dead process and is released by the sweeper."""
    budget_leases: bool = True
    """Reserve SQL budgets in leases of several calls and settle write-behind (`brandcrew.llm.leases`)."""
    jwt_secret: str | None = None
    """Signs access and refresh tokens; a random secret in a 0600 file in data_dir when unset."""
    rate_limit_scale: float = 1.0
    """Multiplies every server rate limit; 0 turns limiting off."""
    runs_executor: bool = True
    """`brandcrew serve` executes runs itself; false leaves them to `brandcrew worker --runs` processes."""
    server_threads: int = 8
    """Threads per server process for the routes' database work. Few: the work holds the GIL, and
    more threads only take turns with it, which lengthens the slowest requests (one `bench.server`
    GET load each, 1 process: p99 258 ms with anyio's default 40 threads, 194 ms with 4)."""

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'brandcrew.db').as_posix()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings singleton."""
    return Settings()
