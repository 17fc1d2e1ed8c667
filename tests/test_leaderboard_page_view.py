"""The page's view of the leaderboard, without a browser: the headline's numbers and gains,
model families, the n flag, the main columns, the colour classes, and the PNG plots' axes.

The committed leaderboards/leaderboard.json is the main fixture (twelve real runs, one of
them on 40 examples); edited copies of it stand in for boards that lack a model or a metric.
"""

import copy
import json
import math
from pathlib import Path

import pytest

from regen_bench.leaderboard.render_json import (
    PALETTE,
    add_view,
    family_of,
    gain_pct,
    main_columns,
    shade,
)

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "leaderboards" / "leaderboard.json"
RESULTS = ROOT / "leaderboards" / "results"
HEADLINE = ["bleu/bleu", "rouge/rougeL", "semsim/semsim"]
TEXT_TASKS = ["endorsement", "purchase_reason", "user_profile", "user_summary"]


@pytest.fixture(scope="module")
def board():
    return json.loads(COMMITTED.read_text(encoding="utf-8"))


def bare(board):
    """The board as table.py makes it: without anything add_view adds."""
    data = copy.deepcopy(board)
    for key in ("headline", "families", "palette", "shades"):
        data.pop(key, None)
    for table in data["tables"]:
        table.pop("view", None)
        for row in table["rows"]:
            row.pop("family", None)
            row.pop("short_n", None)
            for cell in row["cells"].values():
                cell.pop("shade", None)
    return data


def table_of(board, task):
    (found,) = [t for t in board["tables"] if t["task"] == task]
    return found


def headline_of(board, task):
    (entry,) = board["headline"]
    (found,) = [t for t in entry["tasks"] if t["task"] == task]
    return {row["role"]: row for row in found["rows"]}, found


def test_the_committed_view_is_what_add_view_derives_from_the_tables(board):
    assert add_view(bare(board)) == board


@pytest.mark.parametrize("task", TEXT_TASKS)
def test_headline_scores_and_gains_come_from_the_table(board, task):
    table = table_of(board, task)
    by_model = {r["model"]: r for r in table["rows"]}
    roles, entry = headline_of(board, task)
    assert list(roles) == ["fusion", "cf-only", "text-only", "retrieval"]
    assert [m["key"] for m in entry["metrics"]] == HEADLINE and all(m["present"] for m in entry["metrics"])
    fusion = by_model["fusion"]
    for key in HEADLINE:
        f = fusion["cells"][key]
        assert roles["fusion"]["cells"][key]["score"] == f["score"] and "gain_pct" not in roles["fusion"]["cells"][key]
        # The best retrieval baseline: the highest-scoring row of a model named retrieval*, per metric.
        retrieval = max((r for r in table["rows"] if r["model"].startswith("retrieval")),
                        key=lambda r: r["cells"][key]["score"])
        for role, row in (("cf-only", by_model["cf-only"]), ("text-only", by_model["text-only"]),
                          ("retrieval", retrieval)):
            cell = roles[role]["cells"][key]
            other = row["cells"][key]
            assert (cell["model"], cell["score"], cell["ci_low"], cell["ci_high"]) == (
                row["model"], other["score"], other["ci_low"], other["ci_high"])
            expected = 100 * (f["score"] - other["score"]) / other["score"]
            assert math.isclose(cell["gain_pct"], expected, rel_tol=1e-5), (task, role, key)
            # fusion is the best row here, so the other row's own test against it is the pair's test.
            assert f["best"] and other["significance"]["against"] == fusion["id"]
            assert cell["significant"] == other["significance"]["worse"]
            assert cell["p_value"] == other["significance"]["p_value"]


def test_the_known_answer_shows_in_the_headline(board):
    """user_summary: fusion ahead of both ablations (significantly) and of every retrieval baseline."""
    roles, _ = headline_of(board, "user_summary")
    for role in ("cf-only", "text-only", "retrieval"):
        for key in HEADLINE:
            assert roles[role]["cells"][key]["gain_pct"] > 0, (role, key)
    for role in ("cf-only", "text-only"):
        assert all(roles[role]["cells"][key]["significant"] for key in HEADLINE), role
    (entry,) = board["headline"]
    assert entry["other_tasks"] == ["next_item"]  # no BLEU, ROUGE-L or semsim there


