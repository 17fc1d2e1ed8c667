"""The leaderboard's index.html in a real headless Chromium.

Real runs (the session fixture of test_leaderboard_build: popular twice and
retrieval-tfidf on the small synthetic dataset) are built into a leaderboard; the
page is served by a real ThreadingHTTPServer and driven with Playwright against
Debian's /usr/bin/chromium. The test reads the rows back in their family groups,
sorts a metric column by clicking its header (a third click restores the groups),
shows every column with "all metrics", expands a row's signatures and config,
switches the task tab, and saves a screenshot to test-artifacts/leaderboard.png. The
page must make no request to any host but 127.0.0.1 and log no console error.

The committed page (leaderboards/index.html, twelve models, llm-local on n=40), opened
from file://, is then laid out at 1400 and at 390 px wide and checked by element boxes,
not pixels: the headline and the main metric columns are within the viewport without
horizontal scroll; at 390 px every row's model name and main metrics are too, the
filters and task tabs wrap inside it, and nothing on the page is wider than it; the
n=40 flag is visible beside llm-local's name; no two tick labels of a chart overlap,
the axes run from 0 to a labelled tick at or past the maximum; bars are coloured by
the JSON's shade and a column with no better direction has no best bar. Screenshots of
both widths go to test-artifacts/leaderboard-1400.png and leaderboard-390.png.

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
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
COMMITTED = ROOT / "leaderboards"
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
    is the cell's own text (score and interval), without the "significantly below" mark after it."""
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


def grouped_order(table):
    """The page's default order: the rows of each family group of the JSON's view, in turn."""
    return [row_id for group in table["view"]["groups"] for row_id in group["rows"]]


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
    # The headline says which of its models these runs lack, and gains nothing without fusion.
    card = page.locator(f'#headline .hl-card[data-task="{SORT_TASK}"]')
    assert card.is_visible()
    for role in ("fusion", "cf-only", "text-only"):
        assert card.locator(f'tr[data-role="{role}"] td.absent').text_content() == f"no {role} run on this task"
    assert card.locator('tr[data-role="retrieval"] .who').all_text_contents() == ["retrieval-tfidf"] * 2
    assert card.locator(".gain").count() == 0 and card.locator('td.absent:text("not scored")').count() == 1
    assert "No fusion run on this task" in card.text_content()
    section = page.locator(f'section.lb-section[data-task="{SORT_TASK}"]')
    assert section.get_attribute("id") == f"table-{sort_table['slug']}"
    assert section.is_visible() and SORT_TASK in section.locator("h2").text_content()
    # Grouped by family at first: the retrieval baseline's group before the popularity one.
    assert [row_id for row_id, _ in shown_rows(section)] == grouped_order(sort_table)
    assert [g["family"] for g in sort_table["view"]["groups"]] == ["retrieval", "recommender"]
    assert section.locator("tbody tr.group").all_text_contents() == [g["label"] for g in sort_table["view"]["groups"]]
    # Only the main metrics (and the model) show until "all metrics" is ticked.
    main = sort_table["view"]["main"]
    assert main == ["bleu/bleu", "rouge/rougeL"]  # these runs have no semsim
    assert section.locator("thead th:visible").evaluate_all("ths => ths.map(th => th.dataset.sortKey)") == [
        "model", *[f"col:{key}" for key in main]]
    assert section.locator(".chart:visible").evaluate_all("cs => cs.map(c => c.dataset.col)") == main
    page.check("#toggle-all")
    assert section.locator(f'th[data-sort-key="col:{MISSING_COLUMN}"]').is_visible()
    assert section.locator('th[data-sort-key="n"]').is_visible()
    assert section.locator(".chart:visible").count() == len(sort_table["columns"])

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
    assert section.locator("tbody tr.group").count() == 0  # a ranking of every row, across families
    # The third click restores the family groups.
    section.locator(f'th[data-sort-key="col:{MISSING_COLUMN}"]').click()
    assert section.locator("th[aria-sort]").count() == 0
    assert [row_id for row_id, _ in shown_rows(section)] == grouped_order(sort_table)
    assert click_sort(section, MISSING_COLUMN) == "descending"
    assert click_sort(section, MISSING_COLUMN) == "ascending"

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

    # Switch the task tab: only the other task's table is shown.
    page.click(f'#task-tabs button[data-task="{OTHER_TASK}"]')
    assert page.locator(f'#task-tabs button[data-task="{OTHER_TASK}"]').get_attribute("aria-selected") == "true"
    visible = page.locator("main#tables > section.lb-section:visible")
    assert visible.count() == 1
    assert visible.get_attribute("data-task") == OTHER_TASK
    assert visible.get_attribute("id") == f"table-{other_table['slug']}"
    assert OTHER_TASK in visible.locator("h2").text_content()
    assert [row_id for row_id, _ in shown_rows(visible)] == grouped_order(other_table)
    assert section.is_hidden()
    previous_rows = section.locator("tbody tr[data-row-id]")
    assert previous_rows.count() == 3 and all(previous_rows.nth(i).is_hidden() for i in range(3))
    assert page.locator("#shown").text_content() == f"1 of {len(board['tables'])} tables"
    assert page.locator("#no-tables").is_hidden()
    # The sorted table keeps its order when shown again.
    page.click(f'#task-tabs button[data-task="{SORT_TASK}"]')
    assert section.is_visible() and page.locator(f'section.lb-section[data-task="{OTHER_TASK}"]').is_hidden()
    assert_sorted(section, sort_table, MISSING_COLUMN, descending=False)
    page.click(f'#task-tabs button[data-task="{OTHER_TASK}"]')

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


