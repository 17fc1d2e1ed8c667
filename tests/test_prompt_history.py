"""The purchase history the prompting models and the LLM rater show is one function
(`prompting/history.py`); each caller's text is pinned here as the code before the merge
wrote it, because prompt text is part of every API call's cache key."""

from __future__ import annotations

from regen_bench.contracts.records import Item, Purchase, Review
from regen_bench_plugins.metrics.llm_rater import HistoryFormat, format_history
from regen_bench_plugins.prompting.history import clip, render_history
from regen_bench_plugins.prompting.prompts import PromptFormat, history_text

LONG = "x" * 200
HISTORY = [
    Purchase(item=Item(asin="B01", title=None, category=None, price=None), review=None),
    Purchase(item=Item(asin="B02", title="Gel  Pens,\n Blue " + LONG, category="Office - Writing - Pens - Gel Pens",
                       price=7.5),
             review=Review(rating=4.5, summary="Smooth   writing", text="These pens glide across the page and never skip.")),
    Purchase(item=Item(asin="B03", title="Binder", category="Binders", price=None),
             review=Review(rating=None, summary=None, text=None)),
    Purchase(item=Item(asin="B04", title="Lamp", category=None, price=36.99),
             review=Review(rating=2, summary=None, text="Too dim.")),
]
SHOWN_AFTER_THE_FIRST = (
    ' | review: rated 4.5/5 "Smooth writing" These pens glide ac…\n'
    '2. "Binder" | Binders\n'
    '3. "Lamp" | $36.99 | review: rated 2/5 Too dim.'
)


def test_the_rater_shows_titles_and_categories_whole():
    text = format_history(HISTORY, HistoryFormat(max_items=3, review_chars=20))
    assert text == (
        '(1 earlier purchases omitted)\n'
        f'1. "Gel  Pens,\n Blue {LONG}" | Office - Writing - Pens - Gel Pens | $7.50' + SHOWN_AFTER_THE_FIRST
    )
    assert format_history([], HistoryFormat()) == "(no purchases)"


def test_the_prompting_models_clip_titles_and_shorten_categories():
    text = history_text(HISTORY, PromptFormat(history_items=3, review_chars=20))
    assert text == (
        '(1 earlier purchases omitted)\n'
        f'1. "Gel Pens, Blue {LONG[:184]}…" | Pens - Gel Pens | $7.50' + SHOWN_AFTER_THE_FIRST
    )
    assert history_text(HISTORY, PromptFormat(history_items=0)) == "(4 earlier purchases omitted)"


def test_render_history_numbers_the_last_items_and_clips_reviews():
    text = render_history(HISTORY[1:], max_items=5, review_chars=0, item_text=lambda item: item.asin,
                          empty="-", omitted="({n} cut)")
    assert text == '1. B02 | review: rated 4.5/5 "Smooth writing"\n2. B03\n3. B04 | review: rated 2/5'
    assert render_history([], max_items=5, review_chars=0, item_text=str, empty="-", omitted="") == "-"
    assert clip("  a   b  ", 10) == "a b" and clip("abcdef", 4) == "abc…"
