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


def test_cache_is_a_datasets_folder_keyed_by_file_bytes(regen_file):
    import datasets

    loaded = load_records(regen_file)
    folder = arrow_cache_path(loaded.sha256, "error")
    assert folder == cache_dir("arrow", loaded.sha256[:16] + "-error")
    ds = datasets.load_from_disk(str(folder))
    assert ds.column_names == ["reviewer_id", "line", "record"]
    assert ds["reviewer_id"] == [r.reviewer_id for r in loaded.records]
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
