"""`regen-bench leaderboard build` on real runs of the small synthetic dataset."""

import json
import math
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.cli.leaderboard import leaderboard
from regen_bench.plugin import registry
from regen_bench.results.schema import load_results, read_samples

SMALL = ["--dataset-arg", "users=400", "--bootstrap", "200", "--quiet"]

# A corpus metric (not a mean of per-example values) that exists only while the runs are
# made: at build time its plugin is gone, so the leaderboard can neither describe it from
# the registry nor recompute it, and must fall back (and say so).
LENGTH_RATIO_PLUGIN = '''
import numpy as np
from regen_bench import hookimpl
from regen_bench.contracts.metric import Component, Metric, MetricOutput


def ratio(sums, n):
    return sums[..., 0] / np.maximum(sums[..., 1], 1.0)


class LengthRatio(Metric):
    name = "length-ratio"
    description = "Words in all predictions / words in all references."
    higher_is_better = True

    def score(self, predictions, references, examples):
        stats = np.asarray([[len(p.split()), len(r.split())] for p, r in zip(predictions, references)], dtype=float)
        per_example = [a / max(b, 1.0) for a, b in stats]
        return MetricOutput([Component("length-ratio", per_example, stats.reshape(-1, 2), ratio)])


@hookimpl
def register_metrics(register):
    register(LengthRatio)
'''

METRICS = ["--metric", "bleu", "--metric", "rouge", "--metric", "distinct", "--metric", "length-ratio"]


def cli():
    """The real `regen-bench` entry point, with the leaderboard group attached if the lead hasn't yet."""
    if "leaderboard" not in main.commands:
        main.add_command(leaderboard)
    return main


def run_cli(*args):
    return CliRunner().invoke(cli(), [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="session")
def leaderboard_runs(tmp_path_factory):
    """Three real runs on one small synthetic dataset: popular (default metrics),
    retrieval-tfidf and popular again (bleu, rouge, distinct and a one-off corpus metric)."""
    base = tmp_path_factory.mktemp("leaderboard-runs")
    plugin = base / "length_ratio_plugin.py"
    plugin.write_text(textwrap.dedent(LENGTH_RATIO_PLUGIN))
    results = base / "results"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REGEN_BENCH_CACHE_DIR", str(base / "cache"))
        for model, extra in (("popular", []), ("retrieval-tfidf", METRICS), ("popular", METRICS)):
            registry.reset()
            plugin_args = ["--plugins", plugin] if extra else []
            result = run_cli(*plugin_args, "run", "--model", model, *extra, *SMALL, "--output", results)
            assert result.exit_code == 0, result.output
        registry.reset()
    return results


def build(results, out, *extra):
    result = run_cli("leaderboard", "build", "--results", results, "--out", out, "--bootstrap", "200", *extra)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="session")
def built(leaderboard_runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("leaderboard-out")
    registry.reset()
    result = build(leaderboard_runs, out)
    registry.reset()
    return out, json.loads((out / "leaderboard.json").read_text()), result


def all_results(results_dir):
    return {p.relative_to(results_dir).as_posix(): load_results(p) for p in sorted(results_dir.glob("*/results.json"))}


def table(board, task):
    (found,) = [t for t in board["tables"] if t["task"] == task]
    return found


def test_build_writes_markdown_csv_json_html_and_a_plot_per_table(built):
    out, board, _ = built
    for name in ("README.md", "leaderboard.csv", "leaderboard.json", "index.html"):
        assert (out / name).is_file(), name
    assert len(board["datasets"]) == 1 and board["datasets"][0]["synthetic"] is True
    assert {t["task"] for t in board["tables"]} >= {"user_summary", "purchase_reason", "endorsement", "next_item"}
    readme = (out / "README.md").read_text()
    for t in board["tables"]:
        png = out / "plots" / f"{t['slug']}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"](plots/{png.name})" in readme
        assert f"### synthetic [SYNTHETIC] · {t['task']}" in readme
    # PNGs carry no matplotlib version or date.
    assert b"matplotlib" not in png.read_bytes() and b"Software" not in png.read_bytes()
    html = (out / "index.html").read_text()
    assert '<script type="application/json" id="leaderboard-data">' in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html


