"""Bad raw Amazon input, in both formats: one `error:` line naming file:line: field, exit 2,
no traceback and no call; `--on-bad-record skip` counts the lines it leaves out."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.contracts.errors import BadRecordError, RegenBenchError
from regen_bench.data.reader import BadRecordReport
from regen_bench_plugins.datasets.amazon_build.raw_reader import iter_interactions, read_meta


def review_2014(user="U1", asin="A1", day=0, **extra) -> dict:
    return {"reviewerID": user, "asin": asin, "overall": 5.0, "reviewText": "fine", "summary": "ok",
            "unixReviewTime": 1_400_000_000 + day * 86400, **extra}


def review_2023(user="U1", asin="A1", day=0, **extra) -> dict:
    return {"user_id": user, "parent_asin": asin, "asin": asin, "rating": 4.0, "title": "ok", "text": "fine",
            "timestamp": (1_600_000_000 + day * 86400) * 1000, **extra}


def write(path: Path, rows: list, gz: bool = False) -> Path:
    text = "".join(r if isinstance(r, str) else json.dumps(r) + "\n" for r in rows)
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def build(*args) -> object:
    return CliRunner().invoke(main, ["data", "build", *map(str, args), "--llm", "openai:gpt-4o-mini",
                                     "--llm-arg", "base_url=http://127.0.0.1:9/v1", "--quiet", "--dry-run",
                                     "--item-min-interactions", "1"])


def good_users(maker, n=3) -> list[dict]:
    return [maker(f"U{u}", f"A{i}", day=i) for u in range(n) for i in range(5)]


CASES = [
    # (format maker, bad line, the field, what the message says)
    (review_2014, review_2014(reviewerID=None) | {"reviewerID": 17}, "reviewerID", "expected a valid string"),
    (review_2014, {k: v for k, v in review_2014().items() if k != "asin"}, "asin", "the key is missing"),
    (review_2014, review_2014(unixReviewTime="yesterday"), "unixReviewTime", "expected a valid integer"),
    (review_2014, review_2014(overall="five"), "overall", "expected a valid number"),
    (review_2023, review_2023(timestamp="2020-01-01"), "timestamp", "expected a valid integer"),
    (review_2023, review_2023(rating=[5]), "rating", "expected a valid number"),
    (review_2023, {k: v for k, v in review_2023().items() if k != "user_id"}, "user_id", "the key is missing"),
    (review_2023, review_2023(text=12), "text", "expected a valid string"),
]


@pytest.mark.parametrize("maker, bad, field, message", CASES)
def test_a_bad_review_line_is_a_file_line_field_error(maker, bad, field, message, tmp_path):
    path = write(tmp_path / "reviews.jsonl", [*good_users(maker), bad])
    result = build("--reviews", path, "--output", tmp_path / "o.jsonl")
    assert result.exit_code == 2, result.output
    assert f"error: {path}:16: {field}: " in result.output and message in result.output, result.output
    assert "Traceback" not in result.output

    skipped = build("--reviews", path, "--output", tmp_path / "o.jsonl", "--on-bad-record", "skip")
    assert skipped.exit_code == 0, skipped.output
    assert "warning: 1 bad reviews line(s) skipped" in skipped.output and f"{path}:16" in skipped.output


@pytest.mark.parametrize("maker", [review_2014, review_2023])
def test_a_truncated_gzip_file_says_so(maker, tmp_path):
    whole = write(tmp_path / "whole.json.gz", good_users(maker, 40), gz=True)
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    result = build("--reviews", cut, "--output", tmp_path / "o.jsonl")
    assert result.exit_code == 2
    assert f"error: {cut}: cannot read the compressed file after line" in result.output
    assert "is it a complete gzip file?" in result.output


def test_invalid_json_and_non_objects(tmp_path):
    path = write(tmp_path / "r.json", [*good_users(review_2014), "{not json\n"])
    assert "r.json:16: -: expected valid JSON" in build("--reviews", path, "--output", tmp_path / "o.jsonl").output
    path = write(tmp_path / "r2.json", ["[1, 2]\n", *good_users(review_2014)])
    assert "r2.json:1: -: expected a JSON object per line, got list" in \
        build("--reviews", path, "--output", tmp_path / "o.jsonl").output


def test_a_first_line_of_no_known_format_names_both(tmp_path):
    path = write(tmp_path / "r.json", [{"user": "U1", "item": "A1", "time": 1}, *good_users(review_2014)])
    result = build("--reviews", path, "--output", tmp_path / "o.jsonl")
    assert "r.json:1: -: expected an Amazon review line with the keys (reviewerID, asin; 2014) or " \
           "(user_id, parent_asin; 2023)" in result.output
    assert "got the keys item, time, user" in result.output


def test_empty_and_all_bad_files(tmp_path):
    empty = write(tmp_path / "empty.json", [])
    assert "no valid review lines. The file is empty" in build("--reviews", empty, "--output", tmp_path / "o.jsonl").output
    report = BadRecordReport()
    with pytest.raises(RegenBenchError, match="All 2 line"):
        list(iter_interactions(write(tmp_path / "bad.json", ["1\n", "2\n"]), on_bad_record="skip", report=report))


def test_meta_lines_bad_types_and_2014_python_literals(tmp_path):
    meta = write(tmp_path / "meta.json", [
        "{'asin': 'A1', 'title': 'Stapler', 'categories': [['Office Products', 'Staplers']], 'price': 6.5}\n",
        {"asin": "A2", "title": "Pens", "category": ["Office Products", "Pens"], "price": "$3.10", "brand": "Bic"},
        {"asin": "A3", "title": ["not", "a", "string"]},
    ])
    with pytest.raises(BadRecordError, match=r"meta.json:3: title: expected a valid string"):
        read_meta(meta, {"A1", "A2", "A3"})
    found, fmt = read_meta(meta, {"A1", "A2"}, on_bad_record="skip")
    assert fmt == "2014"
    assert found["A1"].category == ("Office Products", "Staplers") and found["A1"].price == 6.5
    assert found["A2"].price == 3.10 and found["A2"].brand == "Bic"
    meta23 = write(tmp_path / "meta23.jsonl", [{"parent_asin": "B1", "title": "Ink", "main_category": "Office Products",
                                                "categories": ["Office Products", "Ink"], "price": None,
                                                "store": "HP"}])
    found, fmt = read_meta(meta23, {"B1"})
    assert fmt == "2023" and found["B1"].category == ("Office Products", "Ink") and found["B1"].brand == "HP"


def test_missing_files_and_outputs(tmp_path):
    assert "no such file" in build("--reviews", tmp_path / "nope.json", "--output", tmp_path / "o.jsonl").output
    path = write(tmp_path / "r.json", good_users(review_2014))
    assert "--meta" in build("--reviews", path, "--meta", tmp_path / "nope", "--output", tmp_path / "o.jsonl").output
    assert "ends in .jsonl or .jsonl.gz" in build("--reviews", path, "--output", tmp_path / "o.csv").output


def test_no_meta_file_is_said_and_k_core_leaving_no_one_is_an_error(tmp_path):
    path = write(tmp_path / "r.json", good_users(review_2014))
    result = CliRunner().invoke(main, ["data", "build", "--reviews", str(path), "--llm", "openai:gpt-4o-mini",
                                       "--output", str(tmp_path / "o.jsonl"), "--dry-run", "--item-min-interactions", "1"])
    assert result.exit_code == 0, result.output
    assert "no --meta file: items have no title, category, price or brand" in result.output
    assert "there will be no critiques" in result.output
    too_few = build("--reviews", path, "--output", tmp_path / "o.jsonl", "--min-interactions", "6")
    assert too_few.exit_code == 2 and "no user is left after k-core filtering" in too_few.output
