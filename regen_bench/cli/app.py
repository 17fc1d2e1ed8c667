"""The `regen-bench` command line. Imports stay light: plugins import their own heavy deps.

The main group (cli/group.py) attaches plugins' commands after `--plugins` is read and
reports errors as one line; the commands here are the built-in ones.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from regen_bench import __version__
from regen_bench.cli.data import data
from regen_bench.cli.group import HarnessGroup
from regen_bench.cli.leaderboard import leaderboard
from regen_bench.cli.results import compare, validate
from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.tasks import DEFAULT_K, default_metrics
from regen_bench.plugin.registry import Registry, add_plugin_files, get_registry
from regen_bench.plugin.specs import build_metrics
from regen_bench.results.report import format_scores, format_table
from regen_bench.results.rescoring import examples_for_results
from regen_bench.results.schema import load_results, read_samples
from regen_bench.results.scoring import score_rows
from regen_bench.run.executor import EXECUTORS
from regen_bench.run.runner import RunConfig, run_benchmark


def _key_values(pairs: tuple[str, ...], option: str) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint=option)
        parsed[key.strip()] = value
    return parsed


def _metric_args(pairs: tuple[str, ...]) -> dict[str, dict[str, str]]:
    parsed: dict[str, dict[str, str]] = {}
    for key, value in _key_values(pairs, "--metric-arg").items():
        metric, dot, option = key.partition(".")
        if not dot or not option:
            raise click.BadParameter(f"expected METRIC.KEY=VALUE, got {key}={value!r}", param_hint="--metric-arg")
        parsed.setdefault(metric, {})[option] = value
    return parsed


def _queue_plugin_files(ctx, param, paths):
    """Eager, so the files are loaded before any command is looked up (even for --help)."""
    if paths:
        add_plugin_files(paths)
    return paths


@click.group(cls=HarnessGroup)
@click.version_option(__version__, prog_name="regen-bench")
@click.option(
    "--plugins", "plugin_files", multiple=True, type=click.Path(dir_okay=False), is_eager=True,
    expose_value=False, callback=_queue_plugin_files, help="Load a one-off plugin from a Python file (repeatable).",
)
@click.option("--debug", is_flag=True, help="Show the traceback when a plugin fails unexpectedly.")
def main(debug):
    """regen-bench: benchmark narrative generation for recommenders on REGEN."""
    del debug  # read by HarnessGroup.invoke when an error reaches it


@main.command()
@click.option("--model", required=True, help="Model name (see `regen-bench list models`).")
@click.option("--dataset", default="synthetic", show_default=True, help="Dataset name or path to a REGEN .jsonl[.gz].")
@click.option("--task", "tasks", multiple=True, help="Task to run (repeatable); default: every task the dataset has.")
@click.option("--metric", "metrics", multiple=True,
              help="Metric (repeatable); default: bleu, rouge (and recall@k, ndcg@k, mrr for next_item).")
@click.option("--limit", type=click.IntRange(min=1), help="Evaluate only the first N examples of the split.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=Path("runs"), show_default=True)
@click.option("--model-arg", "model_args", multiple=True, metavar="KEY=VALUE", help="Model option (repeatable).")
@click.option("--metric-arg", "metric_args", multiple=True, metavar="METRIC.KEY=VALUE", help="Metric option.")
@click.option("--dataset-arg", "dataset_args", multiple=True, metavar="KEY=VALUE", help="Dataset option, e.g. users=500.")
@click.option("--task-map", "task_map", multiple=True, metavar="TASK=FIELD.PATH", help="Map a task to a field path.")
@click.option("--split", type=click.Choice(["test", "validation"]), default="test", show_default=True)
@click.option("--on-bad-record", type=click.Choice(["error", "skip"]), default="error", show_default=True)
@click.option("--bootstrap", "resamples", type=click.IntRange(min=10), default=1000, show_default=True,
              help="Bootstrap resamples for confidence intervals.")
@click.option("--k", "k", type=click.IntRange(min=1), default=DEFAULT_K, show_default=True,
              help="Items asked of recommend() for ranking tasks.")
@click.option("--executor", type=click.Choice(sorted(EXECUTORS)), default="local", show_default=True,
              help="How generation batches run.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def run(model, dataset, tasks, metrics, limit, seed, output, model_args, metric_args, dataset_args, task_map,
        split, on_bad_record, resamples, k, executor, quiet):
    """Load a dataset, fit a model, generate, score, and write results."""
    config = RunConfig(
        model=model, dataset=dataset, tasks=list(tasks), metrics=list(metrics),
        limit=limit, seed=seed, output=output, model_args=_key_values(model_args, "--model-arg"),
        metric_args=_metric_args(metric_args), dataset_args=_key_values(dataset_args, "--dataset-arg"),
        task_map=_key_values(task_map, "--task-map"), split=split, on_bad_record=on_bad_record,
        resamples=resamples, k=k, executor=executor, progress=not quiet, command=["regen-bench", *sys.argv[1:]],
    )
    outcome = run_benchmark(config)
    click.echo(format_scores(outcome.results))
    click.echo(
        f"\n{outcome.generated} generated, {outcome.cached} from cache. "
        f"Results: {outcome.run_dir / 'results.json'}"
    )


@main.command()
@click.argument("samples", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--metric", "metrics", multiple=True, help="Metric (repeatable); default: as for run.")
@click.option("--metric-arg", "metric_args", multiple=True, metavar="METRIC.KEY=VALUE")
@click.option("--seed", type=int, default=None, help="Bootstrap seed; default: the run's seed, else 0.")
@click.option("--bootstrap", "resamples", type=click.IntRange(min=10), default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print scores as JSON.")
def score(samples, metrics, metric_args, seed, resamples, as_json):
    """Re-score a run's saved samples.jsonl without the model."""
    rows = read_samples(samples)
    if not rows:
        raise RegenBenchError(f"{samples}: no samples to score")
    results_path = samples.parent / "results.json"
    run_results = load_results(results_path) if results_path.exists() else None
    if seed is None:
        seed = run_results.seed if run_results is not None else 0
    metric_objs = build_metrics(list(metrics) or default_metrics({row.task for row in rows}), _metric_args(metric_args))
    examples_by_id = None
    if run_results is not None:
        examples_by_id, note = examples_for_results(run_results)
        if note:
            click.echo(f"note: {note}", err=True)
    for row in rows:
        row.scores.clear()
    entries = score_rows(rows, metric_objs, seed=seed, resamples=resamples, examples_by_id=examples_by_id)
    if as_json:
        click.echo(json.dumps([e.model_dump() for e in entries], indent=2))
        return
    table = [[e.task, e.component, f"{e.score:.4f}", f"[{e.ci_low:.4g}, {e.ci_high:.4g}]", str(e.n)] for e in entries]
    click.echo(format_table(["task", "metric", "score", "95% CI", "n"], table))
    for signature in sorted({e.signature for e in entries}):
        click.echo(f"signature: {signature}")


