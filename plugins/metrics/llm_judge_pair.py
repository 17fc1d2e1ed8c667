"""llm-judge-pair: a judge model (OpenAI or Gemini) compares two runs' narratives, both orders asked.

`regen-bench compare A B --metric llm-judge-pair` (A the baseline, B the candidate). For each
example both runs generated, the judge sees the user's history, the target item, the
reference and the two narratives, and answers `{"winner": "1" | "2" | "tie", "reason": ...}`
(the pinned rubric `rubrics/pairwise.json`, its sha256 in the signature). Each pair is asked
twice, once with A shown first and once with B first, to cancel position bias (Zheng et al.
2023, "Judging LLM-as-a-judge with MT-Bench", whose rule this follows): B *wins* an example
only when both orders prefer it, *loses* only when both prefer A, and anything else (the
orders disagree, or the judge says tie) is a *tie*.

Components, per example and from B's side (means, bootstrapped like every mean):
  win, tie, loss     1 or 0: the example's outcome (win, then the two context components)
  net                win - loss: +1, 0 or -1 (its mean is the win rate minus the loss rate)
  agreement          1 when both orders gave the same verdict (context: how consistent the judge is)
  first_position     of the order's non-tie answers, the share that picked the narrative shown
                     first (context: 0.5 is no position bias)
An unusable answer gets one repair call; an example whose either order stays unusable or
whose call failed is unjudged (NaN, counted), and a failed call is retried by the next
compare. Every successful call is cached (the rater's SQLite call cache): a second compare
makes no request. Usage and cost are reported as the rater's are.

Signature, e.g. `metric:llm-judge-pair|provider:openai|model:gpt-4o-mini|rubric:3f9c0a1b2c4d|
temp:0|json:yes|orders:both|rule:consistent|context:full|version:1`.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from regen_bench import hookimpl
from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.metric import Component, MetricOptions, MetricOutput, Signature
from regen_bench.contracts.pairwise import PairwiseMetric
from regen_bench.util.hashing import canonical_json, sha256_text
from regen_bench_plugins.api_client import ApiClientOptions, CallRequest, CallRunner
from regen_bench_plugins.prompting.judging import HistoryFormat, format_history, item_text, json_object, task_of
from regen_bench_plugins.providers import chat_provider

log = logging.getLogger("regen_bench.llm_judge_pair")

RUBRIC_DIR = Path(__file__).resolve().parent / "rubrics"
DEFAULT_MODELS = {"openai": "gpt-4o-mini", "gemini": "gemini-2.0-flash"}
GENERIC_TASK = "a narrative about the user and their purchases"
VERDICTS = ("1", "2", "tie")


class PairRubric(BaseModel):
    """A pairwise rubric file (JSON); its sha256 (of the canonical JSON) pins it in the signature."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    tasks: dict[str, str] = Field(default_factory=dict)
    history: HistoryFormat = Field(default_factory=HistoryFormat)
    system: str | None = None
    prompt: list[str]
    prompt_reference_only: list[str]
    repair: list[str]
    sha: str = ""  # filled by load_pair_rubric


