"""load_records and its Arrow cache; load_dataset_examples and task field checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from regen_bench.contracts.dataset import LocalFileDataset
from regen_bench.contracts.errors import BadRecordError, MissingFieldPathError, UnknownNameError
from regen_bench.contracts.layout import DatasetLayout
from regen_bench.data.loading import arrow_cache_path, check_task_paths, load_dataset_examples, load_records
from regen_bench.util.paths import cache_dir


def record(uid: str, purchases: int = 3, **extra) -> dict:
    history = [
        {
            "item": {"asin": f"{uid}-I{i}", "title": f"item {i}", "price": "$6.35", "brand": "Acme"},
            "review": {"rating": 4, "text": "fine", "unix_time": 1_400_000_000 + i, "helpful": [1, 0]},
        }
        for i in range(purchases)
    ]
    rec = {"reviewer_id": uid, "purchase_history": history,
           "user": {"long_summary": f"{uid} buys pens", "profile": f"{uid} is a clerk", "nested": {"k": 1}}}
    rec.update(extra)
    return rec


def write(path: Path, records: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def regen_file(tmp_path):
    records = [record(f"U{i}", last_purchase={"item": {"asin": f"T{i}"}, "critique": "cheaper please"}) for i in range(5)]
    records.append(record("U9", top_level_extra={"a": [1, {"b": None}], "s": "é ☃"}))
    return write(tmp_path / "regen.jsonl", records)


def temp_leftovers() -> list[Path]:
    return [p for p in cache_dir("arrow").iterdir() if p.name.startswith(".")]


def test_second_load_comes_from_the_cache_and_equals_the_first(regen_file):
    first = load_records(regen_file)
    second = load_records(regen_file)
    assert not first.from_arrow_cache and second.from_arrow_cache
    assert second.sha256 == first.sha256
    assert second.records == first.records
    assert [r.model_dump() for r in second.records] == [r.model_dump() for r in first.records]
    # extra keys at every level come back exactly, and only the keys the file had
    assert second.records[-1].model_extra == {"top_level_extra": {"a": [1, {"b": None}], "s": "é ☃"}}
    assert second.records[0].purchase_history[0].item.model_extra == {"brand": "Acme"}
    assert second.records[0].purchase_history[0].item.price == 6.35
    assert second.records[-1].model_fields_set == first.records[-1].model_fields_set
    assert not temp_leftovers()


def test_cache_is_an_arrow_file_of_columns_keyed_by_file_bytes(regen_file):
    from regen_bench.contracts.example_set import RECORD_SCHEMA, open_arrow_file

    loaded = load_records(regen_file)
    folder = arrow_cache_path(loaded.sha256, "error")
    assert folder == cache_dir("arrow", loaded.sha256[:16] + "-error")
    table = open_arrow_file(folder / "records.arrow")
    assert table.schema == RECORD_SCHEMA
    assert table.column("reviewer_id").to_pylist() == [r.reviewer_id for r in loaded.records]
    assert table.column("line").to_pylist() == [1, 2, 3, 4, 5, 6]
    history = table.column("history").to_pylist()[0]
    assert [p["asin"] for p in history] == ["U0-I0", "U0-I1", "U0-I2"] and history[0]["price"] == 6.35
    assert table.column("last_asin").to_pylist() == ["T0", "T1", "T2", "T3", "T4", None]
    meta = json.loads((folder / "regen_bench_cache.json").read_text())
    # facts learnt once, while staging: no later load walks the records for them
    assert meta["records"] == 6 and meta["synthetic_records"] == 0
    assert meta["string_paths"] == {"last_purchase.critique": 5, "last_purchase.item.asin": 5,
                                    "top_level_extra.s": 1, "user.long_summary": 6, "user.profile": 6}
    # the same bytes under another name hit the same cache
    copy = regen_file.with_name("copy.jsonl")
    copy.write_bytes(regen_file.read_bytes())
    assert load_records(copy).from_arrow_cache


def test_nan_and_infinity_are_bad_records_and_never_reach_the_cache(tmp_path):
    # Issue 9 changed this: NaN/Infinity used to be accepted (and reached prompts as `$nan`).
    path = tmp_path / "nan.jsonl"
    rec = record("U1")
    rec["purchase_history"][0]["item"]["price"] = float("nan")
    path.write_text(json.dumps(rec) + "\n")
    for _ in range(2):
        with pytest.raises(BadRecordError, match=r"nan.jsonl:1: purchase_history\.0\.item\.price: expected a finite"):
            load_records(path)
    assert list(cache_dir("arrow").iterdir()) == []


def test_a_bad_record_still_fails_and_writes_no_cache(tmp_path):
    path = write(tmp_path / "bad.jsonl", [record("U1"), {"reviewer_id": "U2", "purchase_history": []}])
    for _ in range(2):
        with pytest.raises(BadRecordError, match=r"bad.jsonl:2: purchase_history: expected at least one purchase"):
            load_records(path)
    assert [p for p in cache_dir("arrow").iterdir()] == []


def test_skip_mode_has_its_own_cache_and_keeps_the_bad_record_report(tmp_path):
    path = write(tmp_path / "bad.jsonl", [record("U1"), "{oops", record("U2")])
    first = load_records(path, on_bad_record="skip")
    second = load_records(path, on_bad_record="skip")
    assert second.from_arrow_cache
    assert [r.reviewer_id for r in second.records] == ["U1", "U2"]
    assert second.bad == first.bad and second.bad.count == 1
    assert second.bad.reasons[0].startswith(f"{path}:2: -: expected valid JSON")
    with pytest.raises(BadRecordError):  # the "error" policy is not served by the skip cache
        load_records(path)


def test_a_damaged_cache_is_rebuilt(regen_file):
    first = load_records(regen_file)
    folder = arrow_cache_path(first.sha256, "error")
    for arrow_file in folder.glob("*.arrow"):
        arrow_file.write_bytes(b"not arrow at all")
    rebuilt = load_records(regen_file)
    assert not rebuilt.from_arrow_cache and rebuilt.records == first.records
    again = load_records(regen_file)
    assert again.from_arrow_cache and again.records == first.records


def test_a_partial_cache_without_its_marker_is_rebuilt(regen_file):
    first = load_records(regen_file)
    folder = arrow_cache_path(first.sha256, "error")
    (folder / "regen_bench_cache.json").unlink()
    assert not load_records(regen_file).from_arrow_cache
    assert load_records(regen_file).from_arrow_cache


def test_an_empty_cache_folder_is_filled(regen_file):
    from regen_bench.util.hashing import sha256_file

    sha = sha256_file(regen_file)
    cache_dir("arrow", sha[:16] + "-error")  # creates it, empty
    assert not load_records(regen_file).from_arrow_cache
    assert load_records(regen_file).from_arrow_cache


def test_arrow_cache_can_be_turned_off(regen_file):
    loaded = load_records(regen_file, arrow_cache=False)
    assert len(loaded.records) == 6 and not loaded.from_arrow_cache
    assert list(cache_dir("arrow").iterdir()) == []


def test_importing_loading_does_not_import_datasets():
    code = "import sys, regen_bench.data.loading, regen_bench.data.discovery, regen_bench.cli.data; print('datasets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_load_dataset_examples_uses_layout_and_overrides(regen_file):
    provider = LocalFileDataset(regen_file)
    loaded = load_dataset_examples(provider, task_overrides={"critique_reply": "last_purchase.critique"})
    assert loaded.available_tasks == ["user_summary", "user_profile", "critique_reply"]
    assert loaded.layout.tasks["critique_reply"] == "last_purchase.critique"
    first = loaded.examples[0]
    assert first.references == {
        "user_summary": "U0 buys pens", "user_profile": "U0 is a clerk", "critique_reply": "cheaper please",
    }
    assert first.target_item_id == "T0"
    assert loaded.sha256 == load_records(regen_file).sha256
    assert loaded.bad.count == 0


def test_available_tasks_leave_out_tasks_without_text(tmp_path):
    rec = record("U1")
    rec["user"] = {"long_summary": "text", "profile": "  "}
    path = write(tmp_path / "a.jsonl", [rec])
    loaded = load_dataset_examples(LocalFileDataset(path))
    assert loaded.available_tasks == ["user_summary"]


def test_a_requested_task_on_a_missing_field_lists_the_fields_that_exist(regen_file):
    provider = LocalFileDataset(regen_file)
    with pytest.raises(MissingFieldPathError) as caught:
        load_dataset_examples(provider, task_overrides={"purchase_reason": "last_purchase.reason"},
                              tasks=["user_summary", "purchase_reason", "next_item"])
    message = str(caught.value)
    assert message.startswith(f"task 'purchase_reason' maps to field 'last_purchase.reason', which dataset 'local' ({regen_file}) does not have.")
    assert "String fields that exist: last_purchase.critique, last_purchase.item.asin, top_level_extra.s, user.long_summary, user.profile." in message
    assert "--task-map purchase_reason=FIELD.PATH" in message


def test_check_task_paths_accepts_present_fields_and_ranking_tasks(regen_file):
    records = load_records(regen_file).records
    check_task_paths(DatasetLayout(), ["user_summary", "user_profile", "next_item"], records, "test")
    with pytest.raises(UnknownNameError, match="unknown task 'user_sumary'. Did you mean: user_summary"):
        check_task_paths(DatasetLayout(), ["user_sumary"], records, "test")


def test_a_cache_that_cannot_be_written_only_costs_speed(regen_file, monkeypatch, caplog):
    from regen_bench.data import loading

    def disk_full(self, target, meta):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(loading._ArrowStaging, "publish", disk_full)
    first = load_records(regen_file)
    second = load_records(regen_file)
    assert len(first.records) == 6 and not second.from_arrow_cache
    assert "not caching" in caplog.text and "No space left on device" in caplog.text
    assert list(cache_dir("arrow").iterdir()) == []


def test_examples_from_the_columns_equal_examples_built_from_the_records(regen_file):
    from regen_bench.contracts.examples import build_example
    from regen_bench.contracts.example_set import ExampleSet

    provider = LocalFileDataset(regen_file)
    for arrow_cache in (True, True, False):
        loaded = load_dataset_examples(provider, task_overrides={"critique_reply": "last_purchase.critique"},
                                       arrow_cache=arrow_cache)
        assert isinstance(loaded.examples, ExampleSet)
        built = [build_example(r, loaded.layout) for r in load_records(regen_file).records]
        assert list(loaded.examples) == built
        for task in ("user_summary", "user_profile", "critique_reply", "next_item"):
            assert loaded.examples.references(task) == [e.reference(task) for e in built]
        assert loaded.examples.example_ids == [e.example_id for e in built]
    assert [p.name for p in cache_dir("arrow").iterdir()] == [arrow_cache_path(loaded.sha256, "error").name]


def test_arrow_cache_off_leaves_no_file_behind(regen_file, tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    loaded = load_dataset_examples(LocalFileDataset(regen_file), arrow_cache=False)
    assert len(loaded.examples) == 6 and loaded.examples[5].example_id == "U9"
    assert list((tmp_path / "tmp").iterdir()) == []
