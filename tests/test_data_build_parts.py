"""The parts of `data build` on their own: k-core, user choice, chronology, similar pairs,
answer parsing, prompt files and hashes, and the local backend's JSON handling."""

from __future__ import annotations

import hashlib

from regen_bench_plugins.datasets.amazon_build import histories
from regen_bench_plugins.datasets.amazon_build.answers import parse_answer
from regen_bench_plugins.datasets.amazon_build.formats import Interaction
from regen_bench_plugins.datasets.amazon_build.local_backend import _cut_at_quote, answer_key
from regen_bench_plugins.datasets.amazon_build.pairs import similar
from regen_bench_plugins.datasets.amazon_build.prompts import (
    ARTEFACTS,
    PROMPT_DIR,
    critique_prompt,
    narrative_prompt,
    prompt_hashes,
)


def test_k_core_removes_until_both_thresholds_hold():
    items_of = {"u1": {"a": 1, "b": 2, "c": 3}, "u2": {"a": 1, "b": 2, "c": 3}, "u3": {"a": 1, "d": 2, "e": 3}}
    kept = histories.k_core(items_of, 3, 2)
    # d and e have one user: removed; u3 is left with one item (< 3): removed; then a, b, c have 2 users.
    assert kept == {"u1": {"a": 1, "b": 2, "c": 3}, "u2": {"a": 1, "b": 2, "c": 3}}
    assert histories.k_core(items_of, 3, 3) == {}


def reviews(n_users=6, n_items=6):
    for u in range(n_users):
        for i in range(n_items):
            yield Interaction(f"u{u}", f"a{(i * 7 + u) % n_items}", 1000 - i * 10 + u, 4.0, "s", f"text {i}")
    yield Interaction("u0", "a0", 5, 1.0, "dup", "an earlier review of the same item")  # earliest wins


def test_choice_is_seeded_nested_and_histories_are_chronological_and_cut():
    five = histories.select(reviews(), users=5, min_interactions=2, item_min_interactions=1, history=3, seed=1)
    two = histories.select(reviews(), users=2, min_interactions=2, item_min_interactions=1, history=3, seed=1)
    assert two.users == five.users[:2]  # a larger --users keeps the smaller one's users
    other = histories.select(reviews(), users=5, min_interactions=2, item_min_interactions=1, history=3, seed=2)
    assert other.users != five.users
    for user, hist in five.histories.items():
        assert len(hist) == 3 and [t for t, _ in hist] == sorted(t for t, _ in hist)
    assert five.counts["duplicate_reviews"] == 1
    everyone = histories.select(reviews(), users=None, min_interactions=2, item_min_interactions=1, history=50,
                                seed=1)
    assert everyone.histories["u0"][0] == (5, "a0")
    texts = histories.collect_reviews(reviews(), everyone)
    assert texts[("u0", "a0")].summary == "dup"


def test_similar_pairs_rule():
    office = ("Office Products", "Office & School Supplies", "Paper")
    pens = ("Office Products", "Office & School Supplies", "Pens")
    desk = ("Office Products", "Furniture")
    assert similar(office, None, pens, None)  # share 2 levels
    assert not similar(office, None, desk, None)
    assert similar(("Office Products",), None, ("Office Products",), None)  # short paths: equal
    assert not similar(("Office Products",), None, office, None)
    assert similar(office, None, pens, None, depth=3) is False
    # no category: titles' word overlap
    assert similar((), "Blue gel pens 12 pack", (), "Black gel pens 12 pack")
    assert not similar((), "Blue gel pens", (), "Oak desk lamp")
    # nothing to compare: only with the dump's category
    assert not similar((), None, (), None)
    assert similar((), None, (), None, fallback_category="AMAZON_FASHION")


