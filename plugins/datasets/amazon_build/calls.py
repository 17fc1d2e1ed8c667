"""One LLM call per artefact: the request, the answer checked, one repair call, the outcome.

An answer that is not the JSON asked for gets one repair call (the model is shown its
answer and what is wrong with it); if that fails too the artefact is *malformed*: null
in the output, counted in the manifest. A call that fails after the client's retries
(429/5xx/timeouts) leaves the artefact *failed*: null and counted too; failed calls are
not cached, so the next build with the same arguments makes exactly those calls again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from regen_bench_plugins.api_client import CallRequest, CallResult, CallRunner
from regen_bench_plugins.datasets.amazon_build.answers import parse_answer
from regen_bench_plugins.datasets.amazon_build.backends import LlmOptions
from regen_bench_plugins.datasets.amazon_build.prompts import ARTEFACTS, repair_prompt, template


@dataclass(frozen=True)
class Job:
    artefact: str
    prompt: str
    label: str  # user id and position, for logs


@dataclass
class Tally:
    """What the calls gave, deterministic for given answers (the manifest's counts)."""

    done: Counter = field(default_factory=Counter)  # artefact -> texts
    malformed: Counter = field(default_factory=Counter)
    failed: Counter = field(default_factory=Counter)
    repairs: int = 0
    input_tokens: int = 0  # over every answer used, from the cache or not
    output_tokens: int = 0
    first_failure: str | None = None

    def add_tokens(self, result: CallResult) -> None:
        self.input_tokens += result.input_tokens or 0
        self.output_tokens += result.output_tokens or 0

    def as_dict(self) -> dict:
        return {"texts": dict(sorted(self.done.items())), "malformed": dict(sorted(self.malformed.items())),
                "failed": dict(sorted(self.failed.items())), "repair_calls": self.repairs,
                "input_tokens": self.input_tokens, "output_tokens": self.output_tokens}


def template_sha(artefact: str, repair: bool = False) -> str:
    parts = [template("system").sha256, template(artefact).sha256] + ([template("repair").sha256] if repair else [])
    return ":".join(p[:16] for p in parts)


def request(job: Job, options: LlmOptions, answer: str | None = None, problem: str | None = None) -> CallRequest:
    budget = ARTEFACTS[job.artefact].max_tokens
    if options.max_tokens is not None:
        budget = min(budget, options.max_tokens)
    messages: tuple = (("user", job.prompt),)
    if problem is not None:
        messages += (("assistant", (answer or "").strip() or "(empty answer)"),
                     ("user", repair_prompt(job.artefact, problem)))
    return CallRequest(messages=messages, system=template("system").text, temperature=options.temperature,
                       max_tokens=budget, json_mode=options.json_mode, seed=options.seed,
                       template_sha=template_sha(job.artefact, repair=problem is not None), label=job.label)


def _take(job: Job, result, tally: Tally) -> tuple[str | None, str | None]:
    """(the artefact's text or None, what is wrong with the answer or None); a failed call
    is counted in `tally` and is (None, None): it is not repaired, the next build retries it."""
    if not result.ok:
        tally.failed[job.artefact] += 1
        tally.first_failure = tally.first_failure or result.error
        return None, None
    tally.add_tokens(result)
    return parse_answer(result.text, job.artefact)


def run_jobs(runner: CallRunner, jobs: list[Job], options: LlmOptions, tally: Tally) -> list[str | None]:
    """The text of each job's artefact, or None; counts go to `tally`."""
    texts: list[str | None] = [None] * len(jobs)
    first = runner.run([request(job, options) for job in jobs]) if jobs else []
    to_repair: list[tuple[int, str, str]] = []
    for i, (job, result) in enumerate(zip(jobs, first)):
        texts[i], problem = _take(job, result, tally)
        if problem is not None:
            to_repair.append((i, result.text or "", problem))
    if to_repair:
        tally.repairs += len(to_repair)
        repaired = runner.run([request(jobs[i], options, answer, problem) for i, answer, problem in to_repair])
        for (i, _, _), result in zip(to_repair, repaired):
            texts[i], problem = _take(jobs[i], result, tally)
            if problem is not None:
                tally.malformed[jobs[i].artefact] += 1
    for job, text in zip(jobs, texts):
        if text is not None:
            tally.done[job.artefact] += 1
    return texts
