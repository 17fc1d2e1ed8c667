"""The leaderboard's index.html in a real headless Chromium, served over HTTP on 127.0.0.1.

Real runs (the session fixture of test_leaderboard_build: popular twice and
retrieval-tfidf on the small synthetic dataset) are built into a leaderboard; the
page is served by a real ThreadingHTTPServer and driven with Playwright against
Debian's /usr/bin/chromium. The test sorts a metric column by clicking its header,
reads the rows back from the DOM, expands a row's signatures and config, switches
the task filter, and saves a screenshot to test-artifacts/leaderboard.png. The page
must make no request to any host but 127.0.0.1 and log no console error.

Without /usr/bin/chromium or the playwright package the test is skipped, unless
REGEN_BENCH_REQUIRE_BROWSER=1 (CI sets it), where it fails instead.
"""

import functools
import http.server
import json
import os
import re
import struct
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from test_leaderboard_build import build, leaderboard_runs  # noqa: F401  (leaderboard_runs is a fixture)

from regen_bench.plugin import registry

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync",
]
SORT_TASK, SORT_COLUMN = "user_summary", "bleu/bleu"  # every row has it; retrieval-tfidf beats popular
MISSING_COLUMN = "distinct/distinct-1"  # the first popular run was made without distinct
OTHER_TASK = "purchase_reason"


