"""The fast router: sends clear requests straight to the right agent(s) without an LLM call.

Agents are told apart by a small classifier (`brandcrew.agents.intent`) fit when the router is built,
on what the specs say, never on held-out evaluation data: each agent's description, the jobs the
description lists, its `examples:` (for the built-in agents, these include the single-agent rows of
two routing development sets and 1,280 requests written as training data from the label rules, see
`evals/routing/README.md`), and those examples asked about a
business by name. Logistic regression over the request's sentence embedding (MiniLM and
all-mpnet-base-v2 offline with the `ml` extra, see `intent.router_embed`) and its words; its
probabilities are the router's confidence. Any
agent a YAML file adds is in the fit.

A request naming several jobs ("find what's trending and draft posts about it", "last month's numbers
and a plan for next month", "how did we do? what should change?") is cut into asks by a search, not by
a fixed list of verbs. Every place where one ask may end is a candidate cut: sentence ends, ";", new
lines and list markers, "then", "also", "plus", "after that", "so we can", commas and "and". Greetings
and thanks before the first ask or after the last ("Hi! Could you please help: ...") are dropped. A
piece that asks nothing ("The recall story is spreading", "I run social for a gym") stays with the ask
after it, and a colon before
material ("turn this into a thread: ...") or a quote is never cut. Each way to cut the request into two
or three parts is scored by the classifier: it counts only when every part is clear enough on its own
and neighbouring parts go to different agents, and the one with the most evidence wins if it has more
than the request read as one job (a one-job request whose parts each read clearly stays one). Parts are judged
by a second classifier that also learns each spec's `ask_examples:` (asks as they read inside a longer
message: "whip up three captions to match"); the whole request by the first alone. A part is
held to more when it is less likely to be an ask: an object after "and" ("the reach and impressions",
"captions and hashtags") most of all; such a part is judged with the verb it shares ("draft a statement
and replies to the comments" asks to draft replies). One job whose parts all go to one agent stays one
task.

When two or more asks go to different agents the plan has one task per agent, in the order they work:
measuring agents (step `analyze`) first, then planning (`plan`), then writing (`write`); the text's
order breaks ties. The tasks run in order, each seeing the answers before it, when a later stage
follows an earlier one or a later part refers back ("...and write posts about it"); otherwise in
parallel.

When the best agent does not clearly win, the plan is not confident and the supervisor's model
decides; the plan still carries the router's best guess, for the offline model to follow.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from brandcrew.agents.intent import (
    ACTION_VERBS,
    PLACEHOLDER,
    QUOTED,
    Embed,
    IntentClassifier,
    mask_names,
    terms,
)
from brandcrew.agents.spec import AgentSpec

__all__ = (
    "Cut",
    "Embed",
    "FastRouter",
    "RoutePlan",
    "RoutedTask",
    "as_named",
    "candidate_cuts",
    "description_clauses",
    "is_filler",
    "is_statement",
    "split_asks",
    "training_texts",
    "without_filler",
)

# --- cutting a request into asks ---

_VERB_ALT = "|".join(
    sorted(
        {*ACTION_VERBS, "come up", "put together", "work out", "lay out", "map out", "go through"}, key=len
    )[::-1]
)
_QUESTION = (
    "what|what's|whats|how|which|who|when|where|why|whose|is|are|was|were|do|does|did|can|could|should|"
    "would|will|has|have|any|whether|if"
)
_ASK_START = re.compile(
    r"^\s*(?:(?:please|pls|can you|could you|would you|help me|i need you to|i want you to)\s+)?"
    rf"(?:{_VERB_ALT}|{_QUESTION})\b",
    re.IGNORECASE,
)
# Where one ask may end and the next begin: sentence ends, ";", ":", new lines and list markers,
# commas, and "and", "plus", "also", "then", "after that", "as well as", "so we can" ...
_CUT = re.compile(
    r"(?:[.!?]+(?=\s|$)|[;\n]|:(?=\s))[\s\-•*]*(?:\d+[).]\s*)?"
    r"|\s+\d+[).]\s+"
    r"|\s*,\s*(?:(?:and|then|also|plus|but|after that|as well as)\s+)*"
    r"|\s+(?:and then|and also|as well as|after that|along with|so (?:that )?(?:we|i|you) (?:can|could)|and|plus|"
    r"also|then|\+)\s+",
    re.IGNORECASE,
)
_HARD_CUT = re.compile(r"[.!?;\n\d+]|\b(?:then|also|plus|after|as well|along|so)\b", re.IGNORECASE)
_LEAD = re.compile(
    r"^(?:[\s,;:\-•*+]|\d+[).]|(?:and|then|also|plus|but|so|first|firstly|next|finally|after that|now)\b)*",
    re.IGNORECASE,
)
# Words that open a noun phrase ("..., and a plan for next month"); after "and" or a comma, anything
# else that asks nothing is most likely one more object of the same job ("the reach and impressions").
_DETERMINER = re.compile(
    r"^(?:a|an|the|some|any|our|my|their|your|his|her|its|this|that|these|those|one|two|three|four|five|"
    r"six|seven|eight|nine|ten|few|several|each|every|all|both|last|next|first|\d+\w*|[\w&-]+(?:'s|’s|s'))\b",
    re.IGNORECASE,
)
# A statement says what happened ("The recall story is spreading", "our growth stalled"): a finite verb
# within its first words. A short lead-in ("Among the rival pet stores") asks nothing either.
_CONTRACTED = re.compile(
    r"[\w&-]+(?:'re|’re|'ve|’ve)|(?:it|there|that|here|everyone|everybody|someone|somebody|nobody|he|she)(?:'s|’s)",
    re.IGNORECASE,
)
_FINITE_VERBS = frozenset({
    "is", "are", "was", "were", "has", "have", "had", "went", "got", "left", "said", "sent", "made", "took",
    "came", "ran", "saw", "wrote", "told", "lost", "won", "gave", "found", "broke", "spent", "seem", "seems",
    "seemed", "keep", "keeps", "kept", "just",
})  # fmt: skip
_NOT_PAST = frozenset({"based", "related", "need", "feed", "speed", "seed", "red", "bed", "shed"})
_SUBORDINATE = frozenset({
    "that", "which", "who", "we", "i", "you", "they", "he", "she", "it", "people", "once", "when", "if",
    "because", "after", "before", "until", "while", "since", "so", "as", "where", "explaining", "saying",
})  # fmt: skip
_DETERMINERS = frozenset(
    {"a", "an", "the", "our", "my", "your", "their", "this", "these", "those", "some", "any"}
)
# A subject and a verb in the present say what is ("I run social for a gym", "we sell candles online"),
# unless the verb wants, wonders or asks ("we need a plan", "I wonder if ...").
_SUBJECTS = frozenset({"i", "we", "they"})
_ASKING_VERBS = frozenset({
    "need", "needs", "want", "wanna", "would", "should", "could", "can", "will", "must", "might", "may",
    "have", "gotta", "wonder", "think", "guess", "reckon", "feel", "hope", "wish", "like", "love", "do",
    "don't", "dont", "also", "still", "really", "just", "now",
})  # fmt: skip
# Pieces that only greet or thank ("Hi!", "Hey team,", "Thanks so much!") ask nothing.
_PLEASANTRIES = frozenset({
    "hi", "hey", "hello", "hiya", "yo", "morning", "afternoon", "evening", "team", "folks", "guys", "everyone",
    "there", "thanks", "thank", "thx", "cheers", "ta", "ok", "okay", "sorry", "pls", "plz", "quick", "question",
    "favour", "favor", "much", "advance", "lot", "bunch", "again", "good", "great",
})  # fmt: skip
_POLITE = frozenset({
    "please", "could", "can", "would", "you", "help", "me", "us", "a", "so", "very", "in", "for", "all", "of",
    "i", "need", "your", "some", "with", "something", "quick",
})  # fmt: skip
_LEAD_IN = re.compile(
    r"^(?:among|amongst|for|in|on|at|with|after|before|since|during|from|by|about|regarding|given|as for|"
    r"unlike|compared to|versus|vs)\b",
    re.IGNORECASE,
)
_BACKREF = re.compile(
    r"\b(it|them|those|these|that|this|the results?|based on|accordingly|about it|from that|with that|"
    r"around it|like them|ours|theirs)\b",
    re.IGNORECASE,
)
_ACTION_WORDS = frozenset(ACTION_VERBS)
_MAX_CUTS = 12

_STAGES = {"analyze": 0, "classify": 0, "extract": 0, "route": 0, "plan": 1, "write": 2}
"""Which agents work first in a plan, by their step: measure, then decide, then write."""


@dataclass(frozen=True)
class Cut:
    """A place where a request may be cut into two asks: the separator's span and how strong it is."""

    start: int
    end: int
    kind: str
    """`hard`: a sentence end, ";", a new line or list marker, "then", "also", "plus", "after that",
    "so we can"...; `soft`: a comma or "and" before an ask or a noun phrase; `bare`: a comma or "and"
    before a bare word ("the reach and impressions"), usually one more object of the same job."""


