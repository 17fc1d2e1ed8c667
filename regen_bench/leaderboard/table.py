"""The leaderboard as data: one table per dataset x task, built only from results files.

- A *dataset section* is one exact dataset and split: name, sha256 of the data file,
  split name and split hash. Runs on different data (e.g. synthetic with 600 vs 3000
  users) never share a table, so every table compares numbers on the same examples.
- A *row* is one results file (never merged or deduplicated: two runs of one config on
  one split are both shown, and flagged as duplicates).
- A *column* is one metric component that some row of the table reports. Its name,
  direction and description come from the metric itself (the results file records the
  direction that made the number; the registry gives the one-line description when the
  plugin is installed): there is no hand-kept list of columns anywhere.
- A component reported for context only (distinct's `length`) has no better direction:
  no arrow, no best row, no significance test. The metric says so itself
  (`Metric.context_components`, recorded in each results file's `metrics`).
- A *failed* score (a component that scored no example, `status: "failed"`) shows as
  failed with its reason in a note under the table: never a number, never best, never
  tested. An ok score adds nothing to the outputs, so older leaderboards rebuild unchanged.

Every number shown is copied from a results file, or (significance) computed from the
runs' own samples.jsonl.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from regen_bench.leaderboard.collect import CollectedRun, Collection, duplicate_key
from regen_bench.leaderboard.formatting import decimals_for
from regen_bench.leaderboard.marks import METHOD_APPROX, Comparison, compare_with_best, corpus_recomputer
from regen_bench.plugin.registry import get_registry
from regen_bench.results.schema import ScoreEntry
from regen_bench.stats.significance import ALPHA

FORMAT = "regen-bench-leaderboard/1"


@dataclass
class DatasetSection:
    id: str
    name: str
    synthetic: bool
    sha256: str
    split: str
    split_hash: str
    options: dict[str, Any]

    @property
    def label(self) -> str:
        return "SYNTHETIC" if self.synthetic else "real"

    @property
    def title(self) -> str:
        options = ", ".join(f"{k}={v}" for k, v in sorted(self.options.items()))
        extra = f", {options}" if options else ""
        return f"{self.name} [{self.label}] — {self.split} split{extra} (data {self.sha256[:8]}, split {self.split_hash[:8]})"

    def to_json(self) -> dict:
        return {
            "id": self.id, "name": self.name, "synthetic": self.synthetic, "label": self.label,
            "title": self.title, "sha256": self.sha256, "split": self.split, "split_hash": self.split_hash,
            "options": dict(sorted(self.options.items())),
        }


@dataclass
class Column:
    key: str
    metric: str
    component: str
    label: str
    higher_is_better: bool | None  # None: context only, no better direction
    description: str
    description_source: str  # "registry" or "results"
    signatures: list[str] = field(default_factory=list)
    best: list[str] = field(default_factory=list)  # row ids
    decimals: int = 4
    comparable: bool = True  # False: no direction, or rows disagree on it: no best and no marks

    @property
    def arrow(self) -> str:
        if self.higher_is_better is None:
            return ""
        return "↑" if self.higher_is_better else "↓"

    @property
    def heading(self) -> str:
        """The label with its direction arrow, if it has one."""
        return f"{self.label} {self.arrow}" if self.arrow else self.label

    def to_json(self) -> dict:
        return {
            "key": self.key, "metric": self.metric, "component": self.component, "label": self.label,
            "higher_is_better": self.higher_is_better, "arrow": self.arrow, "description": self.description,
            "description_source": self.description_source, "signatures": self.signatures, "best": self.best,
            "decimals": self.decimals, "comparable": self.comparable,
        }


@dataclass
class Cell:
    entry: ScoreEntry
    best: bool = False
    comparison: Comparison | None = None

    def to_json(self) -> dict:
        e = self.entry
        failed = {"status": e.status, "reason": e.reason} if e.failed else {}  # ok adds nothing
        return {
            "score": e.score, "ci_low": e.ci_low, "ci_high": e.ci_high, "n": e.n, "signature": e.signature,
            **failed, "counts": dict(sorted(e.counts.items())), "best": self.best,
            "significance": self.comparison.to_json() if self.comparison else None,
        }


@dataclass
class Row:
    id: str
    run: CollectedRun
    label: str
    task: str
    cells: dict[str, Cell] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)

    @property
    def results(self):
        return self.run.results

    @property
    def n(self) -> int | None:
        return self.results.dataset.n_examples_by_task.get(self.task)

    @property
    def backbone(self) -> str:
        """model.info's `backbone`: a string, or a dict whose `lm` names it (the soft-token
        models record {lm, config: {...}, lora, ...}); its settings follow in brackets."""
        value = self.results.model.info.get("backbone")
        if isinstance(value, dict) and value.get("lm"):
            details = dict(value.get("config") or {})
            if value.get("lora"):
                details["lora rank"] = value.get("lora_rank")
            inner = ", ".join(f"{k} {v}" for k, v in details.items())
            return f"{value['lm']} ({inner})" if inner else str(value["lm"])
        return str(value) if value not in (None, "") else "-"

    @property
    def parameters(self):
        """model.info's `parameters`: a count, or a dict of counts whose `total` is shown."""
        value = self.results.model.info.get("parameters")
        if isinstance(value, dict) and isinstance(value.get("total"), int):
            return value["total"]
        return value

    @property
    def cost(self) -> dict:
        return cost_of(self.results.usage)

    def to_json(self) -> dict:
        r = self.results
        return {
            "id": self.id, "label": self.label, "run_id": r.run_id, "results_file": self.run.relpath,
            "created_at": r.created_at, "model": r.model.name, "config_hash": r.model.config_hash,
            "config": r.model.config, "info": r.model.info, "backbone": self.backbone, "parameters": self.parameters,
            "n": self.n, "train_seconds": r.timings.get("fit"), "generate_seconds": r.timings.get("generate"),
            "cost": self.cost, "usage": r.usage, "seed": r.seed, "bootstrap": r.bootstrap.model_dump(),
            "harness": r.harness.model_dump(), "samples": self.run.rows is not None,
            "duplicates": self.duplicates, "cells": {key: cell.to_json() for key, cell in self.cells.items()},
        }