def missing_browser(reason):
    if os.environ.get("REGEN_BENCH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (REGEN_BENCH_REQUIRE_BROWSER=1, so the browser test may not be skipped)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def site(leaderboard_runs, tmp_path_factory):  # noqa: F811
    """The built leaderboard folder, served on 127.0.0.1 (a free port) from a thread."""
    out = tmp_path_factory.mktemp("leaderboard-site")
    registry.reset()
    build(leaderboard_runs, out, "--no-plots")  # index.html draws its own SVG charts
    registry.reset()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, name="leaderboard-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", json.loads((out / "leaderboard.json").read_text())
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="session")
def sync_playwright():
    """Playwright's sync API, once /usr/bin/chromium and the playwright package are both there
    (checked before the runs are made, so a skip is immediate)."""
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        missing_browser(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None:
        missing_browser("the playwright package is not installed (pip install playwright; no `playwright install` needed)")
    return sync_playwright


@pytest.fixture
def browser(sync_playwright, tmp_path):
    """A Playwright page in /usr/bin/chromium (fresh profile), recording requests and console errors."""
    requests, errors = [], []
    with sync_playwright() as p:
        # A persistent context, so the profile is a fresh temporary --user-data-dir we choose
        # (Playwright refuses --user-data-dir in args).
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 900}, service_workers="block")
        try:
            context.set_default_timeout(15_000)
            page = context.pages[0] if context.pages else context.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.on("console", lambda msg: errors.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
            yield page, requests, errors
        finally:
            context.close()


def shown_rows(section):
    """(row id, {data-col: displayed text}) for the section's table rows, top to bottom; the text
    is the cell's own text, without the "significantly worse" mark that may follow it."""
    return section.locator("tbody tr[data-row-id]").evaluate_all(
        """rows => rows.map(tr => [tr.getAttribute("data-row-id"),
              Object.fromEntries(Array.from(tr.children).filter(td => td.dataset.col)
                                 .map(td => [td.dataset.col, td.firstChild ? td.firstChild.textContent : ""]))])""")


def displayed_score(text):
    """The score a cell shows ("16.41 [14.9, 17.8]" -> 16.41); None for a missing "-"."""
    if text.strip() == "-":
        return None
    match = re.match(r"\s*(-?\d+(?:\.\d+)?) \[", text)
    assert match, f"unexpected cell text {text!r}"
    return float(match.group(1))


def expected_order(table, key, descending):
    """The page's sort: stable, by score, rows without the column last either way."""
    rows = table["rows"]
    present = [r for r in rows if key in r["cells"]]
    absent = [r for r in rows if key not in r["cells"]]
    present = sorted(present, key=lambda r: r["cells"][key]["score"], reverse=descending)  # stable with reverse too
    return [r["id"] for r in present + absent]


def click_sort(section, key):
    header = section.locator(f'th[data-sort-key="col:{key}"]')
    header.click()
    return header.get_attribute("aria-sort")


def assert_sorted(section, table, key, descending):
    """The rows as displayed are sorted by the column's shown values, missing ones last; returns the values."""
    rows = shown_rows(section)
    values = [displayed_score(cells.get(key, "-")) for _, cells in rows]
    present = [v for v in values if v is not None]
    assert values == present + [None] * (len(values) - len(present)), values
    assert present == sorted(present, reverse=descending), values
    assert [row_id for row_id, _ in rows] == expected_order(table, key, descending)
    # The chart's bars follow the table's order (each bar's tooltip: "label: score [CI]", the cell's text).
    by_id = {r["id"]: r["label"] for r in table["rows"]}
    tooltips = section.locator(f'.chart[data-col="{key}"] svg rect.bar > title').all_text_contents()
    assert tooltips == [f"{by_id[row_id]}: {cells[key]}" for row_id, cells in rows[:len(present)]]
    return values


def is_png(path):
    data = path.read_bytes()
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return False
    width, height = struct.unpack(">II", data[16:24])
    return width > 0 and height > 0


def test_leaderboard_page_sorts_filters_and_stays_local_in_headless_chromium(sync_playwright, site, browser):
    base, board = site
    page, requests, errors = browser
    tables = {t["task"]: t for t in board["tables"]}
    sort_table, other_table = tables[SORT_TASK], tables[OTHER_TASK]
    assert len(sort_table["rows"]) == 3  # the precondition the sort assertions rely on

    page.goto(f"{base}/index.html")
    page.wait_for_selector("body[data-ready='true']")
    assert page.title() == "regen-bench leaderboard"

    # Every table is drawn and shown at first.
    sections = page.locator("main#tables > section.lb-section")
    assert sections.count() == len(board["tables"])
    assert page.locator("#shown").text_content() == f"{len(board['tables'])} of {len(board['tables'])} tables"
    section = page.locator(f'section.lb-section[data-task="{SORT_TASK}"]')
    assert section.get_attribute("id") == f"table-{sort_table['slug']}"
    assert section.is_visible() and SORT_TASK in section.locator("h2").text_content()
    assert [row_id for row_id, _ in shown_rows(section)] == [r["id"] for r in sort_table["rows"]]

    # Bar charts: one per column, a bar and a CI error bar per row that has the column.
    for col in sort_table["columns"]:
        chart = section.locator(f'.chart[data-col="{col["key"]}"]')
        with_column = sum(1 for r in sort_table["rows"] if col["key"] in r["cells"])
        assert chart.locator("svg rect.bar").count() == with_column, col["key"]
        assert chart.locator("svg line.ci").count() == with_column, col["key"]
    assert section.locator(f'.chart[data-col="{SORT_COLUMN}"] svg rect.bar').first.bounding_box()["width"] > 1

    # Sort by a higher-is-better column: the first click sorts descending, the second ascending.
    column = next(c for c in sort_table["columns"] if c["key"] == SORT_COLUMN)
    assert column["higher_is_better"] is True
    assert click_sort(section, SORT_COLUMN) == "descending"
    descending = assert_sorted(section, sort_table, SORT_COLUMN, descending=True)
    assert click_sort(section, SORT_COLUMN) == "ascending"
    ascending = assert_sorted(section, sort_table, SORT_COLUMN, descending=False)
    assert descending != ascending and len(set(descending)) > 1  # the two directions really differ

    # A column some rows lack: those rows go last in both directions; only one header is marked.
    assert next(c for c in sort_table["columns"] if c["key"] == MISSING_COLUMN)["higher_is_better"] is True
    assert click_sort(section, MISSING_COLUMN) == "descending"
    assert_sorted(section, sort_table, MISSING_COLUMN, descending=True)
    assert click_sort(section, MISSING_COLUMN) == "ascending"
    assert_sorted(section, sort_table, MISSING_COLUMN, descending=False)
    assert section.locator("th[aria-sort]").count() == 1

    # Signatures and config on demand.
    first_id, _ = shown_rows(section)[0]
    first = next(r for r in sort_table["rows"] if r["id"] == first_id)
    details = section.locator(f'tr.details[data-details-for="{first_id}"]')
    assert details.is_hidden()
    section.locator(f'tr[data-row-id="{first_id}"] button.expand').click()
    assert details.is_visible()
    assert section.locator(f'tr[data-row-id="{first_id}"] button.expand').get_attribute("aria-expanded") == "true"
    assert details.locator("dd.signature").all_text_contents() == [
        first["cells"][c["key"]]["signature"] for c in sort_table["columns"] if c["key"] in first["cells"]]
    assert json.loads(details.locator("pre.config").text_content()) == first["config"]
    assert first["config_hash"] in details.text_content()
    section.locator(f'tr[data-row-id="{first_id}"] button.expand').click()
    assert details.is_hidden()

    # Switch the task filter: only the other task's table is shown.
    page.select_option("#filter-task", OTHER_TASK)
    visible = page.locator("main#tables > section.lb-section:visible")
    assert visible.count() == 1
    assert visible.get_attribute("data-task") == OTHER_TASK
    assert visible.get_attribute("id") == f"table-{other_table['slug']}"
    assert OTHER_TASK in visible.locator("h2").text_content()
    assert [row_id for row_id, _ in shown_rows(visible)] == [r["id"] for r in other_table["rows"]]
    assert section.is_hidden()
    previous_rows = section.locator("tbody tr[data-row-id]")
    assert previous_rows.count() == 3 and all(previous_rows.nth(i).is_hidden() for i in range(3))
    assert page.locator("#shown").text_content() == f"1 of {len(board['tables'])} tables"
    assert page.locator("#no-tables").is_hidden()
    # The sorted table keeps its order when shown again.
    page.select_option("#filter-task", SORT_TASK)
    assert section.is_visible() and page.locator(f'section.lb-section[data-task="{OTHER_TASK}"]').is_hidden()
    assert_sorted(section, sort_table, MISSING_COLUMN, descending=False)
    page.select_option("#filter-task", OTHER_TASK)

    # Screenshot: the filtered page, sorted by BLEU, one row's details open.
    other = page.locator(f'section.lb-section[data-task="{OTHER_TASK}"]')
    assert click_sort(other, SORT_COLUMN) == "descending"
    other.locator("tbody tr[data-row-id] button.expand").first.click()
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "leaderboard.png"
    screenshot.unlink(missing_ok=True)
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 0 and is_png(screenshot)

    # Nothing but 127.0.0.1, and no console errors (a CSP violation would be one).
    assert requests, "no request recorded"
    assert requests[0] == f"{base}/index.html"
    foreign = [url for url in requests if urlsplit(url).hostname != "127.0.0.1"]
    assert not foreign, foreign
    assert errors == []