@dataclass(frozen=True)
class _Span:
    """A stretch of a request from candidate cut `start` to cut `end` (0 and the last are its ends)."""

    start: int
    end: int
    text: str
    floor: float
    """The probability its best agent needs for it to be an ask of its own."""
    ask: str | None = None
    """The ask without the statements before it, when it has some: judged too, as the context can
    drown a different ask ("our rating tanked and there's a press story; find out how people feel")."""


def _ask_after_context(request: str, start: int, stop: int, context: Sequence[Cut]) -> str | None:
    at = start
    for cut in context:
        if not start <= cut.start < stop:
            continue
        if not is_statement(_clean(request[at : cut.start])):
            break
        at = cut.end
    return _clean(request[at:stop]) or None if at > start else None


def _content_terms(piece: str) -> list[str]:
    # A business's name says nothing about the job ("(Lumen Skin)", "asking for Northwind"): a part that
    # is little more than a name is held to what a part of one word is.
    return terms(mask_names(piece).replace(PLACEHOLDER, " "))


def _clean(piece: str) -> str:
    return _LEAD.sub("", piece).strip(" ,.;:!?-•*+")


def is_statement(piece: str) -> bool:
    """Whether a piece of a request says something rather than asks ("The recall story is spreading")."""
    text = piece.strip()
    if _ASK_START.match(text):
        return False
    if _LEAD_IN.match(text) and len(text.split()) <= 6:
        return True
    words = [w.strip(',.;:!?"“”()') for w in text.split()[:9]]
    if len(words) >= 3 and words[0].lower() in _SUBJECTS and words[1].lower() not in _ASKING_VERBS:
        verb = words[1].lower()
        if verb not in _ACTION_WORDS and verb.isalpha() and not verb.endswith("ly"):
            return True
    for i, word in enumerate(words):
        lower = word.lower()
        if i > 0 and (lower in _SUBORDINATE or lower.split("'")[0] in _SUBORDINATE):
            return False  # "the posts we ...", "a post for once it's ...": a noun phrase with a clause
        if _CONTRACTED.fullmatch(lower) or lower in _FINITE_VERBS:
            return True
        past = lower.endswith("ed") and len(lower) > 4 and lower not in _NOT_PAST
        if past and i > 0 and words[i - 1].lower() not in _DETERMINERS:
            return True  # "our growth stalled", not "a detailed plan"
    return False


