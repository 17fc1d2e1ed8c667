"""The REGEN reader: streaming, gzip, and one clear `file:line: field: expected` per bad record."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from regen_bench.contracts.errors import BadRecordError, RegenBenchError
from regen_bench.data.reader import BadRecordReport, iter_records


def record(uid: str, purchases: int = 2, **extra) -> dict:
    history = [
        {
            "item": {"asin": f"{uid}-I{i}", "title": f"item {i}", "price": 1.5 + i, "category": "Office Products"},
            "review": {"summary": "ok", "rating": 4, "text": "fine", "unix_time": 1_400_000_000 + i},
        }
        for i in range(purchases)
    ]
    return {"reviewer_id": uid, "purchase_history": history, "user": {"long_summary": f"summary of {uid}"}, **extra}


def write_lines(path: Path, lines: list) -> Path:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def bad_message(path: Path) -> str:
    with pytest.raises(BadRecordError) as caught:
        list(iter_records(path))
    return str(caught.value)


def test_reads_records_with_line_numbers_and_skips_blank_lines(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", [record("U1"), "", "   ", record("U2", 3)])
    rows = list(iter_records(path))
    assert [(line, r.reviewer_id, len(r.purchase_history)) for line, r in rows] == [(1, "U1", 2), (4, "U2", 3)]


def test_reads_gzip_files_transparently(tmp_path):
    path = tmp_path / "a.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for uid in ("U1", "U2"):
            handle.write(json.dumps(record(uid)) + "\n")
    assert [r.reviewer_id for _, r in iter_records(path)] == ["U1", "U2"]


def test_keeps_unknown_keys_of_the_record(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", [record("U1", last_purchase={"critique": "too red"}, extra_key=[1, 2])])
    (_, r), = list(iter_records(path))
    assert r.model_extra == {"extra_key": [1, 2]}
    assert r.last_purchase == {"critique": "too red"}


def test_invalid_json_names_file_line_and_column(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", [record("U1"), '{"reviewer_id": "U2", "purchase_history": [}'])
    msg = bad_message(path)
    assert msg.startswith(f"{path}:2: -: expected valid JSON (")
    assert "at column 44)" in msg


def test_a_truncated_last_line_is_invalid_json(tmp_path):
    full = json.dumps(record("U2"))
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(record("U1")) + "\n" + full[: len(full) // 2], encoding="utf-8")
    assert bad_message(path).startswith(f"{path}:2: -: expected valid JSON (")


def test_an_unterminated_string_says_where_it_starts_without_a_doubled_at(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(record("U1")) + "\n" + '{"reviewer_id": "abc', encoding="utf-8")  # no newline: EOF
    msg = bad_message(path)
    assert "Unterminated string starting at column 17)" in msg  # the opening quote
    assert "at at" not in msg


def test_json_that_is_not_an_object(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", [record("U1"), [1, 2, 3]])
    assert bad_message(path) == f"{path}:2: -: expected a JSON object (one user per line), got a list [1, 2, 3]"


def test_wrong_type_gives_dotted_path_and_expected_text(tmp_path):
    bad = record("U1", purchases=3)
    bad["purchase_history"][2]["item"]["price"] = "cheap"
    path = write_lines(tmp_path / "a.jsonl", [bad])
    assert bad_message(path) == (
        f"{path}:1: purchase_history.2.item.price: expected a number or a price like '$6.35', got a string \"cheap\""
    )


def test_wrong_type_of_a_container(tmp_path):
    bad = record("U1")
    bad["purchase_history"][0]["item"]["price"] = [1]
    path = write_lines(tmp_path / "a.jsonl", [bad])
    assert bad_message(path) == f"{path}:1: purchase_history.0.item.price: expected a valid number, got a list [1]"


def test_several_errors_report_the_first_and_count_the_rest(tmp_path):
    bad = record("U1")
    bad["purchase_history"][0]["review"]["rating"] = "good"
    bad["purchase_history"][1]["review"]["unix_time"] = 1.5
    bad["user"] = ["not", "an", "object"]
    path = write_lines(tmp_path / "a.jsonl", [bad])
    assert bad_message(path) == (
        f"{path}:1: purchase_history.0.review.rating: expected a valid number "
        f"(unable to parse string as a number), got a string \"good\" (+2 more)"
    )


def test_missing_reviewer_id(tmp_path):
    bad = record("U1")
    del bad["reviewer_id"]
    path = write_lines(tmp_path / "a.jsonl", [record("U0"), bad])
    assert bad_message(path) == f"{path}:2: reviewer_id: expected the user's id (a non-empty string), but the key is missing"


def test_empty_reviewer_id(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", [record("")])
    assert bad_message(path) == f"{path}:1: reviewer_id: expected a non-empty string, got a string \"\""


def test_empty_purchase_history_asks_for_at_least_one_purchase(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", [{"reviewer_id": "U1", "purchase_history": []}])
    assert bad_message(path) == f"{path}:1: purchase_history: expected at least one purchase, got an empty list"


def test_duplicate_user_names_the_first_line(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", [record("U1"), record("U2"), "", record("U1")])
    assert bad_message(path) == f"{path}:4: reviewer_id: duplicate user 'U1' (first seen at line 1)"


def test_invalid_utf8_is_a_bad_record(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(json.dumps(record("U1")).encode() + b"\n" + b'{"reviewer_id": "\xff"}\n')
    assert bad_message(path) == f"{path}:2: -: expected UTF-8 text (invalid byte at column 18)"


def test_skip_mode_leaves_bad_lines_out_and_reports_them(tmp_path):
    empty = {"reviewer_id": "U3", "purchase_history": []}
    lines = [record("U1"), "not json", [1], empty, record("U1"), record("U2"), "{", "[]", "7"]
    path = write_lines(tmp_path / "a.jsonl", lines)
    report = BadRecordReport()
    rows = list(iter_records(path, on_bad_record="skip", report=report))
    assert [r.reviewer_id for _, r in rows] == ["U1", "U2"]
    assert report.count == 7
    assert len(report.reasons) == 5
    assert report.reasons[0].startswith(f"{path}:2: -: expected valid JSON")
    assert report.reasons[3] == f"{path}:5: reviewer_id: duplicate user 'U1' (first seen at line 1)"
    assert "... and 2 more" in report.summary()


def test_missing_file_is_a_clear_error_at_call_time(tmp_path):
    with pytest.raises(RegenBenchError, match=r"no such file.*regen-bench data download"):
        iter_records(tmp_path / "absent.jsonl")


def test_unsupported_suffix_is_a_clear_error(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("a,b\n")
    with pytest.raises(RegenBenchError, match=r"unsupported file type.*\.jsonl or \.jsonl\.gz"):
        iter_records(path)


def test_a_folder_is_not_a_file(tmp_path):
    folder = tmp_path / "x.jsonl"
    folder.mkdir()
    with pytest.raises(RegenBenchError, match="is a folder"):
        iter_records(folder)


def test_empty_file_is_a_clear_error(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text("\n\n")
    with pytest.raises(RegenBenchError, match="no records; the file is empty"):
        list(iter_records(path))


def test_file_with_only_bad_records_is_a_clear_error_in_skip_mode(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", ["nope", "[1]"])
    with pytest.raises(RegenBenchError, match=r"no valid records; all 2 non-blank line\(s\) were bad. First: .*:1: -: expected valid JSON"):
        list(iter_records(path, on_bad_record="skip"))


def test_damaged_gzip_is_a_clear_error(tmp_path):
    good = gzip.compress(("\n".join(json.dumps(record(f"U{i}")) for i in range(200)) + "\n").encode())
    path = tmp_path / "a.jsonl.gz"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(RegenBenchError, match=r"cannot read the compressed file after line \d+"):
        list(iter_records(path))


def test_a_plain_file_named_gz_is_a_clear_error(tmp_path):
    path = write_lines(tmp_path / "a.jsonl.gz", [record("U1")])
    with pytest.raises(RegenBenchError, match="is it a complete gzip file"):
        list(iter_records(path))


def test_reading_is_streaming(tmp_path):
    # The first record comes back before the bad line far below is read.
    path = write_lines(tmp_path / "a.jsonl", [record("U1")] + [record(f"U{i}") for i in range(2, 50)] + ["bad"])
    rows = iter_records(path)
    line, first = next(rows)
    assert (line, first.reviewer_id) == (1, "U1")
    with pytest.raises(BadRecordError):
        list(rows)
