"""Token counting offline, with the tiktoken encodings that LiteLLM ships in its wheel."""

from __future__ import annotations

import importlib.util
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

# Per-message framing overhead of the chat format (OpenAI's published counting recipe).
_TOKENS_PER_MESSAGE = 3
_TOKENS_PER_REPLY = 3


def _point_tiktoken_at_litellm() -> None:
    # tiktoken downloads encodings unless TIKTOKEN_CACHE_DIR holds them; LiteLLM's wheel does.
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        return
    spec = importlib.util.find_spec("litellm")
    if spec and spec.origin:
        cache = Path(spec.origin).parent / "litellm_core_utils" / "tokenizers"
        if cache.is_dir():
            os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)


@lru_cache(maxsize=4)
def _encoding(name: str) -> Any:
    _point_tiktoken_at_litellm()
    import tiktoken

    return tiktoken.get_encoding(name)


_CACHED_TEXT_CHARS = 8_000
# One compact encoder for every call: `json.dumps` with arguments builds a new one each time.
_COMPACT = json.JSONEncoder(separators=(",", ":"))


@lru_cache(maxsize=1024)
def _cached_length(encoding: str, text: str) -> int:
    return len(_encoding(encoding).encode(text, disallowed_special=()))


def _length(encoding: str, text: str) -> int:
    """Tokens of `text`; short texts (system prompts, tool schemas, earlier turns) are counted once."""
    if len(text) <= _CACHED_TEXT_CHARS:
        return _cached_length(encoding, text)
    return len(_encoding(encoding).encode(text, disallowed_special=()))


def encoding_name_for(model: str) -> str:
    """The tiktoken encoding used to estimate `model`'s tokens (exact for OpenAI, close for others)."""
    bare = model.split("/")[-1]
    if bare.startswith(("gpt-3.5", "gpt-4-", "gpt-4", "text-embedding")) and not bare.startswith(
        ("gpt-4o", "gpt-4.1", "gpt-4.5")
    ):
        return "cl100k_base"
    return "o200k_base"


def count_text_tokens(text: str, *, model: str = "gpt-4o") -> int:
    """Tokens in a plain string."""
    if not text:
        return 0
    return len(_encoding(encoding_name_for(model)).encode(text, disallowed_special=()))


def count_message_tokens(
    messages: list[dict[str, Any]],
    *,
    model: str = "gpt-4o",
    tools: list[dict[str, Any]] | None = None,
) -> int:
    """Prompt tokens of chat messages plus tool schemas, as the provider will roughly bill them."""
    encoding = encoding_name_for(model)
    total = _TOKENS_PER_REPLY
    for message in messages:
        total += _TOKENS_PER_MESSAGE
        for _key, value in message.items():
            if value is None:
                continue
            text = value if isinstance(value, str) else _COMPACT.encode(value)
            total += _length(encoding, text)
    if tools:
        total += _length(encoding, _COMPACT.encode(tools))
    return total
