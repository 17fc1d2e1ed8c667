"""LLM rater: a judge model scores each narrative on a pinned rubric (OpenAI or Gemini).

For each example the judge sees the user's purchase history (titles, categories,
prices, review snippets), the target item, the reference narrative and the generated
narrative, and answers a JSON object of integer scores, e.g. `{"faithfulness": 4,
"relevance": 5, "personalisation": 3, "fluency": 5}` (the default rubric,
`rubrics/default.json`). The answer is parsed strictly: a JSON object (a Markdown code
fence around it is tolerated) with every criterion an integer inside the scale. An
unusable answer gets one repair call (the judge is shown its answer and the parse
error); if that fails too the example is *unrated*: NaN, left out of the mean and
counted. A call that fails after retries (429/5xx/timeouts) is unrated as well,
recorded as failed in the call cache, and retried by the next run; every successful
call is cached, so a second run makes no requests.

Without examples (rescoring saved samples without the dataset) the judge rates the
prediction against the reference only; `details` and the signature say so.

Components: one per criterion and "overall" (the mean of the criteria), each a mean
over rated examples. Signature, e.g.
`metric:llm-rater|provider:openai|model:gpt-4o-mini|rubric:3f9c0a1b2c4d|temp:0|scale:1-5|json:yes|context:full|version:1`
(plus `endpoint:<hash>` when a base_url is set).
"""

from __future__ import annotations

import json
import logging
import math
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from regen_bench import hookimpl
from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.metric import Component, Metric, MetricOptions, MetricOutput, Signature
from regen_bench.util.hashing import canonical_json, sha256_text
from regen_bench_plugins.api_client import ApiClientOptions, CallRequest, CallResult, CallRunner
from regen_bench_plugins.prompting.judging import (  # noqa: F401 (item_text: the rater's, re-exported)
    HistoryFormat,
    format_history,
    item_text,
    json_object,
    task_of,
)
from regen_bench_plugins.providers import chat_provider

log = logging.getLogger("regen_bench.llm_rater")

RUBRIC_DIR = Path(__file__).resolve().parent / "rubrics"
DEFAULT_MODELS = {"openai": "gpt-4o-mini", "gemini": "gemini-2.0-flash"}
GENERIC_TASK = "a narrative about the user and their purchases"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

PROMPT_FIELDS = {"task", "history", "target", "reference", "narrative", "criteria", "scale_min", "scale_max",
                 "json_example", "criteria_names"}
REPAIR_FIELDS = {"error", "criteria_names", "scale_min", "scale_max", "json_example", "criteria"}


# -- rubric --------------------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Scale(_Strict):
    min: int
    max: int

    @model_validator(mode="after")
    def _ordered(self):
        if self.min >= self.max:
            raise ValueError("scale.min must be below scale.max")
        return self


class Criterion(_Strict):
    name: str
    question: str = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not _NAME.match(value) or value == "overall":
            raise ValueError(f"criterion name {value!r}: lowercase letters, digits, _ (and not 'overall')")
        return value


def _text(value: str | list[str]) -> str:
    return "\n".join(value) if isinstance(value, list) else value


class Rubric(_Strict):
    """A rubric file (JSON). Its sha256 (of the canonical JSON) pins it in the signature."""

    name: str
    description: str = ""
    scale: Scale
    criteria: list[Criterion] = Field(min_length=1)
    tasks: dict[str, str] = Field(default_factory=dict)
    history: HistoryFormat = Field(default_factory=HistoryFormat)
    system: str | None = None
    prompt: str | list[str]
    prompt_reference_only: str | list[str]
    repair: str | list[str]

    sha: str = ""  # filled by load_rubric; not part of the file

    @model_validator(mode="after")
    def _check(self):
        names = [c.name for c in self.criteria]
        if len(set(names)) != len(names):
            raise ValueError("criterion names must be unique")
        for field_name, allowed in (("prompt", PROMPT_FIELDS), ("prompt_reference_only", PROMPT_FIELDS),
                                    ("repair", REPAIR_FIELDS)):
            for _, placeholder, _, _ in string.Formatter().parse(_text(getattr(self, field_name))):
                if placeholder is not None and placeholder not in allowed:
                    raise ValueError(
                        f"{field_name}: unknown placeholder {{{placeholder}}}; known: {', '.join(sorted(allowed))} "
                        "(write literal braces as {{ and }})"
                    )
        return self

    @property
    def criterion_names(self) -> list[str]:
        return [c.name for c in self.criteria]

    def common_fields(self) -> dict[str, Any]:
        example = {c.name: self.scale.max - i % (self.scale.max - self.scale.min + 1) for i, c in enumerate(self.criteria)}
        return {
            "criteria": "\n".join(f"- {c.name}: {c.question}" for c in self.criteria),
            "criteria_names": ", ".join(self.criterion_names),
            "scale_min": self.scale.min,
            "scale_max": self.scale.max,
            "json_example": json.dumps(example),
        }


