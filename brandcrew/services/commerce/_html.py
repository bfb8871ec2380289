"""Product descriptions from HTML to plain text, without trusting the markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section",
     "article", "blockquote", "hr", "header", "footer", "dd", "dt"}
)  # fmt: skip
_DROP = frozenset({"script", "style", "template", "noscript", "iframe", "object", "svg", "head", "title"})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_LINES = re.compile(r"\n\s*\n\s*(\n\s*)+")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP:
            self._dropping += 1
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP:
            self._dropping = max(0, self._dropping - 1)
        elif tag in _BLOCK and tag != "li":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._dropping:
            self.parts.append(data)


def html_to_text(html: str | None, *, max_length: int = 20_000) -> str:
    """Plain text of an HTML fragment: tags removed, script/style content dropped, entities decoded,
    block elements as line breaks, whitespace collapsed."""
    if not html:
        return ""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts).replace("\x00", "")
    # Characters that would smuggle markup back in once decoded (e.g. `&lt;script&gt;`) stay as text;
    # the result is never rendered as HTML by brandcrew, and models read it marked as untrusted.
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    joined = _LINES.sub("\n\n", "\n".join(lines)).strip()
    return joined[:max_length]