def is_filler(piece: str) -> bool:
    """Whether a piece of a request only greets, thanks or asks for help in general ("Hi!", "Could you
    please help:", "thanks a lot")."""
    words = re.findall(r"[a-z']+", piece.lower())
    return bool(words) and all(w in _PLEASANTRIES or w in _POLITE for w in words)


def without_filler(request: str) -> str:
    """The request without greetings and thanks before its first ask or after its last."""
    return _trim_filler(request, candidate_cuts(request))


def _argmax(row: list[float]) -> int:
    """The index of the largest value, the first of equal ones (as `numpy.argmax`)."""
    return max(range(len(row)), key=row.__getitem__)


def _trim_filler(request: str, cuts: list[Cut]) -> str:
    if not cuts:  # one piece: kept whole whether or not it reads as filler
        return request
    bounds = [0, *(x for c in cuts for x in (c.start, c.end)), len(request)]
    pieces = [(bounds[2 * i], bounds[2 * i + 1]) for i in range(len(cuts) + 1)]
    keep = [(a, b) for a, b in pieces if not is_filler(request[a:b])]
    if not keep or len(keep) == len(pieces):
        return request
    return request[keep[0][0] : keep[-1][1]].strip(" ,;:-")


def candidate_cuts(request: str) -> list[Cut]:
    """Every place a request may be cut into asks, in order. Never inside a quote, never before
    material after a colon ("turn this into a thread: ..."); a statement stays with the ask after it
    (the last one with the ask before it)."""
    return _cuts(request)[0]


