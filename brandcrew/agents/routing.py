"""The fast router: sends clear requests straight to the right agent(s) without an LLM call.

Agents are told apart by a small classifier (`brandcrew.agents.intent`) fit when the router is built,
on what the specs say, never on evaluation data: each agent's description, the jobs the description
lists, its `examples:`, and those examples asked about a business by name. Logistic regression over
the request's sentence embedding (MiniLM offline when the `ml` extra is installed) and its words;
its probabilities are the router's confidence. Any agent a YAML file adds is in the fit.

A request naming several jobs ("find what's trending and draft posts about it") is cut into asks at
sentence ends, "then", and commas or "and" followed by a verb or a question word; a piece that asks
nothing ("The recall story is spreading") stays with the ask after it. When two or more asks go to
different agents the plan has one task per agent, in the order they work: measuring agents (step
`analyze`) first, then planning (`plan`), then writing (`write`); the text's order breaks ties. The
tasks run in order, each seeing the answers before it, when a later stage follows an earlier one or a
later part refers back ("...and write posts about it"); otherwise in parallel.

When the best agent does not clearly win, the plan is not confident and the supervisor's model
decides; the plan still carries the router's best guess, for the offline model to follow.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from brandcrew.agents.intent import ACTION_VERBS, PLACEHOLDER, Embed, IntentClassifier, terms
from brandcrew.agents.spec import AgentSpec

__all__ = ("Embed", "FastRouter", "RoutePlan", "RoutedTask", "as_named", "description_clauses", "split_asks")

# --- cutting a request into asks ---

_VERB_ALT = "|".join(
    sorted(
        {*ACTION_VERBS, "come up", "put together", "work out", "lay out", "map out", "go through"}, key=len
    )[::-1]
)
_QUESTION = (
    "what|what's|whats|how|which|who|when|where|why|whose|is|are|was|were|do|does|did|can|could|should|"
    "would|will|has|have|any"
)
_ASK = (
    r"(?:(?:and|then|also|plus|but|now)\s+)*"
    r"(?:(?:please|pls|can you|could you|would you|help me|i need you to|i want you to)\s+)?"
    rf"(?:{_VERB_ALT}|{_QUESTION})\b"
)
_ASK_START = re.compile(rf"^\s*{_ASK}", re.IGNORECASE)
_HARD = re.compile(
    r"(?:[;!?]+|\.(?=\s)|\n)\s*|\s*,?\s*\b(?:and then|after that|and also)\b\s*|,?\s+then\s+", re.IGNORECASE
)
_SOFT = re.compile(rf"(?:,\s*(?:and\s+)?|\s+and\s+|\s+plus\s+)(?={_ASK})", re.IGNORECASE)
_LEAD = re.compile(r"^\s*(?:(?:and|then|also|plus|but|so)\b[\s,]*)+", re.IGNORECASE)
_BACKREF = re.compile(
    r"\b(it|them|those|these|that|this|the results?|based on|accordingly|about it|from that|with that|"
    r"around it|like them|ours|theirs)\b",
    re.IGNORECASE,
)

_STAGES = {"analyze": 0, "classify": 0, "extract": 0, "route": 0, "plan": 1, "write": 2}
"""Which agents work first in a plan, by their step: measure, then decide, then write."""


def split_asks(request: str) -> list[str]:
    """The parts of a request that each ask for something, in order; statements join the next ask."""
    pieces: list[str] = []
    for sentence in _HARD.split(request):
        if not sentence or not sentence.strip(" ,."):
            continue
        for piece in _SOFT.split(sentence):
            piece = _LEAD.sub("", piece).strip(" ,.;")
            if piece:
                pieces.append(piece)
    asks: list[str] = []
    pending = ""
    for piece in pieces:
        if _ASK_START.match(piece):
            asks.append(f"{pending}, {piece}" if pending else piece)
            pending = ""
        else:
            pending = f"{pending}, {piece}" if pending else piece
    if pending:
        if asks:
            asks[-1] = f"{asks[-1]}, {pending}"
        else:
            asks.append(pending)
    return asks


_CLAUSE = re.compile(r"[:;,]\s+(?:and\s+)?")


def description_clauses(description: str) -> list[str]:
    """The jobs a description lists ("Reports performance: account metrics, best times to post, ..."),
    each a short example of its own; they help most an agent with few `examples:`."""
    parts = [p.strip(" .()") for p in _CLAUSE.split(description)]
    return [p for p in parts if len(p.split()) >= 2] if len(parts) > 1 else []


_OUR = re.compile(r"\b[Oo]ur\b")


def as_named(example: str) -> str | None:
    """The example as a marketer asks it about a business by name ("How did our posts do" -> "How
    did Acme's posts do"), or None when it says no "our". Requests name the brand they are about as
    often as a rival's, while examples name mostly rivals: without these every name would mean a rival."""
    return _OUR.sub(f"{PLACEHOLDER}'s", example, count=1) if _OUR.search(example) else None


# --- plans ---


@dataclass(frozen=True)
class RoutedTask:
    """One agent's part of a request."""

    agent: str
    task: str
    score: float
    """The router's probability that this part is for this agent."""


@dataclass
class RoutePlan:
    """What the fast router decided."""

    tasks: list[RoutedTask] = field(default_factory=list)
    """The agents' tasks in working order; when not confident, the router's best guess."""
    confident: bool = False
    sequential: bool = False
    """Later tasks depend on earlier answers (run in order, passing answers on)."""
    scores: dict[str, float] = field(default_factory=dict)
    """Each agent's probability for the whole request."""

    @property
    def agents(self) -> list[str]:
        """The agents in order."""
        return [t.agent for t in self.tasks]


class FastRouter:
    """Routes with a classifier fit on the agents' examples; probabilities give its confidence."""

    def __init__(
        self,
        specs: Sequence[AgentSpec],
        *,
        embed: Embed | None = None,
        min_confidence: float = 0.6,
        min_part_confidence: float = 0.5,
        min_part_probability: float = 0.35,
        min_keyword_score: float = 0.0,
        l2: float = 1e-4,
        steps: int = 200,
    ) -> None:
        """
        Args:
            specs: the agents (the supervisor itself is skipped).
            embed: texts -> unit embeddings; None routes by words alone.
            min_confidence: probability the best agent needs for a confident single-agent plan.
            min_part_confidence: probability every part of a several-agent plan needs for it to be
                confident.
            min_part_probability: below this, a part is too unclear to add an agent of its own; it
                goes along with the part before it (a part of one content word or none needs 0.8).
            min_keyword_score: keyword hits (`keywords:` of the spec) each chosen agent also needs for
                a confident plan; 0 needs none, a huge value always defers to the supervisor's model.
            l2, steps: the classifier's penalty and training steps.
        """
        self.embed = embed
        self.min_confidence = min_confidence
        self.min_part_confidence = min_part_confidence
        self.min_part_probability = min_part_probability
        self.min_keyword_score = min_keyword_score
        specs = [s for s in specs if s.name != "supervisor"]
        self.agents = [s.name for s in specs]
        self._stage = {s.name: _STAGES.get(s.step, 1) for s in specs}
        self._keywords = {s.name: {terms(k)[0] for k in s.keywords if terms(k)} for s in specs}
        texts: list[str] = []
        targets: list[int] = []
        for index, spec in enumerate(specs):
            named = [n for n in (as_named(e) for e in spec.examples) if n]
            for text in [spec.description, *description_clauses(spec.description), *spec.examples, *named]:
                texts.append(text)
                targets.append(index)
        self.classifier = (
            IntentClassifier(self.agents, texts, targets, embed=embed, l2=l2, steps=steps) if specs else None
        )

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Each text's probability per agent (columns in `self.agents` order)."""
        if self.classifier is None:
            return np.zeros((len(texts), 0), dtype=np.float32)
        return self.classifier.predict_proba(list(texts))

    def score(self, text: str) -> dict[str, float]:
        """Each agent's probability for a text."""
        row = self.probabilities([text])
        return {a: float(p) for a, p in zip(self.agents, row[0], strict=True)} if row.size else {}

    def keyword_score(self, agent: str, text: str) -> int:
        """How many of the agent's keywords the text uses."""
        return sum(1 for t in terms(text) if t in self._keywords.get(agent, ()))

    def route(self, request: str) -> RoutePlan:
        """Route a request: one agent, several in working order, or a best guess that is not confident."""
        if self.classifier is None or not request.strip():
            return RoutePlan()
        asks = split_asks(request)
        probs = self.probabilities([request, *asks] if len(asks) >= 2 else [request])
        scores = {a: round(float(p), 4) for a, p in zip(self.agents, probs[0], strict=True)}
        if len(asks) >= 2:
            plan = self._several(request, asks, probs[1:], scores)
            if plan is not None:
                return plan
        best = int(np.argmax(probs[0]))
        agent, p = self.agents[best], float(probs[0][best])
        confident = p >= self.min_confidence and self._has_keywords([(agent, request)])
        return RoutePlan(
            tasks=[RoutedTask(agent=agent, task=request.strip(), score=p)], confident=confident, scores=scores
        )

    def _several(
        self, request: str, asks: list[str], probs: np.ndarray, scores: dict[str, float]
    ) -> RoutePlan | None:
        """A plan with one task per agent when the asks clearly go to different agents."""
        parts: list[tuple[str, str, float, int]] = []  # agent, text, probability, position
        pending = ""
        for position, (ask, row) in enumerate(zip(asks, probs, strict=True)):
            best = int(np.argmax(row))
            agent, p = self.agents[best], float(row[best])
            # A part too unclear to add an agent goes with a neighbour; a part of one word or none
            # ("what do we say?") has to be very clear on its own.
            floor = self.min_part_probability if len(terms(ask)) >= 2 else max(self.min_part_probability, 0.8)
            if p < floor:
                if parts:
                    agent, text, q, at = parts[-1]
                    parts[-1] = (agent, f"{text}; {ask}", q, at)
                else:
                    pending = f"{pending}; {ask}" if pending else ask
                continue
            text, pending = (f"{pending}; {ask}" if pending else ask), ""
            same = next((i for i, part in enumerate(parts) if part[0] == agent), None)
            if same is None:
                parts.append((agent, text, p, position))
            else:
                prev = parts[same]
                parts[same] = (agent, f"{prev[1]}; {text}", min(prev[2], p), prev[3])
        if len(parts) < 2:
            return None
        parts.sort(key=lambda part: (self._stage.get(part[0], 1), part[3]))
        confident = min(p for _, _, p, _ in parts) >= self.min_part_confidence and self._has_keywords(
            [(a, t) for a, t, _, _ in parts]
        )
        sequential = any(_BACKREF.search(ask) for ask in asks[1:]) or any(
            self._stage.get(a, 1) < self._stage.get(b, 1) for (a, *_), (b, *_) in itertools.pairwise(parts)
        )
        tasks = [
            RoutedTask(agent=agent, task=f"{text} (request: {request.strip()})", score=p)
            for agent, text, p, _ in parts
        ]
        return RoutePlan(tasks=tasks, confident=confident, sequential=sequential, scores=scores)

    def _has_keywords(self, chosen: list[tuple[str, str]]) -> bool:
        return all(self.keyword_score(agent, text) >= self.min_keyword_score for agent, text in chosen)
