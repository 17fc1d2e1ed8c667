"""`regen-bench compare`: paired comparison of two runs on the examples both scored."""

from __future__ import annotations

import json
from pathlib import Path

import click

from regen_bench.cli.options import metric_args_by_metric
from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.pairwise import is_pairwise
from regen_bench.plugin.specs import build_metrics
from regen_bench.results.compare import ADJUSTMENT, PairwiseJudgement, compare_runs, judge_runs
from regen_bench.results.report import format_table, score_cells

HEADERS = ["task", "metric", "A", "B", "B - A", "95% CI of B - A", "p", f"p ({ADJUSTMENT})", "n", "verdict"]


def _format_number(value: float) -> str:
    if value != value:  # NaN
        return "nan"
    return f"{value:.2f}" if abs(value) >= 1.5 else f"{value:.4f}"


def _format_p(value: float, resamples: int) -> str:
    """p as 3 significant digits; 0 (no resample on the other side of 0) as the bound it is."""
    if value != value:
        return "nan"
    return f"<{2 / resamples:.2g}" if value == 0 else f"{value:.3g}"


@click.command("compare")
@click.argument("run_a", type=click.Path(path_type=Path))
@click.argument("run_b", type=click.Path(path_type=Path))
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--bootstrap", "resamples", type=click.IntRange(min=10), default=1000, show_default=True,
              help="Bootstrap resamples for the paired test.")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
@click.option("--force", is_flag=True, help="Compare even when the runs used different data or splits.")
@click.option("--metric", "metrics", multiple=True,
              help="A pairwise metric that judges B against A (repeatable), e.g. llm-judge-pair.")
@click.option("--metric-arg", "metric_args", multiple=True, metavar="METRIC.KEY=VALUE", help="Pairwise metric option.")
def compare(run_a, run_b, seed, resamples, as_json, force, metrics, metric_args):
    """Paired comparison of two runs on the examples both scored: B - A with a bootstrap CI and p-value.

    RUN_A and RUN_B are run directories (or their results.json). The CI and p come from
    one percentile bootstrap distribution; p (Holm) is adjusted over all rows. With
    --metric llm-judge-pair, a judge also compares B's narratives with A's (both orders
    asked) and the win/tie/loss rates of B are shown with their CIs.
    """
    judges = build_metrics(list(metrics), metric_args_by_metric(metric_args))  # bad names fail before any work
    for metric in judges:
        if not is_pairwise(metric):
            raise RegenBenchError(f"--metric {metric.spec}: compare re-uses the runs' own scores; --metric takes "
                                  "pairwise metrics (llm-judge-pair) that judge B against A")
    comparison = compare_runs(run_a, run_b, seed=seed, resamples=resamples, force=force)  # errors: cli/group.py
    judgement = judge_runs(run_a, run_b, judges, seed=seed, resamples=resamples, force=force) if judges else None
    if as_json:
        data = comparison.as_dict()
        if judgement is not None:
            data["pairwise"] = judgement.as_dict()
        click.echo(json.dumps(data, indent=2))
        return
    for note in comparison.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(comparison.title())
    rows = []
    for row in comparison.rows:
        arrow = "↑" if row.higher_is_better else "↓"
        rows.append([
            row.task, f"{row.component} {arrow}", _format_number(row.mean_a), _format_number(row.mean_b),
            _format_number(row.diff), f"[{row.ci_low:.4g}, {row.ci_high:.4g}]", _format_p(row.p_value, resamples),
            _format_p(row.p_holm, resamples), str(row.n), row.verdict,
        ])
    click.echo(format_table(HEADERS, rows))
    if judgement is not None:
        _echo_judgement(judgement)


def _echo_judgement(judgement: PairwiseJudgement) -> None:
    for note in judgement.notes:
        click.echo(f"note: {note}", err=True)
    click.echo("\npairwise judge, B against A (each pair asked in both orders; B wins only when both orders "
               "prefer it):")
    rows = [[e.task, e.metric, e.component, *score_cells(e)] for e in judgement.entries]
    click.echo(format_table(["task", "metric", "component", "B's rate", "95% CI", "n"], rows))
    for signature in sorted({e.signature for e in judgement.entries}):
        click.echo(f"signature: {signature}")
    for metric, by_task in judgement.usage.items():
        cost = [u.get("cost_usd") for u in by_task.values()]
        spent = "unknown" if any(c is None for c in cost) else f"${sum(cost):.4f}"
        calls = sum(int(u.get("requests", 0) or 0) for u in by_task.values())
        click.echo(f"{metric}: {calls} request(s), cost {spent}")