def test_gain_pct():
    assert gain_pct(30.0, 20.0, True) == 50.0
    assert gain_pct(15.0, 20.0, True) == -25.0
    assert gain_pct(0.5, 1.0, False) == 50.0  # lower is better: fusion's smaller number is the gain
    assert gain_pct(1.0, 0.0, True) is None and gain_pct(None, 1.0, True) is None
    assert gain_pct(1.0, 2.0, None) is None


def test_headline_says_which_model_or_metric_is_missing(board):
    data = bare(board)
    table = table_of(data, "user_summary")
    table["rows"] = [r for r in table["rows"] if r["model"] != "cf-only" and not r["model"].startswith("retrieval")]
    table["columns"] = [c for c in table["columns"] if c["key"] != "semsim/semsim"]
    for row in table["rows"]:
        row["cells"].pop("semsim/semsim", None)
    roles, entry = headline_of(add_view(data), "user_summary")
    assert roles["cf-only"] == {"role": "cf-only", "absent": True, "runs": 0, "cells": {},
                                "note": "no cf-only run on this task"}
    assert roles["retrieval"]["absent"] and roles["retrieval"]["note"] == "no retrieval* run on this task"
    assert [m["present"] for m in entry["metrics"]] == [True, True, False]
    assert set(roles["text-only"]["cells"]) == {"bleu/bleu", "rouge/rougeL"}


def test_without_fusion_the_headline_shows_no_gain(board):
    data = bare(board)
    for table in data["tables"]:
        table["rows"] = [r for r in table["rows"] if r["model"] != "fusion"]
    data = add_view(data)
    for task in data["headline"][0]["tasks"]:
        roles = {row["role"]: row for row in task["rows"]}
        assert roles["fusion"]["absent"]
        assert all("gain_pct" not in c for row in task["rows"] for c in row["cells"].values())


def test_families_from_what_the_results_record_else_the_name(board):
    families = {r["model"]: r["family"] for t in board["tables"] for r in t["rows"]}
    assert families == {
        "fusion": "soft-token", "cf-only": "soft-token", "text-only": "soft-token", "fusion-knn": "soft-token",
        "retrieval-cf": "retrieval", "retrieval-fusion": "retrieval", "retrieval-text": "retrieval",
        "retrieval-tfidf": "retrieval", "llm-local": "llm",
        "popular": "recommender", "popularity": "recommender", "wals": "recommender",
    }
    # From the data, whatever the name: a soft-token backbone, a prompt template.
    assert family_of("my-model", {"backbone": {"lm": "gpt2", "config": {}}}, {}) == "soft-token"
    assert family_of("my-model", {}, {"template_sha": "ab12"}) == "llm"
    assert family_of("my-model", {"backbone": "bert"}, {}) == "other"
    table = table_of(board, "user_summary")
    assert [g["family"] for g in table["view"]["groups"]] == ["soft-token", "retrieval", "llm", "recommender"]
    assert sorted(i for g in table["view"]["groups"] for i in g["rows"]) == sorted(r["id"] for r in table["rows"])


def test_rows_on_fewer_examples_than_the_table_are_flagged(board):
    for table in board["tables"]:
        max_n = max(r["n"] for r in table["rows"])
        assert table["view"]["max_n"] == max_n
        for row in table["rows"]:
            assert row["short_n"] == (row["n"] < max_n), (table["task"], row["model"])
    flagged = {(t["task"], r["model"], r["n"]) for t in board["tables"] for r in t["rows"] if r["short_n"]}
    assert flagged == {(task, "llm-local", 40) for task in TEXT_TASKS}


def test_main_columns(board):
    for table in board["tables"]:
        expected = HEADLINE if table["task"] in TEXT_TASKS else ["mrr/mrr", "ndcg@k/ndcg@10", "recall@k/recall@10"]
        assert table["view"]["main"] == expected
    only_distinct = [{"key": "distinct/distinct-1", "metric": "distinct", "component": "distinct-1",
                      "higher_is_better": True, "comparable": True},
                     {"key": "distinct/length", "metric": "distinct", "component": "length",
                      "higher_is_better": None, "comparable": False}]
    assert main_columns(only_distinct) == ["distinct/distinct-1"]


def test_shade_classes():
    assert shade(True, best=True, worse=False) == "best"
    assert shade(True, best=False, worse=True) == "below"
    assert shade(True, best=False, worse=False) == "plain"
    # No better direction: never best, never below, whatever the cell says.
    assert {shade(False, best=b, worse=w) for b in (True, False) for w in (True, False)} == {"plain"}
    assert set(PALETTE) == {"best", "plain", "below"} and len(set(PALETTE.values())) == 3


