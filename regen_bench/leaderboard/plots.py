"""PNG bar charts (score with its 95% CI as error bars) for the Markdown leaderboard.

One figure per dataset x task, one panel per column. Deterministic: the Agg backend,
a fixed size and DPI, matplotlib's bundled font, and no "Software" (version) or
date in the PNG's metadata, so the same results give the same bytes.
"""

from __future__ import annotations

import io
import math

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.leaderboard.table import Table

DPI = 100
BEST_COLOR = "#2e7d32"
OTHER_COLOR = "#90a4ae"
WORSE_COLOR = "#c62828"


def _pyplot():
    # matplotlib is imported only to draw: it is heavy, and optional (`--no-plots` builds without it).
    try:
        import matplotlib
    except ImportError:
        raise RegenBenchError(
            "the leaderboard's PNG plots need matplotlib: `pip install matplotlib` "
            "(or build without plots: `regen-bench leaderboard build --no-plots`)"
        ) from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _bar_values(table: Table, column):
    """Per row: (score, minus error, plus error, colour); an empty bar where the row has no number."""
    values = []
    for row in table.rows:
        cell = row.cells.get(column.key)
        if cell is None or cell.entry.failed or cell.entry.score is None or not math.isfinite(cell.entry.score):
            values.append((0.0, 0.0, 0.0, "none"))
            continue
        e = cell.entry
        low = e.ci_low if e.ci_low is not None and math.isfinite(e.ci_low) else e.score
        high = e.ci_high if e.ci_high is not None and math.isfinite(e.ci_high) else e.score
        worse = cell.comparison is not None and cell.comparison.worse
        colour = BEST_COLOR if cell.best else WORSE_COLOR if worse else OTHER_COLOR
        values.append((e.score, max(0.0, e.score - low), max(0.0, high - e.score), colour))
    return values


def plot_table(table: Table) -> bytes:
    """The table's bar charts as PNG bytes: one panel per column, rows share the y axis."""
    plt = _pyplot()
    from matplotlib import rc_context  # deferred like the rest of matplotlib (see _pyplot)

    columns = table.columns
    per_row = min(3, max(1, len(columns)))
    n_rows = max(1, math.ceil(len(columns) / per_row))
    labels = [row.label for row in table.rows]
    # Fixed geometry instead of tight_layout (which draws every figure twice).
    label_in = 0.25 + 0.062 * max((len(label) for label in labels), default=4)
    panel_w, panel_h = 3.0, 0.55 + 0.3 * len(labels)
    gap_w, gap_h, top_in, bottom_in = 0.25, 0.55, 0.6, 0.35
    width = label_in + per_row * panel_w + (per_row - 1) * gap_w + 0.3
    height = top_in + n_rows * panel_h + (n_rows - 1) * gap_h + bottom_in
    style = {"font.family": "DejaVu Sans", "font.size": 8}
    with rc_context(style):
        fig, axes = plt.subplots(n_rows, per_row, figsize=(width, height), dpi=DPI, squeeze=False, sharey=True)
        try:
            fig.subplots_adjust(
                left=label_in / width, right=1 - 0.3 / width, top=1 - top_in / height, bottom=bottom_in / height,
                wspace=gap_w / panel_w, hspace=gap_h / panel_h,
            )
            positions = list(range(len(labels)))
            for index, column in enumerate(columns):
                ax = axes[index // per_row][index % per_row]
                values = _bar_values(table, column)
                ax.barh(
                    positions, [v[0] for v in values], xerr=[[v[1] for v in values], [v[2] for v in values]],
                    color=[v[3] for v in values], edgecolor="#37474f", linewidth=0.5,
                    error_kw={"elinewidth": 1, "capsize": 3, "ecolor": "#263238"},
                )
                ax.set_title(column.heading, fontsize=9)
                ax.grid(axis="x", color="#e0e0e0", linewidth=0.5)
                ax.set_axisbelow(True)
            first = axes[0][0]
            first.set_yticks(positions)
            first.set_yticklabels(labels)
            first.invert_yaxis()  # shared: the first row of the table on top everywhere
            for index in range(len(columns), n_rows * per_row):
                axes[index // per_row][index % per_row].axis("off")
            d = table.dataset
            fig.suptitle(f"{d.name} [{d.label}] · {table.task} — score with 95% CI", fontsize=10,
                         y=1 - 0.2 / height)
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
        finally:
            plt.close(fig)
    return buffer.getvalue()


def check_plotting_available() -> None:
    _pyplot()
