"""The notebook API (regen_bench/api/): `run`, `score`, `load_dataset`, `load_runs` and the frames,
on real runs of the synthetic dataset (600 users, so each test takes seconds)."""

import json
import subprocess
import sys

import pandas as pd
import pytest
import sacrebleu

import regen_bench as rb
from regen_bench import Component, Metric, MetricOutput, Model, RegenBenchError
from regen_bench.leaderboard.collect import collect_runs
from regen_bench.leaderboard.table import build_leaderboard
from regen_bench.results.loader import load_run
from regen_bench.results.samples_parquet import SamplesParquetError, read_samples_table, rows_from_table
from regen_bench.results.schema import load_results, read_samples

SMALL = {"users": 600}


@pytest.fixture(scope="module")
def module_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("api-cache")


@pytest.fixture(autouse=True)
def shared_module_cache(isolated_cache, module_cache, monkeypatch):
    """One cache for the module: the synthetic file is generated once."""
    monkeypatch.setenv("REGEN_BENCH_CACHE_DIR", str(module_cache))


class LastTitles(Model):
    """A notebook's model: never registered."""

    name = "last-titles"

    def generate(self, examples, task):
        return [" and ".join(p.item.title or "" for p in example.history[-2:]) for example in examples]


class Words(Metric):
    name = "words"
    higher_is_better = False

    def score(self, predictions, references, examples):
        return MetricOutput([Component.mean("words", [len(p.split()) for p in predictions])])


def test_run_by_name_gives_a_tidy_scores_frame_of_its_results_file(tmp_path):
    results = rb.run(model="popular", dataset_args=SMALL, limit=20, output=tmp_path, progress=False)
    frame = results.scores_frame()
    assert list(frame.columns) == ["run", "model", "dataset", "split", "task", "metric", "component", "score",
                                   "ci_low", "ci_high", "n", "higher_is_better", "status", "signature"]
    on_disk = load_results(results.run_dir / "results.json")
    assert len(frame) == len(on_disk.scores)
    for entry, row in zip(on_disk.scores, frame.itertuples()):
        assert (row.task, row.component, row.score, row.ci_low, row.ci_high, row.n, row.signature) == (
            entry.task, entry.component, entry.score, entry.ci_low, entry.ci_high, entry.n, entry.signature)
    assert set(frame["model"]) == {"popular"} and set(frame["run"]) == {on_disk.run_id}
    bleu = frame[(frame.task == "user_summary") & (frame.component == "bleu")].score.item()
    assert results.score("bleu", task="user_summary").score == bleu


def test_samples_frame_has_one_row_per_example_and_task_with_its_scores(tmp_path):
    results = rb.run(model="popular", dataset_args=SMALL, limit=20, output=tmp_path, progress=False)
    frame = results.samples_frame()
    rows = read_samples(results.run_dir / "samples.jsonl")
    assert len(frame) == len(rows) == 100  # 20 examples x 5 tasks
    by_key = {(r.task, r.example_id): r for r in rows}
    for record in frame.to_dict("records"):
        row = by_key[(record["task"], record["example_id"])]
        assert record["prediction"] == row.prediction and record["reference"] == row.reference
        for name, value in row.scores.items():
            assert record[name] == pytest.approx(value)
    assert frame.loc[frame.task == "next_item", "bleu"].isna().all()  # bleu scores text tasks only


def test_an_unregistered_model_instance_runs_and_is_cached_by_its_source(tmp_path):
    first = rb.run(model=LastTitles(), dataset_args=SMALL, limit=12, tasks=["user_summary"], output=tmp_path,
                   progress=False)
    assert first.generated == 12 and first.record.model.name == "last-titles"
    assert first.record.model.config["class"].endswith("LastTitles")
    assert len(first.record.model.config["source_sha256"]) == 64
    again = rb.run(model=LastTitles(), dataset_args=SMALL, limit=12, tasks=["user_summary"], output=tmp_path,
                   progress=False)
    assert again.cached == 12 and again.generated == 0
    assert again.scores_frame().score.tolist() == first.scores_frame().score.tolist()

    class LastTitles2(LastTitles):  # the same name, other code: the cache must not answer for it
        name = "last-titles"

        def generate(self, examples, task):
            return ["a different narrative" for _ in examples]

    edited = rb.run(model=LastTitles2(), dataset_args=SMALL, limit=12, tasks=["user_summary"], output=tmp_path,
                    progress=False)
    assert edited.generated == 12
    assert set(edited.samples_frame().prediction) == {"a different narrative"}


