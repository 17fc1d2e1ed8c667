"""`regen-bench data build`: REGEN-style narratives for any Amazon category, from raw review
dumps and any LLM (an OpenAI-compatible or Gemini API, or SmolLM2 offline).

The command is added to the `data` group by `register_commands`; the work is in the
modules beside this one: `formats.py` and `raw_reader.py` (the 2014/2018 and 2023 dumps),
`histories.py` (k-core, users, chronology), `pairs.py` (similar consecutive items),
`prompts.py` and `prompts/` (the versioned prompt files), `calls.py` and `answers.py`
(one call per artefact, JSON answers, repairs), `backends.py` and `local_backend.py`
(`--llm`), `records.py` (the REGEN layout), `builder.py` (the pipeline), `estimate.py`
(`--dry-run`), `progress.py` and `manifest.py`. See docs/building-datasets.md.
"""

from __future__ import annotations

from pathlib import Path

import click

from regen_bench import hookimpl
from regen_bench.contracts.errors import RegenBenchError
from regen_bench_plugins.datasets.amazon_build.formats import FORMATS


def _pairs(values: tuple[str, ...]) -> dict[str, str]:
    parsed = {}
    for pair in values:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--llm-arg")
        parsed[key.strip()] = value
    return parsed


def _usage_line(run: dict) -> str:
    cost = "unknown" if run.get("cost_usd") is None else f"${run['cost_usd']:,.4f}"
    tokens = "unknown" if run.get("input_tokens") is None else f"{run['input_tokens']:,} in / {run['output_tokens']:,} out"
    return (f"this run: {run['calls']:,} calls ({run['cache_hits']:,} from the cache, {run['requests']:,} HTTP "
            f"requests or generations, {run['retries']:,} retries, {run['failed']:,} failed); tokens {tokens}; "
            f"cost {cost}")


def _report(result: dict, output: Path, manifest: Path) -> list[str]:
    calls, counts = result["calls"], result["counts"]
    missing = {name: calls["malformed"].get(name, 0) + calls["failed"].get(name, 0) for name in calls["artefacts"]}
    lines = [
        f"wrote {counts['users_written']:,} users ({counts['purchases']:,} purchases, {counts['similar_pairs']:,} "
        f"similar pairs) to {output}",
        f"manifest: {manifest}",
        _usage_line(result["this_run"]),
        f"the file's answers: {calls['input_tokens']:,} input / {calls['output_tokens']:,} output tokens"
        + ("" if result["cost_usd_of_answers"] is None else f", ${result['cost_usd_of_answers']:,.4f} at list price"),
    ]
    if any(missing.values()):
        detail = ", ".join(f"{name} {n:,} ({calls['malformed'].get(name, 0):,} malformed, "
                           f"{calls['failed'].get(name, 0):,} failed)" for name, n in missing.items() if n)
        lines.append(f"warning: missing artefacts (null in the file): {detail}; failed calls are retried by "
                     "the same command")
    return lines


@click.command("build")
@click.option("--reviews", "reviews", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Raw Amazon review dump (2014/2018 or 2023 format; .json/.jsonl, plain or .gz).")
@click.option("--meta", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The matching meta_* file (titles, categories, prices, brands) [default: none, ASINs only].")
@click.option("--llm", "llm", required=True, metavar="SPEC",
              help="openai:MODEL, gemini:MODEL or local[:MODEL] (SmolLM2-135M offline).")
@click.option("--llm-arg", "llm_args", multiple=True, metavar="KEY=VALUE",
              help="LLM option (repeatable): base_url, api_key_env, concurrency, rpm, tpm, retries, timeout, "
                   "prices, cache, temperature, max_tokens, json_mode, seed, device, dtype.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="REGEN file to write (.jsonl or .jsonl.gz); the manifest goes beside it.")
@click.option("--users", type=click.IntRange(min=1), default=None, help="Users to build [default: every user left].")
@click.option("--min-interactions", type=click.IntRange(min=2), default=5, show_default=True,
              help="k-core: the fewest distinct items a user keeps.")
@click.option("--item-min-interactions", type=click.IntRange(min=1), default=None,
              help="k-core: the fewest users an item keeps [default: --min-interactions].")
@click.option("--history", type=click.IntRange(min=2), default=50, show_default=True,
              help="Keep each user's last N purchases (the last is the target).")
@click.option("--seed", type=int, default=0, show_default=True, help="Which users --users picks.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True,
              help="Raw format of --reviews and --meta (auto: from the first line's keys).")
@click.option("--similar-depth", type=click.IntRange(min=1), default=2, show_default=True,
              help="Consecutive items are similar when their category paths share this many levels.")
@click.option("--category", default=None,
              help="The dump's category, for items without metadata (e.g. AMAZON_FASHION).")
@click.option("--on-bad-record", type=click.Choice(["error", "skip"]), default="error", show_default=True,
              help="Stop at the first malformed input line, or skip malformed lines and count them.")
@click.option("--cache", "cache_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Call cache file [default: the API client's, under the regen-bench cache].")
@click.option("--dry-run", is_flag=True, help="Print the calls, tokens and cost a build would make; call nothing.")
@click.option("--quiet", is_flag=True, help="No progress line.")
def build_command(reviews, meta, llm, llm_args, output, users, min_interactions, item_min_interactions, history,
                  seed, fmt, similar_depth, category, on_bad_record, cache_path, dry_run, quiet):
    """Build a REGEN-format dataset from raw Amazon reviews: k-core users, their chronological
    histories, critiques between similar consecutive purchases, and an LLM-written purchase
    reason, endorsement, profile and long summary per user. Re-run the same command after an
    interruption: answers come from the call cache and the file is the same."""
    from regen_bench_plugins.api_client import CallCache, default_cache_path
    from regen_bench_plugins.datasets.amazon_build.backends import open_backend
    from regen_bench_plugins.datasets.amazon_build.builder import BuildConfig, build, plan_build
    from regen_bench_plugins.datasets.amazon_build.estimate import estimate, format_estimate
    from regen_bench_plugins.datasets.amazon_build.manifest import manifest_path

    backend = open_backend(llm, _pairs(llm_args))
    say = (lambda text: None) if quiet else (lambda text: click.echo(text, err=True))
    config = BuildConfig(
        reviews=reviews, output=output, meta=meta, fmt=fmt, users=users, min_interactions=min_interactions,
        item_min_interactions=min_interactions if item_min_interactions is None else item_min_interactions,
        history=history, seed=seed, similar_depth=similar_depth, category=category, on_bad_record=on_bad_record,
        cache=cache_path, progress=not quiet, say=say,
    )
    plan = plan_build(config)
    for name, report in plan.bad_lines.items():
        if report.count:
            click.echo(f"warning: {report.summary().replace('record(s)', f'{name} line(s)')}", err=True)
    if dry_run:
        cache = CallCache(cache_path or default_cache_path()) if backend.options.cache else None
        try:
            click.echo(format_estimate(estimate(plan, backend, cache), llm))
        finally:
            if cache is not None:
                cache.close()
        return
    try:
        result = build(config, backend, plan)
    except KeyboardInterrupt:
        raise RegenBenchError("interrupted: nothing was written; the answers received are cached, so the same "
                              "command resumes where this one stopped") from None
    for line in _report(result, output, manifest_path(output)):
        click.echo(line)


@hookimpl
def register_commands(cli):
    cli.commands["data"].add_command(build_command)
