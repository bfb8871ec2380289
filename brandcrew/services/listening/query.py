"""Listening queries: a small boolean query language and the filter that matches mentions.

Grammar (case-insensitive terms, upper-case operators; precedence NOT > AND > OR)::

    query   := or
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*          # juxtaposition is AND
    unary   := ("NOT" | "-") unary | primary
    primary := TERM | '"' phrase '"' | "(" query ")"

A TERM is a word (`nike`), a hashtag (`#justdoit`), a handle (`@nike`) or a prefix (`sneak*`). A bare
word also matches its hashtag and handle forms (`nike` matches `#nike`); `#nike` matches only the
hashtag. A quoted phrase matches those words in a row. Malformed queries raise `QuerySyntaxError`
with the 0-based position of the problem and a caret under it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from brandcrew.errors import UserError

__all__ = [
    "And",
    "Not",
    "Or",
    "Phrase",
    "QueryFilter",
    "QueryNode",
    "QuerySyntaxError",
    "Term",
    "parse_query",
    "tokenize_text",
]

SentimentLabel = Literal["negative", "neutral", "positive"]


class QuerySyntaxError(UserError):
    """A listening query that does not parse; `position` is the 0-based offset of the problem."""

    def __init__(self, message: str, *, query: str, position: int) -> None:
        self.query = query
        self.position = position
        self.reason = message
        caret = " " * position + "^"
        super().__init__(f"{message} at position {position}\n  {query}\n  {caret}")


# -- matching documents ------------------------------------------------------------------------------

_WORD = re.compile(r"[#@]?\w+(?:['’]\w+)*", re.UNICODE)


def tokenize_text(text: str) -> list[str]:
    """Lower-cased word tokens of a text, hashtags and handles keeping their `#`/`@`; `acme's` -> `acme`."""
    out = []
    for m in _WORD.finditer(text):
        token = m.group(0).casefold().replace("’", "'")
        out.append(token[:-2] if token.endswith("'s") else token)
    return out


@dataclass(frozen=True)
class _Doc:
    tokens: tuple[str, ...]
    """Tokens with `#`/`@` stripped, in order (for phrases)."""
    raw: frozenset[str]
    """Tokens as written (`#nike`, `@nike`, `nike`)."""
    bare: frozenset[str]

    @classmethod
    def of(cls, text: str) -> _Doc:
        raw = tokenize_text(text)
        bare = tuple(t.lstrip("#@") for t in raw)
        return cls(tokens=bare, raw=frozenset(raw), bare=frozenset(bare))


# -- syntax tree -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A word, hashtag, handle or `prefix*`."""

    text: str

    def matches(self, doc: _Doc) -> bool:
        """True when the document contains the term."""
        t = self.text
        if t.endswith("*"):
            stem = t[:-1]
            pool = doc.raw if stem[:1] in ("#", "@") else doc.bare
            return any(tok.startswith(stem) for tok in pool)
        if t[:1] in ("#", "@"):
            return t in doc.raw
        return t in doc.bare

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Phrase:
    """Words that must appear in a row."""

    words: tuple[str, ...]

    def matches(self, doc: _Doc) -> bool:
        """True when the words appear consecutively."""
        n = len(self.words)
        if n == 0:
            return True
        if any(w not in doc.bare for w in self.words):
            return False
        toks = doc.tokens
        first = self.words[0]
        return any(toks[i] == first and toks[i : i + n] == self.words for i in range(len(toks) - n + 1))

    def __str__(self) -> str:
        return '"' + " ".join(self.words) + '"'


@dataclass(frozen=True)
class Not:
    """Negation."""

    operand: QueryNode

    def matches(self, doc: _Doc) -> bool:
        """True when the operand does not match."""
        return not self.operand.matches(doc)

    def __str__(self) -> str:
        return f"NOT {self.operand}"


@dataclass(frozen=True)
class And:
    """All operands match."""

    operands: tuple[QueryNode, ...]

    def matches(self, doc: _Doc) -> bool:
        """True when every operand matches."""
        return all(o.matches(doc) for o in self.operands)

    def __str__(self) -> str:
        return "(" + " AND ".join(str(o) for o in self.operands) + ")"


@dataclass(frozen=True)
class Or:
    """Any operand matches."""

    operands: tuple[QueryNode, ...]

    def matches(self, doc: _Doc) -> bool:
        """True when some operand matches."""
        return any(o.matches(doc) for o in self.operands)

    def __str__(self) -> str:
        return "(" + " OR ".join(str(o) for o in self.operands) + ")"


