"""The RunLogger contract: send a finished run to an experiment tracker (MLflow, W&B, ...).

A logger receives a `FinishedRun`: the run folder, already written, and its results.json
as plain JSON data. It names nothing itself: `FinishedRun` flattens the run into the
same parameters, metrics and signatures for every tracker, so a score is called
`user_summary/bleu` (with `user_summary/bleu/ci_low`, `.../ci_high`, `.../n`) in MLflow
and in W&B alike; a logger only makes the names what its tracker accepts.

Minimal logger::

    class Printer(RunLogger):
        name = "print"
        def log_run(self, run):
            for key, value in run.metrics().items():
                print(key, value)

The run calls loggers after the run folder is written: a logger that raises loses
nothing (the run prints a warning naming it, and `regen-bench log RUN_DIR --to NAME`
logs the run again).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

# The results.json sections that become parameters (flattened: `model.config.options.top_k`);
# scores become metrics, timings/cache/usage numbers too.
PARAM_SECTIONS = ("run_id", "created_at", "schema_version", "harness", "dataset", "model", "seed", "tasks", "k",
                  "bootstrap", "samples", "executor", "rescored_from", "command", "environment")
METRIC_SECTIONS = ("timings", "cache", "usage")


class LoggerOptions(BaseModel):
    """Base for a logger's options; unknown keys are an error, strings are coerced."""

    model_config = ConfigDict(extra="forbid")


def _param_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Nested JSON data as `a.b.c` -> text; lists and nulls are JSON text (`["a", "b"]`, `null`);
    an empty object gives nothing."""
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: _param_text(value)} if prefix else {}


def score_name(entry: dict) -> str:
    """`task/metric`, or `task/metric/component` for a metric of several numbers (`user_summary/rouge/rouge1`)."""
    task, metric, component = entry["task"], entry["metric"], entry["component"]
    return f"{task}/{metric}" if component == metric else f"{task}/{metric}/{component}"


@dataclass(frozen=True)
class FinishedRun:
    """A written run, as a logger is given it.

    run_dir:  the run folder (results.json, samples.jsonl and whatever else the run wrote)
    results:  results.json as JSON data (`RunResults.model_dump(mode="json")`)
    """

    run_dir: Path
    results: dict[str, Any]

    @property
    def run_id(self) -> str:
        return str(self.results.get("run_id") or self.run_dir.name)

    def params(self) -> dict[str, str]:
        """What the run was (config, dataset and split hash, seed, tasks, k, harness...), flattened to text;
        each metric's options, version and signature as `metrics.<spec>.*`."""
        params: dict[str, str] = {}
        for section in PARAM_SECTIONS:
            if self.results.get(section) is not None:
                params.update(flatten(self.results[section], section))
        for record in self.results.get("metrics", []):
            params.update(flatten(record.get("options", {}), f"metrics.{record['spec']}.options"))
            params[f"metrics.{record['spec']}.version"] = str(record.get("version", ""))
            params[f"metrics.{record['spec']}.signature"] = str(record.get("signature", ""))
        return params

    def metrics(self) -> dict[str, float]:
        """Every score with its interval and n (`user_summary/bleu`, `.../ci_low`, `.../ci_high`, `.../n`);
        a failed score has only its n (0). Also `timings/<stage>` seconds, `cache/<count>` and numeric `usage/`."""
        metrics: dict[str, float] = {}
        for entry in self.results.get("scores", []):
            name = score_name(entry)
            if entry.get("status", "ok") == "ok":
                metrics[name] = float(entry["score"])
                metrics[f"{name}/ci_low"] = float(entry["ci_low"])
                metrics[f"{name}/ci_high"] = float(entry["ci_high"])
            metrics[f"{name}/n"] = float(entry["n"])
        for section in METRIC_SECTIONS:
            for key, value in flatten(self.results.get(section) or {}, section).items():
                number = _number(value)
                if number is not None:
                    metrics[key.replace(".", "/")] = number
        return metrics

    def signatures(self) -> dict[str, str]:
        """Score name -> the signature it was scored under."""
        return {score_name(entry): entry["signature"] for entry in self.results.get("scores", [])}

    def failed_scores(self) -> dict[str, str]:
        """Score name -> why it scored nothing, for the scores whose status is failed."""
        return {score_name(entry): entry.get("reason") or "failed" for entry in self.results.get("scores", [])
                if entry.get("status", "ok") != "ok"}

    def files(self) -> list[Path]:
        """Every file in the run folder (results.json, samples.jsonl, ...), sorted."""
        return sorted(path for path in self.run_dir.rglob("*") if path.is_file())


def _number(text: str) -> float | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class RunLogger:
    """Logs finished runs to an experiment tracker.

    Class attributes:
      name         what users pass to `--log-to` and `regen-bench log --to`
      description  one line for `regen-bench list loggers`
      Options      a `LoggerOptions` subclass; `--logger-arg NAME:KEY=VALUE` fills it
      spec_option  `--log-to NAME:ARG` passes ARG as this option (mlflow: the tracking URI)
      extras       the `regen-bench[...]` extras whose optional libraries it imports (import
                   them inside `log_run` through `regen_bench.plugin.extras.require`)

    Lifecycle: `RunLogger(**options)` before the run does any work (bad options, or a
    missing library, fail then), then `log_run(run)` once per finished run.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    Options: ClassVar[type[LoggerOptions]] = LoggerOptions
    spec_option: ClassVar[str | None] = None
    extras: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **options):
        self.options = self.Options(**options)
        # How the user named it (`mlflow:http://host:5000`); the run's builder sets it.
        self.spec = self.name

    def log_run(self, run: FinishedRun) -> str | None:
        """Log one finished run; return where it went (a run URI, a folder) for the user, or None."""
        raise NotImplementedError
