"""The reader is the error boundary: deep nesting, huge lines, bad encodings and non-finite
numbers are `file:line: field:` errors (or counted skips), never a traceback (issue 9)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from regen_bench.contracts.errors import BadRecordError
from regen_bench.data.loading import load_records
from regen_bench.data.reader import MAX_DEPTH, MAX_LINE_BYTES, BadRecordReport, iter_records


def record(uid: str, **extra) -> dict:
    item = {"asin": f"{uid}-I1", "title": "pens", "price": 2.5, "category": "Office Products"}
    return {"reviewer_id": uid, "purchase_history": [{"item": item, "review": {"rating": 4, "text": "ok"}}],
            "user": {"long_summary": f"summary of {uid}"}, **extra}


def write_lines(path: Path, lines: list) -> Path:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def nested(depth: int) -> str:
    return json.dumps(record("DEEP"))[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}"


def message(path: Path) -> str:
    with pytest.raises(BadRecordError) as caught:
        list(iter_records(path))
    return str(caught.value)


@pytest.mark.parametrize("depth", [1500, 200, MAX_DEPTH + 1])
def test_deep_nesting_is_a_bad_record_not_a_recursion_error(tmp_path, depth):
    path = write_lines(tmp_path / "deep.jsonl", [record("U1"), nested(depth)])
    assert message(path) == f"{path}:2: -: expected a REGEN record, got JSON nested more than {MAX_DEPTH} levels deep"
    report = BadRecordReport()
    assert [r.reviewer_id for _, r in iter_records(path, on_bad_record="skip", report=report)] == ["U1"]
    assert report.count == 1


def test_nesting_at_the_limit_is_read(tmp_path):
    path = write_lines(tmp_path / "ok.jsonl", [nested(MAX_DEPTH - 1)])
    ((_, rec),) = list(iter_records(path))
    assert rec.reviewer_id == "DEEP"


def test_an_unclosed_deep_line_is_a_bad_record(tmp_path):
    path = write_lines(tmp_path / "open.jsonl", ['{"reviewer_id": "U1", "x": ' + "[" * 5000])
    assert "nested more than" in message(path)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_rejected_with_their_field(tmp_path, literal):
    text = json.dumps(record("U1")).replace('"price": 2.5', f'"price": {literal}')
    path = write_lines(tmp_path / "nan.jsonl", [text])
    assert message(path) == (
        f"{path}:1: purchase_history.0.item.price: expected a finite number, got {literal} "
        "(a REGEN file holds no NaN, Infinity or number beyond the range of a float)"
    )


def test_non_finite_anywhere_in_the_record_is_rejected(tmp_path):
    text = json.dumps(record("U1", user={"long_summary": "s", "score": 1})).replace('"score": 1', '"score": NaN')
    assert ": user.score: expected a finite number, got NaN" in message(write_lines(tmp_path / "a.jsonl", [text]))


def test_a_price_string_too_large_for_a_float_is_rejected(tmp_path):
    rec = record("U1")
    rec["purchase_history"][0]["item"]["price"] = "9" * 400
    assert ": purchase_history.0.item.price: expected a finite number" in message(
        write_lines(tmp_path / "a.jsonl", [rec]))


def test_an_integer_of_thousands_of_digits_is_a_bad_record(tmp_path):
    text = json.dumps(record("U1")).replace('"rating": 4', '"rating": ' + "7" * 5000)
    assert message(write_lines(tmp_path / "a.jsonl", [text])).startswith(f"{tmp_path / 'a.jsonl'}:1: -: expected valid JSON numbers")


def test_a_lone_surrogate_escape_is_a_bad_record(tmp_path):
    text = json.dumps(record("U1")).replace("summary of U1", "bad \\ud800 text")
    assert message(write_lines(tmp_path / "a.jsonl", [text])).endswith("got a lone surrogate escape (\\ud800-\\udfff without its pair)")
    paired = json.dumps(record("U2")).replace("summary of U2", "emoji \\ud83d\\ude00")
    ((_, rec),) = list(iter_records(write_lines(tmp_path / "b.jsonl", [paired])))
    assert rec.user["long_summary"] == "emoji \U0001F600"


def test_invalid_utf8_in_gzip_is_a_counted_skip(tmp_path):
    path = tmp_path / "a.jsonl.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(json.dumps(record("U1")).encode() + b"\n" + b'{"reviewer_id": "\xff\xfe"}\n')
    report = BadRecordReport()
    assert len(list(iter_records(path, on_bad_record="skip", report=report))) == 1
    assert report.count == 1 and "expected UTF-8 text" in report.reasons[0]


def test_a_line_longer_than_the_limit_is_a_bad_record_and_the_next_line_is_read(tmp_path):
    path = tmp_path / "huge.jsonl"
    with open(path, "wb") as handle:
        handle.write(json.dumps(record("U1")).encode() + b"\n")
        handle.write(b'{"reviewer_id": "U2", "pad": "' + b"x" * (MAX_LINE_BYTES + 10) + b'"}\n')
        handle.write(json.dumps(record("U3")).encode() + b"\n")
    assert message(path) == f"{path}:2: -: expected one user per line, got a line longer than 16 MiB"
    report = BadRecordReport()
    rows = list(iter_records(path, on_bad_record="skip", report=report))
    assert [(line, r.reviewer_id) for line, r in rows] == [(1, "U1"), (3, "U3")] and report.count == 1


def test_the_loader_skips_a_deep_record_and_counts_it(tmp_path):
    path = write_lines(tmp_path / "deep.jsonl", [record("U1"), nested(1500), record("U2")])
    loaded = load_records(path, on_bad_record="skip")
    assert [r.reviewer_id for r in loaded.records] == ["U1", "U2"] and loaded.bad.count == 1


@pytest.mark.parametrize("mode", ["error", "skip"])
def test_data_info_on_a_deep_record_is_one_line_in_every_mode(tmp_path, mode):
    path = write_lines(tmp_path / "deep.jsonl", [record("U1"), nested(1500)])
    result = subprocess.run([sys.executable, "-m", "regen_bench.cli.app", "data", "info", str(path),
                             "--on-bad-record", mode], check=False, capture_output=True, text=True)
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
    if mode == "error":
        assert result.returncode == 2
        assert result.stderr == f"error: {path}:2: -: expected a REGEN record, got JSON nested more than 64 levels deep\n"
    else:
        assert result.returncode == 0, result.stderr
        assert "bad records skipped: 1" in result.stdout
