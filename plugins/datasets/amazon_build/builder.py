"""`data build`, the pipeline: raw reviews -> histories -> similar pairs -> LLM calls -> REGEN file.

1. read the reviews twice (`histories.py`): k-core, the seeded choice of users, their
   chronological histories cut to the last `history` purchases, then those reviews' texts;
2. read the metadata of the chosen items only (`raw_reader.read_meta`);
3. per chunk of users: a critique for each similar consecutive pair (`pairs.py`), then
   for each user a purchase reason and an endorsement of the last purchase and the short
   (profile) and long summaries (`calls.py`; the reason and endorsement prompts see the
   last purchase's critique, so critiques go first);
4. write the records (`records.py`) to a temporary file renamed over OUTPUT at the end,
   and the manifest (`manifest.py`) beside it.

Every answer is in the call cache as soon as it arrives: a killed build run again with
the same arguments asks only for what it lacks, and writes the same bytes.
"""

from __future__ import annotations

import contextlib
import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.data.reader import BadRecordReport
from regen_bench.util.atomic import atomic_writer
from regen_bench.util.hashing import sha256_file
from regen_bench_plugins.api_client import CallCache, default_cache_path
from regen_bench_plugins.datasets.amazon_build import histories
from regen_bench_plugins.datasets.amazon_build.backends import Backend
from regen_bench_plugins.datasets.amazon_build.calls import Job, Tally, run_jobs
from regen_bench_plugins.datasets.amazon_build.formats import ItemMeta
from regen_bench_plugins.datasets.amazon_build.manifest import input_info, write_manifest
from regen_bench_plugins.datasets.amazon_build.pairs import similar
from regen_bench_plugins.datasets.amazon_build.progress import Progress
from regen_bench_plugins.datasets.amazon_build.prompts import (
    PROMPT_VERSION,
    critique_prompt,
    narrative_prompt,
    prompt_hashes,
)
from regen_bench_plugins.datasets.amazon_build.raw_reader import iter_interactions, read_meta
from regen_bench_plugins.datasets.amazon_build.records import BUILD_LAYOUT, purchase_dict, user_record

NARRATIVES = ("purchase_reason", "endorsement", "profile", "long_summary")
OUTPUT_SUFFIXES = (".jsonl", ".jsonl.gz")


@dataclass
class BuildConfig:
    reviews: Path
    output: Path
    meta: Path | None = None
    fmt: str = "auto"
    users: int | None = None
    min_interactions: int = 5
    item_min_interactions: int = 5
    history: int = 50
    seed: int = 0
    similar_depth: int = 2
    category: str | None = None
    on_bad_record: str = "error"
    chunk_users: int = 64
    cache: Path | None = None
    progress: bool = True
    say: Callable[[str], Any] = print


@dataclass
class Plan:
    """The users and their purchases, before any call."""

    users: list[str]
    purchases: dict[str, list[dict]]
    pairs: dict[str, list[int]]  # user -> positions i whose (i-1, i) is a similar pair
    counts: dict[str, int]
    bad_lines: dict[str, BadRecordReport] = field(default_factory=dict)
    review_format: str | None = None
    meta_format: str | None = None

    @property
    def calls(self) -> dict[str, int]:
        n = sum(len(p) for p in self.pairs.values())
        return {"critique": n, **{name: len(self.users) for name in NARRATIVES}}


def _check_output(output: Path) -> None:
    if not output.name.lower().endswith(OUTPUT_SUFFIXES):
        raise RegenBenchError(f"--output {output}: a REGEN file ends in .jsonl or .jsonl.gz")


def plan_build(config: BuildConfig) -> Plan:
    _check_output(config.output)
    if not config.reviews.is_file():
        raise RegenBenchError(f"--reviews {config.reviews}: no such file")
    if config.meta is not None and not config.meta.is_file():
        raise RegenBenchError(f"--meta {config.meta}: no such file")
    reports = {"reviews": BadRecordReport(), "meta": BadRecordReport()}
    first = iter_interactions(config.reviews, fmt=config.fmt, on_bad_record=config.on_bad_record,
                              report=reports["reviews"])
    selection = histories.select(
        first, users=config.users, min_interactions=config.min_interactions,
        item_min_interactions=config.item_min_interactions, history=config.history, seed=config.seed,
        progress=_every_million(config, f"reading {config.reviews.name}", "reviews"),
    )
    if not selection.users:
        c = selection.counts
        raise RegenBenchError(
            f"{config.reviews}: no user is left after k-core filtering ({c['users_in_file']:,} users in the file; "
            f"--min-interactions {config.min_interactions}, --item-min-interactions {config.item_min_interactions}); "
            "lower the thresholds"
        )
    fmt = first.fmt
    second = iter_interactions(config.reviews, fmt=fmt, on_bad_record="skip", report=BadRecordReport())
    reviews = histories.collect_reviews(second, selection)
    wanted = {a for hist in selection.histories.values() for _, a in hist}
    meta: dict[str, ItemMeta] = {}
    meta_format = None
    if config.meta is not None:
        meta, meta_format = read_meta(config.meta, wanted, on_bad_record=config.on_bad_record, report=reports["meta"],
                                      progress=_every_million(config, f"reading {config.meta.name}", "items"))
    else:
        config.say(
            "note: no --meta file: items have no title, category, price or brand (only their ASIN); "
            + (f"every item counts as category {config.category!r} when finding similar pairs"
               if config.category else "no pair can be found similar without titles or categories, so there "
                                       "will be no critiques (give --category NAME to treat the whole dump as one category)")
        )
    purchases: dict[str, list[dict]] = {}
    pairs: dict[str, list[int]] = {}
    for user in selection.users:
        hist = selection.histories[user]
        purchases[user] = [purchase_dict(reviews[(user, a)], meta.get(a)) for _, a in hist]
        pairs[user] = [
            i for i in range(1, len(hist))
            if _similar(meta.get(hist[i - 1][1]), meta.get(hist[i][1]), config)
        ]
    counts = dict(selection.counts)
    counts.update(
        items=len(wanted), items_without_meta=len(wanted - set(meta)),
        purchases=sum(len(p) for p in purchases.values()), similar_pairs=sum(len(p) for p in pairs.values()),
        bad_review_lines=reports["reviews"].count, bad_meta_lines=reports["meta"].count,
    )
    if config.meta is not None and counts["items_without_meta"]:
        config.say(f"note: {counts['items_without_meta']:,} of {len(wanted):,} items have no line in {config.meta.name}; "
                   "they keep only their ASIN")
    return Plan(selection.users, purchases, pairs, counts, reports, fmt, meta_format)


