"""The port every model backend implements: LiteLLM providers, the offline model, test models."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from brandcrew.llm.messages import ModelRequest, ModelResponse, ResponseChunk


@runtime_checkable
class ModelBackend(Protocol):
    """Answers chat requests for the models of one provider."""

    provider: str

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Answer a request in full."""
        ...

    def stream(self, request: ModelRequest) -> AsyncIterator[ResponseChunk]:
        """Answer a request as chunks; the last chunk carries usage."""
        ...
