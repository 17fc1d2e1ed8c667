"""The `regen-bench` command line. Imports stay light: plugins import their own heavy deps.

The main group (cli/group.py) attaches plugins' commands after `--plugins` is read and
reports errors as one line; the commands here are the built-in ones.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from regen_bench import __version__
from regen_bench.cli.compare import compare
from regen_bench.cli.data import data
from regen_bench.cli.group import HarnessGroup
from regen_bench.cli.leaderboard import leaderboard
from regen_bench.cli.log import log
from regen_bench.cli.options import metric_args_by_metric
from regen_bench.cli.run import run
from regen_bench.cli.score import score
from regen_bench.cli.validate import validate
from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.tasks import TASK_KINDS, TEXT
from regen_bench.plugin.extras import install_hint
from regen_bench.plugin.registry import Registry, add_plugin_files, get_registry
from regen_bench.plugin.specs import build_metrics
from regen_bench.results.report import format_table


def _queue_plugin_files(ctx, param, paths):
    """Eager, so the files are loaded before any command is looked up (even for --help)."""
    if paths:
        add_plugin_files(paths)
    return paths


@click.group(cls=HarnessGroup)
@click.version_option(__version__, prog_name="regen-bench")
@click.option(
    "--plugins", "plugin_files", multiple=True, type=click.Path(exists=True, dir_okay=False), is_eager=True,
    expose_value=False, callback=_queue_plugin_files, help="Load a one-off plugin from a Python file (repeatable).",
)
@click.option("--debug", is_flag=True, help="Show the traceback when a plugin fails unexpectedly.")
def main(debug):
    """regen-bench: benchmark narrative generation for recommenders on REGEN."""
    del debug  # read by HarnessGroup.invoke when an error reaches it


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


def _tasks_of(kinds: list[str]) -> list[str]:
    """What a list of task kinds covers, in words: `narratives` (every text task), `next_item`..."""
    words = []
    for kind in kinds:
        words += ["narratives"] if kind == TEXT.name else sorted(t for t, k in TASK_KINDS.items() if k.name == kind)
    return words


def _plugin_items(registry: Registry, kind: str) -> list[dict]:
    """name, plugin, description; a model's task kinds and a model's, metric's or logger's extras; a
    metric's direction and version, a dataset's label."""
    items = []
    for name in registry.names(kind):
        entry = registry.get(kind, name)
        item = {"name": name, "plugin": entry.plugin, "description": entry.description}
        if kind in ("model", "metric"):
            kinds = entry.cls.task_kinds() if kind == "model" else [str(entry.cls.kind)]
            extras = [str(extra) for extra in getattr(entry.cls, "extras", ())]
            item.update(task_kinds=kinds, tasks=_tasks_of(kinds), extras=extras,
                        install=install_hint(tuple(extras)) if extras else None)
        if kind == "logger":
            extras = [str(extra) for extra in getattr(entry.cls, "extras", ())]
            item.update(extras=extras, install=install_hint(tuple(extras)) if extras else None)
        if kind == "metric":
            item["higher_is_better"] = bool(entry.cls.higher_is_better)
            item["version"] = str(entry.cls.version)
        if kind == "dataset":
            item["synthetic"] = bool(entry.cls.synthetic)
        items.append(item)
    return items


def _columns(kind: str) -> list[str]:
    if kind == "loggers":
        return ["name", "plugin", "needs", "description"]
    return ["name", "plugin", "tasks", "needs", "description"] if kind in ("models", "metrics") else \
        ["name", "plugin", "description"]


def _cell(item: dict, column: str) -> str:
    if column == "tasks":
        return ", ".join(item["tasks"]) or "-"
    if column == "needs":
        return ", ".join(f"[{extra}]" for extra in item["extras"]) or "core"
    return item[column]


@main.command("list")
@click.argument("kind", type=click.Choice(["models", "metrics", "datasets", "loggers", "tasks"]))
@click.option("--json", "as_json", is_flag=True)
def list_(kind, as_json):
    """List registered models, metrics, datasets, loggers (experiment trackers), or the tasks datasets offer."""
    registry = get_registry()
    if kind == "tasks":
        items, columns = _task_items(registry), ["dataset", "task", "field"]
    else:
        items, columns = _plugin_items(registry, kind[:-1]), _columns(kind)
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    click.echo(format_table(columns, [[_cell(item, c) for c in columns] for item in items]))
    if kind in ("models", "metrics", "loggers"):
        click.echo("needs: the extra to install for it, pip install 'regen-bench[EXTRA]' (core: nothing more)")


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
    (metric_obj,) = build_metrics([name], metric_args_by_metric(metric_args))
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
main.add_command(run)
main.add_command(score)
main.add_command(data)
main.add_command(leaderboard)
main.add_command(compare)
main.add_command(log)


if __name__ == "__main__":  # pragma: no cover
    main()
