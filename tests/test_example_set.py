"""ExampleSet: a Sequence[Example] over Arrow columns whose column methods equal the Examples'."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from regen_bench import Example, ExampleSet, as_example_set
from regen_bench.contracts.example_set import record_row, records_table
from regen_bench.contracts.examples import build_example
from regen_bench.contracts.layout import DatasetLayout
from regen_bench.contracts.records import RegenRecord


def purchase(asin: str, title: str = "pen") -> dict:
    return {"item": {"asin": asin, "title": title, "category": "Office"}, "review": {"rating": 4, "text": "ok"}}


def raw_records() -> list[dict]:
    return [
        # last_purchase with an item: target, and the repeated last history entry dropped
        {"reviewer_id": "U3", "purchase_history": [purchase("A"), purchase("B"), purchase("T3")],
         "user": {"long_summary": "likes pens", "profile": "  "},
         "last_purchase": {"item": {"asin": "T3"}, "critique": "cheaper", "purchase_reason": "needed one"}},
        # no last_purchase: the last history entry is the target
        {"reviewer_id": "U1", "purchase_history": [purchase("C"), purchase("D")], "user": {"profile": "clerk"}},
        # one purchase, nothing else: no target
        {"reviewer_id": "U2", "purchase_history": [purchase("E")], "note": {"deep": "extra text"}},
        # last_purchase equal to the only purchase: kept in the history
        {"reviewer_id": "U0", "purchase_history": [purchase("F")], "last_purchase": {"item": {"asin": "F"}},
         "user": {"long_summary": "x"}},
    ]


def records() -> list[RegenRecord]:
    return [RegenRecord.model_validate(r) for r in raw_records()]


LAYOUT = DatasetLayout().with_overrides({"purchase_reason": "last_purchase.purchase_reason", "extra": "note.deep"})


def examples(layout: DatasetLayout = LAYOUT) -> list[Example]:
    return [build_example(r, layout) for r in records()]


def record_set(layout: DatasetLayout = LAYOUT) -> ExampleSet:
    rows = [record_row(i + 1, r, r.model_dump_json(exclude_unset=True)) for i, r in enumerate(records())]
    return ExampleSet.from_records_table(records_table(rows), layout)


@pytest.fixture(params=["from_examples", "records"])
def both(request):
    """The same examples as an in-memory set and as a set over record rows."""
    built = examples()
    return built, ExampleSet.from_examples(built) if request.param == "from_examples" else record_set()


def csr(examples_: list[Example]) -> tuple[list[int], list[str]]:
    offsets, flat = [0], []
    for e in examples_:
        flat += [p.item.asin for p in e.history]
        offsets.append(len(flat))
    return offsets, flat


def test_it_is_a_sequence_of_the_examples(both):
    built, s = both
    assert len(s) == len(built)
    assert list(s) == built and s == built
    assert s[0] == built[0] and s[-1] == built[-1]
    assert [e for batch in s.iter_batches(size=3) for e in batch] == built
    assert [len(b) for b in s.iter_batches(size=3)] == [3, 1]
    with pytest.raises(IndexError):
        s[len(built)]


def test_slices_take_and_sort_make_sets_over_the_same_rows(both):
    built, s = both
    assert isinstance(s[1:3], ExampleSet) and list(s[1:3]) == built[1:3]
    assert list(s[::-1]) == built[::-1]
    assert list(s.take([3, 0])) == [built[3], built[0]]
    assert list(s.take([3, 0]).take([1])) == [built[0]]
    assert list(s.take([])) == []
    assert list(s.sorted_by_id()) == sorted(built, key=lambda e: e.example_id)
    assert list(s.filter([True, False, True, False])) == [built[0], built[2]]


def test_adding_sets_concatenates_like_lists(both):
    built, s = both
    joined = s[:2] + s[3:]
    assert isinstance(joined, ExampleSet) and list(joined) == built[:2] + built[3:]
    other_store = ExampleSet.from_examples(built[:1])
    assert s[:1] + other_store == [built[0], built[0]]  # two stores: a list, as lists give
    assert built[:1] + s[1:2] == built[:2] and s[1:2] + built[:1] == [built[1], built[0]]


def test_columns_equal_what_the_examples_say(both):
    built, s = both
    for part, expected in ((s, built), (s.take([2, 0, 3]), [built[2], built[0], built[3]]), (s[1:1], [])):
        assert part.example_ids == [e.example_id for e in expected]
        assert part.user_ids == [e.user_id for e in expected]
        assert part.target_item_ids() == [e.target_item_id for e in expected]
        offsets, asins = part.history_item_ids()
        assert offsets.dtype == np.int64
        assert (offsets.tolist(), list(asins.to_pylist())) == csr(expected)
        for task in ("user_summary", "user_profile", "purchase_reason", "extra", "next_item"):
            assert part.references(task) == [e.reference(task) for e in expected], task
            assert part.has_reference(task).tolist() == [e.reference(task) is not None for e in expected], task


def test_record_rows_follow_each_target_mode():
    for mode in ("auto", "last_purchase", "last_of_history"):
        layout = LAYOUT.model_copy(update={"target": mode})
        built, s = examples(layout), record_set(layout)
        assert list(s) == built
        assert s.target_item_ids() == [e.target_item_id for e in built], mode
        offsets, asins = s.history_item_ids()
        assert (offsets.tolist(), asins.to_pylist()) == csr(built), mode


def test_pickles_without_building_examples(both, tmp_path):
    built, s = both
    part = s.take([3, 1])
    again = pickle.loads(pickle.dumps(part))
    assert list(again) == [built[3], built[1]]
    assert again.example_ids == part.example_ids


def test_a_set_over_an_arrow_file_pickles_as_its_path(tmp_path):
    import pyarrow as pa

    s = record_set()
    path = tmp_path / "rows.arrow"
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, s._store.table.schema) as writer:
        writer.write_table(s._store.table)
    from regen_bench.contracts.example_set import open_arrow_file

    on_disk = ExampleSet.from_records_table(open_arrow_file(path), LAYOUT, path)
    data = pickle.dumps(on_disk.take([2]))
    assert len(data) < 1000  # the path, the layout and one row number, not the table
    assert list(pickle.loads(data)) == [examples()[2]]


def test_as_example_set_keeps_a_set_and_wraps_a_list():
    s = ExampleSet.from_examples(examples())
    assert as_example_set(s) is s
    wrapped = as_example_set(examples())
    assert isinstance(wrapped, ExampleSet) and list(wrapped) == examples()
    assert len(as_example_set([])) == 0 and as_example_set([]).history_item_ids()[0].tolist() == [0]


@pytest.mark.parametrize("kind", ["from_examples", "records"])
def test_a_table_in_many_chunks_reads_as_one(kind):
    """The Arrow cache's columns come in chunks; reading rows and columns in any order gives
    what one chunk gives (take_rows reads each row from its own chunk, never concatenating)."""
    import pyarrow as pa

    from regen_bench.contracts.example_set import _Store

    whole = ExampleSet.from_examples(examples()) if kind == "from_examples" else record_set()
    table = whole._store.table
    chunked = pa.Table.from_batches([b for i in range(table.num_rows) for b in table.slice(i, 1).to_batches()])
    assert chunked.column(0).num_chunks == table.num_rows
    split = ExampleSet(_Store(chunked, whole._store.layout))
    order = [3, 0, 2, 1, 2]
    a, b = whole.take(order), split.take(order)
    assert list(a) == list(b) == [examples()[i] for i in order]
    assert a.example_ids == b.example_ids and a.target_item_ids() == b.target_item_ids()
    assert a.history_item_ids()[0].tolist() == b.history_item_ids()[0].tolist()
    assert a.history_item_ids()[1].to_pylist() == b.history_item_ids()[1].to_pylist()
    for task in ("user_summary", "user_profile", "purchase_reason", "extra", "next_item", "absent"):
        assert a.references(task) == b.references(task), task
        assert a.has_reference(task).tolist() == b.has_reference(task).tolist(), task
    assert list(split.take([])) == [] and split.take([]).references("user_summary") == []


def test_key_presence_read_from_keys_equals_a_lookup_of_the_texts():
    """has_reference reads the strings map's keys (not its texts): the same booleans as
    `map_lookup(...).is_valid()`, for null values, null rows, empty maps and slices."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from regen_bench.contracts.example_set import _rows_with_key

    maps = pa.array(
        [[("a", "1"), ("b", None)], None, [], [("b", "2")], [("c", "3"), ("a", None)], [("a", "4")]],
        pa.map_(pa.string(), pa.string()),
    )
    for chunk in (maps, maps.slice(1, 4), maps.slice(3)):
        for key in ("a", "b", "c", "z"):
            lookup = np.asarray(pc.map_lookup(chunk, pa.scalar(key), "first").is_valid(), dtype=bool)
            assert _rows_with_key(chunk, key).tolist() == lookup.tolist(), (key, len(chunk))


def test_history_columns_are_the_examples_purchases_in_each_target_mode():
    for mode in ("auto", "last_purchase", "last_of_history"):
        layout = LAYOUT.model_copy(update={"target": mode})
        built, s = examples(layout), record_set(layout)
        for order in ([0, 1, 2, 3], [3, 1], []):
            offsets, asins, titles, categories = s.take(order).history_columns()
            chosen = [built[i] for i in order]
            assert (offsets.tolist(), asins.to_pylist()) == csr(chosen), mode
            assert titles.to_pylist() == [p.item.title for e in chosen for p in e.history]
            assert categories.to_pylist() == [p.item.category for e in chosen for p in e.history]
    assert ExampleSet.from_examples(examples()).history_columns() is None  # no titles kept: use the Examples
