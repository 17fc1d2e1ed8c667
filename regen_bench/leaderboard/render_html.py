"""leaderboards/index.html: one static page, no external requests, works from file://.

The page is `template.html` (in this package) with the leaderboard JSON embedded in a
`<script type="application/json">` tag (the data of leaderboard.json, with the view that
`render_json.add_view` derives: headline, families, main columns, n flags, colour
classes). Its inline script lays that out: the SYNTHETIC banner, the filters and task
tabs, the headline, the compact tables grouped by family with "all metrics" behind a
toggle, and the SVG bar charts, for a desktop or a phone, inserting every value as text
(results files come from pull requests: nothing in them is ever treated as markup).
"""

from __future__ import annotations

import json
from importlib import resources

from regen_bench.leaderboard.render_json import leaderboard_data
from regen_bench.leaderboard.table import Leaderboard

PLACEHOLDER = "__LEADERBOARD_DATA__"
# A failed score (status "failed") reads "failed" on the page. The page's cell text learns this
# only when the board has one, so pages without failures stay byte for byte what they were.
CELL_TEXT = "function cellText(cell, col) { return "
FAILED_CELL_TEXT = 'function cellText(cell, col) { if (cell.status === "failed") return "failed"; return '


def _has_failed_cell(board: Leaderboard) -> bool:
    return any(cell.entry.failed for table in board.tables for row in table.rows for cell in row.cells.values())


def embedded_json(data: dict) -> str:
    """JSON safe inside <script>: no '<' at all, so no '</script>' or '<!--' can appear."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def render_html(board: Leaderboard) -> str:
    template = resources.files("regen_bench.leaderboard").joinpath("template.html").read_text(encoding="utf-8")
    if template.count(PLACEHOLDER) != 1:
        raise AssertionError(f"template.html must contain {PLACEHOLDER} exactly once")
    if _has_failed_cell(board):
        if template.count(CELL_TEXT) != 1:
            raise AssertionError("template.html must define cellText(cell, col) exactly once")
        template = template.replace(CELL_TEXT, FAILED_CELL_TEXT)
    return template.replace(PLACEHOLDER, embedded_json(leaderboard_data(board)))
