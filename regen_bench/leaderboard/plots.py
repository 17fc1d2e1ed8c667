"""PNG bar charts (score with its 95% CI as error bars) for the Markdown leaderboard.

One figure per dataset x task, one panel per main column (BLEU, ROUGE-L and semsim for
narratives; the ranking metrics for next_item: `render_json.main_columns`); the other
columns are in the tables. Rows are grouped by model family, as on the page, and a row
scored on fewer examples than the table's largest says its n. The bars use the page's
colours (`render_json.PALETTE`): the best row, the rows not significantly below it, and
the rows significantly below it, with a legend; a column with no better direction has
no best colour. The x axis starts at 0 with round ticks past the maximum, few enough
that their labels never touch, and names its metric.

Deterministic: the Agg backend, a fixed size and DPI, matplotlib's bundled font, and no
"Software" (version) or date in the PNG's metadata, so the same results give the same bytes.
"""

from __future__ import annotations

import io
import math
from contextlib import contextmanager

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.leaderboard.render_json import (
    FAMILIES,
    PALETTE,
    SHADE_LABELS,
    family_of,
    main_columns,
    shade,
)
from regen_bench.leaderboard.table import Column, Row, Table

DPI = 100
BEST_COLOR = PALETTE["best"]
OTHER_COLOR = PALETTE["plain"]
WORSE_COLOR = PALETTE["below"]
EDGE_COLOR = "#78909c"
PANELS_PER_ROW = 3
MAX_TICKS = 5
STYLE = {"font.family": "DejaVu Sans", "font.size": 8}


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


def plotted_columns(table: Table) -> list[Column]:
    """The table's main columns, in table order."""
    keys = set(main_columns([c.to_json() for c in table.columns]))
    return [c for c in table.columns if c.key in keys]


def plotted_rows(table: Table) -> list[Row]:
    """The rows grouped by family (the page's default order), table order within a family."""
    order = {family: i for i, (family, _) in enumerate(FAMILIES)}
    ranked = sorted(enumerate(table.rows), key=lambda t: (order[_family(t[1])], t[0]))
    return [row for _, row in ranked]


def _family(row: Row) -> str:
    model = row.results.model
    return family_of(model.name, model.info, model.config)


def row_label(row: Row, max_n: int | None) -> str:
    short = row.n is not None and max_n is not None and row.n < max_n
    return f"{row.label} (n={row.n})" if short else row.label


def cell_colour(column: Column, row: Row) -> str | None:
    """The bar's colour, or None where the row has no number."""
    cell = row.cells.get(column.key)
    if cell is None or cell.entry.failed or cell.entry.score is None or not math.isfinite(cell.entry.score):
        return None
    has_direction = column.comparable and column.higher_is_better is not None
    worse = cell.comparison is not None and cell.comparison.worse
    return PALETTE[shade(has_direction, cell.best, worse)]


def _bar_values(rows: list[Row], column: Column):
    """Per row: (score, minus error, plus error, colour); an empty bar where the row has no number."""
    values = []
    for row in rows:
        colour = cell_colour(column, row)
        if colour is None:
            values.append((0.0, 0.0, 0.0, "none"))
            continue
        e = row.cells[column.key].entry
        low = e.ci_low if e.ci_low is not None and math.isfinite(e.ci_low) else e.score
        high = e.ci_high if e.ci_high is not None and math.isfinite(e.ci_high) else e.score
        values.append((e.score, max(0.0, e.score - low), max(0.0, high - e.score), colour))
    return values


def _axis_limits(values) -> tuple[float, float]:
    lows = [v[0] - v[1] for v in values if v[3] != "none"]
    highs = [v[0] + v[2] for v in values if v[3] != "none"]
    lo, hi = min([0.0, *lows]), max([0.0, *highs])
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def nice_ticks(lo: float, hi: float, most: int = MAX_TICKS) -> list[float]:
    """Round ticks from at or below `lo` (0 for scores) to at or past `hi`: at most `most`
    intervals of 1, 2, 2.5 or 5 times a power of ten, so the ends are labelled and so is
    the middle."""
    raw = (hi - lo) / max(1, most - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * 0.999)
    start, end = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [float(f"{i * step:.10g}") for i in range(start, end + 1)]