def _task_items(registry: Registry) -> list[dict]:
    """(dataset, task, field) for every registered dataset's layout."""
    items = []
    for name in registry.names("dataset"):
        entry = registry.get("dataset", name)
        try:
            layout = entry.cls().layout()  # providers are cheap to build; path() does the work
        except Exception as exc:  # a provider whose layout needs its options
            items.append({"dataset": name, "task": "?", "field": f"(layout unavailable: {exc})"})
            continue
        items += [{"dataset": name, "task": t, "field": p} for t, p in sorted(layout.tasks.items())]
    return items


def _plugin_items(registry: Registry, kind: str) -> list[dict]:
    """name, plugin, description (and a metric's direction and version, a dataset's label)."""
    items = []
    for name in registry.names(kind):
        entry = registry.get(kind, name)
        item = {"name": name, "plugin": entry.plugin, "description": entry.description}
        if kind == "metric":
            item["higher_is_better"] = bool(entry.cls.higher_is_better)
            item["version"] = str(entry.cls.version)
        if kind == "dataset":
            item["synthetic"] = bool(entry.cls.synthetic)
        items.append(item)
    return items


@main.command("list")
@click.argument("kind", type=click.Choice(["models", "metrics", "datasets", "tasks"]))
@click.option("--json", "as_json", is_flag=True)
def list_(kind, as_json):
    """List registered models, metrics, datasets, or the tasks datasets offer."""
    registry = get_registry()
    if kind == "tasks":
        items, columns = _task_items(registry), ["dataset", "task", "field"]
    else:
        items, columns = _plugin_items(registry, kind[:-1]), ["name", "plugin", "description"]
    if as_json:
        click.echo(json.dumps(items, indent=2))
    else:
        click.echo(format_table(columns, [[item[c] for c in columns] for item in items]))


@main.command()
@click.option("--json", "as_json", is_flag=True)
def plugins(as_json):
    """Show installed plugins: distribution, version, hooks, and load errors."""
    registry = get_registry()
    infos = [info.as_dict() for info in sorted(registry.host.infos.values(), key=lambda i: i.name)]
    if as_json:
        click.echo(json.dumps(infos, indent=2))
        return
    rows = []
    for info in infos:
        status = "blocked" if info["blocked"] else (f"ERROR {info['error']}" if info["error"] else "ok")
        rows.append([info["name"], info["distribution"] or "-", info["version"] or "-", ",".join(info["hooks"]) or "-", status])
    click.echo(format_table(["plugin", "distribution", "version", "hooks", "status"], rows))


@main.group()
def metric():
    """Tools that metrics provide (e.g. a rescaling baseline)."""


@metric.command("baseline")
@click.argument("name")
@click.option("--corpus", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Text file, one sentence or narrative per line.")
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--metric-arg", "metric_args", multiple=True, metavar="METRIC.KEY=VALUE")
@click.option("--seed", type=int, default=0, show_default=True)
def metric_baseline(name, corpus, output, metric_args, seed):
    """Compute a metric's rescaling baseline from a text corpus (e.g. bertscore)."""
    (metric_obj,) = build_metrics([name], _metric_args(metric_args))
    if not metric_obj.has_baseline():
        raise RegenBenchError(f"metric {name!r} has no baseline to build")
    texts = [line.strip() for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(texts) < 2:
        raise RegenBenchError(f"{corpus}: need at least 2 non-empty lines to build a baseline, found {len(texts)}")
    written = metric_obj.build_baseline(texts, output, seed=seed)
    click.echo(f"baseline written: {written}")


@main.group()
def analyze():
    """Analyses that model plugins provide (e.g. `analyze soft-tokens RUN_DIR`)."""


# The command groups that live in their own modules; plugins' commands are attached
# later, when the first command is looked up (HarnessGroup.attach_plugin_commands).
leaderboard.add_command(validate)
main.add_command(data)
main.add_command(leaderboard)
main.add_command(compare)


if __name__ == "__main__":  # pragma: no cover
    main()