def _cuts(request: str) -> tuple[list[Cut], list[Cut]]:
    """The candidate cuts, and the cuts after statements that were glued to the ask after them."""
    quoted = [(m.start(), m.end()) for m in QUOTED.finditer(request)]
    end = len(request.rstrip(" .!?"))
    cuts: list[Cut] = []
    for m in _CUT.finditer(request):
        if m.start() == 0 or m.end() >= end or any(a < m.start() < b for a, b in quoted):
            continue
        after = _clean(request[m.end() :])
        asks = bool(_ASK_START.match(after))
        if ":" in m.group(0) and not asks:
            continue
        kind = (
            "hard" if _HARD_CUT.search(m.group(0)) else "soft" if asks or _DETERMINER.match(after) else "bare"
        )
        cuts.append(Cut(m.start(), m.end(), kind))
    if not cuts:
        return cuts, []
    pieces = _pieces(request, cuts)
    glued = {i if i < len(cuts) else i - 1 for i, piece in enumerate(pieces) if is_statement(piece)}
    context = [c for i, c in enumerate(cuts) if i in glued]
    cuts = [c for i, c in enumerate(cuts) if i not in glued]
    if len(cuts) > _MAX_CUTS:  # a long message: its strongest cuts, in order
        keep = sorted(cuts, key=lambda c: (c.kind != "hard", c.kind != "soft", c.start))[:_MAX_CUTS]
        cuts = sorted(keep, key=lambda c: c.start)
    return cuts, context


def _pieces(request: str, cuts: Sequence[Cut]) -> list[str]:
    bounds = [0, *(x for c in cuts for x in (c.start, c.end)), len(request)]
    return [_clean(request[bounds[2 * i] : bounds[2 * i + 1]]) for i in range(len(cuts) + 1)]


_VERB = re.compile(
    r"^\s*(?:(?:please|pls|can you|could you|would you|help me|i need you to|i want you to)\s+)?"
    rf"(?:{_VERB_ALT})\b(?:\s+(?:me|us)\b)?",
    re.IGNORECASE,
)


def _shared_verbs(request: str, cuts: Sequence[Cut]) -> list[str | None]:
    """For each cut, the verb a bare object after it shares: that of the nearest piece before it that
    opens with one, without crossing a hard cut ("Pull the reach, the clicks and the impressions")."""
    pieces = _pieces(request, cuts)
    verbs: list[str | None] = []
    current: str | None = None
    for i in range(len(cuts)):
        if i > 0 and cuts[i - 1].kind == "hard":
            current = None
        found = _VERB.match(pieces[i])
        if found:
            current = found.group(0).strip()
        elif _ASK_START.match(pieces[i]):
            current = None
        verbs.append(current)
    return verbs


def split_asks(request: str) -> list[str]:
    """The parts of a request that may each ask for something, in order: cut at every candidate but
    "and" before a bare word; statements join the next ask. The router decides which cuts to keep."""
    cuts = [c for c in candidate_cuts(request) if c.kind != "bare"]
    return [p for p in _pieces(request, cuts) if p]


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