def test_columns_are_the_metric_components_the_runs_report_with_their_own_metadata(built, leaderboard_runs):
    _, board, _ = built
    runs = all_results(leaderboard_runs)
    for t in board["tables"]:
        expected = {(s.metric, s.component, None if (s.metric, s.component) in {('distinct', 'length')} else s.higher_is_better)
                    for r in runs.values() for s in r.scores if s.task == t["task"]}
        assert {(c["metric"], c["component"], c["higher_is_better"]) for c in t["columns"]} == expected
        for c in t["columns"]:
            assert c["arrow"] == {True: "↑", False: "↓", None: ""}[c["higher_is_better"]]
            if c["metric"] == "length-ratio":  # its plugin is not loaded at build time
                assert c["description_source"] == "results" and "not installed" in c["description"]
            else:
                assert c["description_source"] == "registry"
                assert c["description"] == registry.get_registry().get("metric", c["metric"]).description
            signatures = {s.signature for r in runs.values() for s in r.scores
                          if s.task == t["task"] and (s.metric, s.component) == (c["metric"], c["component"])}
            assert c["signatures"] == sorted(signatures)


def test_cells_copy_the_results_files_and_the_best_row_is_bold(built, leaderboard_runs):
    out, board, _ = built
    runs = all_results(leaderboard_runs)
    readme = (out / "README.md").read_text()
    t = table(board, "user_summary")
    assert len(t["rows"]) == 3
    for row in t["rows"]:
        results = runs[row["results_file"]]
        assert row["model"] == results.model.name and row["config_hash"] == results.model.config_hash
        assert row["train_seconds"] == results.timings["fit"] and row["generate_seconds"] == results.timings["generate"]
        assert row["n"] == results.dataset.n_examples_by_task["user_summary"] and row["backbone"] == "-"
        for entry in (s for s in results.scores if s.task == "user_summary"):
            cell = row["cells"][f"{entry.metric}/{entry.component}"]
            assert (cell["score"], cell["ci_low"], cell["ci_high"], cell["signature"]) == (
                entry.score, entry.ci_low, entry.ci_high, entry.signature)
    for column in t["columns"]:
        if column["higher_is_better"] is None:  # context only (distinct's length): no best row
            assert column["best"] == []
            continue
        scores = {r["id"]: r["cells"][column["key"]]["score"] for r in t["rows"] if column["key"] in r["cells"]}
        best = max(scores.values()) if column["higher_is_better"] else min(scores.values())
        assert column["best"] == [rid for rid, s in scores.items() if s == best]
    bleu = t["columns"][[c["key"] for c in t["columns"]].index("bleu/bleu")]
    best_row = next(r for r in t["rows"] if r["id"] == bleu["best"][0])
    cell = best_row["cells"]["bleu/bleu"]
    assert f"**{cell['score']:.2f} [{cell['ci_low']:.2f}, {cell['ci_high']:.2f}]**" in readme


def test_rows_worse_than_the_best_are_tested_on_shared_examples_and_marked(built, leaderboard_runs):
    from regen_bench.stats import significance

    out, board, _ = built
    t = table(board, "user_summary")
    rows = {r["model"] + ("+" if "distinct/distinct-1" in r["cells"] else ""): r for r in t["rows"]}
    # popular writes one narrative for everyone: far less distinct than retrieval, a corpus metric.
    distinct = rows["popular+"]["cells"]["distinct/distinct-1"]
    assert distinct["best"] is False
    assert distinct["significance"]["method"] == "corpus" and distinct["significance"]["worse"] is True
    assert distinct["significance"]["p_value"] < 0.05 and distinct["significance"]["diff"] < 0
    assert rows["retrieval-tfidf+"]["cells"]["distinct/distinct-1"]["best"] is True
    section = (out / "README.md").read_text().split("### synthetic [SYNTHETIC] · user_summary")[1].split("###")[0]
    line = next(l for l in section.splitlines() if l.startswith("| " + rows["popular+"]["label"] + " |"))
    assert "▼" in line
    # A mean column: the same paired bootstrap, recomputed here from the two samples.jsonl.
    for key in ("rouge/rouge1", "rouge/rouge2", "rouge/rougeL"):
        column = next(c for c in t["columns"] if c["key"] == key)
        best = next(r for r in t["rows"] if r["id"] == column["best"][0])
        other = next(r for r in t["rows"] if r["id"] not in column["best"])
        test = other["cells"][key]["significance"]
        assert test["method"] == "mean" and test["against"] == best["id"]
        a = {s.example_id: s.scores[key.split("/")[1]] for s in read_samples(leaderboard_runs / Path(other["results_file"]).parent / "samples.jsonl") if s.task == "user_summary"}
        b = {s.example_id: s.scores[key.split("/")[1]] for s in read_samples(leaderboard_runs / Path(best["results_file"]).parent / "samples.jsonl") if s.task == "user_summary"}
        shared = sorted(set(a) & set(b))
        assert test["n_shared"] == len(shared) > 0
        expected = significance.paired_bootstrap([a[i] for i in shared], [b[i] for i in shared], seed=0, resamples=200)
        assert math.isclose(test["p_value"], expected.p_value, rel_tol=1e-5, abs_tol=1e-9)
        assert math.isclose(test["diff"], expected.mean_diff, rel_tol=1e-5, abs_tol=1e-12)
        assert test["worse"] == (expected.p_value < 0.05)