# Measured in the page: what sticks out past the viewport, the charts' tick labels, the rows.
LAYOUT_JS = """() => {
  const W = document.documentElement.clientWidth;
  const box = el => { const r = el.getBoundingClientRect(); return {left: r.left + scrollX, right: r.right + scrollX,
                                                                   top: r.top + scrollY, width: r.width, height: r.height}; };
  const shown = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
                     (el.getAttribute("class") ? "." + el.getAttribute("class").split(" ").join(".") : "");
  const inScroller = el => document.body.classList.contains("all-metrics") && el.closest(".table-wrap");
  const wide = [];
  document.querySelectorAll("body *").forEach(el => {
    if (!shown(el) || inScroller(el)) return;
    const b = box(el);
    if (b.right > W + 0.5 || b.left < -0.5) wide.push([name(el), Math.round(b.left), Math.round(b.right)]);
  });
  const charts = Array.from(document.querySelectorAll("section.lb-section .chart")).filter(shown).map(chart => {
    const svg = chart.querySelector("svg"), s = box(svg);
    return {col: chart.dataset.col, section: chart.closest("section").id, svg: s,
            ticks: Array.from(svg.querySelectorAll("text.tick")).map(t => [t.textContent, box(t)]),
            labels: Array.from(svg.querySelectorAll("text.row-label")).map(t => [t.textContent, box(t)]),
            bars: Array.from(svg.querySelectorAll("rect.bar")).map(b => [b.dataset.shade, b.getAttribute("fill")])};
  });
  const rows = Array.from(document.querySelectorAll("section.lb-section tbody tr[data-row-id]")).filter(shown).map(tr => ({
    section: tr.closest("section").id, id: tr.dataset.rowId, model: box(tr.querySelector("td.model")),
    label: tr.querySelector("td.model .label").textContent,
    main: Array.from(tr.querySelectorAll("td.main")).map(td => [td.dataset.col, box(td)]),
    flag: tr.querySelector(".nflag") ? [tr.querySelector(".nflag").textContent, box(tr.querySelector(".nflag"))] : null}));
  const heads = Array.from(document.querySelectorAll("section.lb-section thead th")).filter(shown).map(th => [th.closest("section").id, th.dataset.sortKey, box(th)]);
  const filters = document.getElementById("filters"), tabs = document.getElementById("task-tabs");
  return {W, scrollWidth: document.documentElement.scrollWidth, wide, charts, rows, heads,
          filters: {box: box(filters), scroll: filters.scrollWidth, client: filters.clientWidth,
                    tabs: Array.from(tabs.children).map(t => box(t)), tabsScroll: tabs.scrollWidth, tabsClient: tabs.clientWidth},
          cards: Array.from(document.querySelectorAll("#headline .hl-card")).filter(shown).map(c => [c.dataset.task, box(c)]),
          banner: shown(document.getElementById("synthetic-banner")) ? box(document.getElementById("synthetic-banner")) : null};
}"""


def overlapping(boxes):
    """Pairs of boxes that overlap by more than half a pixel both ways."""
    found = []
    for i, (text_a, a) in enumerate(boxes):
        for text_b, b in boxes[i + 1:]:
            if min(a["right"], b["right"]) - max(a["left"], b["left"]) > 0.5 and \
                    min(a["top"] + a["height"], b["top"] + b["height"]) - max(a["top"], b["top"]) > 0.5:
                found.append((text_a, text_b))
    return found