def resolve_rubric_path(rubric: str | Path) -> Path:
    """A path to a rubric file, or the name of a shipped one (`default`)."""
    path = Path(rubric).expanduser()
    if path.is_file():
        return path
    shipped = RUBRIC_DIR / f"{rubric}.json"
    if shipped.is_file():
        return shipped
    known = sorted(p.stem for p in RUBRIC_DIR.glob("*.json"))
    raise RegenBenchError(f"llm-rater: rubric {str(rubric)!r} is neither a file nor a shipped rubric ({', '.join(known)})")


def load_rubric(rubric: str | Path = "default") -> Rubric:
    path = resolve_rubric_path(rubric)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RegenBenchError(f"llm-rater: rubric {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise RegenBenchError(f"llm-rater: rubric {path} must be a JSON object")
    data.pop("sha", None)
    try:
        parsed = Rubric.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '-'}: {e['msg']}" for e in exc.errors())
        raise RegenBenchError(f"llm-rater: rubric {path} is invalid: {problems}") from None
    # The canonical JSON, not the file bytes: line endings and indentation do not matter.
    parsed.sha = sha256_text(canonical_json(data))
    return parsed


# -- prompts -----------------------------------------------------------------------------
def build_prompt(rubric: Rubric, prediction: str, reference: str, example) -> tuple[str, str]:
    """(prompt, context) where context is "full" or "reference-only"."""
    fields = rubric.common_fields()
    fields.update(reference=reference.strip() or "(empty)", narrative=prediction.strip() or "(empty)")
    if example is None:
        fields["task"] = GENERIC_TASK
        return _text(rubric.prompt_reference_only).format(**fields), "reference-only"
    task = task_of(example, reference)
    fields["task"] = rubric.tasks.get(task, task.replace("_", " ")) if task else GENERIC_TASK
    fields["history"] = format_history(example.history, rubric.history)
    fields["target"] = item_text(example.target.item) if example.target is not None else "(not given)"
    return _text(rubric.prompt).format(**fields), "full"


def parse_scores(text: str | None, rubric: Rubric) -> tuple[dict[str, int] | None, str | None]:
    """Strictly parse a judge answer: (scores, None) or (None, what is wrong)."""
    data, problem = json_object(text)
    if data is None:
        return None, problem
    missing = [name for name in rubric.criterion_names if name not in data]
    if missing:
        return None, f"missing field(s): {', '.join(missing)}"
    low, high = rubric.scale.min, rubric.scale.max
    scores = {}
    for name in rubric.criterion_names:
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, int):
            return None, f"{name!r} is {json.dumps(value)}, not an integer"
        if not low <= value <= high:
            return None, f"{name!r} is {value}, outside {low}-{high}"
        scores[name] = value
    return scores, None


@dataclass
class Ratings:
    """Per example: the scores (None until rated), "rated"/"failed"/"invalid", the error."""

    scores: list[dict[str, int] | None]
    status: list[str]
    errors: list[str | None]
    failed_calls: int = 0

    @classmethod
    def empty(cls, n: int) -> "Ratings":
        return cls([None] * n, ["rated"] * n, [None] * n)

    def take(self, i: int, result: CallResult, rubric: Rubric) -> str | None:
        """Record the judge's answer about example i; what is wrong with it when it is unusable
        (None when it is rated, or when the call failed, which is recorded as failed)."""
        if not result.ok:
            self.failed_calls += 1
            self.status[i], self.errors[i] = "failed", result.error
            return None
        parsed, problem = parse_scores(result.text, rubric)
        if parsed is not None:
            self.scores[i] = parsed
        return problem


# -- the metric ----------------------------------------------------------------------------
class LlmRaterOptions(ApiClientOptions, MetricOptions):
    """The judge and the rubric; how it is called (concurrency, rpm, retries, base_url,
    api_key_env, prices, cache...) is `ApiClientOptions`."""

    provider: Literal["openai", "gemini"] = "openai"
    model: str | None = None  # default: gpt-4o-mini (openai), gemini-2.0-flash (gemini)
    rubric: str = "default"  # a shipped rubric name or a path to a rubric JSON file
    temperature: float = Field(0.0, ge=0.0)
    max_tokens: int = Field(256, ge=1)
    json_mode: bool = True  # response_format json_object / response_mime_type application/json


