"""The `regen-bench` command line. Imports stay light: plugins import their own heavy deps."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from regen_bench import __version__
from regen_bench.contracts.errors import RegenBenchError


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


class HarnessGroup(click.Group):
    """Turns expected errors into one clear line and exit code 2, without a traceback."""

    def invoke(self, ctx):
        from pydantic import ValidationError

        try:
            return super().invoke(ctx)
        except RegenBenchError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}" for err in exc.errors()
            )
            click.echo(f"error: invalid options for {exc.title}: {problems}", err=True)
            sys.exit(2)


@click.group(cls=HarnessGroup)
@click.version_option(__version__, prog_name="regen-bench")
@click.option(
    "--plugins", "plugin_files", multiple=True, type=click.Path(dir_okay=False),
    help="Load a one-off plugin from a Python file (repeatable).",
)
def main(plugin_files):
    """regen-bench: benchmark narrative generation for recommenders on REGEN."""
    if plugin_files:
        from regen_bench.plugin.registry import add_plugin_files

        add_plugin_files(plugin_files)


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
@click.option("--quiet", is_flag=True, help="No progress bars.")
def run(model, dataset, tasks, metrics, limit, seed, output, model_args, metric_args, dataset_args, task_map,
        split, on_bad_record, resamples, quiet):
    """Load a dataset, fit a model, generate, score, and write results."""
    from regen_bench.results.report import format_scores
    from regen_bench.run.runner import RunConfig, run_benchmark

    config = RunConfig(
        model=model, dataset=dataset, tasks=list(tasks), metrics=list(metrics),
        limit=limit, seed=seed, output=output, model_args=_key_values(model_args, "--model-arg"),
        metric_args=_metric_args(metric_args), dataset_args=_key_values(dataset_args, "--dataset-arg"),
        task_map=_key_values(task_map, "--task-map"), split=split, on_bad_record=on_bad_record,
        resamples=resamples, progress=not quiet, command=["regen-bench", *sys.argv[1:]],
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
    from regen_bench.results.report import format_table
    from regen_bench.results.schema import load_results, read_samples
    from regen_bench.contracts.tasks import default_metrics
    from regen_bench.plugin.specs import build_metrics
    from regen_bench.results.scoring import score_rows

    rows = read_samples(samples)
    if not rows:
        raise RegenBenchError(f"{samples}: no samples to score")
    results_path = samples.parent / "results.json"
    run_results = load_results(results_path) if results_path.exists() else None
    if seed is None:
        seed = run_results.seed if run_results is not None else 0
    if not metrics:
        metrics = default_metrics({row.task for row in rows})
    metric_objs = build_metrics(list(metrics), _metric_args(metric_args))
    examples_by_id = None
    if run_results is not None:
        from regen_bench.results.rescoring import examples_for_results

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


@main.command("list")
@click.argument("kind", type=click.Choice(["models", "metrics", "datasets", "tasks"]))
@click.option("--json", "as_json", is_flag=True)
def list_(kind, as_json):
    """List registered models, metrics, datasets, or the tasks datasets offer."""
    from regen_bench.plugin.registry import get_registry
    from regen_bench.results.report import format_table

    registry = get_registry()
    if kind == "tasks":
        items = []
        for name in registry.names("dataset"):
            entry = registry.get("dataset", name)
            try:
                layout = entry.cls().layout()  # providers are cheap to build; path() does the work
            except Exception as exc:  # a provider whose layout needs its options
                items.append({"dataset": name, "task": "?", "field": f"(layout unavailable: {exc})"})
                continue
            items += [{"dataset": name, "task": t, "field": p} for t, p in sorted(layout.tasks.items())]
        if as_json:
            click.echo(json.dumps(items, indent=2))
        else:
            click.echo(format_table(["dataset", "task", "field"], [[i["dataset"], i["task"], i["field"]] for i in items]))
        return
    singular = kind[:-1]
    items = []
    for name in registry.names(singular):
        entry = registry.get(singular, name)
        item = {"name": name, "plugin": entry.plugin, "description": entry.description}
        if singular == "metric":
            item["higher_is_better"] = bool(entry.cls.higher_is_better)
            item["version"] = str(entry.cls.version)
        if singular == "dataset":
            item["synthetic"] = bool(entry.cls.synthetic)
        items.append(item)
    if as_json:
        click.echo(json.dumps(items, indent=2))
    else:
        click.echo(format_table(["name", "plugin", "description"], [[i["name"], i["plugin"], i["description"]] for i in items]))


@main.command()
@click.option("--json", "as_json", is_flag=True)
def plugins(as_json):
    """Show installed plugins: distribution, version, hooks, and load errors."""
    from regen_bench.plugin.registry import get_registry
    from regen_bench.results.report import format_table

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
    from regen_bench.plugin.specs import build_metrics

    (metric_obj,) = build_metrics([name], _metric_args(metric_args))
    if not metric_obj.has_baseline():
        raise RegenBenchError(f"metric {name!r} has no baseline to build")
    texts = [line.strip() for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(texts) < 2:
        raise RegenBenchError(f"{corpus}: need at least 2 non-empty lines to build a baseline, found {len(texts)}")
    written = metric_obj.build_baseline(texts, output, seed=seed)
    click.echo(f"baseline written: {written}")


def _attach_subcommands() -> None:
    """The command groups that live in their own modules (all light: no plugin imports)."""
    from regen_bench.cli.data import data
    from regen_bench.cli.results import compare, validate
    from regen_bench.cli.leaderboard import leaderboard

    leaderboard.add_command(validate)
    main.add_command(data)
    main.add_command(leaderboard)
    main.add_command(compare)


@main.group()
def analyze():
    """Analyses that model plugins provide (e.g. `analyze soft-tokens RUN_DIR`)."""


def _attach_plugin_commands() -> None:
    """Plugins' `register_commands(cli)` hooks. One that fails is recorded (see `regen-bench
    plugins`) and the rest of the CLI works."""
    from regen_bench.plugin.host import _short_error
    from regen_bench.plugin.registry import get_host

    host = get_host()
    for plugin_name, function in host.hook_implementations("register_commands"):
        try:
            function(cli=main)
        except Exception as exc:  # a broken plugin must not break the CLI
            info = host.infos.get(plugin_name)
            if info is not None and info.error is None:
                info.error = f"register_commands failed: {_short_error(exc)}"


_attach_subcommands()
_attach_plugin_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
