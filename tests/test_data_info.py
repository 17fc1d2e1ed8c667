"""`discover()` / `data info`, and the `data` command group."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.contracts.errors import BadRecordError
from regen_bench.contracts.layout import DatasetLayout
from regen_bench.data.discovery import discover, format_info


def purchase(asin: str, price=5.0, category="Office Products - Pens", summary="Nice", text="works well") -> dict:
    return {
        "item": {"asin": asin, "title": f"title {asin}", "price": price, "category": category},
        "review": {"summary": summary, "rating": 5, "text": text, "unix_time": 1_400_000_000},
    }


USERS = [
    {
        "reviewer_id": "U1",
        "purchase_history": [purchase("A1"), purchase("A2", price="$3.50", category=None), purchase("A3")],
        "user": {"long_summary": "one two three four", "profile": "clerk", "tags": ["pens", "paper"]},
        "last_purchase": {"item": {"asin": "A9"}, "critique": "a cheaper one please", "score": 0.5},
    },
    {
        "reviewer_id": "U2",
        "purchase_history": [purchase("B1", summary=None)],
        "user": {"long_summary": "five six", "profile": ""},
    },
    {
        "reviewer_id": "U3",
        "purchase_history": [purchase("C1"), purchase("C2", text="")],
        "user": {"long_summary": "seven eight nine ten eleven twelve", "tags": []},
        "last_purchase": None,
    },
]


def write(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def regen_file(tmp_path):
    return write(tmp_path / "office.jsonl", USERS)


def field(info, path):
    (found,) = [f for f in info.fields if f.path == path]
    return found


def test_counts_users_and_purchases(regen_file):
    info = discover(regen_file)
    assert (info.users, info.purchases) == (3, 6)
    assert info.mean_purchases_per_user == 2.0
    assert (info.min_purchases, info.max_purchases) == (1, 3)
    assert info.bad_records is None


def test_every_field_path_with_fill_rate_and_types(regen_file):
    info = discover(regen_file)
    paths = {f.path for f in info.fields}
    assert {
        "reviewer_id", "purchase_history", "user", "user.long_summary", "user.profile", "user.tags",
        "user.tags[]", "last_purchase", "last_purchase.item.asin", "last_purchase.critique",
        "purchase_history[].item", "purchase_history[].item.asin", "purchase_history[].item.price",
        "purchase_history[].item.category", "purchase_history[].review.summary", "purchase_history[].review.text",
    } <= paths
    # per purchase row: one of six categories is null, one summary null, one text empty
    category = field(info, "purchase_history[].item.category")
    assert (category.unit, category.filled, category.present, category.fill_rate) == ("purchase", 5, 6, round(5 / 6, 4))
    assert category.types == ["null", "string"]
    assert field(info, "purchase_history[].item.price").types == ["number", "string"]
    assert field(info, "purchase_history[].review.summary").filled == 5
    assert field(info, "purchase_history[].review.text").filled == 5
    # per user: profile filled for U1 only ("" is empty); tags non-empty for U1 only
    profile = field(info, "user.profile")
    assert (profile.unit, profile.filled, profile.present, profile.fill_rate) == ("user", 1, 2, round(1 / 3, 4))
    assert field(info, "user.tags").filled == 1 and field(info, "user.tags[]").types == ["string"]
    # last_purchase: an object for U1, null for U3, absent for U2
    last = field(info, "last_purchase")
    assert (last.filled, last.present, last.types) == (1, 2, ["null", "object"])
    assert field(info, "last_purchase.score").types == ["number"]


def test_candidate_narrative_fields_are_text_under_user_and_last_purchase(regen_file):
    info = discover(regen_file)
    by_path = {n.path: n for n in info.narrative_fields}
    assert set(by_path) == {"user.long_summary", "user.profile", "user.tags[]", "last_purchase.critique",
                            "last_purchase.item.asin"}
    summary = by_path["user.long_summary"]
    assert summary.users == 3 and summary.fill_rate == 1.0
    assert summary.mean_words == round((4 + 2 + 6) / 3, 1)
    assert summary.mean_chars == round((18 + 8 + 34) / 3, 1)
    assert by_path["last_purchase.critique"].mean_words == 4.0


def test_reports_which_tasks_are_available(regen_file):
    layout = DatasetLayout().with_overrides(
        {"critique_reply": "last_purchase.critique", "purchase_reason": "last_purchase.reason",
         "scored": "last_purchase.score", "listed": "purchase_history[].review.text"}
    )
    info = discover(regen_file, layout=layout)
    assert [(t.task, t.path, t.fill_rate) for t in info.tasks_available] == [
        ("user_summary", "user.long_summary", 1.0),
        ("user_profile", "user.profile", round(1 / 3, 4)),
        ("critique_reply", "last_purchase.critique", round(1 / 3, 4)),
    ]
    reasons = {t.task: (t.path, t.reason) for t in info.tasks_unavailable}
    assert reasons["purchase_reason"] == ("last_purchase.reason", "no record has this field")
    assert reasons["scored"] == ("last_purchase.score", "present but not text (number)")
    assert reasons["listed"][1].startswith("inside a list")
    assert info.critique_path == "last_purchase.critique" and info.critique_available


def test_default_layout_on_a_file_without_profiles(tmp_path):
    rows = [dict(u, user={"long_summary": "x"}) for u in USERS]
    info = discover(write(tmp_path / "a.jsonl", rows))
    assert [t.task for t in info.tasks_available] == ["user_summary"]
    assert [(t.task, t.reason) for t in info.tasks_unavailable] == [("user_profile", "no record has this field")]


def test_bad_records_stop_discovery_or_are_reported_with_skip(tmp_path):
    path = write(tmp_path / "a.jsonl", USERS + ["{broken", USERS[0]])
    with pytest.raises(BadRecordError, match=r"a.jsonl:4: -: expected valid JSON"):
        discover(path)
    info = discover(path, on_bad_record="skip")
    assert info.users == 3
    assert info.bad_records.count == 2
    assert info.bad_records.reasons[1] == f"{path}:5: reviewer_id: duplicate user 'U1' (first seen at line 1)"


def test_format_info_is_an_aligned_report(regen_file):
    text = format_info(discover(regen_file))
    lines = text.splitlines()
    assert lines[0].startswith(f"file:       {regen_file} (")
    assert "users:      3" in lines
    assert "purchases:  6 (mean 2.00 per user, min 1, max 3)" in lines
    assert "tasks available:" in lines and "tasks not available:" in lines
    header = next(line for line in lines if line.strip().startswith("field") and "mean words" in line)
    row = next(line for line in lines if line.strip().startswith("user.long_summary") and "100.0%" in line)
    # numeric columns are right-aligned under their headers
    assert header.index("mean words") + len("mean words") == row.index("4.0") + len("4.0")
    assert "--task-map TASK=FIELD.PATH" in text


def test_discovery_streams_without_holding_the_records(tmp_path):
    rows = [dict(USERS[0], reviewer_id=f"U{i}",
                 user={"long_summary": "word " * 200, "profile": "p"}) for i in range(3000)]
    path = write(tmp_path / "big.jsonl", rows)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        info = discover(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.users == 3000
    assert peak < size / 4, f"peak {peak} bytes for a {size}-byte file"


# -- the `data` command group ----------------------------------------------------------


def invoke(*args):
    return CliRunner().invoke(main, ["data", *args])


def test_data_info_prints_the_report(regen_file):
    result = invoke("info", str(regen_file))
    assert result.exit_code == 0, result.output
    assert "users:      3" in result.stdout
    assert "user.long_summary" in result.stdout


def test_data_info_json(regen_file):
    result = invoke("info", str(regen_file), "--json", "--task-map", "critique_reply=last_purchase.critique")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["users"] == 3 and report["purchases"] == 6
    assert [t["task"] for t in report["tasks_available"]] == ["user_summary", "user_profile", "critique_reply"]


def test_data_info_bad_record_exits_2_with_one_line_and_no_traceback(tmp_path):
    path = write(tmp_path / "a.jsonl", USERS + [{"reviewer_id": "U4", "purchase_history": []}])
    result = invoke("info", str(path))
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}:4: purchase_history: expected at least one purchase, got an empty list\n"
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_data_info_skip_reports_bad_records(tmp_path):
    path = write(tmp_path / "a.jsonl", USERS + ["[1, 2]"])
    result = invoke("info", str(path), "--on-bad-record", "skip")
    assert result.exit_code == 0, result.output
    assert "bad records skipped: 1" in result.stdout
    assert f"{path}:4: -: expected a JSON object" in result.stdout


def test_data_info_missing_file_exits_2(tmp_path):
    result = invoke("info", str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "no such file" in result.stderr
    assert "Traceback" not in result.output


def test_data_info_rejects_a_malformed_task_map(regen_file):
    result = invoke("info", str(regen_file), "--task-map", "user_summary")
    assert result.exit_code == 2
    assert "expected TASK=FIELD.PATH" in result.stderr


def test_data_generate_writes_a_readable_regen_file(tmp_path):
    from regen_bench_plugins.datasets.synthetic import generator as synthetic

    if not hasattr(synthetic, "write_dataset"):
        pytest.skip("regen_bench_plugins.datasets.synthetic.generator.write_dataset is not written yet")
    from regen_bench.data.reader import iter_records

    out = tmp_path / "synthetic.jsonl"
    result = invoke("generate", "--users", "30", "--seed", "3", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "wrote 30 synthetic users (3,000 items, seed 3)" in result.stdout
    assert len(list(iter_records(out))) == 30


def test_data_download_rejects_unknown_names():
    result = invoke("download", "regen-toys")
    assert result.exit_code == 2
    assert "regen-office" in result.stderr
