"""The sandbox social platform: a simulated, seeded, persisted network that stands in for real ones.

```python
world = SandboxWorld.create(engine, seed=7, brand="Acme", platforms=["x", "linkedin"])
connector = world.connector()            # serves every platform of the world
account = world.own_account("x").auth()
await connector.publish(account, PostDraft(platform="x", text="Hello"), idempotency_key="k1")
world.advance(timedelta(days=1))          # metrics, followers, mentions and DMs move on
```
"""

from brandcrew.connectors.sandbox.clock import SandboxClock as SandboxClock
from brandcrew.connectors.sandbox.competitors import GeneratedPost as GeneratedPost
from brandcrew.connectors.sandbox.connector import DraftRejected as DraftRejected
from brandcrew.connectors.sandbox.connector import SandboxConnector as SandboxConnector
from brandcrew.connectors.sandbox.engagement import PostFeatures as PostFeatures
from brandcrew.connectors.sandbox.engagement import PostForecast as PostForecast
from brandcrew.connectors.sandbox.faults import FaultKind as FaultKind
from brandcrew.connectors.sandbox.faults import FaultPlan as FaultPlan
from brandcrew.connectors.sandbox.streams import SandboxCrisis as SandboxCrisis
from brandcrew.connectors.sandbox.world import SandboxAccount as SandboxAccount
from brandcrew.connectors.sandbox.world import SandboxBrand as SandboxBrand
from brandcrew.connectors.sandbox.world import SandboxCall as SandboxCall
from brandcrew.connectors.sandbox.world import SandboxWorld as SandboxWorld

__all__ = (
    "DraftRejected",
    "FaultKind",
    "FaultPlan",
    "GeneratedPost",
    "PostFeatures",
    "PostForecast",
    "SandboxAccount",
    "SandboxBrand",
    "SandboxCall",
    "SandboxClock",
    "SandboxConnector",
    "SandboxCrisis",
    "SandboxWorld",
)