QueryNode = Term | Phrase | Not | And | Or


# -- parsing -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tok:
    kind: Literal["TERM", "PHRASE", "AND", "OR", "NOT", "LPAREN", "RPAREN", "END"]
    value: str
    pos: int


_OPERATORS = {"AND": "AND", "OR": "OR", "NOT": "NOT"}
_TERM_CHARS = re.compile(r"[^\s()\"]+")


def _lex(query: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
        elif c == "(":
            toks.append(_Tok("LPAREN", c, i))
            i += 1
        elif c == ")":
            toks.append(_Tok("RPAREN", c, i))
            i += 1
        elif c == '"':
            end = query.find('"', i + 1)
            if end < 0:
                raise QuerySyntaxError("unterminated quoted phrase", query=query, position=i)
            words = tokenize_text(query[i + 1 : end])
            if not words:
                raise QuerySyntaxError("empty quoted phrase", query=query, position=i)
            toks.append(_Tok("PHRASE", " ".join(w.lstrip("#@") for w in words), i))
            i = end + 1
        elif c == "-" and i + 1 < n and not query[i + 1].isspace() and query[i + 1] != ")":
            toks.append(_Tok("NOT", "-", i))
            i += 1
        else:
            m = _TERM_CHARS.match(query, i)
            assert m is not None
            word = m.group(0)
            if word in _OPERATORS:
                toks.append(_Tok(_OPERATORS[word], word, i))  # type: ignore[arg-type]
            elif re.fullmatch(r"[#@]?\w+(?:['’]\w+)*\*?", word) or "*" in word:
                toks.append(_Tok("TERM", _normalise_term(word, query, i), i))
            else:
                # `e-commerce`, `u.s.`: words joined by punctuation match as the phrase of their words.
                words = tokenize_text(word)
                if not words:
                    raise QuerySyntaxError(f"invalid term {word!r}", query=query, position=i)
                toks.append(_Tok("PHRASE", " ".join(w.lstrip("#@") for w in words), i))
            i = m.end()
    toks.append(_Tok("END", "", n))
    return toks


def _normalise_term(word: str, query: str, pos: int) -> str:
    term = word.casefold().replace("’", "'")
    prefix = term[:1] if term[:1] in ("#", "@") else ""
    body = term[len(prefix) :]
    star = body.endswith("*")
    body = body.rstrip("*") if star else body
    if "*" in body:
        raise QuerySyntaxError(
            "'*' is only allowed at the end of a term", query=query, position=pos + word.index("*")
        )
    if not body or not re.fullmatch(r"\w+(?:'\w+)*", body):
        raise QuerySyntaxError(f"invalid term {word!r}", query=query, position=pos)
    return prefix + body + ("*" if star else "")


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.toks = _lex(query)
        self.i = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def error(self, message: str, tok: _Tok) -> QuerySyntaxError:
        return QuerySyntaxError(message, query=self.query, position=tok.pos)

    def parse(self) -> QueryNode:
        if self.peek().kind == "END":
            raise self.error("empty query", self.peek())
        node = self.parse_or()
        tok = self.peek()
        if tok.kind == "RPAREN":
            raise self.error("unbalanced ')'", tok)
        if tok.kind != "END":  # pragma: no cover - parse_or consumes everything else
            raise self.error(f"unexpected {tok.value!r}", tok)
        return node

    def parse_or(self) -> QueryNode:
        operands = [self.parse_and()]
        while self.peek().kind == "OR":
            op = self.take()
            if self.peek().kind in ("END", "RPAREN", "OR", "AND"):
                raise self.error("OR needs a term on its right", op)
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self) -> QueryNode:
        operands = [self.parse_unary()]
        while True:
            tok = self.peek()
            if tok.kind == "AND":
                self.take()
                if self.peek().kind in ("END", "RPAREN", "OR", "AND"):
                    raise self.error("AND needs a term on its right", tok)
                operands.append(self.parse_unary())
            elif tok.kind in ("TERM", "PHRASE", "NOT", "LPAREN"):
                operands.append(self.parse_unary())  # juxtaposition means AND
            else:
                break
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_unary(self) -> QueryNode:
        tok = self.peek()
        if tok.kind == "NOT":
            self.take()
            if self.peek().kind in ("END", "RPAREN", "OR", "AND"):
                raise self.error(f"{tok.value} needs a term on its right", tok)
            return Not(self.parse_unary())
        return self.parse_primary()

    def parse_primary(self) -> QueryNode:
        tok = self.take()
        if tok.kind == "TERM":
            return Term(tok.value)
        if tok.kind == "PHRASE":
            return Phrase(tuple(tok.value.split(" ")))
        if tok.kind == "LPAREN":
            if self.peek().kind == "RPAREN":
                raise self.error("empty parentheses", tok)
            node = self.parse_or()
            close = self.peek()
            if close.kind != "RPAREN":
                raise self.error("unbalanced '(': no matching ')'", tok)
            self.take()
            return node
        if tok.kind == "RPAREN":
            raise self.error("unbalanced ')'", tok)
        if tok.kind in ("AND", "OR"):
            raise self.error(f"{tok.value} needs a term on its left", tok)
        raise self.error("query ends where a term was expected", tok)