def check_layout(layout, board, width):
    """What both widths must show (see the module docstring); returns the rows by section."""
    assert layout["W"] == width
    assert layout["scrollWidth"] <= width, "the page scrolls sideways"
    assert layout["wide"] == [], f"wider than the {width} px viewport: {layout['wide'][:10]}"
    assert layout["banner"] is not None and layout["banner"]["right"] <= width
    f = layout["filters"]
    assert f["scroll"] <= f["client"] and f["tabsScroll"] <= f["tabsClient"]
    assert f["tabs"] and all(0 <= t["left"] and t["right"] <= width for t in f["tabs"])
    tables = {f"table-{t['slug']}": t for t in board["tables"]}
    headline_tasks = [t["task"] for h in board["headline"] for t in h["tasks"]]
    assert [task for task, _ in layout["cards"]] == headline_tasks
    assert all(b["right"] <= width for _, b in layout["cards"])
    # Every main column's header, and every row's model and main cells, within the viewport.
    for section, table in tables.items():
        heads = [key for where, key, b in layout["heads"] if where == section and b["right"] <= width and b["left"] >= 0]
        assert all(f"col:{key}" in heads for key in table["view"]["main"]), (section, heads)
    for row in layout["rows"]:
        table = tables[row["section"]]
        assert [col for col, _ in row["main"]] == table["view"]["main"]
        for b in [row["model"], *(b for _, b in row["main"])]:
            assert 0 <= b["left"] and b["right"] <= width, (row["id"], b)
    # Charts: main metrics only; tick labels apart, inside the chart, from 0 past the maximum.
    for chart in layout["charts"]:
        table = tables[chart["section"]]
        assert chart["col"] in table["view"]["main"]
        assert 0 <= chart["svg"]["left"] and chart["svg"]["right"] <= width
        ticks = chart["ticks"]
        assert len(ticks) >= 3, chart["col"]
        assert overlapping(ticks) == [], (chart["section"], chart["col"], overlapping(ticks))
        assert overlapping(chart["labels"]) == []
        for _, b in ticks + chart["labels"]:
            assert chart["svg"]["left"] - 0.5 <= b["left"] and b["right"] <= chart["svg"]["right"] + 0.5, (chart["col"], b)
        values = [float(text) for text, _ in ticks]
        cells = [r["cells"][chart["col"]] for r in table["rows"] if chart["col"] in r["cells"]]
        top = max(v for c in cells for v in (c["score"], c["ci_high"]) if v is not None)
        assert values[0] == 0 and values == sorted(values) and values[-1] >= top, (chart["col"], values, top)
        column = next(c for c in table["columns"] if c["key"] == chart["col"])
        for shade, fill in chart["bars"]:
            assert fill == board["palette"][shade]
        if column["higher_is_better"] is None or not column["comparable"]:
            assert "best" not in {shade for shade, _ in chart["bars"]}
    rows = {}
    for row in layout["rows"]:
        rows.setdefault(row["section"], []).append(row)
    return rows


@pytest.mark.parametrize("width", [1400, 390])
def test_committed_page_reads_at_desktop_and_phone_width(sync_playwright, browser, width):
    """The committed leaderboard from file://, laid out at 1400 and 390 px: see the module docstring."""
    page, requests, errors = browser
    board = json.loads((COMMITTED / "leaderboard.json").read_text(encoding="utf-8"))
    assert board["headline"] and any(r["short_n"] for t in board["tables"] for r in t["rows"])
    page.set_viewport_size({"width": width, "height": 900})
    url = (COMMITTED / "index.html").resolve().as_uri()
    page.goto(url)
    page.wait_for_selector("body[data-ready='true']")
    layout = page.evaluate(LAYOUT_JS)
    rows = check_layout(layout, board, width)
    # The flag of a row on fewer examples than its table's largest run, beside its name.
    for table in board["tables"]:
        shown = {row["id"]: row for row in rows[f"table-{table['slug']}"]}
        assert set(shown) == {r["id"] for r in table["rows"]}
        for r in table["rows"]:
            flag = shown[r["id"]]["flag"]
            if r["short_n"]:
                assert flag[0] == f"n={r['n']}" and 0 <= flag[1]["left"] and flag[1]["right"] <= width, (r["label"], flag)
            else:
                assert flag is None
    llm = [row for section in rows.values() for row in section if row["label"] == "llm-local"]
    assert llm and all(row["flag"][0] == "n=40" for row in llm)
    # The headline: fusion against each of the others on BLEU, ROUGE-L and semsim, with its gain.
    card = page.locator('#headline .hl-card[data-task="user_summary"]')
    assert card.locator("tr[data-role]").evaluate_all("trs => trs.map(t => t.dataset.role)") == [
        "fusion", "cf-only", "text-only", "retrieval"]
    assert card.locator("thead th").all_text_contents() == ["model", "BLEU ↑", "ROUGE-L ↑", "semsim ↑"]
    assert card.locator(".gain").count() == 9 and all(
        g.startswith("+") for g in card.locator(".gain").all_text_contents())
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / f"leaderboard-{width}.png"
    screenshot.unlink(missing_ok=True)
    page.screenshot(path=str(screenshot), full_page=True)
    assert is_png(screenshot)

    # "All metrics": every column and chart; the tables scroll inside their box, the page does not.
    page.check("#toggle-all")
    assert page.locator('section.lb-section th[data-sort-key="n"]').first.is_visible()
    assert page.locator("section.lb-section .chart.more:visible").count() > 0
    layout = page.evaluate(LAYOUT_JS)
    assert layout["scrollWidth"] <= width and layout["wide"] == []
    for chart in layout["charts"]:
        assert overlapping(chart["ticks"]) == [], (chart["section"], chart["col"])
    assert all(url_.startswith("file://") for url_ in requests), requests
    assert errors == []
