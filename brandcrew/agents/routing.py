"""The fast router: sends clear requests straight to the right agent(s) without an LLM call.

Two signals, both from the agent specs (never from evaluation data):
- meaning: cosine similarity of the request to each agent's example requests and description,
  with sentence embeddings (MiniLM offline when the `ml` extra is installed);
- words: the agent's keywords (strong) and description words (weak), lightly stemmed.
A request naming several jobs ("find what's trending and draft posts about it") is split into parts
routed on their own; parts that refer back to earlier ones run in order, the rest in parallel. When
the best agent does not clearly win, the router says so and the supervisor's model decides.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from brandcrew.agents.spec import AgentSpec

Embed = Callable[[list[str]], "np.ndarray"]
"""Texts -> L2-normalised embeddings, one row per text."""

_WORD = re.compile(r"[a-z][a-z0-9']+")
_VERBS = (
    r"write|draft|make|create|plan|tell|show|give|find|check|compare|reply|respond|suggest|build|come up|"
    r"put together|prepare|summari[sz]e|analy[sz]e|see|figure|list|get|pull|what|how|which|who|should|"
    r"recommend|propose|spot|flag|measure|track|turn|adapt"
)
_SPLIT = re.compile(
    rf"\s*(?:;|\?\s+|\.\s+|\band then\b|\bthen\b|\band also\b|\balso\b|\bafter that\b|\bplus\b|"
    rf"\band\b(?=\s+(?:{_VERBS})\b))\s*",
    re.IGNORECASE,
)
_BACKREF = re.compile(
    r"\b(it|them|those|these|that|this|the results?|based on|accordingly|about it|from that|with that)\b",
    re.I,
)
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "for",
        "in",
        "on",
        "at",
        "by",
        "with",
        "from",
        "our",
        "my",
        "we",
        "us",
        "you",
        "your",
        "me",
        "i",
        "is",
        "are",
        "be",
        "it",
        "this",
        "that",
        "these",
        "those",
        "what",
        "how",
        "can",
        "could",
        "should",
        "would",
        "will",
        "do",
        "does",
        "did",
        "please",
        "about",
        "any",
        "some",
        "all",
        "more",
        "most",
        "just",
        "so",
        "get",
        "give",
        "let",
        "lets",
        "let's",
        "need",
        "want",
        "like",
        "make",
        "help",
        "up",
        "out",
        "into",
        "over",
        "new",
        "next",
        "last",
    ]
)


def _stem(word: str) -> str:
    for suffix in ("ing", "ies", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def _terms(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP]


@dataclass(frozen=True)
class RoutedTask:
    """One agent's part of a request."""

    agent: str
    task: str
    score: float


@dataclass
class RoutePlan:
    """What the fast router decided."""

    tasks: list[RoutedTask] = field(default_factory=list)
    confident: bool = False
    sequential: bool = False
    """Later tasks depend on earlier answers (run in order, passing answers on)."""
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def agents(self) -> list[str]:
        """The agents in order."""
        return [t.agent for t in self.tasks]


class FastRouter:
    """Routes by meaning (embeddings of the agents' examples) and words (their keywords)."""

    def __init__(
        self,
        specs: Sequence[AgentSpec],
        *,
        embed: Embed | None = None,
        keyword_weight: float = 2.0,
        description_weight: float = 0.5,
        min_keyword_score: float = 2.0,
        keyword_margin: float = 1.5,
        min_similarity: float = 0.3,
        similarity_margin: float = 0.04,
        word_bonus: float = 0.02,
    ) -> None:
        self.embed = embed
        self.keyword_weight = keyword_weight
        self.description_weight = description_weight
        self.min_keyword_score = min_keyword_score
        self.keyword_margin = keyword_margin
        self.min_similarity = min_similarity
        self.similarity_margin = similarity_margin
        self.word_bonus = word_bonus
        self._keywords: dict[str, set[str]] = {}
        self._description: dict[str, set[str]] = {}
        texts: list[str] = []
        owners: list[str] = []
        for spec in specs:
            if spec.name == "supervisor":
                continue
            self._keywords[spec.name] = {_stem(k.lower()) for k in spec.keywords}
            self._description[spec.name] = set(_terms(spec.description)) - self._keywords[spec.name]
            for text in [spec.description, *spec.examples]:
                texts.append(text)
                owners.append(spec.name)
        self._owners = owners
        self._matrix = embed(texts) if embed is not None and texts else None

    def word_scores(self, text: str) -> dict[str, float]:
        """Each agent's keyword/description score for a text."""
        terms = _terms(text)
        return {
            agent: sum(
                self.keyword_weight
                if t in kws
                else self.description_weight
                if t in self._description[agent]
                else 0.0
                for t in terms
            )
            for agent, kws in self._keywords.items()
        }

    def similarity_scores(self, text: str) -> dict[str, float]:
        """Each agent's similarity: mean of its two closest examples (or description) to the text."""
        if self._matrix is None or self.embed is None:
            return {}
        sims = self._matrix @ self.embed([text])[0]
        per_agent: dict[str, list[float]] = {}
        for owner, sim in zip(self._owners, sims, strict=True):
            per_agent.setdefault(owner, []).append(float(sim))
        return {a: float(np.mean(sorted(v, reverse=True)[:2])) for a, v in per_agent.items()}

    def score(self, text: str) -> dict[str, float]:
        """The combined score the router ranks agents by."""
        words = self.word_scores(text)
        sims = self.similarity_scores(text)
        if not sims:
            return words
        return {a: sims[a] + self.word_bonus * min(words[a], 8.0) for a in sims}

    def _best(self, text: str) -> tuple[RoutedTask | None, dict[str, float]]:
        scores = self.score(text)
        ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        (top, top_score), (_, second) = ranked[0], ranked[1]
        if self._matrix is not None:
            confident = top_score >= self.min_similarity and top_score - second >= self.similarity_margin
        else:
            confident = top_score >= self.min_keyword_score and top_score >= self.keyword_margin * max(
                second, 0.01
            )
        return (RoutedTask(agent=top, task=text.strip(), score=top_score) if confident else None), scores

    def route(self, request: str) -> RoutePlan:
        """Route a request: one confident agent, several parts, or not confident."""
        parts = [p.strip(" ,.") for p in _SPLIT.split(request) if p and len(_terms(p)) >= 2]
        whole, scores = self._best(request)
        if len(parts) >= 2:
            routed = [self._best(p)[0] for p in parts]
            if all(r is not None for r in routed):
                tasks: list[RoutedTask] = []
                for r in routed:
                    assert r is not None
                    if tasks and tasks[-1].agent == r.agent:  # same agent twice in a row: one task
                        tasks[-1] = RoutedTask(
                            agent=r.agent, task=f"{tasks[-1].task}; {r.task}", score=r.score
                        )
                    else:
                        tasks.append(r)
                if len({t.agent for t in tasks}) >= 2:
                    sequential = any(_BACKREF.search(p) for p in parts[1:])
                    full = [
                        RoutedTask(
                            agent=t.agent, task=f"{t.task} (request: {request.strip()})", score=t.score
                        )
                        for t in tasks
                    ]
                    return RoutePlan(tasks=full, confident=True, sequential=sequential, scores=scores)
        if whole is not None:
            return RoutePlan(tasks=[whole], confident=True, scores=scores)
        return RoutePlan(confident=False, scores=scores)