def _every_million(config: BuildConfig, doing: str, what: str) -> Callable[[int], None] | None:
    """A note on stderr every million lines read (a big dump takes minutes per pass)."""
    if not config.progress:
        return None
    return lambda n: config.say(f"{doing}: {n:,} {what}") if n % 1_000_000 == 0 else None


def _similar(a: ItemMeta | None, b: ItemMeta | None, config: BuildConfig) -> bool:
    return similar(a.category if a else (), a.title if a else None, b.category if b else (), b.title if b else None,
                   depth=config.similar_depth, fallback_category=config.category)


class _Calls:
    """The runner, the progress line and the tally of one build."""

    def __init__(self, backend: Backend, plan: Plan, config: BuildConfig):
        self.backend, self.tally = backend, Tally()
        self.progress = Progress(sum(plan.calls.values()), enabled=config.progress)
        self.cache = CallCache(config.cache or default_cache_path()) if backend.options.cache else None
        self.runner = backend.runner(self.cache, on_result=self._fresh)

    def _fresh(self, result) -> None:
        self.progress.advance(1, cost=self.runner.usage.cost_usd())

    def run(self, jobs: list[Job]) -> list[str | None]:
        before = dict(self.runner.stats)
        texts = run_jobs(self.runner, jobs, self.backend.options, self.tally)
        calls = self.runner.stats["calls"] - before["calls"]
        self.progress.grow(calls - len(jobs))
        hits = self.runner.stats["cache_hits"] - before["cache_hits"]
        self.progress.advance(hits, fresh=False, cost=self.runner.usage.cost_usd())
        if jobs and sum(self.tally.done.values()) == 0 and sum(self.tally.failed.values()) == len(jobs) and \
                self.tally.first_failure:
            raise RegenBenchError(
                f"all {len(jobs)} calls to {self.backend.spec} failed; the first: {self.tally.first_failure}. "
                "Nothing was written; answers already received are cached."
            )
        return texts

    def close(self) -> None:
        self.progress.show(final=True)
        self.runner.close()
        if self.cache is not None:
            self.cache.close()


def _chunk_records(calls: _Calls, plan: Plan, chunk: list[str]) -> list[dict]:
    jobs, where = [], []
    for user in chunk:
        for i in plan.pairs[user]:
            p = plan.purchases[user]
            jobs.append(Job("critique", critique_prompt(p[i - 1], p[i]), f"{user}:{i}"))
            where.append((user, i))
    for (user, i), text in zip(where, calls.run(jobs)):
        plan.purchases[user][i]["critique"] = text
    jobs = []
    for user in chunk:
        *hist, last = plan.purchases[user]
        jobs += [Job(name, narrative_prompt(name, hist, last, last["critique"]), f"{user}:{name}")
                 for name in NARRATIVES]
    texts = iter(calls.run(jobs))
    return [user_record(user, plan.purchases[user], {name: next(texts) for name in NARRATIVES}) for user in chunk]


@contextlib.contextmanager
def _writer(output: Path):
    with atomic_writer(output, "wb") as raw:
        if output.name.lower().endswith(".gz"):
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as handle:
                yield handle
        else:
            yield raw


def build(config: BuildConfig, backend: Backend, plan: Plan | None = None) -> dict:
    """Build the file; returns the manifest's content plus this run's usage (`this_run`)."""
    plan = plan or plan_build(config)
    calls = _Calls(backend, plan, config)
    try:
        with _writer(config.output) as handle:
            for start in range(0, len(plan.users), config.chunk_users):
                for record in _chunk_records(calls, plan, plan.users[start:start + config.chunk_users]):
                    handle.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
    finally:
        calls.close()
    tally = calls.tally
    content = {
        "prompt_version": PROMPT_VERSION,
        "prompts": prompt_hashes(),
        "llm": backend.describe(),
        "inputs": {"reviews": input_info(config.reviews, plan.review_format),
                   "meta": input_info(config.meta, plan.meta_format)},
        "settings": {"users": config.users, "min_interactions": config.min_interactions,
                     "item_min_interactions": config.item_min_interactions, "history": config.history,
                     "seed": config.seed, "similar_depth": config.similar_depth, "category": config.category,
                     "on_bad_record": config.on_bad_record},
        "counts": {**plan.counts, "users_written": len(plan.users)},
        "calls": {"artefacts": plan.calls, **tally.as_dict()},
        "cost_usd_of_answers": backend.prices().cost(backend.provider, backend.model, tally.input_tokens,
                                                     tally.output_tokens),
        "layout": BUILD_LAYOUT.model_dump(),
        "output": {"file": config.output.name, "sha256": sha256_file(config.output)},
    }
    write_manifest(config.output, content)
    runner = calls.runner
    return {**content, "this_run": {**runner.usage.as_dict(), **runner.stats}}
