"""leaderboards/leaderboard.csv: one line per dataset x task x run x metric component."""

from __future__ import annotations

import csv
import io
import json

from regen_bench.leaderboard.table import Leaderboard

FIELDS = [
    "dataset", "dataset_label", "dataset_sha256", "split", "split_hash", "task", "model", "row", "run_id",
    "config_hash", "metric", "component", "higher_is_better", "score", "ci_low", "ci_high", "n", "best",
    "significantly_worse", "p_value", "diff_vs_best", "significance_method", "signature", "backbone", "parameters",
    "train_seconds", "generate_seconds", "cost_usd", "results_file",
]


def _num(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) else ""
    return str(value)


def render_csv(board: Leaderboard) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for table in board.tables:
        d = table.dataset
        for row in table.rows:
            r = row.results
            for column in table.columns:
                cell = row.cells.get(column.key)
                if cell is None:
                    continue
                e, comparison = cell.entry, cell.comparison
                significance = comparison.to_json() if comparison else {}
                parameters = row.parameters
                # A context-only column has no direction: don't copy the metric's one.
                direction = "" if column.higher_is_better is None else _num(e.higher_is_better)
                writer.writerow([
                    d.id, d.label, d.sha256, d.split, d.split_hash, table.task, r.model.name, row.label, r.run_id,
                    r.model.config_hash, column.metric, column.component, direction, "failed" if e.failed else _num(e.score),
                    _num(e.ci_low), _num(e.ci_high), e.n, _num(cell.best),
                    _num(bool(comparison and comparison.worse)), _num(significance.get("p_value")),
                    _num(significance.get("diff")), significance.get("method", ""), e.signature, row.backbone,
                    "" if parameters is None else (parameters if isinstance(parameters, (int, str)) else json.dumps(parameters)),
                    _num(r.timings.get("fit")), _num(r.timings.get("generate")), _num(row.cost["total_usd"]),
                    row.run.relpath,
                ])
    return out.getvalue()