def test_model_options_with_an_instance_are_refused(tmp_path):
    with pytest.raises(RegenBenchError, match="constructor"):
        rb.run(model=LastTitles(), model_args={"x": 1}, output=tmp_path, progress=False)


def test_a_loaded_dataset_runs_without_reloading_and_scores_as_by_name(tmp_path):
    ds = rb.load_dataset("synthetic", dataset_args=SMALL)
    assert len(ds) == 600 and ds.synthetic and "user_summary" in ds.tasks
    by_object = rb.run(model="popular", dataset=ds, limit=20, output=tmp_path / "a", progress=False)
    by_name = rb.run(model="popular", dataset_args=SMALL, limit=20, output=tmp_path / "b", progress=False)
    assert by_object.scores_frame().drop(columns="run").equals(by_name.scores_frame().drop(columns="run"))
    assert by_object.record.dataset.sha256 == by_name.record.dataset.sha256


def test_metric_instances_beside_names(tmp_path):
    results = rb.run(model=LastTitles(), dataset_args=SMALL, limit=10, tasks=["user_summary"],
                     metrics=["bleu", Words()], output=tmp_path, progress=False)
    frame = results.scores_frame()
    assert frame.component.tolist() == ["bleu", "words"]
    predictions = results.samples_frame().prediction
    assert frame.set_index("component").score["words"] == pytest.approx(predictions.str.split().str.len().mean())


def test_score_gives_sacrebleu_s_corpus_bleu_with_a_ci_and_signature():
    predictions = ["the cat sat on the mat", "a dog ran in the park today", "she buys pens for the office"]
    references = ["the cat sat on a mat", "the dog ran in a park", "she buys pens and paper for her office"]
    scores = rb.score(predictions, references, metrics=["bleu", "rouge"], resamples=200)
    assert scores["bleu"] == pytest.approx(sacrebleu.corpus_bleu(predictions, [references]).score)
    entry = scores.score("bleu")
    assert entry.ci_low <= entry.score <= entry.ci_high and entry.n == 3
    assert entry.signature.startswith("nrefs:1|")
    assert set(scores.scores_frame().component) == {"bleu", "rouge1", "rouge2", "rougeL", "rougeLsum"}
    per_example = scores.samples_frame()
    assert per_example.prediction.tolist() == predictions  # in the order given


def test_score_of_ranked_lists_and_its_errors():
    scores = rb.score([["a", "b"], ["c", "d"]], ["b", "x"], metrics=["recall@k"], task="next_item")
    assert scores.score("recall@10").score == pytest.approx(0.5)
    with pytest.raises(RegenBenchError, match="2 predictions but 1 references"):
        rb.score(["a", "b"], ["a"])
    with pytest.raises(RegenBenchError, match="no metric"):
        rb.score(["a"], ["a"], metrics=["recall@k"])


def test_samples_parquet_beside_jsonl_reads_back_the_same_rows(tmp_path):
    results = rb.run(model="popular", dataset_args=SMALL, limit=20, output=tmp_path, samples_format="parquet",
                     progress=False)
    parquet = results.run_dir / "samples.parquet"
    table = read_samples_table(parquet, expected_sha256=results.record.samples.sha256)
    assert table.num_rows == 100 and "score.bleu" in table.column_names
    from_parquet = rows_from_table(table)
    from_jsonl = read_samples(results.run_dir / "samples.jsonl")
    for a, b in zip(from_parquet, from_jsonl, strict=True):
        assert (a.task, a.example_id, a.user_id, a.prediction, a.reference) == (
            b.task, b.example_id, b.user_id, b.prediction, b.reference)
        assert a.scores == pytest.approx({k: v for k, v in b.scores.items() if v is not None})
    load_run(results.run_dir)  # samples.jsonl is still the run's record, its sha256 intact
    with pytest.raises(SamplesParquetError, match="belongs to another run"):
        read_samples_table(parquet, expected_sha256="0" * 64)