class LlmRaterMetric(Metric):
    """A judge model (OpenAI or Gemini) rates each narrative 1-5 on a pinned rubric."""

    name = "llm-rater"
    extras = ("api",)  # `regen-bench list` shows it; the optional libraries it imports
    description = "LLM judge (OpenAI/Gemini) rates narratives 1-5 on faithfulness, relevance, personalisation, fluency."
    version = "1"
    higher_is_better = True
    paid_api = True  # every score is a judge call
    Options = LlmRaterOptions

    def __init__(self, **options):
        super().__init__(**options)
        self.rubric = load_rubric(self.options.rubric)
        self.options.price_table()  # fail now on a bad price file, not after the first paid call

    @property
    def model_id(self) -> str:
        return self.options.model or DEFAULT_MODELS[self.options.provider]

    def provider(self):
        return chat_provider(
            self.options.provider, self.model_id, base_url=self.options.base_url,
            api_key_env=self.options.api_key_env, timeout=self.options.timeout,
        )

    def _signature(self, context: str = "full") -> str:
        o = self.options
        settings: dict[str, Any] = {"provider": o.provider, "model": self.model_id}
        if o.base_url:
            settings["endpoint"] = o.endpoint_digest(8)
        settings.update({
            "rubric": self.rubric.sha[:12],
            "temp": f"{o.temperature:g}",
            "scale": f"{self.rubric.scale.min}-{self.rubric.scale.max}",
            "json": o.json_mode,
            "context": context,
        })
        return Signature(self.name, self.version, settings).format()

    def signature(self) -> str:
        return self._signature()

    def _request(self, messages, label):
        o = self.options
        return CallRequest(
            messages=tuple(messages), system=self.rubric.system, temperature=o.temperature,
            max_tokens=o.max_tokens, json_mode=o.json_mode, template_sha=self.rubric.sha, label=label,
        )

    def _rate(self, runner, prompts: list[str], labels: list[str]) -> tuple[Ratings, int]:
        """First answers, then one repair call for each unusable answer; (ratings, repairs)."""
        ratings = Ratings.empty(len(prompts))
        first = runner.run([self._request([("user", p)], label) for p, label in zip(prompts, labels)]) if prompts else []
        to_repair: list[tuple[int, str, str]] = []
        for i, result in enumerate(first):
            problem = ratings.take(i, result, self.rubric)
            if problem is not None:
                to_repair.append((i, result.text or "", problem))

        if to_repair:
            common = self.rubric.common_fields()
            repairs = [
                self._request(
                    [("user", prompts[i]), ("assistant", answer.strip() or "(empty answer)"),
                     ("user", _text(self.rubric.repair).format(error=problem, **common))],
                    labels[i],
                )
                for i, answer, problem in to_repair
            ]
            for (i, _, problem), result in zip(to_repair, runner.run(repairs)):
                again = ratings.take(i, result, self.rubric)
                if again is not None:
                    ratings.status[i] = "invalid"
                    ratings.errors[i] = f"first answer: {problem}; after repair: {again}"
        return ratings, len(to_repair)

    def score(self, predictions: list, references: list, examples: list | None) -> MetricOutput:
        n = len(predictions)
        examples = list(examples) if examples is not None else [None] * n
        if len(examples) != n:
            raise ValueError(f"llm-rater: {n} predictions but {len(examples)} examples")

        prompts, contexts, labels = [], [], []
        for i, (prediction, reference, example) in enumerate(zip(predictions, references, examples)):
            prompt, context = build_prompt(self.rubric, prediction, reference, example)
            prompts.append(prompt)
            contexts.append(context)
            labels.append(example.example_id if example is not None else str(i))

        o = self.options
        with CallRunner(self.provider(), **o.client_kwargs()) as runner:
            ratings, repairs = self._rate(runner, prompts, labels)
        scores, status, errors = ratings.scores, ratings.status, ratings.errors

        rated = sum(1 for s in scores if s is not None)
        failed_examples = status.count("failed")
        if n and failed_examples == n:
            raise RegenBenchError(
                f"llm-rater: all {n} judge calls to {o.provider}:{self.model_id} failed; the first: {errors[0]}. "
                "Failed calls are not cached: fix the cause and run again."
            )
        if failed_examples:
            log.warning(
                "llm-rater: %d of %d examples unrated because the judge call failed (first: %s); "
                "they will be retried on the next run", failed_examples, n, next(e for e in errors if e),
            )

        components = [
            Component.mean(name, [s[name] if s is not None else math.nan for s in scores])
            for name in self.rubric.criterion_names
        ]
        overall = [sum(s.values()) / len(s) if s is not None else math.nan for s in scores]
        components.append(Component.mean("overall", overall))

        details = []
        for i in range(n):
            detail: dict[str, Any] = {"llm_rater_status": status[i], "llm_rater_context": contexts[i]}
            if errors[i]:
                detail["llm_rater_error"] = errors[i]
            details.append(detail)

        present = set(contexts)
        context = present.pop() if len(present) == 1 else ("mixed" if present else "full")
        counts = {
            "rated": rated,
            "unrated": n - rated,
            "failed_calls": ratings.failed_calls,
            "cache_hits": runner.stats["cache_hits"],
            "repairs": repairs,
            "invalid_answers": status.count("invalid"),
            "reference_only": contexts.count("reference-only"),
        }
        return MetricOutput(
            components, details=details, signature=self._signature(context), counts=counts,
            usage=runner.usage.as_dict(),
        )


@hookimpl
def register_metrics(register):
    register(LlmRaterMetric)