def test_a_corpus_metric_that_cannot_be_recomputed_is_approximated_with_a_footnote(built):
    out, board, _ = built
    t = table(board, "user_summary")
    tested = [r["cells"]["length-ratio/length-ratio"]["significance"] for r in t["rows"]
              if "length-ratio/length-ratio" in r["cells"] and not r["cells"]["length-ratio/length-ratio"]["best"]]
    assert tested and all(s["method"] == "approximate" for s in tested)
    assert any("length-ratio is approximate" in note for note in t["notes"])
    assert "Significance for length-ratio is approximate" in (out / "README.md").read_text()


def test_duplicate_runs_of_one_config_are_kept_and_warned_about(built):
    _, board, result = built
    assert "warning: 2 runs of model popular with the same config hash" in result.stderr
    t = table(board, "user_summary")
    populars = [r for r in t["rows"] if r["model"] == "popular"]
    assert len(populars) == 2 and all(r["duplicates"] for r in populars)
    assert populars[0]["label"] != populars[1]["label"]
    assert any("same config hash" in w for w in board["warnings"])


def test_csv_has_one_line_per_cell(built):
    import csv

    out, board, _ = built
    with open(out / "leaderboard.csv", newline="", encoding="utf-8") as handle:
        lines = list(csv.DictReader(handle))
    assert len(lines) == sum(len(r["cells"]) for t in board["tables"] for r in t["rows"])
    assert {line["dataset_label"] for line in lines} == {"SYNTHETIC"}
    assert all(line["signature"] and line["score"] for line in lines)


def test_same_results_give_byte_identical_outputs(leaderboard_runs, tmp_path):
    build(leaderboard_runs, tmp_path / "a")
    registry.reset()
    build(leaderboard_runs, tmp_path / "b")
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) >= 5
    for name in files_a:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_stale_plots_are_removed_and_no_plots_skips_them(leaderboard_runs, tmp_path):
    stale = tmp_path / "plots" / "old-dataset-task.png"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    build(leaderboard_runs, tmp_path, "--no-plots")
    assert stale.exists()  # --no-plots leaves plots/ alone
    assert "](plots/" not in (tmp_path / "README.md").read_text()
    build(leaderboard_runs, tmp_path)
    assert not stale.exists()


def test_a_run_without_samples_is_shown_but_not_tested(leaderboard_runs, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(leaderboard_runs, results)
    victim = sorted(results.glob("*retrieval-tfidf*/samples.jsonl"))[0]
    victim.unlink()
    result = build(results, tmp_path / "out", "--no-plots")
    assert "not found next to it" in result.stderr
    board = json.loads((tmp_path / "out" / "leaderboard.json").read_text())
    row = next(r for r in table(board, "user_summary")["rows"] if r["model"] == "retrieval-tfidf")
    assert row["samples"] is False
    tested = [c["significance"] for t in board["tables"] for r in t["rows"] for c in r["cells"].values()
              if c["significance"] and (c["significance"]["against"] == row["id"] or r["id"] == row["id"])]
    assert tested and all(s["p_value"] is None and "missing" in s["note"] for s in tested)


def test_samples_that_do_not_match_their_results_file_are_refused(leaderboard_runs, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(leaderboard_runs, results)
    samples = sorted(results.glob("*/samples.jsonl"))[0]
    lines = samples.read_text().splitlines(keepends=True)
    samples.write_text("".join(lines[1:]))  # one example dropped
    result = CliRunner().invoke(cli(), ["leaderboard", "build", "--results", str(results), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "does not match" in result.output and str(samples) in result.output
    assert not (tmp_path / "out" / "README.md").exists()


def test_an_empty_results_folder_is_a_clear_error(tmp_path):
    (tmp_path / "results").mkdir()
    result = CliRunner().invoke(cli(), ["leaderboard", "build", "--results", str(tmp_path / "results"),
                                        "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "no results files under" in result.output
