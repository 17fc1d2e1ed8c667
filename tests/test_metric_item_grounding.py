"""item-grounding: narratives naming other users' items (hallucinated) or only history items (copied)."""

import pytest

from regen_bench.contracts.examples import Example
from regen_bench.contracts.records import Item, Purchase
from regen_bench_plugins.metrics.item_grounding import ItemGrounding, title_key


def _example(uid, history, target):
    return Example(example_id=uid, user_id=uid,
                   history=[Purchase(item=Item(asin=a, title=t)) for a, t in history],
                   target=Purchase(item=Item(asin=target[0], title=target[1])))


EXAMPLES = [
    _example("u1", [("a", "Markal 96006 Silver-Streak Metal Marker Round, Silver")],
             ("b", "American Weigh Scales PS-25 Table Top Postal Scale, Black")),
    _example("u2", [("c", "Swingline Heavy Duty Stapler (Black)")], ("d", "Pilot G2 Gel Pens - 12 Pack")),
]


def test_title_heads_are_cut_at_commas_brackets_and_dashes_and_normalised():
    assert title_key("Markal 96006 Silver-Streak Metal Marker Round, Silver", "head") == (
        "markal", "96006", "silver", "streak", "metal", "marker", "round")
    assert title_key("Swingline Heavy Duty Stapler (Black)", "head") == ("swingline", "heavy", "duty", "stapler")
    assert title_key("Pilot G2 Gel Pens - 12 Pack", "full") == ("pilot", "g2", "gel", "pens", "12", "pack")


def test_grounding_by_hand():
    preds = [
        "You will like the American Weigh Scales PS-25 table top postal scale.",  # u1's target: grounded
        "After the Swingline heavy-duty stapler, try the Markal 96006 Silver Streak metal marker round.",
        # ^ u2: own history item and u1's item -> hallucinated, not copied
        "Your Markal 96006 silver-streak metal marker round served you well.",  # u1: only history -> copied
        "Something nice.",  # names nothing
    ]
    examples = EXAMPLES + [EXAMPLES[0], EXAMPLES[1]]
    output = ItemGrounding().score(preds, ["r"] * 4, examples)
    hallucinated, copied, names = output.components
    assert hallucinated.per_example == [0.0, 1.0, 0.0, 0.0]
    assert copied.per_example == [0.0, 0.0, 1.0, 0.0]
    assert names.per_example == [1.0, 1.0, 1.0, 0.0]
    assert hallucinated.corpus_score() == pytest.approx(0.25) and copied.corpus_score() == pytest.approx(0.25)
    assert [d["named_titles"] for d in output.details] == [1, 2, 1, 0]
    assert output.counts == {"catalogue_titles": 4}


def test_names_item_is_context_and_the_errors_are_lower_is_better():
    assert ItemGrounding.context_components == ("names-item",)
    assert ItemGrounding.higher_is_better is False


def test_full_titles_and_min_words_change_what_counts():
    pred = ["the Pilot G2 gel pens"]
    both = EXAMPLES
    # u1 names u2's target by its head "pilot g2 gel pens": hallucinated for u1
    [h, _, _] = ItemGrounding().score(pred * 2, ["r"] * 2, both).components
    assert h.per_example == [1.0, 0.0]
    [h, _, _] = ItemGrounding(title="full").score(pred * 2, ["r"] * 2, both).components
    assert h.per_example == [0.0, 0.0]  # the full title names the pack size too
    [h, _, _] = ItemGrounding(min_words=5).score(pred * 2, ["r"] * 2, both).components
    assert h.per_example == [0.0, 0.0]  # a four-word head is too short to count


def test_items_sharing_a_title_are_the_users_own_when_any_of_them_is():
    examples = [_example("u", [("x1", "Blue Desk Lamp, 2 pack")], ("t", "Red Pen Set")),
                _example("v", [("x2", "Blue Desk Lamp, 1 pack")], ("s", "Green Ink Bottle"))]
    [h, c, _] = ItemGrounding().score(["your blue desk lamp"] * 2, ["r"] * 2, examples).components
    assert h.per_example == [0.0, 0.0] and c.per_example == [1.0, 1.0]


def test_signature():
    assert ItemGrounding().signature() == ("metric:item-grounding|title:head|min_words:3|norm:nfkc-lc-alnum|"
                                           "catalogue:examples-history+target|version:1")


def test_a_real_regen_user_restating_a_history_title_is_copied(shared_data):
    from regen_bench.contracts.dataset import LocalFileDataset
    from regen_bench.data.loading import load_dataset_examples

    path = shared_data / "regen_real" / "office_reconstructed.jsonl"
    (example,) = load_dataset_examples(LocalFileDataset(path)).examples
    first = example.history[0].item.title  # "American Weigh Scales PS-25 Table Top Postal Scale, Black"
    pred = f"They weigh parcels on their {first.split(',')[0].lower()}."
    [h, c, n] = ItemGrounding().score([pred], ["r"], [example]).components
    assert (h.per_example, c.per_example, n.per_example) == ([0.0], [1.0], [1.0])
