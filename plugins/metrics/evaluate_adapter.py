"""`evaluate`: any Hugging Face `evaluate` metric module as a regen-bench metric.

    regen-bench run ... --metric evaluate:path/to/word_overlap.py
    regen-bench run ... --metric evaluate:path/to/word_overlap      # a folder holding word_overlap.py
    regen-bench run ... --metric evaluate:exact_match               # by Hub name (online only)

The module is loaded once, with `evaluate.load(module, keep_in_memory=True)`, when the
metric is built, so a bad path fails before any generation. `evaluate` is imported
only then.

Options: `module` (the `--metric evaluate:ARG` argument), `key` (report only this key
of the module's result; default: every numeric key), `compute_kwargs` (a JSON object
passed to every `compute` call), `per_example` (default true), `config_name`, and
`higher_is_better` (default true: the adapter cannot know).

What the number is -- recorded in the signature as `agg:`
----------------------------------------------------------
- `per_example=true` (`agg:mean-per-example`): `compute(predictions=[p], references=[r])`
  is called once per pair; each numeric key gives per-example values, and the reported
  score is **the mean of the per-example values**, with the core bootstrap of a mean as
  its CI. This equals the module's own corpus number only for modules that are a mean
  over pairs (exact match, accuracy, per-pair similarity); for corpus-level modules
  (BLEU, F1 over the corpus, ...) it is a different number, by design.
- `per_example=false`: one `compute` over all pairs, so the number is the module's own.
  A key whose value is a list with one number per pair (bertscore's `f1`, ...) is
  treated as per-example values: mean and bootstrap CI (`agg:mean-of-module-list`).
  A scalar key (`agg:module-corpus`, `ci:none`) has no per-example values, so it is a
  component with one row: its CI is the point itself and `n` is 1. Nothing in the
  module's API allows resampling it without recomputing it, which the core does not do.

Component names are `<module name>.<key>` (e.g. `word_overlap.exact_match`), so two
evaluate modules in one run, or a key named like a built-in metric, cannot collide.

Signature, e.g. `metric:evaluate|module:metrics/word_overlap.py|sha256:3f1c...|
evaluate:0.4.6|keys:exact_match,overlap|compute_kwargs:{}|agg:mean-per-example|version:1`,
where sha256 (first 16 hex digits) is of the module's script file(s) as evaluate loaded
them (the main script and the local files it imports).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import numbers
import os
from pathlib import Path

import numpy as np
from pydantic import field_validator

from regen_bench import hookimpl
from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.metric import Component, Metric, MetricOptions, MetricOutput, Signature
from regen_bench.plugin.extras import require


class EvaluateOptions(MetricOptions):
    module: str
    key: str | None = None
    compute_kwargs: str = "{}"
    per_example: bool = True
    config_name: str | None = None
    higher_is_better: bool = True

    @field_validator("compute_kwargs", mode="before")
    @classmethod
    def _json_object(cls, value):
        if isinstance(value, dict):
            value = json.dumps(value, sort_keys=True)
        if not isinstance(value, str):
            raise ValueError("compute_kwargs must be a JSON object string")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"compute_kwargs is not valid JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise ValueError("compute_kwargs must be a JSON object, e.g. '{\"ignore_case\": true}'")
        return json.dumps(parsed, sort_keys=True, separators=(",", ":"))


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _as_float_list(value, n: int) -> list[float] | None:
    """The value as n per-example numbers, or None when it is not such a list."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)) and len(value) == n and all(_is_number(v) for v in value):
        return [float(v) for v in value]
    return None


def _looks_like_path(spec: str) -> bool:
    return spec.endswith(".py") or spec.startswith((".", "/", "~")) or "\\" in spec or spec.count("/") > 1


def resolve_module(spec: str) -> str:
    """A local script/folder as an absolute path (checked), or a Hub name unchanged."""
    path = Path(spec).expanduser()
    if path.exists():
        if path.is_file():
            if path.suffix != ".py":
                raise RegenBenchError(f"evaluate: {spec} is not a Python metric script (.py)")
            return str(path.resolve())
        script = path / f"{path.resolve().name}.py"
        if not script.is_file():
            found = sorted(p.name for p in path.glob("*.py"))
            raise RegenBenchError(
                f"evaluate: the folder {spec} has no {script.name}: evaluate.load wants a folder NAME "
                f"holding NAME.py (found: {', '.join(found) or 'no .py files'}); or pass the script's path"
            )
        return str(path.resolve())
    if _looks_like_path(spec):
        raise RegenBenchError(
            f"evaluate: no metric script at {spec}: pass a .py file or a folder NAME holding NAME.py"
        )
    return spec