@dataclass
class Table:
    id: str
    dataset: DatasetSection
    task: str
    columns: list[Column]
    rows: list[Row]
    notes: list[str] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return f"{self.dataset.id}-{slugify(self.task)}"

    def to_json(self) -> dict:
        return {
            "id": self.id, "dataset": self.dataset.id, "task": self.task, "slug": self.slug,
            "columns": [c.to_json() for c in self.columns], "rows": [r.to_json() for r in self.rows],
            "notes": self.notes,
        }


@dataclass
class Leaderboard:
    datasets: list[DatasetSection]
    tables: list[Table]
    warnings: list[str]
    seed: int
    resamples: int

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "significance": {
                "test": "paired bootstrap against the best row, on the examples both runs scored",
                "alpha": ALPHA, "seed": self.seed, "resamples": self.resamples,
            },
            "datasets": [d.to_json() for d in self.datasets],
            "tables": [t.to_json() for t in self.tables],
            "warnings": self.warnings,
        }


def slugify(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.]+", "-", text).strip("-") or "x"


def cost_of(usage: dict) -> dict:
    """Generation cost plus the cost of metrics that called an API (an LLM judge)."""
    parts: dict[str, float | None] = {}
    if "cost_usd" in usage:
        parts["generation"] = usage["cost_usd"]
    for name, metric_usage in sorted((usage.get("metrics") or {}).items()):
        if isinstance(metric_usage, dict) and "cost_usd" in metric_usage:
            parts[f"metric:{name}"] = metric_usage["cost_usd"]
    known = [v for v in parts.values() if isinstance(v, (int, float))]
    total = math.fsum(known) if parts and len(known) == len(parts) else None
    return {"reported": bool(parts), "total_usd": total, "parts": parts}


def _metric_description(metric: str) -> tuple[str, str]:
    try:
        entry = get_registry().get("metric", metric)
        if entry.description:
            return entry.description, "registry"
    except Exception:  # noqa: BLE001 - plugin not installed here: describe from the results file
        pass
    return f"metric {metric!r} (plugin not installed where this was built; see its signature)", "results"