def test_load_runs_concatenates_many_runs_reading_parquet_where_written(tmp_path):
    a = rb.run(model="popular", dataset_args=SMALL, limit=20, output=tmp_path, samples_format="parquet",
               progress=False)
    b = rb.run(model=LastTitles(), dataset_args=SMALL, limit=20, tasks=["user_summary"], output=tmp_path,
               progress=False)
    scores, samples = rb.load_runs(tmp_path, samples=True)
    assert set(scores.run) == {a.record.run_id, b.record.run_id}
    assert len(scores) == len(a.scores) + len(b.scores)
    assert len(samples) == 100 + 20
    key = ["run", "task", "component"]
    listed = rb.load_runs([b.run_dir / "results.json", a.run_dir]).sort_values(key, ignore_index=True)
    assert listed.equals(scores.sort_values(key, ignore_index=True))
    # a stale samples.parquet (another run's) is refused, not read
    (b.run_dir / "samples.parquet").write_bytes((a.run_dir / "samples.parquet").read_bytes())
    with pytest.raises(SamplesParquetError):
        rb.load_runs(b.run_dir, samples=True)


def test_to_hf_is_the_split_over_the_arrow_cache_without_copying_it():
    ds = rb.load_dataset("synthetic", dataset_args=SMALL)
    test = ds.split("test")
    hf = ds.to_hf("test")
    assert len(hf) == len(test)
    assert hf["reviewer_id"] == test.example_ids
    assert hf["user_summary"] == test.references("user_summary")
    assert hf[0]["history"][0].keys() >= {"asin", "title", "category"}
    store_history = test._store.table.column("history").chunk(0)
    hf_history = hf.data.table.column("history").chunk(0)
    assert hf_history.buffers()[1].address == store_history.buffers()[1].address  # the same memory
    assert hf._indices is not None  # a split is an index over the table, not a copy of its rows
    assert isinstance(ds.to_pandas("validation"), pd.DataFrame)


def test_leaderboard_frame_has_a_row_per_cell_of_the_committed_board():
    board = build_leaderboard(collect_runs(__import__("pathlib").Path(__file__).parents[1] / "leaderboards" / "results"),
                              resamples=100)
    frame = rb.leaderboard_frame(board)
    cells = sum(len(row.cells) for table in board.tables for row in table.rows)
    assert len(frame) == cells
    best = frame[frame.best]
    assert not best.empty and best.higher_is_better.notna().all()


def test_importing_regen_bench_loads_no_run_machinery_and_no_pandas():
    code = ("import sys, regen_bench\n"
            "print(json.dumps([m for m in ('pandas', 'torch', 'datasets', 'regen_bench.api') if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", "import json\n" + code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
    assert callable(rb.run) and callable(rb.score)


def test_the_readme_one_liner_prints_a_tidy_frame(tmp_path, module_cache):
    """Issue 12's check, as a user types it: the default dataset, in a fresh folder."""
    code = "import regen_bench as rb; r = rb.run(model='popular', limit=20); print(r.scores_frame())"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "REGEN_BENCH_CACHE_DIR": str(module_cache)})
    lines = out.stdout.splitlines()
    assert lines[0].split()[0] == "run" and lines[0].split()[-1] == "signature"  # pandas elides the middle
    assert "[23 rows x 14 columns]" in out.stdout  # 4 text tasks x 5 components + 3 ranking metrics
    assert (tmp_path / "runs").is_dir()


def test_progress_bars_show_on_stderr_and_progress_false_silences_them(tmp_path, capfd):
    rb.run(model="popular", dataset_args=SMALL, limit=20, seed=11, output=tmp_path / "a", progress=True)
    assert "generate (popular)" in capfd.readouterr().err
    rb.run(model="popular", dataset_args=SMALL, limit=20, seed=12, output=tmp_path / "b", progress=False)
    err = capfd.readouterr().err
    assert "generate (popular)" not in err and "score" not in err.replace("scored on", "")