def training_texts(spec: AgentSpec, *, asks: bool = False) -> list[str]:
    """What the classifier learns an agent from: its description, the jobs the description lists, its
    `examples:` (with `asks`, its `ask_examples:` too), and those examples asked about a business by
    name."""
    examples = [*spec.examples, *(spec.ask_examples if asks else ())]
    named = [n for n in (as_named(e) for e in examples) if n]
    return [spec.description, *description_clauses(spec.description), *examples, *named]


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
        min_part_probability: float = 0.4,
        min_phrase_probability: float = 0.5,
        min_bare_probability: float = 0.85,
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
            min_part_probability: what a part that opens as an ask (a verb, a question word) or follows a
                hard cut (a sentence end, "then", "also", "plus", a new line) needs to be an ask of its own;
                below it, the part goes along with its neighbours. A part of one content word or none
                needs 0.8.
            min_phrase_probability: the same for a noun phrase after a comma or "and" ("..., and a plan
                for next month").
            min_bare_probability: the same for a bare word after a comma or "and" ("the reach and
                impressions"), most often one more object of the same job.
            min_keyword_score: keyword hits (`keywords:` of the spec) each chosen agent also needs for
                a confident plan; 0 needs none, a huge value always defers to the supervisor's model.
            l2, steps: the classifier's penalty and training steps.
        """
        self.embed = embed
        self.min_confidence = min_confidence
        self.min_part_confidence = min_part_confidence
        self.min_part_probability = min_part_probability
        self.min_phrase_probability = min_phrase_probability
        self.min_bare_probability = min_bare_probability
        self.min_keyword_score = min_keyword_score
        specs = [s for s in specs if s.name != "supervisor"]
        self.agents = [s.name for s in specs]
        self._stage = {s.name: _STAGES.get(s.step, 1) for s in specs}
        self._keywords = {s.name: {terms(k)[0] for k in s.keywords if terms(k)} for s in specs}

        def fit(asks: bool) -> IntentClassifier | None:
            texts: list[str] = []
            targets: list[int] = []
            for index, spec in enumerate(specs):
                for text in training_texts(spec, asks=asks):
                    texts.append(text)
                    targets.append(index)
            return (
                IntentClassifier(self.agents, texts, targets, embed=embed, l2=l2, steps=steps)
                if specs
                else None
            )

        self.classifier = fit(asks=False)
        """Judges a whole request."""
        # A part of a longer message reads otherwise than a whole one ("whip up three captions to
        # match"): parts are judged by a classifier that also learns the agents' `ask_examples:`. Kept
        # apart, as those examples pull whole requests on a label boundary the wrong way (evals README).
        self.ask_classifier = fit(asks=True) if any(s.ask_examples for s in specs) else self.classifier
        """Judges each part of a request that may name several jobs."""

    @property
    def encoder(self) -> str:
        """What the router reads meaning with: the embed's name, or "words only"."""
        return "words only" if self.embed is None else getattr(self.embed, "name", "custom")

    def warm(self) -> None:
        """Load the sentence encoders now rather than on the first request (they take seconds to load,
        and a classifier fit loaded from the cache has not touched them)."""
        if self.embed is not None:
            self.embed(["warm up the router"])

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
        cuts, context = _cuts(request)
        trimmed = _trim_filler(request, cuts)
        if trimmed != request:
            request = trimmed
            cuts, context = _cuts(request)
        spans = self._spans(request, cuts, context)
        parts = list(dict.fromkeys(t for span in spans for t in (span.text, span.ask) if t))
        meaning = self.classifier.meaning([request, *parts])  # one encoder pass for both classifiers
        first = self.classifier.predict_rows([request], meaning=None if meaning is None else meaning[:1])[0]
        scores = {a: round(p, 4) for a, p in zip(self.agents, first, strict=True)}
        best = _argmax(first)
        agent, p = self.agents[best], first[best]
        if spans and self.ask_classifier is not None:
            probs = self.ask_classifier.predict_rows(parts, meaning=None if meaning is None else meaning[1:])
            row = dict(zip(parts, probs, strict=True))
            plan = self._several(request, spans, len(cuts) + 1, row, scores, whole=math.log(2 * p))
            if plan is not None:
                return plan
        confident = p >= self.min_confidence and self._has_keywords([(agent, request)])
        return RoutePlan(
            tasks=[RoutedTask(agent=agent, task=request.strip(), score=p)], confident=confident, scores=scores
        )

    def _spans(self, request: str, cuts: list[Cut], context: list[Cut]) -> list[_Span]:
        """Every stretch of the request between two candidate cuts (or its ends) that could be one ask,
        but the whole request, with the probability it needs to stand on its own. A stretch that only
        names an object after a comma or "and" shares the verb of the ask before it ("Draft a holding
        statement and replies to ..." asks to draft replies) and is judged with it."""
        verbs = _shared_verbs(request, cuts)
        last = len(cuts) + 1
        spans: list[_Span] = []
        for i in range(last):
            cut = cuts[i - 1] if i else None
            start = cut.end if cut else 0
            for j in range(i + 1, last + 1):
                if (i, j) == (0, last):
                    continue
                stop = cuts[j - 1].start if j < last else len(request)
                piece = _clean(request[start:stop])
                if not piece:
                    continue
                opens = bool(_ASK_START.match(piece))
                if cut is None or cut.kind == "hard" or opens:
                    text = piece
                    floor = self.min_part_probability if cut or opens else self.min_phrase_probability
                else:
                    verb = verbs[i - 1]
                    text = f"{verb} {piece}" if verb else piece
                    floor = self.min_bare_probability if cut.kind == "bare" else self.min_phrase_probability
                floor = floor if len(_content_terms(piece)) >= 2 else max(floor, 0.8)
                spans.append(_Span(i, j, text, floor, _ask_after_context(request, start, stop, context)))
        return spans

    def _several(
        self,
        request: str,
        spans: list[_Span],
        last: int,
        probs: dict[str, list[float]],
        scores: dict[str, float],
        *,
        whole: float = -math.inf,
    ) -> RoutePlan | None:
        """A plan with one task per agent from the best way to cut the request into asks: every ask clear
        enough on its own, neighbours for different agents, and the most evidence over an even chance
        (the sum of log(2p) over the asks), which favours more asks only when each is clear; None unless
        it has more evidence than `whole`, the request read as one ask. Found by dynamic programming over
        the cuts, so a message with many jobs costs one classifier call."""
        # best[j][agent]: the best asks covering the request up to cut j, the last one for `agent`.
        best: dict[int, dict[str, tuple[float, list[tuple[str, str, float]]]]] = {0: {"": (0.0, [])}}
        for span in sorted(spans, key=lambda s: (s.end, s.start)):
            row = probs[span.text]
            if span.ask is not None and max(probs[span.ask]) > max(row):
                row = probs[span.ask]
            top = _argmax(row)
            agent, p = self.agents[top], row[top]
            if p < span.floor:
                continue
            for prev, (gain, asks) in list(best.get(span.start, {}).items()):
                if prev == agent:
                    continue
                total = gain + math.log(2 * p)
                here = best.setdefault(span.end, {})
                if agent not in here or total > here[agent][0]:
                    here[agent] = (total, [*asks, (agent, span.text, p)])
        ends = best.get(last, {})
        if not ends:
            return None
        evidence, chosen = max(ends.values(), key=lambda found: found[0])
        if evidence <= whole:  # the request reads more clearly as one job than in parts
            return None
        tasks: dict[str, tuple[str, float, int]] = {}  # agent -> text, probability, position
        for position, (agent, text, p) in enumerate(chosen):
            if agent in tasks:
                prev_text, prev_p, at = tasks[agent]
                tasks[agent] = (f"{prev_text}; {text}", min(prev_p, p), at)
            else:
                tasks[agent] = (text, p, position)
        if len(tasks) < 2:
            return None
        ordered = sorted(tasks.items(), key=lambda item: (self._stage.get(item[0], 1), item[1][2]))
        confident = min(p for _, (_, p, _) in ordered) >= self.min_part_confidence and self._has_keywords(
            [(a, t) for a, (t, _, _) in ordered]
        )
        texts = [text for _, text, _ in chosen]
        sequential = any(_BACKREF.search(text) for text in texts[1:]) or any(
            self._stage.get(a, 1) < self._stage.get(b, 1) for (a, _), (b, _) in itertools.pairwise(ordered)
        )
        routed = [
            RoutedTask(agent=agent, task=f"{text} (request: {request.strip()})", score=p)
            for agent, (text, p, _) in ordered
        ]
        return RoutePlan(tasks=routed, confident=confident, sequential=sequential, scores=scores)

    def _has_keywords(self, chosen: list[tuple[str, str]]) -> bool:
        return all(self.keyword_score(agent, text) >= self.min_keyword_score for agent, text in chosen)