def _dataset_sections(runs: list[CollectedRun]) -> dict[tuple, DatasetSection]:
    keys = sorted({(r.results.dataset.name, r.results.dataset.sha256, r.results.dataset.split,
                    r.results.dataset.split_hash) for r in runs})
    bases = {}
    for name, sha, split, split_hash in keys:
        bases.setdefault(f"{slugify(name)}-{sha[:8]}-{slugify(split)}", []).append(split_hash)
    sections = {}
    for key in keys:
        name, sha, split, split_hash = key
        base = f"{slugify(name)}-{sha[:8]}-{slugify(split)}"
        section_id = base if len(bases[base]) == 1 else f"{base}-{split_hash[:8]}"
        first = next(r for r in runs if (r.results.dataset.name, r.results.dataset.sha256, r.results.dataset.split,
                                          r.results.dataset.split_hash) == key)
        d = first.results.dataset
        sections[key] = DatasetSection(
            id=section_id, name=d.name, synthetic=d.synthetic, sha256=d.sha256, split=d.split,
            split_hash=d.split_hash, options=dict(d.options),
        )
    return sections


def _short_time(created_at: str) -> str:
    return created_at.replace("T", " ").removesuffix("+00:00")


def _row_labels(runs: list[CollectedRun]) -> dict[str, str]:
    """The model name; with the config hash when a model has several configs; with the time for repeats."""
    labels = {}
    by_model: dict[str, list[CollectedRun]] = {}
    for run in runs:
        by_model.setdefault(run.results.model.name, []).append(run)
    for name, group in by_model.items():
        hashes = {r.results.model.config_hash for r in group}
        for run in group:
            label = name if len(hashes) == 1 else f"{name} · {run.results.model.config_hash[:8]}"
            if sum(1 for r in group if r.results.model.config_hash == run.results.model.config_hash) > 1:
                label += f" · {_short_time(run.results.created_at)}"
            labels[run.relpath] = label
    # Still ambiguous (same config, same second): fall back on the results file.
    counts: dict[str, int] = {}
    for label in labels.values():
        counts[label] = counts.get(label, 0) + 1
    return {key: (label if counts[label] == 1 else f"{label} · {key}") for key, label in labels.items()}


def _row_order(run: CollectedRun):
    r = run.results
    return (r.model.name, r.model.config_hash, r.created_at, run.relpath)


def build_leaderboard(collection: Collection, *, seed: int = 0, resamples: int = 1000) -> Leaderboard:
    runs = collection.runs
    sections = _dataset_sections(runs)
    recomputer = corpus_recomputer()
    descriptions: dict[str, tuple[str, str]] = {}
    tables: list[Table] = []
    dup_groups: dict[tuple, list[str]] = {}
    for run in runs:
        dup_groups.setdefault(duplicate_key(run), []).append(run.relpath)
    for key in sorted(sections, key=lambda k: sections[k].id):
        section = sections[key]
        group = sorted(
            (r for r in runs if (r.results.dataset.name, r.results.dataset.sha256, r.results.dataset.split,
                                 r.results.dataset.split_hash) == key),
            key=_row_order,
        )
        tasks = sorted({s.task for r in group for s in r.results.scores})
        for task in tasks:
            table_runs = [r for r in group if any(s.task == task for s in r.results.scores)]
            labels = _row_labels(table_runs)
            tables.append(_build_table(section, task, table_runs, labels, dup_groups, descriptions, recomputer,
                                       seed=seed, resamples=resamples))
    datasets = [sections[k] for k in sorted(sections, key=lambda k: sections[k].id)]
    return Leaderboard(datasets=datasets, tables=tables, warnings=list(collection.warnings), seed=seed,
                       resamples=resamples)


