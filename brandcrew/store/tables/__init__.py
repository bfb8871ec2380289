"""Every table, imported so that SQLModel's metadata (and Alembic) sees them all."""

from brandcrew.store.tables._base import new_id, utcnow
from brandcrew.store.tables.llm import BudgetCounter, BudgetLimit, BudgetReservation, LlmCacheEntry, LlmCall

__all__ = (
    "BudgetCounter",
    "BudgetLimit",
    "BudgetReservation",
    "LlmCacheEntry",
    "LlmCall",
    "new_id",
    "utcnow",
)
