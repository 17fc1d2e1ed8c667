"""regen-bench: an evaluation harness for narrative generation on REGEN.

Importing this package is cheap: no torch, no transformers, no datasets.
"""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("regen-bench")
except _metadata.PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

from regen_bench.plugin.hookspecs import hookimpl  # noqa: E402

__all__ = ["__version__", "hookimpl"]