def module_sha256(module) -> str:
    """sha256 of the .py files evaluate loaded the module from (its script and local imports)."""
    folder = Path(inspect.getfile(type(module))).parent
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        if path.name == "__init__.py" and path.stat().st_size == 0:
            continue
        digest.update(path.name.encode("utf-8") + b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


class EvaluateMetric(Metric):
    """A Hugging Face `evaluate` module (local script or folder, or Hub name) as a metric."""

    name = "evaluate"
    extras = ("evaluate",)  # `regen-bench list` shows it; the optional libraries it imports
    description = (
        "Any Hugging Face evaluate module (--metric evaluate:PATH_OR_NAME); per default the mean of "
        "per-example computes, with per_example=false the module's own corpus number."
    )
    version = "1"
    higher_is_better = True
    Options = EvaluateOptions
    spec_option = "module"

    def __init__(self, **options):
        if not options.get("module"):
            raise RegenBenchError(
                "evaluate: say which module to load: --metric evaluate:path/to/metric.py "
                "(or a folder, or a Hub name when online)"
            )
        super().__init__(**options)
        self.higher_is_better = self.options.higher_is_better
        self.compute_kwargs = json.loads(self.options.compute_kwargs)
        self.module_path = resolve_module(self.options.module)
        self.module = self._load()
        self.module_name = str(getattr(self.module, "name", None) or Path(self.module_path).stem)
        self.sha256 = module_sha256(self.module)
        self._keys: list[str] | None = [self.options.key] if self.options.key else None
        self._agg = "mean-per-example" if self.options.per_example else None

    def _load(self):
        evaluate = require("evaluate", "evaluate", "metric 'evaluate'")
        self._evaluate_version = evaluate.__version__
        kwargs = {"keep_in_memory": True}
        if self.options.config_name:
            kwargs["config_name"] = self.options.config_name
        try:
            return evaluate.load(self.module_path, **kwargs)
        except Exception as exc:
            hint = ""
            if not Path(self.module_path).exists():
                offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
                hint = (" Loading by name needs the Hugging Face Hub"
                        + (", and HF_HUB_OFFLINE is set" if offline else "")
                        + "; offline, pass a local path to a metric script or folder.")
            message = str(exc).rstrip(". ")
            raise RegenBenchError(
                f"evaluate: could not load module {self.options.module!r}: {type(exc).__name__}: {message}.{hint}"
            ) from exc

    def _compute(self, predictions: list, references: list, where: str) -> dict:
        try:
            result = self.module.compute(predictions=predictions, references=references, **self.compute_kwargs)
        except Exception as exc:
            raise RegenBenchError(
                f"evaluate: module {self.module_name!r} failed on {where}: {type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(result, dict):
            raise RegenBenchError(
                f"evaluate: module {self.module_name!r} returned {type(result).__name__}, expected a dict"
            )
        return result

    def _select_keys(self, result: dict, n: int) -> list[str]:
        usable = [k for k, v in result.items() if _is_number(v) or _as_float_list(v, n) is not None]
        if self.options.key:
            if self.options.key not in result:
                raise RegenBenchError(
                    f"evaluate: module {self.module_name!r} returned no key {self.options.key!r}; "
                    f"keys: {', '.join(map(str, result))}"
                )
            if self.options.key not in usable:
                raise RegenBenchError(
                    f"evaluate: key {self.options.key!r} of module {self.module_name!r} is not numeric "
                    f"({type(result[self.options.key]).__name__}); numeric keys: {', '.join(usable) or '(none)'}"
                )
            return [self.options.key]
        if not usable:
            raise RegenBenchError(
                f"evaluate: module {self.module_name!r} returned no numeric values "
                f"(keys: {', '.join(map(str, result))}); nothing to report"
            )
        return usable

    def component_name(self, key: str) -> str:
        return f"{self.module_name}.{key}"

    def score(self, predictions: list, references: list, examples: list) -> MetricOutput:
        n = len(predictions)
        if n == 0:
            keys = self._keys or []
            return MetricOutput([Component.mean(self.component_name(k), []) for k in keys], signature=self.signature())
        if self.options.per_example:
            return self._score_per_example(predictions, references)
        return self._score_corpus(predictions, references)

    def _score_per_example(self, predictions, references) -> MetricOutput:
        results = [
            self._compute([p], [r], f"example {i}") for i, (p, r) in enumerate(zip(predictions, references))
        ]
        keys = self._select_keys(results[0], 1)
        self._keys = keys
        components = []
        for key in keys:
            values = []
            for result in results:
                value = result.get(key)
                if _is_number(value):
                    values.append(float(value))
                else:
                    listed = _as_float_list(value, 1)
                    values.append(listed[0] if listed else math.nan)
            components.append(Component.mean(self.component_name(key), values))
        return MetricOutput(components, signature=self.signature(), counts={"computes": len(results)})

    def _score_corpus(self, predictions, references) -> MetricOutput:
        n = len(predictions)
        result = self._compute(list(predictions), list(references), f"all {n} pairs")
        keys = self._select_keys(result, n)
        self._keys = keys
        components, aggs = [], set()
        for key in keys:
            listed = _as_float_list(result[key], n)
            if listed is not None:
                components.append(Component.mean(self.component_name(key), listed))
                aggs.add("mean-of-module-list")
            else:
                value = float(result[key])
                components.append(
                    Component(self.component_name(key), [math.nan] * n, np.asarray([[value]], dtype=np.float64))
                )
                aggs.add("module-corpus")
        self._agg = "+".join(sorted(aggs))
        return MetricOutput(components, signature=self.signature(), counts={"computes": 1})

    def signature(self) -> str:
        o = self.options
        settings = {"module": o.module, "sha256": self.sha256[:16], "evaluate": self._evaluate_version}
        if o.config_name:
            settings["config"] = o.config_name
        settings["keys"] = ",".join(self._keys) if self._keys else "numeric"
        settings["compute_kwargs"] = o.compute_kwargs
        settings["agg"] = self._agg or "module-corpus"
        if self._agg and "module-corpus" in self._agg:
            settings["ci"] = "none"
        return Signature(self.name, self.version, settings).format()


@hookimpl
def register_metrics(register):
    register(EvaluateMetric)