def test_answers_are_parsed_strictly():
    assert parse_answer('{"critique": " Show me  blue ones. "}', "critique") == ("Show me blue ones.", None)
    assert parse_answer('```json\n{"critique": "ok"}\n```', "critique") == ("ok", None)
    assert parse_answer('Here you go: {"critique": "ok"} hope it helps', "critique") == ("ok", None)
    for text, problem in (("", "empty"), ("nope", "not valid JSON"), ('["x"]', "not an object"),
                          ('{"other": "x"}', "no 'critique' key"), ('{"critique": 3}', "not a string"),
                          ('{"critique": "  "}', "is empty"), ('{"critique": "..."}', "placeholder")):
        value, why = parse_answer(text, "critique")
        assert value is None and problem in why, (text, why)


def test_prompt_files_are_versioned_and_hashed():
    hashes = prompt_hashes()
    assert set(hashes) == {f"{name}.v1.txt" for name in ("system", "repair", *ARTEFACTS)}
    for name, sha in hashes.items():
        text = (PROMPT_DIR / name).read_text(encoding="utf-8").replace("\r\n", "\n").strip()
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() == sha
    purchase = {"item": {"asin": "A1", "title": "Blue pens", "category": "Office Products - Pens", "price": 3.5},
                "review": {"rating": 4.0, "summary": "Nice", "text": "Writes well", "unix_time": 1}}
    prompt = critique_prompt(purchase, purchase)
    assert '"Blue pens" | Office Products - Pens | $3.50' in prompt and prompt.endswith('{"critique": "..."}')
    summary = narrative_prompt("long_summary", [purchase], purchase, None)
    assert "1. \"Blue pens\"" in summary and answer_key(summary) == "long_summary"
    reason = narrative_prompt("purchase_reason", [purchase], purchase, "Something cheaper?")
    assert "What they asked for before buying it: Something cheaper?" in reason


def test_local_backend_cuts_the_prefilled_json_value():
    assert _cut_at_quote('He likes pens." } more') == "He likes pens."
    assert _cut_at_quote('a \\"quoted\\" word" rest') == 'a "quoted" word'


def test_progress_line_shows_calls_eta_and_cost():
    import io

    from regen_bench_plugins.datasets.amazon_build.progress import Progress

    stream = io.StringIO()
    progress = Progress(10, stream=stream, every=0.0)
    progress.advance(4, fresh=False, cost=0.0)  # from the cache
    progress.advance(1, cost=0.0123)
    line = progress.line()
    assert "5/10 calls" in line and "ETA" in line and "$0.0123 spent" in line
    progress.advance(1, cost=None)
    assert "cost unknown" in progress.line()
    progress.show(final=True)
    assert stream.getvalue().count("\n") >= 2


def test_data_info_says_when_a_file_no_longer_matches_its_manifest(tmp_path):
    import json

    from regen_bench.data.discovery import discover, format_info

    record = {"reviewer_id": "U1", "purchase_history": [{"item": {"asin": "A1"}}], "user": {"profile": "x"}}
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps(record) + "\n")
    manifest = {"builder": "regen-bench data build", "builder_version": "1", "llm": {"spec": "local"},
                "prompts": {"critique.v1.txt": "ab" * 32}, "output": {"file": "b.jsonl", "sha256": "0" * 64}}
    (tmp_path / "b.jsonl.manifest.json").write_text(json.dumps(manifest))
    info = discover(path)
    assert info.build_manifest["llm"]["spec"] == "local" and info.build_manifest_matches is False
    text = format_info(info)
    assert "built by:   regen-bench data build 1 with local" in text and "has changed since" in text
    assert "prompts:    critique.v1.txt abababababab" in text
    (tmp_path / "b.jsonl.manifest.json").write_text("{broken")
    assert "unreadable" in format_info(discover(path))


def test_reading_a_big_dump_says_how_far_it_got(tmp_path):
    from regen_bench_plugins.datasets.amazon_build.builder import BuildConfig, _every_million

    said = []
    config = BuildConfig(reviews=tmp_path / "r.json", output=tmp_path / "o.jsonl", say=said.append)
    note = _every_million(config, "reading r.json", "reviews")
    for n in (100_000, 1_000_000, 1_100_000, 2_000_000):
        note(n)
    assert said == ["reading r.json: 1,000,000 reviews", "reading r.json: 2,000,000 reviews"]
    config.progress = False
    assert _every_million(config, "reading", "reviews") is None
