"""Token usage of one model call or many, split by the kinds that are priced differently."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass
class LlmUsage:
    """Tokens of one or more calls.

    `input_tokens` is the whole prompt, cached parts included (as OpenAI reports it and as
    LiteLLM normalises Anthropic's); the uncached part is derived, never stored, so it can
    never go negative by double subtraction. `output_tokens` includes reasoning tokens.
    """

    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    requests: int = 0

    @property
    def uncached_input_tokens(self) -> int:
        """Prompt tokens billed at the plain input price."""
        return max(0, self.input_tokens - self.cache_read_tokens - self.cache_write_tokens)

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def __add__(self, other: LlmUsage) -> LlmUsage:
        return LlmUsage(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def incr(self, other: LlmUsage) -> None:
        """Add another usage into this one in place."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
