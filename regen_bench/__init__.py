"""regen-bench: an evaluation harness for narrative generation on REGEN.

The public surface a plugin author needs is importable from here::

    from regen_bench import Model, Metric, Component, MetricOutput, DatasetProvider, Example, hookimpl

Importing this package is cheap: no torch, no transformers, no datasets.
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
from regen_bench.contracts.metric import Component, Metric, MetricOptions, MetricOutput, Signature  # noqa: E402
from regen_bench.contracts.model import ContractError, Model, ModelOptions  # noqa: E402
from regen_bench.plugin.hookspecs import hookimpl  # noqa: E402

__all__ = [
    "__version__", "hookimpl",
    "Model", "ModelOptions", "Metric", "MetricOptions", "MetricOutput", "Component", "Signature",
    "DatasetProvider", "DatasetOptions", "DatasetLayout", "Example", "ExampleSet", "as_example_set", "ModelInput",
    "RegenBenchError", "BadRecordError", "UnknownNameError", "HiddenAnswerError", "ContractError",
]
