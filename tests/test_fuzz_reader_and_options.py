"""Property-based fuzzing (hypothesis) of the error boundaries people hit first (issue 9):

- the REGEN reader: any line yields a record or a RegenBenchError (BadRecordError per
  line, a counted skip with `on_bad_record="skip"`), never another exception; `data info`'s
  discovery likewise;
- the KEY=VALUE option parsers: any input yields a parsed result or a click.BadParameter.

Derandomized with a fixed number of examples, so CI sees the same inputs every run.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import click
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regen_bench.cli.data import _task_map
from regen_bench.cli.options import key_values, metric_args_by_metric
from regen_bench.contracts.errors import BadRecordError, RegenBenchError
from regen_bench.contracts.records import RegenRecord
from regen_bench.data.discovery import discover
from regen_bench.data.reader import BadRecordReport, iter_records

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=20))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=25)

item = st.fixed_dictionaries({"asin": st.one_of(st.text(max_size=6), scalars)},
                             optional={"title": json_values, "price": st.one_of(scalars, st.text(max_size=12)),
                                       "category": json_values})
purchase = st.fixed_dictionaries({"item": st.one_of(item, json_values)}, optional={"review": json_values})
record_like = st.fixed_dictionaries(
    {"reviewer_id": st.one_of(st.text(max_size=8), scalars)},
    optional={"purchase_history": st.one_of(st.lists(purchase, max_size=3), json_values),
              "user": json_values, "last_purchase": json_values, "regen_bench_synthetic": json_values,
              "extra": json_values},
)


def _dump(value) -> bytes:
    return json.dumps(value, allow_nan=True).encode("utf-8")


def _nested(depth: int) -> bytes:
    return b'{"reviewer_id": "D", "purchase_history": [{"item": {"asin": "a"}}], "x": ' + \
        b"[" * depth + b"]" * depth + b"}"


line = st.one_of(
    record_like.map(_dump),
    json_values.map(_dump),
    st.integers(min_value=0, max_value=3000).map(_nested),
    st.integers(min_value=0, max_value=3000).map(lambda n: b"[" * n),
    st.binary(max_size=60),
    st.text(max_size=60).map(lambda t: t.encode("utf-8", "surrogatepass")),
    record_like.map(lambda r: json.dumps(r).replace('"', "", 1).encode()),  # damaged JSON
    st.sampled_from([b"NaN", b"-Infinity", b"1e999", b"9" * 5000, b'"\\ud800"', b"\xef\xbb\xbf{}", b"   ", b""]),
).map(lambda raw: raw.replace(b"\n", b" "))


def _write(lines: list[bytes]) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="regen-fuzz-"))
    path = folder / "fuzz.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _nonblank(lines: list[bytes]) -> int:
    count = 0
    for index, raw in enumerate(lines):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            count += 1
            continue
        if index == 0:
            text = text.lstrip("\ufeff")
        count += bool(text.strip())
    return count


def _finite(value) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


@FUZZ
@given(st.lists(line, min_size=1, max_size=6))
def test_any_line_is_a_record_or_a_bad_record_error(lines):
    path = _write(lines)
    try:
        records = list(iter_records(path))
    except RegenBenchError as error:  # BadRecordError included; anything else fails the test
        assert str(error)
    else:
        assert all(isinstance(r, RegenRecord) for _, r in records)
        assert all(_finite(r.model_dump()) for _, r in records)  # no NaN or Infinity gets in

    report = BadRecordReport()
    try:
        kept = list(iter_records(path, on_bad_record="skip", report=report))
    except RegenBenchError as error:  # only when no line at all was a record
        assert "no records" in str(error) or "no valid records" in str(error)
    else:
        assert len(kept) + report.count == _nonblank(lines)
        assert len(report.reasons) == min(report.count, 5)
        assert all(reason.startswith(f"{path}:") for reason in report.reasons)


@FUZZ
@given(st.lists(line, min_size=1, max_size=4))
def test_discovery_never_raises_past_the_reader(lines):
    path = _write(lines)
    for mode in ("error", "skip"):
        try:
            info = discover(path, on_bad_record=mode)
        except RegenBenchError:
            continue
        assert info.users >= 1


def test_a_bad_record_error_names_the_file_and_line():
    path = _write([_dump({"reviewer_id": "A", "purchase_history": [{"item": {"asin": "x"}}]}), _nested(2000)])
    try:
        list(iter_records(path))
    except BadRecordError as error:
        assert (error.path, error.line, error.field) == (str(path), 2, "-")
    else:  # pragma: no cover
        raise AssertionError("a 2,000-deep line was read as a record")


option_text = st.text(alphabet=st.sampled_from(list("ab.= _-\t:1é")), max_size=12) | st.text(max_size=12)


@FUZZ
@given(st.lists(option_text, max_size=5).map(tuple))
def test_key_values_parses_or_says_bad_parameter(pairs):
    try:
        parsed = key_values(pairs, "--model-arg")
    except click.BadParameter as error:
        assert "--model-arg" in (error.param_hint or "") and "expected KEY=VALUE" in error.message
    else:
        assert all(key and key == key.strip() for key in parsed)
        assert len(parsed) <= len(pairs)


@FUZZ
@given(st.lists(option_text, max_size=5).map(tuple))
def test_metric_args_parse_or_say_bad_parameter(pairs):
    try:
        parsed = metric_args_by_metric(pairs)
    except click.BadParameter as error:
        assert error.param_hint == "--metric-arg" and "expected" in error.message
    else:
        for metric, options in parsed.items():
            assert metric and metric == metric.strip()
            assert options and all(key and key == key.strip() for key in options)


@FUZZ
@given(st.lists(option_text, max_size=5).map(tuple))
def test_task_map_parses_or_says_bad_parameter(pairs):
    try:
        parsed = _task_map(pairs)
    except click.BadParameter as error:
        assert error.param_hint == "--task-map"
    else:
        assert all(task and path for task, path in parsed.items())
