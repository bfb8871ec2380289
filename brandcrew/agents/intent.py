"""Which agent a request is for: a small classifier fit at start-up on the agents' own examples.

Multinomial logistic regression (numpy: full-batch Adam with an L2 penalty, a few hundred steps) over
two views of a request:
- meaning: its sentence embedding (offline with the `ml` extra: MiniLM, joined by all-mpnet-base-v2
  when `make venv` has installed it, see `router_embed`);
- words: hashed word unigrams and bigrams (lightly stemmed, stop words dropped) and character
  4-grams, which still match through typos ("wirte", "competitiors").

It trains on whatever agents exist (each spec's description and `examples:`), so an agent added as
one YAML file is routed to as soon as it is loaded. Every agent weighs the same in the fit however
many examples it has. Business names are replaced by one placeholder before either view is taken:
a name says nothing about which agent is wanted ("What was Loftworks' reach" is analytics when
Loftworks is us), while the examples would otherwise teach that any name means a rival.

A fit takes seconds (embedding every training text, then the regression), so with a named embedding it
is kept in the user's cache directory (`fit_cache_dir`), keyed by everything it depends on: the texts,
labels, settings, the embedding's name and this module's code. The next process loads it instead.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import re
import tempfile
import threading
import zlib
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from brandcrew.agents.vector_store import VectorStore, embed_kept

Matrix = npt.NDArray[np.float32]
Embed = Callable[[list[str]], Any]
"""Texts -> L2-normalised embeddings, one row per text."""

PLACEHOLDER = "Acme"
_WORD = re.compile(r"[a-z][a-z0-9']+")
_CHARS = re.compile(r"[a-z0-9']+")
_STOP = frozenset({
    "a", "an", "the", "and", "or", "of", "to", "for", "in", "on", "at", "by", "with", "from",
    "our", "my", "we", "us", "you", "your", "me", "i", "is", "are", "be", "it", "this", "that",
    "these", "those", "what", "how", "can", "could", "should", "would", "will", "do", "does",
    "did", "please", "about", "any", "some", "all", "more", "most", "just", "so", "get", "give",
    "let", "lets", "let's", "need", "want", "like", "make", "help", "up", "out", "into", "over",
    "new", "next", "last",
})  # fmt: skip
# Capitalised words inside a sentence that are not business names.
_COMMON = re.compile(
    r"(?:Instagram|TikTok|LinkedIn|Facebook|YouTube|Pinterest|Threads|Reel|X|Short|Google|Reddit|Snapchat|"
    r"WhatsApp|Twitter|Bluesky|Mastodon|Tweet|Pin|Story|Stories|Live|Q[1-4]|H[12]|I|AI|"
    r"January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Christmas|Easter|Halloween|Valentine|"
    r"Mother|Father|Day|Black|Cyber|Pride|New|Year|Eve|Thanksgiving|Ramadan|Eid|Diwali|Hanukkah|Lunar|"
    r"World|International|National|Earth|Women|Book|Week|Month)(?:s|'s|’s)?$"
    r"|[A-Z0-9]{2,}(?:s|'s|’s|'d)?$"
)
# Verbs that start a new ask ("..., and draft the posts"); also never part of a name at a sentence's
# start ("Benchmark ByteCamp against ..."). Not the verbs that act on what came before or constrain it
# ("write a post and schedule it", "..., keep it short" are one job).
ACTION_VERBS: tuple[str, ...] = (
    "write", "wirte", "draft", "make", "create", "plan", "tell", "show", "give", "find", "check",
    "compare", "reply", "respond", "answer", "suggest", "build", "prepare", "summarise",
    "summarize", "analyse", "analyze", "see", "figure", "list", "get", "pull", "recommend",
    "propose", "spot", "flag", "measure", "track", "turn", "adapt", "fix", "rethink", "rework",
    "script", "set", "help", "assess", "gauge", "look", "decide", "benchmark", "rewrite", "redo",
    "outline", "map", "review", "audit", "identify", "monitor", "report", "explain",
    "thank", "use", "design", "brainstorm", "craft", "pick", "choose", "rank", "sketch", "update",
    "change", "adjust", "handle", "address", "evaluate", "research", "investigate", "break",
    "calculate", "forecast", "estimate", "watch", "let", "shorten", "translate", "repurpose",
    "sort", "read", "scan", "pause", "hold", "draw", "compile",
    "collect", "gather", "quantify", "score", "rate", "label", "classify", "tag", "segment",
    "prioritise", "prioritize", "target", "focus", "promote", "announce", "lay", "work", "come",
    "put",
)  # fmt: skip
_OPENERS = frozenset(ACTION_VERBS) | frozenset({
    "what", "whats", "what's", "how", "which", "who", "whom", "whose", "when", "where", "why",
    "is", "are", "was", "were", "do", "does", "did", "can", "could", "should", "would", "will",
    "shall", "has", "have", "had", "any", "the", "a", "an", "our", "my", "we", "i", "please",
    "pls", "hey", "hi", "ok", "so", "and", "then", "also", "plus", "but", "if",
})  # fmt: skip
_CAPITALISED = re.compile(r"[A-Z][\w&'’-]*(?:\s+(?:&\s+)?[A-Z][\w'’-]*)*")
_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")


def stem(word: str) -> str:
    """A light suffix stripper: enough to match "posting"/"posts"/"post"."""
    for suffix in ("ing", "ies", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def terms(text: str) -> list[str]:
    """The stemmed content words of a text."""
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP]


def mask_names(text: str) -> str:
    """The text with business names (capitalised words that are not platforms, months, acronyms...)
    replaced by one placeholder; a capitalised first word counts only when a name continues it."""

    def replace(match: re.Match[str]) -> str:
        before = text[: match.start()].rstrip()
        at_start = not before or before[-1] in ".!?;:\"'“(\n"
        out: list[str] = []
        run: list[str] = []

        def close() -> None:
            if not run:
                return
            if at_start and not out and (len(run) == 1 or run[0].lower() in _OPENERS):
                out.append(run.pop(0))  # "Write ...", "Which ByteCamp ...": a sentence's first word
            if run:
                out.append(PLACEHOLDER + ("'s" if _POSSESSIVE.search(run[-1]) else ""))
            run.clear()

        for word in match.group(0).split():
            if word == "&" and run:
                continue
            if _COMMON.match(word):
                close()
                out.append(word)
            else:
                run.append(word)
        close()
        return " ".join(out)

    return _CAPITALISED.sub(replace, text)


QUOTED = re.compile(r"""(?:^|(?<=[\s:(]))(['"“‘])(?:(?!['"”’]).|['’](?=\w))+?['"”’](?=[\s.,;:!?)]|$)""")
"""A quoted span: opens after a space, colon or bracket and closes before one; inner apostrophes stay."""


def quoted_material(text: str) -> str:
    """The text with quoted material of four words or more ("rewrite this: 'We are pleased to ...'")
    replaced by "the text": it is what the job works on, not what it asks."""
    return QUOTED.sub(lambda m: "the text" if len(m.group(0).split()) >= 4 else m.group(0), text)


@lru_cache(maxsize=16_384)
def _slot(feature: str, dim: int) -> int:
    return zlib.crc32(feature.encode()) % dim


@lru_cache(maxsize=8_192)
def _gram_slots(word: str, dim: int) -> frozenset[int]:
    """The slots of a word's character 4-grams (words recur across requests: hashed once)."""
    padded = f"<{word}>"
    return frozenset(_slot("#" + padded[i : i + 4], dim) for i in range(max(1, len(padded) - 3)))


LEXICAL_DIM = 2048


def lexical_slots(text: str, dim: int = LEXICAL_DIM) -> list[int]:
    """The hashed slots of a text's word unigrams, bigrams and character 4-grams (each once)."""
    words = terms(text)
    slots = {_slot(w, dim) for w in words} | {_slot(f"{a} {b}", dim) for a, b in itertools.pairwise(words)}
    for word in _CHARS.findall(text.lower()):
        slots |= _gram_slots(word, dim)
    return sorted(slots)


def lexical_features(texts: Sequence[str], dim: int = LEXICAL_DIM) -> Matrix:
    """Hashed, L2-normalised word unigrams, bigrams and character 4-grams, one row per text."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for row, text in enumerate(texts):
        slots = lexical_slots(text, dim)
        if slots:
            out[row, slots] = 1.0 / np.sqrt(np.float32(len(slots)))
    return out


class IntentClassifier:
    """Multinomial logistic regression from a request to one of `labels`, with probabilities."""

    def __init__(
        self,
        labels: Sequence[str],
        texts: Sequence[str],
        targets: Sequence[int],
        *,
        embed: Embed | None = None,
        l2: float = 1e-4,
        steps: int = 200,
        learning_rate: float = 0.1,
    ) -> None:
        if not labels or not texts:
            raise ValueError("an intent classifier needs labels and example texts")
        self.labels = list(labels)
        self.embed = embed
        self.l2 = l2
        key = _fit_key(self.labels, texts, targets, embed, (l2, steps, learning_rate))
        fitted = _load_fit(key) if key else None
        if fitted is None:
            x = self.features(texts, keep=True)
            y = np.asarray(targets, dtype=np.int64)
            fitted = self._fit(x, y, steps=steps, learning_rate=learning_rate)
            if key:
                _save_fit(key, *fitted)
        self.weights, self.bias = fitted
        self._word_rows: list[tuple[float, ...]] = [tuple(r) for r in self.weights[-LEXICAL_DIM:].tolist()]
        self._bias: tuple[float, ...] = tuple(self.bias.tolist())

    def features(self, texts: Sequence[str], *, keep: bool = False) -> Matrix:
        """The classifier's input rows: the embedding and the word features of each masked text (business
        names and long quotes replaced). With `keep` (training texts), sentence vectors are kept on disk
        for the next fit (`vector_store`)."""
        masked = _masked(texts)
        words = lexical_features([_for_words(t) for t in masked])
        if self.embed is None:
            return words
        store = _vector_store(self.embed) if keep else None
        meaning = embed_kept(self.embed, store, masked).reshape(len(masked), -1)
        return np.ascontiguousarray(np.concatenate([meaning, words], axis=1))

    def meaning(self, texts: Sequence[str]) -> Matrix | None:
        """The sentence embeddings of the masked texts (None without an embed): computed once, they can
        be shared by classifiers over the same embed (`logits(..., meaning=...)`)."""
        return None if self.embed is None else _embedded(self.embed, _masked(texts))

    def logits(self, texts: Sequence[str], *, meaning: Matrix | None = None) -> list[list[float]]:
        """`features(texts) @ weights + bias`, row by row (`meaning`: the texts' embeddings, if known).

        The word view sets about 40 of its 2,048 slots, so its part is a sum of those weight rows, in
        plain Python: numpy's per-call cost on rows of eight numbers was most of a route's time.
        """
        masked = _masked(texts)
        rows, bias = self._word_rows, self._bias
        out: list[list[float]] = []
        for text in masked:
            slots = lexical_slots(_for_words(text))
            row = list(bias)
            if slots:
                scale = 1.0 / math.sqrt(len(slots))
                columns = zip(*(rows[s] for s in slots), strict=True)
                row = [sum(column) * scale + b for column, b in zip(columns, bias, strict=True)]
            out.append(row)
        if self.embed is not None:
            if meaning is None:
                meaning = _embedded(self.embed, masked)
            dense = (meaning @ self.weights[: meaning.shape[1]]).tolist()
            out = [[a + b for a, b in zip(r, d, strict=True)] for r, d in zip(out, dense, strict=True)]
        return out

    def _fit(
        self, x: Matrix, y: npt.NDArray[np.int64], *, steps: int, learning_rate: float
    ) -> tuple[Matrix, Matrix]:
        d = x.shape[1]
        k = len(self.labels)
        onehot = np.eye(k, dtype=np.float32)[y]
        counts = np.bincount(y, minlength=k).astype(np.float32)
        sample = (1.0 / np.maximum(counts, 1.0))[y]  # every agent weighs the same in total
        sample = (sample / sample.sum()).astype(np.float32)[:, None]
        xt = np.ascontiguousarray(x.T)
        weights = np.zeros((d, k), dtype=np.float32)
        bias = np.zeros(k, dtype=np.float32)
        params = [weights, bias]
        first = [np.zeros_like(p) for p in params]
        second = [np.zeros_like(p) for p in params]
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        for step in range(1, steps + 1):
            probs = _softmax(x @ weights + bias)
            error = (probs - onehot) * sample
            grads = [xt @ error + self.l2 * weights, error.sum(axis=0)]
            for p, g, m, v in zip(params, grads, first, second, strict=True):
                m *= beta1
                m += (1 - beta1) * g
                v *= beta2
                v += (1 - beta2) * g * g
                m_hat = m / (1 - beta1**step)
                v_hat = v / (1 - beta2**step)
                p -= learning_rate * m_hat / (np.sqrt(v_hat) + eps)
        return weights, bias

    def predict_proba(self, texts: Sequence[str]) -> Matrix:
        """One row of label probabilities per text."""
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return np.asarray(self.predict_rows(texts), dtype=np.float32)

    def predict_rows(self, texts: Sequence[str], *, meaning: Matrix | None = None) -> list[list[float]]:
        """`predict_proba` as Python lists (what the router reads, without numpy's per-call cost)."""
        rows = []
        for logits in self.logits(texts, meaning=meaning):
            top = max(logits)
            exps = [math.exp(z - top) for z in logits]
            total = sum(exps)
            rows.append([e / total for e in exps])
        return rows


def fit_cache_dir() -> Path | None:
    """Where fitted classifiers are kept between processes: `$BRANDCREW_CACHE_DIR/router`, else the
    user's cache directory; None when `BRANDCREW_CACHE_DIR` is empty (no cache)."""
    configured = os.environ.get("BRANDCREW_CACHE_DIR")
    if configured == "":
        return None
    base = (
        Path(configured) if configured else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    )
    return (base if configured else base / "brandcrew") / "router"


def _vector_store(embed: Embed) -> VectorStore | None:
    """Where a named embed's vectors of training texts are kept (beside the fits), if anywhere."""
    name, where = getattr(embed, "name", None), fit_cache_dir()
    return VectorStore(where, name) if name and where else None


_SOURCES = (Path(__file__),)
_KEEP_FITS = 32


@lru_cache(maxsize=1)
def _code_version() -> str:
    # A fit depends on how texts become features: the code that does it is part of the key.
    return hashlib.sha256(b"".join(p.read_bytes() for p in _SOURCES)).hexdigest()


def _fit_key(
    labels: Sequence[str],
    texts: Sequence[str],
    targets: Sequence[int],
    embed: Embed | None,
    knobs: tuple[Any, ...],
) -> str | None:
    """A fit's identity: inputs, settings, the embedding's name and this code; None for an unnamed embed
    (a function of the caller's, whose output may change under the same name) or without a cache dir."""
    name = "words" if embed is None else getattr(embed, "name", None)
    if name is None or fit_cache_dir() is None:
        return None
    digest = hashlib.sha256()
    for part in (_code_version(), name, repr(knobs), LEXICAL_DIM, *labels, *texts, *targets):
        digest.update(str(part).encode() + b"\0")
    return digest.hexdigest()


def _load_fit(key: str) -> tuple[Matrix, Matrix] | None:
    where = fit_cache_dir()
    path = where / f"{key}.npz" if where else None
    if path is None or not path.is_file():
        return None
    try:
        with np.load(path) as saved:
            return np.asarray(saved["weights"], np.float32), np.asarray(saved["bias"], np.float32)
    except (OSError, ValueError, KeyError):  # a damaged file is refitted and replaced
        return None


def _save_fit(key: str, weights: Matrix, bias: Matrix) -> None:
    where = fit_cache_dir()
    if where is None:
        return
    try:
        where.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=where, suffix=".tmp", delete=False) as out:
            np.savez(out, weights=weights, bias=bias)
        os.replace(out.name, where / f"{key}.npz")  # atomic: readers see no file or a whole one
        # Each edit of an agent's examples is a new fit: keep the most recent ones only.
        saved = sorted(where.glob("*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in saved[_KEEP_FITS:]:
            stale.unlink(missing_ok=True)
    except OSError:  # a read-only home, or another process pruning too: fit again next time
        pass


def _masked(texts: Sequence[str]) -> list[str]:
    """What both views read: business names and long quotes replaced (`mask_names`, `quoted_material`)."""
    return [mask_names(quoted_material(t)) for t in texts]


def _embedded(embed: Embed, masked: list[str]) -> Matrix:
    """The masked texts' sentence embeddings, one row each."""
    return np.asarray(embed(masked), dtype=np.float32).reshape(len(masked), -1)


def _for_words(masked: str) -> str:
    # The placeholder stands for any name, ours or a rival's: no word feature of its own.
    return masked.replace(PLACEHOLDER, " ")


def _softmax(z: Matrix) -> Matrix:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: Matrix = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    return out


def memoised(embed: Embed, *, limit: int = 20_000) -> Embed:
    """`embed` with a per-text cache, so routers built again (tests, new graphs) reuse the vectors."""
    cache: dict[str, Any] = {}
    lock = threading.Lock()

    def cached(texts: list[str]) -> Matrix:
        with lock:
            known = {t: cache[t] for t in texts if t in cache}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            fresh = dict(zip(missing, np.asarray(embed(missing), dtype=np.float32), strict=True))
            known.update(fresh)
            with lock:
                if len(cache) + len(fresh) > limit:
                    cache.clear()
                cache.update(fresh)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([known[t] for t in texts]).astype(np.float32)

    return cached


def named(embed: Embed, name: str) -> Embed:
    """`embed` carrying the model's name, so a classifier fit on its vectors can be kept and reused."""
    embed.name = name  # type: ignore[attr-defined]
    return embed


@lru_cache(maxsize=1)
def minilm_embed() -> Embed | None:
    """The process's MiniLM embed function (memoised), or None without the `ml` extra."""
    from brandcrew.memory.embedders import MiniLMEmbedder, minilm_available

    if not minilm_available():
        return None
    encoder = MiniLMEmbedder()
    return named(memoised(lambda texts: np.asarray(encoder.embed(texts), dtype=np.float32)), encoder.name)


@lru_cache(maxsize=1)
def router_embed() -> Embed | None:
    """What the fast router reads a request's meaning with: MiniLM and all-mpnet-base-v2 side by side
    when both are installed (held-out routing 86.8% -> 89.9% when added, see `evals/routing/README.md`), MiniLM
    alone without the second model, None without the `ml` extra."""
    from brandcrew.memory.embedders import MiniLMEmbedder
    from brandcrew.memory.mpnet import MPNetEmbedder, mpnet_available

    small = minilm_embed()
    if small is None or not mpnet_available():
        return small
    large = MPNetEmbedder()
    scale = np.float32(1 / math.sqrt(2))  # two unit halves: the joined row is a unit row too

    def both(texts: list[str]) -> Matrix:
        joined = np.concatenate([np.asarray(small(texts)), large.embed(texts)], axis=1)
        return np.ascontiguousarray(joined * scale, dtype=np.float32)

    return named(memoised(both), f"{MiniLMEmbedder.name}+{large.name}")