@lru_cache(maxsize=1024)
def parse_query(query: str) -> QueryNode:
    """Parse a boolean listening query into a tree; raise `QuerySyntaxError` if malformed."""
    return _Parser(query).parse()


# -- the filter --------------------------------------------------------------------------------------


def _as_node(term: str) -> QueryNode:
    return parse_query(f'"{term}"' if " " in term.strip() and '"' not in term else term)


@dataclass(kw_only=True)
class QueryFilter:
    """A saved listening query: boolean query, keywords, platforms, languages, exclusions, sentiment."""

    query: str = ""
    keywords: Sequence[str] = ()
    """At least one must appear (multi-word keywords are phrases)."""
    platforms: Sequence[str] = ()
    languages: Sequence[str] = ()
    """ISO 639-1 codes; a mention without a language is detected when this is set."""
    excluded_terms: Sequence[str] = ()
    sentiment: Sequence[SentimentLabel] | SentimentLabel | None = None
    detect_language: Callable[[str], str | None] | None = None
    _node: QueryNode | None = field(default=None, init=False, repr=False)
    _keywords: QueryNode | None = field(default=None, init=False, repr=False)
    _excluded: QueryNode | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        """Parse everything up front so a bad query fails when it is saved, not when it runs."""
        self._node = parse_query(self.query) if self.query.strip() else None
        kws = [_as_node(k) for k in self.keywords if k.strip()]
        self._keywords = Or(tuple(kws)) if kws else None
        exc = [_as_node(k) for k in self.excluded_terms if k.strip()]
        self._excluded = Or(tuple(exc)) if exc else None
        self._platforms = frozenset(p.lower() for p in self.platforms)
        self._languages = frozenset(code.lower() for code in self.languages)
        if isinstance(self.sentiment, str):
            self._sentiments: frozenset[str] = frozenset({self.sentiment})
        else:
            self._sentiments = frozenset(self.sentiment or ())

    @property
    def needs_sentiment(self) -> bool:
        """True when `matches` must be given a sentiment label."""
        return bool(self._sentiments)

    def accepts_sentiment(self, label: str | None) -> bool:
        """Whether a mention with this sentiment label passes the sentiment filter."""
        return not self._sentiments or (label is not None and label in self._sentiments)

    def matches_text(self, text: str) -> bool:
        """Text-only part of the filter: query, keywords and exclusions."""
        doc = _Doc.of(text)
        if self._node is not None and not self._node.matches(doc):
            return False
        if self._keywords is not None and not self._keywords.matches(doc):
            return False
        return not (self._excluded is not None and self._excluded.matches(doc))

    def matches(
        self,
        text: str,
        *,
        platform: str | None = None,
        language: str | None = None,
        sentiment: str | None = None,
    ) -> bool:
        """Whether a mention passes every part of the filter (cheap checks first)."""
        return self.prefilter(text, platform=platform, language=language) and self.accepts_sentiment(
            sentiment
        )

    def prefilter(self, text: str, *, platform: str | None = None, language: str | None = None) -> bool:
        """Every part of the filter but sentiment: what decides whether a mention is worth scoring."""
        if self._platforms and (platform is None or platform.lower() not in self._platforms):
            return False
        if not self.matches_text(text):
            return False
        if self._languages:
            lang = language
            if lang is None and self.detect_language is not None:
                lang = self.detect_language(text)
            if lang is None or lang.lower().split("-")[0] not in self._languages:
                return False
        return True

    def filter(self, texts: Iterable[str]) -> list[str]:
        """The texts that match the text-only part of the filter."""
        return [t for t in texts if self.matches_text(t)]
