"""leaderboards/README.md: one table per dataset x task, signatures listed under each table."""

from __future__ import annotations

from regen_bench.leaderboard.formatting import fmt_cell, fmt_cost, fmt_p, fmt_parameters, fmt_seconds
from regen_bench.leaderboard.table import Leaderboard, Table

WORSE_MARK = "▼"


def _escape(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def cell_text(table: Table, row, column, *, markdown: bool) -> str:
    cell = row.cells.get(column.key)
    if cell is None:
        return "-"
    e = cell.entry
    if e.failed:
        return "failed"  # the reason is in a note under the table
    text = fmt_cell(e.score, e.ci_low, e.ci_high, column.decimals)
    if cell.best and markdown:
        text = f"**{text}**"
    if cell.comparison is not None and cell.comparison.worse:
        text += f" {WORSE_MARK}"
    return text


def render_table(table: Table, plot_path: str | None) -> list[str]:
    d = table.dataset
    lines = [f"### {d.name} [{d.label}] · {table.task}", ""]
    lines.append(f"Data sha256 `{d.sha256[:12]}`, {d.split} split `{d.split_hash}`.")
    lines.append("")
    headers = ["model"] + [c.heading for c in table.columns]
    headers += ["n", "backbone", "parameters", "train time", "generation time", "cost"]
    lines.append("| " + " | ".join(_escape(h) for h in headers) + " |")
    lines.append("|" + "|".join(["---"] + ["---:"] * len(table.columns) + ["---:", "---", "---:", "---:", "---:", "---:"]) + "|")
    for row in table.rows:
        cells = [_escape(row.label)] + [_escape(cell_text(table, row, c, markdown=True)) for c in table.columns]
        cells += [
            str(row.n) if row.n is not None else "-", _escape(row.backbone), fmt_parameters(row.parameters),
            fmt_seconds(row.results.timings.get("fit")), fmt_seconds(row.results.timings.get("generate")),
            fmt_cost(row.cost),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Metrics (description from the metric plugin; signature of every setting that made the numbers):")
    lines.append("")
    by_metric: dict[str, list] = {}
    for c in table.columns:
        by_metric.setdefault(c.metric, []).append(c)
    for metric, columns in by_metric.items():
        components = ", ".join(c.heading for c in columns)
        lines.append(f"- **{metric}** ({components}) — {columns[0].description}")
        for signature in sorted({s for c in columns for s in c.signatures}):
            lines.append(f"  - signature: `{signature}`")
    tested = [
        (row, c, row.cells[c.key].comparison) for c in table.columns for row in table.rows
        if c.key in row.cells and row.cells[c.key].comparison is not None and row.cells[c.key].comparison.worse
    ]
    if tested:
        lines.append("")
        lines.append(f"{WORSE_MARK} significantly worse than the best row (paired bootstrap, p < 0.05):")
        lines.append("")
        for row, c, comparison in tested:
            lines.append(
                f"- {_escape(row.label)} on {c.label}: difference {comparison.diff:.4g} "
                f"[{comparison.ci_low:.4g}, {comparison.ci_high:.4g}], p {fmt_p(comparison.p_value)}, "
                f"{comparison.n_shared} shared examples ({comparison.method})"
            )
    if table.notes:
        lines.append("")
        for note in table.notes:
            lines.append(f"Note: {note}")
            lines.append("")
        lines.pop()
    if plot_path:
        lines.append("")
        lines.append(f"![{d.name} {table.task}]({plot_path})")
    lines.append("")
    return lines


def render_markdown(
    board: Leaderboard, plot_paths: dict[str, str], run_links: dict[str, str], results_link: str
) -> str:
    lines = [
        "# regen-bench leaderboard",
        "",
        f"Built by `regen-bench leaderboard build` from the results files under [{results_link}]({results_link}); "
        "do not edit by hand.",
        "The same tables, sortable and filterable, are in [index.html](index.html); as data in",
        "[leaderboard.csv](leaderboard.csv) and [leaderboard.json](leaderboard.json).",
        "",
        "Each cell is the score and its 95% bootstrap confidence interval, `score [low, high]`. "
        "**Bold**: the best row of the column (↑ higher is better, ↓ lower is better; no arrow: reported for "
        "context, with no better direction, so nothing is marked). "
        f"{WORSE_MARK}: significantly worse than the best row (paired bootstrap, {board.resamples} resamples, "
        "seed " + str(board.seed) + ", p < 0.05, on the examples both runs scored). "
        "Numbers on SYNTHETIC data are a check of the harness, not of REGEN.",
        "",
    ]
    for dataset in board.datasets:
        tables = [t for t in board.tables if t.dataset.id == dataset.id]
        lines.append(f"- {dataset.title}: " + ", ".join(f"{t.task}" for t in tables))
    lines.append("")
    for dataset in board.datasets:
        lines.append(f"## {dataset.title}")
        lines.append("")
        tables = [t for t in board.tables if t.dataset.id == dataset.id]
        for table in tables:
            lines.extend(render_table(table, plot_paths.get(table.id)))
        runs = sorted({(row.label, row.id) for t in tables for row in t.rows}, key=lambda x: (x[0], x[1]))
        lines.append("Runs:")
        lines.append("")
        for label, row_id in runs:
            target = run_links.get(row_id, row_id)
            lines.append(f"- {_escape(label)}: [{row_id}]({target})")
        lines.append("")
    if board.warnings:
        lines.append("## Build notes")
        lines.append("")
        for warning in board.warnings:
            lines.append(f"- {warning}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
