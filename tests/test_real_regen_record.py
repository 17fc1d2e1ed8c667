"""A real REGEN user (Office Products) through the reader, the cache, discovery and examples.

The expected values are read independently from the flat export of the same user
(`office_user_A101G2KLTWSA51_flat.json`: one row per purchase, the user's REGEN
`long_summary` on every row).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from regen_bench.contracts.dataset import LocalFileDataset
from regen_bench.data.discovery import discover
from regen_bench.data.loading import load_dataset_examples, load_records
from regen_bench.data.reader import iter_records

USER = "A101G2KLTWSA51"


@pytest.fixture
def real(shared_data):
    regen = shared_data / "regen_real"
    flat = json.loads((regen / f"office_user_{USER}_flat.json").read_text(encoding="utf-8"))
    return regen / "office_reconstructed.jsonl", flat


def test_the_real_record_loads(real):
    path, flat = real
    ((line, record),) = list(iter_records(path))
    assert line == 1 and record.reviewer_id == USER
    assert [p.item.asin for p in record.purchase_history] == [row["asin"] for row in flat]
    for purchase, row in zip(record.purchase_history, flat):
        assert purchase.item.title == row["title"]
        assert purchase.item.price == row["price"]
        assert purchase.item.category.endswith(row["category"].strip())
        assert purchase.review.rating == row["rating"]
        assert purchase.review.text == row["review"]
        day = datetime.strptime(row["purchase_date"], "%m/%d/%Y").replace(tzinfo=timezone.utc)
        assert purchase.review.unix_time == int(day.timestamp())


def test_discovery_finds_long_summary_as_a_narrative_field(real):
    path, flat = real
    info = discover(path)
    assert (info.users, info.purchases) == (1, len(flat))
    (summary,) = [n for n in info.narrative_fields if n.path == "user.long_summary"]
    text = flat[0]["long_summary"]
    assert summary.mean_words == len(text.split()) and summary.mean_chars == len(text)
    assert [t.task for t in info.tasks_available] == ["user_summary"]
    # what the README says was lost in rebuilding: review summaries, the profile
    summaries = next(f for f in info.fields if f.path == "purchase_history[].review.summary")
    assert summaries.fill_rate == 0.0 and summaries.types == ["null"]
    assert [t.task for t in info.tasks_unavailable] == ["user_profile"]


def test_the_user_summary_reference_is_the_real_text(real):
    path, flat = real
    (long_summary,) = {row["long_summary"] for row in flat}
    loaded = load_dataset_examples(LocalFileDataset(path))
    (example,) = loaded.examples
    assert example.references == {"user_summary": long_summary}
    assert loaded.available_tasks == ["user_summary"]
    # no last_purchase: the last purchase is the target, the rest is the history
    assert example.target_item_id == flat[-1]["asin"]
    assert [p.item.asin for p in example.history] == [row["asin"] for row in flat[:-1]]


def test_the_real_record_round_trips_through_the_arrow_cache(real):
    path, _ = real
    first = load_records(path)
    second = load_records(path)
    assert second.from_arrow_cache and second.records == first.records
