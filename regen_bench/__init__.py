"""regen-bench: an evaluation harness for narrative generation on REGEN.

The public surface a plugin author needs is importable from here::

    from regen_bench import Model, Metric, Component, MetricOutput, DatasetProvider, Example, hookimpl

and the notebook API (`regen_bench/api/`, docs/python-api.md)::

    import regen_bench as rb
    results = rb.run(model="popular", limit=20)
    results.scores_frame()

Importing this package is cheap: no torch, no transformers, no datasets, no pandas. The
API's names are loaded on first use (`__getattr__` below), so a plugin author's import and
the command line's start never load the run machinery for them.
"""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("regen-bench")
except _metadata.PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

from regen_bench.contracts.dataset import DatasetOptions, DatasetProvider  # noqa: E402
from regen_bench.contracts.errors import BadRecordError, RegenBenchError, UnknownNameError  # noqa: E402
from regen_bench.contracts.example_set import ExampleSet, as_example_set  # noqa: E402
from regen_bench.contracts.examples import Example, HiddenAnswerError, ModelInput  # noqa: E402
from regen_bench.contracts.layout import DatasetLayout  # noqa: E402
from regen_bench.contracts.logger import FinishedRun, LoggerOptions, RunLogger  # noqa: E402
from regen_bench.contracts.metric import Component, Metric, MetricOptions, MetricOutput, Signature  # noqa: E402
from regen_bench.contracts.model import ContractError, Model, ModelOptions  # noqa: E402
from regen_bench.plugin.hookspecs import hookimpl  # noqa: E402

# The notebook API, loaded on first use: name -> where it lives (regen_bench/api/).
_API = {name: "regen_bench.api" for name in (
    "run", "score", "load_dataset", "load_runs", "leaderboard_frame", "scores_frame", "samples_frame",
    "Results", "Scores", "LoadedDataset",
)}


def __getattr__(name: str):
    if name in _API:
        import importlib  # the API module is imported by name: see the docstring

        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'regen_bench' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))


__all__ = [
    "__version__", "hookimpl",
    "Model", "ModelOptions", "Metric", "MetricOptions", "MetricOutput", "Component", "Signature",
    "RunLogger", "LoggerOptions", "FinishedRun",
    "DatasetProvider", "DatasetOptions", "DatasetLayout", "Example", "ExampleSet", "as_example_set", "ModelInput",
    "RegenBenchError", "BadRecordError", "UnknownNameError", "HiddenAnswerError", "ContractError",
]
