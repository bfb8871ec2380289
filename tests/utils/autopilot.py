"""Campaign files and priced model runtimes for autopilot tests."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from brandcrew.llm.messages import ModelRequest, ModelResponse
from brandcrew.llm.offline import OfflineBackend
from tests.utils.llm import make_runtime

REPO = Path(__file__).resolve().parents[2]


class PricedOffline:
    """The offline model's answers, billed like a paid provider (so budgets and the ledger see money)."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self._offline = OfflineBackend()
        self.calls = 0

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.calls += 1
        response = self._offline.respond(request)
        return response.model_copy(
            update={"offline": False, "model": request.model, "provider": self.provider}
        )

    async def stream(self, request: ModelRequest) -> Any:  # pragma: no cover - the autopilot never streams
        raise NotImplementedError


def priced_runtime(engine: Any, **kwargs: Any) -> Any:
    """A runtime whose every model is the offline model at the scripted alpha/beta prices."""
    return make_runtime(engine, {"alpha": PricedOffline("alpha"), "beta": PricedOffline("beta")}, **kwargs)


def campaign_file(folder: Path, **overrides: Any) -> Path:
    """A short campaign for the demo brand (X + Instagram), with its media copied beside it."""
    media = folder / "media"
    media.mkdir(parents=True, exist_ok=True)
    for f in (REPO / "configs" / "campaigns" / "media").glob("*.jpg"):
        shutil.copy(f, media / f.name)
    data: dict[str, Any] = {
        "name": "Test launch",
        "workspace": "demo",
        "start": "2027-02-01",
        "days": 3,
        "timezone": "Europe/Berlin",
        "budget_usd": 1.0,
        "approval": "auto",
        "quiet_hours": {"start": "22:00", "end": "07:00"},
        "posting_hours": [9, 13, 18],
        "platforms": [{"platform": "x", "per_day": 2}, {"platform": "instagram", "per_day": 1}],
        "pillars": [
            {
                "name": "product launches",
                "topics": ["the Autumn Single-Origin Ethiopia Guji", "the House Espresso Blend"],
            },
            {
                "name": "brewing tips",
                "topics": ["cold brew at home", "dialling in a pour-over", "grinding fresh"],
            },
        ],
        "media": [f"media/{f.name}" for f in sorted(media.glob("*.jpg"))],
        "goals": [{"metric": "posts_published", "target": 9}],
    }
    data.update(overrides)
    path = folder / "campaign.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
