"""The fast router: sends clear requests straight to the right agent(s) without an LLM call.

Each agent is scored on a request by its keywords (strong) and the words of its description (weak),
with light stemming. A request that names several jobs ("find what's trending and draft posts about
it") is split into parts routed on their own; parts that refer back to earlier ones run in order,
the others in parallel. When the scores are not clear, the router says so and the supervisor's
model decides.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from brandcrew.agents.spec import AgentSpec

_WORD = re.compile(r"[a-z][a-z0-9']+")
_SPLIT = re.compile(
    r"\s*(?:;|\band then\b|\bthen\b|\band also\b|\balso\b|\bafter that\b|\bplus\b|\band\b(?=\s+(?:"
    r"write|draft|make|create|plan|tell|show|give|find|check|compare|reply|respond|suggest|build|"
    r"come up|put together|prepare|summari[sz]e|analy[sz]e|see|figure|list|get|pull|draft)))\s*",
    re.IGNORECASE,
)
_BACKREF = re.compile(r"\b(it|them|those|these|that|this|the results?|based on|accordingly|about it)\b", re.I)
_STOP = frozenset(
    "a an the and or of to for in on at by with from our my we us you your me i is are be it this that these those "
    "what how can could should would will do does did please about any some all more most just so get give "
    "let lets let's need want like make help up out into over new next last".split()
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
    """Keyword and description scoring of the registered agents."""

    def __init__(
        self, specs: Sequence[AgentSpec], *, min_score: float = 2.0, min_margin: float = 1.5,
        keyword_weight: float = 2.0, description_weight: float = 0.5,
    ) -> None:
        self.min_score = min_score
        self.min_margin = min_margin
        self._keywords: dict[str, set[str]] = {}
        self._description: dict[str, set[str]] = {}
        for spec in specs:
            if spec.name == "supervisor":
                continue
            self._keywords[spec.name] = {_stem(k.lower()) for k in spec.keywords}
            self._description[spec.name] = set(_terms(spec.description)) - self._keywords[spec.name]
        self.keyword_weight = keyword_weight
        self.description_weight = description_weight

    def score(self, text: str) -> dict[str, float]:
        """Each agent's score for a text."""
        terms = _terms(text)
        scores = {}
        for agent, keywords in self._keywords.items():
            described = self._description[agent]
            scores[agent] = sum(
                self.keyword_weight if t in keywords else self.description_weight if t in described else 0.0
                for t in terms
            )
        return scores

    def _best(self, text: str) -> tuple[RoutedTask | None, dict[str, float]]:
        scores = self.score(text)
        ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        (top, top_score), (_, second) = ranked[0], ranked[1]
        if top_score >= self.min_score and top_score >= self.min_margin * max(second, 0.01):
            return RoutedTask(agent=top, task=text.strip(), score=top_score), scores
        return None, scores

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
                        tasks[-1] = RoutedTask(agent=r.agent, task=f"{tasks[-1].task}; {r.task}", score=r.score)
                    else:
                        tasks.append(r)
                if len({t.agent for t in tasks}) >= 2:
                    sequential = any(_BACKREF.search(p) for p in parts[1:])
                    return RoutePlan(tasks=tasks, confident=True, sequential=sequential, scores=scores)
        if whole is not None:
            return RoutePlan(tasks=[whole], confident=True, scores=scores)
        return RoutePlan(confident=False, scores=scores)
