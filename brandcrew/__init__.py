"""brandcrew: agent-first orchestration for running a brand's social media with AI agents."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("brandcrew")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ("__version__",)