def _geometry(labels: list[str], panels: int) -> dict:
    per_row = min(PANELS_PER_ROW, max(1, panels))
    n_rows = max(1, math.ceil(panels / per_row))
    label_in = 0.3 + 0.065 * max((len(label) for label in labels), default=4)
    panel_w, panel_h = 3.0, 0.45 + 0.28 * len(labels)
    gap_w, gap_h, top_in, bottom_in = 0.3, 0.85, 0.95, 0.6
    width = label_in + per_row * panel_w + (per_row - 1) * gap_w + 0.35
    height = top_in + n_rows * panel_h + (n_rows - 1) * gap_h + bottom_in
    return {"per_row": per_row, "n_rows": n_rows, "label_in": label_in, "panel_w": panel_w, "panel_h": panel_h,
            "gap_w": gap_w, "gap_h": gap_h, "top_in": top_in, "bottom_in": bottom_in, "width": width, "height": height}


def _draw_panel(ax, rows: list[Row], column: Column, separators: list[float]) -> None:
    from matplotlib.ticker import FixedLocator  # deferred like the rest of matplotlib (see _pyplot)

    values = _bar_values(rows, column)
    positions = list(range(len(rows)))
    ax.barh(
        positions, [v[0] for v in values], xerr=[[v[1] for v in values], [v[2] for v in values]],
        color=[v[3] for v in values], edgecolor=EDGE_COLOR, linewidth=0.6,
        error_kw={"elinewidth": 1, "capsize": 3, "ecolor": "#263238"},
    )
    ticks = nice_ticks(*_axis_limits(values))
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.set_xlim(ticks[0], ticks[-1])
    ax.set_title(column.heading, fontsize=9)
    ax.set_xlabel(f"{column.label} (score, 95% CI)", fontsize=8)
    ax.grid(axis="x", color="#e0e0e0", linewidth=0.5)
    ax.set_axisbelow(True)
    for y in separators:
        ax.axhline(y, color="#b0bec5", linewidth=0.6, linestyle=(0, (3, 2)))


def plot_figure(table: Table):
    """The table's figure (the caller closes it): one panel per main column, rows share the y axis."""
    plt = _pyplot()
    from matplotlib.patches import Patch  # deferred like the rest of matplotlib (see _pyplot)

    columns = plotted_columns(table)
    rows = plotted_rows(table)
    sizes = [row.n for row in rows if row.n is not None]
    max_n = max(sizes) if sizes else None
    labels = [row_label(row, max_n) for row in rows]
    families = [_family(row) for row in rows]
    separators = [i - 0.5 for i in range(1, len(rows)) if families[i] != families[i - 1]]
    g = _geometry(labels, len(columns))
    fig, axes = plt.subplots(g["n_rows"], g["per_row"], figsize=(g["width"], g["height"]), dpi=DPI, squeeze=False,
                             sharey=True)
    # Fixed geometry instead of tight_layout (which draws every figure twice).
    fig.subplots_adjust(
        left=g["label_in"] / g["width"], right=1 - 0.35 / g["width"], top=1 - g["top_in"] / g["height"],
        bottom=g["bottom_in"] / g["height"], wspace=g["gap_w"] / g["panel_w"], hspace=g["gap_h"] / g["panel_h"],
    )
    for index, column in enumerate(columns):
        _draw_panel(axes[index // g["per_row"]][index % g["per_row"]], rows, column, separators)
    first = axes[0][0]
    first.set_yticks(list(range(len(rows))))
    first.set_yticklabels(labels)
    first.invert_yaxis()  # shared: the first row on top everywhere
    for index in range(len(columns), g["n_rows"] * g["per_row"]):
        axes[index // g["per_row"]][index % g["per_row"]].axis("off")
    d = table.dataset
    fig.suptitle(f"{d.name} [{d.label}] · {table.task} — main metrics, score with 95% CI (every column: see the table)",
                 fontsize=10, y=1 - 0.18 / g["height"])
    handles = [Patch(facecolor=PALETTE[key], edgecolor=EDGE_COLOR, linewidth=0.6, label=SHADE_LABELS[key])
               for key in ("best", "plain", "below")]
    fig.legend(handles=handles, loc="upper center", ncol=3, fontsize=7, frameon=False,
               bbox_to_anchor=(0.5, 1 - 0.4 / g["height"]), handlelength=1.4, columnspacing=1.2)
    return fig


@contextmanager
def figure_of(table: Table):
    """The table's figure in the plots' style (matplotlib's bundled font), closed afterwards."""
    plt = _pyplot()
    from matplotlib import rc_context  # deferred like the rest of matplotlib (see _pyplot)

    with rc_context(STYLE):
        fig = plot_figure(table)
        try:
            yield fig
        finally:
            plt.close(fig)


def plot_table(table: Table) -> bytes:
    """The table's bar charts as PNG bytes."""
    with figure_of(table) as fig:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def check_plotting_available() -> None:
    _pyplot()