def load_pair_rubric(rubric: str | Path = "pairwise") -> PairRubric:
    path = Path(rubric).expanduser()
    if not path.is_file():
        path = RUBRIC_DIR / f"{rubric}.json"
    if not path.is_file():
        raise RegenBenchError(f"llm-judge-pair: rubric {str(rubric)!r} is neither a file nor a shipped rubric "
                              "(pairwise)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        parsed = PairRubric.model_validate({k: v for k, v in data.items() if k != "sha"})
    except (json.JSONDecodeError, ValidationError, AttributeError) as exc:
        raise RegenBenchError(f"llm-judge-pair: rubric {path} is invalid: {' '.join(str(exc).split())}") from None
    parsed.sha = sha256_text(canonical_json(data))
    return parsed


def build_pair_prompt(rubric: PairRubric, first: str, second: str, reference: str, example) -> tuple[str, str]:
    """(prompt, context): `first` shown as narrative 1, `second` as narrative 2."""
    fields = {"reference": reference.strip() or "(empty)", "narrative_1": first.strip() or "(empty)",
              "narrative_2": second.strip() or "(empty)"}
    if example is None:
        fields["task"] = GENERIC_TASK
        return "\n".join(rubric.prompt_reference_only).format(**fields), "reference-only"
    task = task_of(example, reference)
    fields["task"] = rubric.tasks.get(task, task.replace("_", " ")) if task else GENERIC_TASK
    fields["history"] = format_history(example.history, rubric.history)
    fields["target"] = item_text(example.target.item) if example.target is not None else "(not given)"
    return "\n".join(rubric.prompt).format(**fields), "full"


def parse_verdict(text: str | None) -> tuple[str | None, str | None]:
    """("1" | "2" | "tie", None), or (None, what is wrong with the answer)."""
    data, problem = json_object(text)
    if data is None:
        return None, problem
    if "winner" not in data:
        return None, "the answer is not a JSON object with a \"winner\" field"
    winner = data["winner"]
    if isinstance(winner, int) and not isinstance(winner, bool):
        winner = str(winner)
    if not isinstance(winner, str) or winner.strip().lower() not in VERDICTS:
        return None, f"winner is {json.dumps(winner)}, not \"1\", \"2\" or \"tie\""
    return winner.strip().lower(), None


def candidate_side(verdict: str, candidate_first: bool) -> str:
    """An order's verdict as "B" (the candidate), "A" (the baseline) or "tie"."""
    if verdict == "tie":
        return "tie"
    return "B" if (verdict == "1") == candidate_first else "A"


def outcome(side_ab: str, side_ba: str) -> str:
    """The example's outcome from its two orders: a win or a loss only when both agree."""
    return side_ab if side_ab == side_ba and side_ab != "tie" else "tie"


@dataclass
class Judged:
    """Per example and order ("ab": A shown first, "ba": B first): the verdict or why there is none."""

    verdicts: dict[tuple[int, str], str] = field(default_factory=dict)
    problems: dict[tuple[int, str], str] = field(default_factory=dict)
    failed: dict[tuple[int, str], str] = field(default_factory=dict)
    repairs: int = 0


def per_example_components(judged: Judged, n: int) -> list[Component]:
    values: dict[str, list[float]] = {name: [] for name in ("win", "tie", "loss", "net", "agreement", "first_position")}
    for i in range(n):
        ab, ba = judged.verdicts.get((i, "ab")), judged.verdicts.get((i, "ba"))
        if ab is None or ba is None:
            for column in values.values():
                column.append(math.nan)
            continue
        side_ab, side_ba = candidate_side(ab, candidate_first=False), candidate_side(ba, candidate_first=True)
        result = outcome(side_ab, side_ba)
        values["win"].append(float(result == "B"))
        values["tie"].append(float(result == "tie"))
        values["loss"].append(float(result == "A"))
        values["net"].append(float(result == "B") - float(result == "A"))
        values["agreement"].append(float(side_ab == side_ba))
        picks = [v for v in (ab, ba) if v != "tie"]
        values["first_position"].append(sum(v == "1" for v in picks) / len(picks) if picks else math.nan)
    return [Component.mean(name, column) for name, column in values.items()]


class LlmJudgePairOptions(ApiClientOptions, MetricOptions):
    """The judge and the rubric; how it is called (concurrency, rpm, retries, base_url, prices,
    cache...) is `ApiClientOptions`."""

    provider: Literal["openai", "gemini"] = "openai"
    model: str | None = None  # default: gpt-4o-mini (openai), gemini-2.0-flash (gemini)
    rubric: str = "pairwise"  # a shipped rubric name or a path to a rubric JSON file
    temperature: float = Field(0.0, ge=0.0)
    max_tokens: int = Field(200, ge=1)
    json_mode: bool = True


class LlmJudgePairMetric(PairwiseMetric):
    """A judge model compares two runs' narratives, each pair in both orders."""

    name = "llm-judge-pair"
    extras = ("api",)
    description = "Pairwise LLM judge (OpenAI/Gemini) of run B against run A, both orders asked: win/tie/loss rates."
    version = "1"
    higher_is_better = True  # win and net; tie, loss, agreement and first_position are context
    context_components = ("tie", "loss", "agreement", "first_position")
    paid_api = True
    Options = LlmJudgePairOptions

    def __init__(self, **options):
        super().__init__(**options)
        self.rubric = load_pair_rubric(self.options.rubric)
        self.options.price_table()  # a bad price file fails now, not after the first paid call

    @property
    def model_id(self) -> str:
        return self.options.model or DEFAULT_MODELS[self.options.provider]

    def _signature(self, context: str = "full") -> str:
        o = self.options
        settings: dict[str, Any] = {"provider": o.provider, "model": self.model_id}
        if o.base_url:
            settings["endpoint"] = o.endpoint_digest(8)
        settings.update({"rubric": self.rubric.sha[:12], "temp": f"{o.temperature:g}", "json": o.json_mode,
                         "orders": "both", "rule": "consistent", "context": context})
        return Signature(self.name, self.version, settings).format()

    def signature(self) -> str:
        return self._signature()

    def _request(self, messages, label: str) -> CallRequest:
        o = self.options
        return CallRequest(messages=tuple(messages), system=self.rubric.system, temperature=o.temperature,
                           max_tokens=o.max_tokens, json_mode=o.json_mode, template_sha=self.rubric.sha, label=label)

    def _judge(self, runner, prompts: dict[tuple[int, str], str], labels: list[str]) -> Judged:
        judged = Judged()
        keys = list(prompts)
        first = runner.run([self._request([("user", prompts[k])], f"{labels[k[0]]}:{k[1]}") for k in keys])
        to_repair = []
        for key, result in zip(keys, first):
            if not result.ok:
                judged.failed[key] = result.error or "the call failed"
                continue
            verdict, problem = parse_verdict(result.text)
            if verdict is not None:
                judged.verdicts[key] = verdict
            else:
                to_repair.append((key, result.text or "", problem))
        if to_repair:
            requests = [self._request([("user", prompts[key]), ("assistant", answer.strip() or "(empty answer)"),
                                       ("user", "\n".join(self.rubric.repair).format(error=problem))],
                                      f"{labels[key[0]]}:{key[1]}") for key, answer, problem in to_repair]
            judged.repairs = len(requests)
            for (key, _, problem), result in zip(to_repair, runner.run(requests)):
                verdict, again = parse_verdict(result.text) if result.ok else (None, result.error)
                if verdict is not None:
                    judged.verdicts[key] = verdict
                elif result.ok:
                    judged.problems[key] = f"first answer: {problem}; after repair: {again}"
                else:
                    judged.failed[key] = result.error or "the call failed"
        return judged

    def score_pairs(self, baseline: list, candidate: list, references: list, examples: list | None) -> MetricOutput:
        n = len(candidate)
        examples = list(examples) if examples is not None else [None] * n
        prompts: dict[tuple[int, str], str] = {}
        contexts, labels = [], []
        for i, (a, b, reference, example) in enumerate(zip(baseline, candidate, references, examples)):
            prompts[(i, "ab")], context = build_pair_prompt(self.rubric, a, b, reference, example)
            prompts[(i, "ba")], _ = build_pair_prompt(self.rubric, b, a, reference, example)
            contexts.append(context)
            labels.append(example.example_id if example is not None else str(i))
        provider = chat_provider(self.options.provider, self.model_id, base_url=self.options.base_url,
                                 api_key_env=self.options.api_key_env, timeout=self.options.timeout)
        with CallRunner(provider, **self.options.client_kwargs()) as runner:
            judged = self._judge(runner, prompts, labels)
        if n and len(judged.failed) == 2 * n:
            first = next(iter(judged.failed.values()))
            raise RegenBenchError(f"llm-judge-pair: all {2 * n} judge calls to {self.options.provider}:{self.model_id} "
                                  f"failed; the first: {first}. Failed calls are not cached: fix the cause and run again.")
        components = per_example_components(judged, n)
        unjudged = sum(1 for v in components[0].per_example if math.isnan(v))
        if judged.failed:
            log.warning("llm-judge-pair: %d of %d judge calls failed (first: %s); those examples are unjudged and "
                        "retried by the next compare", len(judged.failed), 2 * n, next(iter(judged.failed.values())))
        details = []
        for i in range(n):
            detail: dict[str, Any] = {f"judge_{order}": judged.verdicts.get((i, order)) for order in ("ab", "ba")}
            errors = [judged.failed.get((i, o)) or judged.problems.get((i, o)) for o in ("ab", "ba")]
            if any(errors):
                detail["judge_error"] = "; ".join(e for e in errors if e)
            details.append(detail)
        present = set(contexts)
        context = present.pop() if len(present) == 1 else ("mixed" if present else "full")
        counts = {"judged": n - unjudged, "unjudged": unjudged, "calls": 2 * n, "failed_calls": len(judged.failed),
                  "invalid_answers": len(judged.problems), "repairs": judged.repairs,
                  "cache_hits": runner.stats["cache_hits"]}
        return MetricOutput(components, details=details, signature=self._signature(context), counts=counts,
                            usage=runner.usage.as_dict())


@hookimpl
def register_metrics(register):
    register(LlmJudgePairMetric)