def _build_table(section, task, table_runs, labels, dup_groups, descriptions, recomputer, *, seed, resamples) -> Table:
    rows: list[Row] = []
    entries_by_column: dict[tuple[str, str], list[tuple[Row, ScoreEntry]]] = {}
    for run in table_runs:
        row = Row(id=run.relpath, run=run, label=labels[run.relpath], task=task)
        row.duplicates = sorted(p for p in dup_groups[duplicate_key(run)] if p != run.relpath)
        for entry in run.results.scores:
            if entry.task == task:
                entries_by_column.setdefault((entry.metric, entry.component), []).append((row, entry))
        rows.append(row)
    component_names: dict[str, int] = {}
    for _, component in entries_by_column:
        component_names[component] = component_names.get(component, 0) + 1
    notes: list[str] = []
    columns: list[Column] = []
    failed: list[tuple[str, str, str, str]] = []  # (row label, metric, reason, column label)
    context_components = {(m.name, c) for run in table_runs for m in run.results.metrics
                          for c in m.context_components}
    for metric, component in sorted(entries_by_column):
        pairs = entries_by_column[(metric, component)]
        if metric not in descriptions:
            descriptions[metric] = _metric_description(metric)
        description, source = descriptions[metric]
        directions = {entry.higher_is_better for _, entry in pairs}
        context = (metric, component) in context_components
        column = Column(
            key=f"{metric}/{component}", metric=metric, component=component,
            label=component if component_names[component] == 1 else f"{metric}:{component}",
            higher_is_better=None if context else pairs[0][1].higher_is_better, description=description,
            description_source=source, signatures=sorted({entry.signature for _, entry in pairs}),
            decimals=decimals_for([v for _, e in pairs for v in (e.score, e.ci_low, e.ci_high)]),
            comparable=not context and len(directions) == 1,
        )
        for row, entry in pairs:
            row.cells[column.key] = Cell(entry=entry)
        if context:
            notes.append(f"{column.label}: reported for context only (no better direction); no best row is marked "
                         "and no row is tested.")
        elif not column.comparable:
            notes.append(f"{column.label}: runs disagree on whether higher is better; no best row is marked.")
        elif len(column.signatures) > 1:
            notes.append(
                f"{column.label}: rows were made with {len(column.signatures)} different signatures "
                "(see below); compare with care."
            )
        if column.comparable:
            _mark_column(column, pairs, recomputer, seed=seed, resamples=resamples)
        failed.extend((row.label, metric, entry.reason or "scored nothing", column.label)
                      for row, entry in pairs if entry.failed)
        columns.append(column)
    notes.extend(_failed_notes(failed))
    approximated = sorted({c.label for c in columns for r in rows
                           if (cell := r.cells.get(c.key)) and cell.comparison and cell.comparison.method == METHOD_APPROX})
    if approximated:
        notes.append(
            "Significance for " + ", ".join(approximated) + " is approximate: a corpus metric that could not be "
            "recomputed here, tested on its per-example scores from samples.jsonl."
        )
    return Table(id=f"{section.id}/{task}", dataset=section, task=task, columns=columns, rows=rows, notes=notes)


def _failed_notes(failed: list[tuple[str, str, str, str]]) -> list[str]:
    """One note per row, metric and reason whose score failed (none when nothing failed)."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for row_label, metric, reason, column_label in failed:
        groups.setdefault((row_label, metric, reason), []).append(column_label)
    return [f"{row_label}: {metric} failed ({', '.join(labels)}): {reason}; no score, not ranked or tested."
            for (row_label, metric, reason), labels in groups.items()]


def _mark_column(column: Column, pairs, recomputer, *, seed, resamples) -> None:
    finite = [(row, entry) for row, entry in pairs
              if not entry.failed and entry.score is not None and math.isfinite(entry.score)]
    if not finite:
        return
    pick = max if column.higher_is_better else min
    best_score = pick(entry.score for _, entry in finite)
    best_pairs = [(row, entry) for row, entry in finite if entry.score == best_score]
    column.best = [row.id for row, _ in best_pairs]
    for row, _ in best_pairs:
        row.cells[column.key].best = True
    best_row, best_entry = best_pairs[0]
    for row, entry in finite:
        if row.cells[column.key].best:
            continue
        row.cells[column.key].comparison = compare_with_best(
            best_row.run, best_row.id, best_entry, row.run, entry, seed=seed, resamples=resamples,
            recomputer=recomputer,
        )