def test_cells_carry_their_shade_and_no_direction_columns_are_never_best(board):
    seen = set()
    for table in board["tables"]:
        for column in table["columns"]:
            directed = column["higher_is_better"] is not None and column["comparable"]
            for row in table["rows"]:
                cell = row["cells"].get(column["key"])
                if cell is None:
                    continue
                worse = bool(cell["significance"] and cell["significance"]["worse"])
                expected = ("best" if cell["best"] else "below" if worse else "plain") if directed else "plain"
                assert cell["shade"] == expected, (table["task"], column["key"], row["model"])
                seen.add((directed, cell["shade"]))
    assert (False, "plain") in seen and {"best", "below", "plain"} <= {s for d, s in seen if d}
    # A column made context-only, or whose rows disagree on the direction, loses every best and below.
    data = bare(board)
    table = table_of(data, "user_summary")
    for column in table["columns"]:
        if column["key"] == "bleu/bleu":
            column["comparable"] = False
    data = add_view(data)
    shades = {r["cells"]["bleu/bleu"]["shade"] for r in table_of(data, "user_summary")["rows"]}
    assert shades == {"plain"}


@pytest.fixture(scope="module")
def committed_tables():
    from regen_bench.leaderboard.collect import collect_runs
    from regen_bench.leaderboard.table import build_leaderboard

    return build_leaderboard(collect_runs(RESULTS), seed=0, resamples=20).tables


def boxes_overlap(a, b) -> bool:
    return min(a.x1, b.x1) - max(a.x0, b.x0) > 0.5 and min(a.y1, b.y1) - max(a.y0, b.y0) > 0.5


def test_png_plots_show_the_main_metrics_with_ticks_apart_from_0_past_the_maximum(committed_tables):
    pytest.importorskip("matplotlib")
    from regen_bench.leaderboard import plots

    for table in committed_tables:
        columns = plots.plotted_columns(table)
        main = [c.key for c in columns]
        assert main == main_columns([c.to_json() for c in table.columns])
        with plots.figure_of(table) as fig:
            fig.canvas.draw()
            renderer = fig.canvas.get_renderer()
            page = fig.bbox
            axes = [ax for ax in fig.axes if ax.axison]
            assert len(axes) == len(columns), table.task
            for ax, column in zip(axes, columns):
                labels = [t for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
                boxes = [t.get_window_extent(renderer) for t in labels]
                assert len(boxes) >= 3, (table.task, column.key)
                assert not any(boxes_overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]), (
                    table.task, column.key, [t.get_text() for t in labels])
                assert all(page.x0 <= b.x0 and b.x1 <= page.x1 for b in boxes)
                ticks = list(ax.get_xticks())
                top = max(v for r in table.rows if column.key in r.cells
                          for v in (r.cells[column.key].entry.score, r.cells[column.key].entry.ci_high))
                assert ticks[0] == 0 and ticks[-1] >= top and ax.get_xlim() == (ticks[0], ticks[-1])
                assert column.label in ax.get_xlabel()
                colours = {tuple(round(v, 3) for v in p.get_facecolor()) for p in ax.patches}
                assert colours <= {tuple(round(v, 3) for v in _rgba(PALETTE[s])) for s in PALETTE}
            ylabels = axes[0].get_yticklabels()
            yboxes = [t.get_window_extent(renderer) for t in ylabels]
            assert not any(boxes_overlap(a, b) for i, a in enumerate(yboxes) for b in yboxes[i + 1:])
            assert all(b.x0 >= page.x0 for b in yboxes)
            texts = [t.get_text() for t in ylabels]
            rows = plots.plotted_rows(table)
            assert len(texts) == len(rows)
            max_n = max(row.n for row in rows)
            assert texts == [f"{row.label} (n={row.n})" if row.n < max_n else row.label for row in rows]
            if table.task in TEXT_TASKS:
                assert "llm-local (n=40)" in texts
            else:
                assert not any("(n=" in t for t in texts)
            legend = fig.legends[0].get_window_extent(renderer)
            assert page.x0 <= legend.x0 and legend.x1 <= page.x1 and legend.y1 <= page.y1


def _rgba(colour):
    from matplotlib.colors import to_rgba

    return to_rgba(colour)
