"""A component reported for context only (distinct's `length`: no better direction) gets
no arrow, no best row and no significance test, in every output of `leaderboard build`.

The results file records the metric's one `higher_is_better` (True) for every component,
so without this the leaderboard would bold the longest predictions and mark shorter ones
"significantly worse". Built on the real runs of test_leaderboard_build (popular twice and
retrieval-tfidf, the last two with distinct).
"""

import csv
import json
import re

import pytest
from test_leaderboard_build import built, leaderboard_runs, table  # noqa: F401  (fixtures)

LENGTH = "distinct/length"
DISTINCT1 = "distinct/distinct-1"


def columns_by_key(t):
    return {c["key"]: c for c in t["columns"]}


def test_length_is_a_context_component_recorded_in_results(leaderboard_runs):
    from regen_bench.results.schema import load_results
    from regen_bench_plugins.metrics.distinct import DistinctMetric

    assert DistinctMetric.context_components == ("length",)
    records = [m for p in sorted(leaderboard_runs.glob("**/results.json")) for m in load_results(p).metrics
               if m.name == "distinct"]
    assert records and all(m.context_components == ["length"] for m in records)


def test_json_context_column_has_no_direction_best_or_tests(built):
    _, board, _ = built
    tables = [t for t in board["tables"] if LENGTH in columns_by_key(t)]
    assert tables  # every text task the distinct runs made
    for t in tables:
        length = columns_by_key(t)[LENGTH]
        assert length["higher_is_better"] is None and length["arrow"] == ""
        assert length["best"] == [] and length["comparable"] is False
        cells = [r["cells"][LENGTH] for r in t["rows"] if LENGTH in r["cells"]]
        assert len(cells) == 2 and len({c["score"] for c in cells}) == 2  # two runs, different lengths
        assert all(c["best"] is False and c["significance"] is None for c in cells)
        assert any("length: reported for context only" in note for note in t["notes"])
        # The metric's other components keep their direction, best row and tests.
        distinct1 = columns_by_key(t)[DISTINCT1]
        assert distinct1["higher_is_better"] is True and distinct1["arrow"] == "↑" and distinct1["best"]
        assert any(r["cells"][DISTINCT1]["significance"] for r in t["rows"] if DISTINCT1 in r["cells"])


def markdown_section(readme, task):
    return readme.split(f"### synthetic [SYNTHETIC] · {task}\n")[1].split("\n### ")[0]


def test_markdown_header_has_no_arrow_and_cells_no_marks(built):
    out, board, _ = built
    readme = (out / "README.md").read_text(encoding="utf-8")
    t = table(board, "user_summary")
    section = markdown_section(readme, "user_summary")
    lines = [line for line in section.splitlines() if line.startswith("| ")]
    header = [h.strip() for h in lines[0].strip("|").split("|")]
    assert "length" in header and "distinct-1 ↑" in header
    index = header.index("length")
    labels = {r["label"]: r for r in t["rows"]}
    for line in lines[1:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        row = labels[cells[0]]
        if LENGTH in row["cells"]:
            assert not cells[index].startswith("**") and "▼" not in cells[index], line
    # Listed with the metric without an arrow, and explained in a note.
    assert re.search(r"- \*\*distinct\*\* \(distinct-1 ↑, distinct-2 ↑, length\) — ", section)
    assert "Note: length: reported for context only (no better direction)" in section
    assert "length ↑" not in readme and "length ↓" not in readme


def test_csv_context_rows_have_no_direction_best_or_test(built):
    out, _, _ = built
    with open(out / "leaderboard.csv", newline="", encoding="utf-8") as handle:
        lines = [line for line in csv.DictReader(handle) if line["metric"] == "distinct"]
    length = [line for line in lines if line["component"] == "length"]
    assert length
    for line in length:
        assert line["higher_is_better"] == "" and line["best"] == "false"
        assert line["significantly_worse"] == "false"
        assert line["p_value"] == line["diff_vs_best"] == line["significance_method"] == ""
        assert line["score"] and line["ci_low"] and line["ci_high"]  # the numbers themselves are still there
    others = [line for line in lines if line["component"] != "length"]
    assert all(line["higher_is_better"] == "true" for line in others)
    assert any(line["best"] == "true" for line in others)


def test_html_embeds_the_same_context_column(built):
    out, board, _ = built
    html = (out / "index.html").read_text(encoding="utf-8")
    data = re.search(r'<script type="application/json" id="leaderboard-data">(.*?)</script>', html, re.S).group(1)
    assert json.loads(data) == board  # the page draws exactly the JSON's columns and cells
    assert 'col.arrow ? [col.label + " "' in html  # the header only adds an arrow when there is one


def test_html_page_shows_no_arrow_highlight_or_mark_for_the_context_column(built):
    from pathlib import Path

    chromium = Path("/usr/bin/chromium")
    if not chromium.is_file():
        pytest.skip(f"{chromium} not found")
    sync_api = pytest.importorskip("playwright.sync_api")
    out, board, _ = built
    t = table(board, "user_summary")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True,
                                    args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            errors = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto((out / "index.html").resolve().as_uri())
            page.wait_for_selector("body[data-ready='true']")
            section = page.locator(f'section.lb-section[data-task="{t["task"]}"]')
            header = section.locator(f'th[data-sort-key="col:{LENGTH}"]')
            assert header.text_content() == "length" and header.locator(".arrow").count() == 0
            assert section.locator(f'th[data-sort-key="col:{DISTINCT1}"] .arrow').text_content() == "↑"
            cells = section.locator(f'tbody tr[data-row-id] td[data-col="{LENGTH}"]')
            assert cells.count() == len(t["rows"])
            assert section.locator(f'td[data-col="{LENGTH}"].best').count() == 0
            assert section.locator(f'td[data-col="{LENGTH}"] .mark').count() == 0
            assert section.locator(f'td[data-col="{DISTINCT1}"].best').count() == 1
            assert section.locator(f'.chart[data-col="{LENGTH}"] .title').text_content() == "length"
            # Its bars are neither the best colour nor the worse colour.
            fills = section.locator(f'.chart[data-col="{LENGTH}"] svg rect.bar').evaluate_all(
                "bars => bars.map(b => b.getAttribute('fill'))")
            assert fills and set(fills) == {"#90a4ae"}
            assert errors == []
        finally:
            browser.close()
