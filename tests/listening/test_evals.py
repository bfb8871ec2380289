"""The listening evaluations on the shared development data, and the throughput benchmark."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from brandcrew.services.listening.sentiment import LexiconAnalyzer, SentimentAnalyzer
from evals.crisis import main as crisis_main
from evals.crisis import run_crisis_eval
from evals.sentiment import macro_recall, run_sentiment_eval
from evals.sentiment import main as sentiment_main

HAS_ML = importlib.util.find_spec("sentence_transformers") is not None


def test_crisis_eval_on_shared_series(shared_data: Path) -> None:
    result = run_crisis_eval(shared_data)
    assert result["windows_total"] == 16
    assert 0 <= result["windows_hit"] <= result["windows_total"]
    assert len(result["series"]) == 5
    # The goal; a regression below it means the detector changed.
    assert result["nab_score"] > 65
    assert result["false_alerts_per_day"] <= 0.25


def test_crisis_eval_takes_another_folder_and_ends_with_json(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = shared_data / "nab-realtweets"
    dst = tmp_path / "nab-realtweets"
    dst.mkdir()
    windows = json.loads((src / "windows.json").read_text())
    name = "Twitter_volume_FB.csv"
    (dst / "windows.json").write_text(json.dumps({name: windows[name]}))
    shutil.copy(src / name, dst / name)
    crisis_main(tmp_path, as_json=True)
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(figures) >= {"nab_score", "false_alerts_per_day", "windows_hit", "windows_total"}
    assert figures["windows_total"] == 2
    with pytest.raises(FileNotFoundError):
        run_crisis_eval(tmp_path / "nothing")


def test_sentiment_eval_lexicon_on_the_shared_split(shared_data: Path) -> None:
    result = run_sentiment_eval(shared_data, analyzers={"lexicon": _lexicon})
    lexicon = result["analyzers"]["lexicon"]
    assert result["n"] == 2000
    assert 50 < lexicon["macro_recall"] < 70  # VADER is about 57-60 on this benchmark
    assert result["best"] == "lexicon"


def _lexicon() -> SentimentAnalyzer:
    return LexiconAnalyzer()


@pytest.mark.skipif(not HAS_ML, reason="needs the `ml` extra")
def test_sentiment_eval_all_analyzers_on_a_subset_folder(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = shared_data / "tweeteval-sentiment"
    texts = (src / "val_text.txt").read_text(encoding="utf-8").splitlines()[:200]
    labels = (src / "val_labels.txt").read_text().split()[:200]
    folder = tmp_path / "tweeteval-sentiment"
    folder.mkdir()
    (folder / "val_text.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    (folder / "val_labels.txt").write_text("\n".join(labels) + "\n")
    sentiment_main(tmp_path, as_json=True)
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["n"] == 200
    assert set(figures["analyzers"]) == {"lexicon", "minilm"}
    for analyzer in figures["analyzers"].values():
        assert 33 < analyzer["macro_recall"] <= 100


def test_missing_analyzer_extra_is_reported_as_skipped(shared_data: Path) -> None:
    def broken() -> SentimentAnalyzer:
        raise ImportError("No module named 'sentence_transformers'")

    result = run_sentiment_eval(shared_data, analyzers={"lexicon": _lexicon, "minilm": broken})
    assert "skipped" in result["analyzers"]["minilm"]
    assert result["best"] == "lexicon"


def test_macro_recall() -> None:
    gold = ["negative", "negative", "neutral", "positive"]
    assert macro_recall(gold, gold) == 1.0
    assert macro_recall(gold, ["negative", "neutral", "neutral", "neutral"]) == pytest.approx(
        (0.5 + 1 + 0) / 3
    )


def test_bench_pipeline_runs_and_reports_throughput() -> None:
    from bench.listening import run_pipeline, synthetic_mentions

    mentions = synthetic_mentions(2000)
    assert mentions == synthetic_mentions(2000)  # deterministic
    result = run_pipeline(LexiconAnalyzer(), mentions)
    assert result["mentions"] == 2000
    assert 0.5 * 2000 < result["matched"] < 2000
    assert result["per_s"] > 0
