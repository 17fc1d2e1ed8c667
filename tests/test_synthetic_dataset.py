"""The embedded synthetic dataset: determinism, REGEN layout, and its known-answer design."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from collections import Counter
from datetime import datetime, timezone
from importlib import metadata

import numpy as np
import pytest

from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.examples import build_example
from regen_bench.contracts.records import RegenRecord
from regen_bench_plugins.datasets.synthetic.catalogue import BRANDS, COLOUR_STYLES, COLOURS, GROUPS, LEAVES
from regen_bench_plugins.datasets.synthetic.generator import (
    DEFAULT_USERS,
    GENERATOR_VERSION,
    SYNTHETIC_LAYOUT,
    generate_records,
    write_dataset,
)
from regen_bench_plugins.datasets.synthetic.personas import PERSONAS
from regen_bench_plugins.datasets.synthetic.writer import World

USERS = 1500
SEED = 7
TASKS = {"user_summary", "user_profile", "purchase_reason", "endorsement"}
PERSONA = {p.key: p for p in PERSONAS}
GROUP = {g.key: g for g in GROUPS}


@pytest.fixture(scope="module")
def records():
    return list(generate_records(USERS, SEED))


def _mentions(text: str, phrase: str) -> bool:
    return re.search(r"\b" + re.escape(phrase.lower()), text.lower()) is not None


def _persona_keyword_in(text: str, key: str) -> bool:
    return any(_mentions(text, k) for k in PERSONA[key].keywords)


def _history_text(record: dict) -> str:
    lines = []
    for p in record["purchase_history"]:
        lines.append(" | ".join(x for x in (p["item"]["title"], p["item"]["category"]) if x))
    return "\n".join(lines)


# --- determinism and files ---------------------------------------------------------------


def test_same_seed_writes_identical_bytes_and_other_seed_differs(tmp_path):
    a = write_dataset(tmp_path / "a.jsonl", users=120, seed=3).read_bytes()
    b = write_dataset(tmp_path / "b.jsonl", users=120, seed=3).read_bytes()
    c = write_dataset(tmp_path / "c.jsonl", users=120, seed=4).read_bytes()
    assert a == b
    assert a != c
    assert a.count(b"\n") == 120


def test_gzip_output_is_deterministic_and_holds_the_same_lines(tmp_path):
    plain = write_dataset(tmp_path / "d.jsonl", users=80, seed=2).read_bytes()
    gz1 = write_dataset(tmp_path / "d.jsonl.gz", users=80, seed=2).read_bytes()
    gz2 = write_dataset(tmp_path / "e.jsonl.gz", users=80, seed=2).read_bytes()
    assert gz1 == gz2  # no mtime or file name in the gzip header
    assert gzip.decompress(gz1) == plain


def test_parallel_generation_writes_the_bytes_of_one_process(tmp_path, monkeypatch):
    from regen_bench_plugins.datasets.synthetic import writer

    monkeypatch.setattr(writer, "CHUNK_USERS", 16)  # 70 users: five ranges, the last one short
    one = write_dataset(tmp_path / "one.jsonl", users=70, seed=4, items=3500).read_bytes()
    two = write_dataset(tmp_path / "two.jsonl", users=70, seed=4, items=3500, jobs=2).read_bytes()
    gz = write_dataset(tmp_path / "two.jsonl.gz", users=70, seed=4, items=3500, jobs=2).read_bytes()
    assert one == two and gzip.decompress(gz) == one
    assert one.count(b"\n") == 70


def test_rejects_a_path_that_is_not_jsonl(tmp_path):
    with pytest.raises(RegenBenchError):
        write_dataset(tmp_path / "data.csv", users=5, seed=0)
    assert not (tmp_path / "data.csv").exists()


def test_rejects_negative_sizes_and_seeds():
    with pytest.raises(RegenBenchError):
        list(generate_records(-1, 0))
    with pytest.raises(RegenBenchError):
        list(generate_records(3, -2))


def test_a_larger_dataset_starts_with_the_users_of_a_smaller_one():
    small = list(generate_records(30, 5))
    large = list(generate_records(60, 5))
    assert large[:30] == small


def test_reviewer_ids_are_unique(records):
    ids = [r["reviewer_id"] for r in records]
    assert len(set(ids)) == len(ids)


# --- REGEN layout --------------------------------------------------------------------------


def test_every_record_validates_and_builds_an_example_with_all_tasks_and_a_target(records):
    for raw in records:
        json.loads(json.dumps(raw))  # plain JSON types only
        record = RegenRecord.model_validate(raw)
        example = build_example(record, SYNTHETIC_LAYOUT)
        assert set(example.references) == TASKS
        assert example.target is not None
        assert example.target.item.asin == raw["last_purchase"]["item"]["asin"]
        # The history is what came before the target, never the target itself.
        assert len(example.history) == len(raw["purchase_history"])
        assert example.target.item.asin not in {p.item.asin for p in example.history}
        assert (example.critique is None) == (raw["last_purchase"]["critique"] is None)


def test_layout_maps_the_four_tasks_and_the_critique():
    assert SYNTHETIC_LAYOUT.tasks == {
        "user_summary": "user.long_summary",
        "user_profile": "user.profile",
        "purchase_reason": "last_purchase.purchase_reason",
        "endorsement": "last_purchase.endorsement",
    }
    assert SYNTHETIC_LAYOUT.critique_path == "last_purchase.critique"


def test_histories_have_sane_lengths_and_increasing_midnight_timestamps(records):
    lengths = np.array([len(r["purchase_history"]) for r in records])
    assert lengths.min() >= 5 and lengths.max() <= 15
    assert 6.5 <= lengths.mean() <= 9.0  # REGEN Office: about 7.6
    for r in records:
        times = [p["review"]["unix_time"] for p in r["purchase_history"]] + [r["last_purchase"]["review"]["unix_time"]]
        assert all(a < b for a, b in zip(times, times[1:]))
        assert all(t % 86_400 == 0 for t in times)
        assert 2009 <= datetime.fromtimestamp(times[0], tz=timezone.utc).year <= 2016


def test_reviews_and_items_look_like_regen(records):
    purchases = [p for r in records for p in r["purchase_history"]]
    ratings = Counter(p["review"]["rating"] for p in purchases)
    assert set(ratings) <= {1, 2, 3, 4, 5} and ratings[5] > ratings[1]
    null_share = np.mean([p["item"]["category"] is None for p in purchases])
    assert 0.005 < null_share < 0.05  # about 2%, as in real REGEN
    categories = {p["item"]["category"] for p in purchases if p["item"]["category"]}
    assert all(c.startswith("Office Products - ") for c in categories)
    assert 20 <= len(categories) <= 30
    assert all(p["item"]["price"] > 0 and p["item"]["title"] for p in purchases)


def test_catalogue_has_the_intended_size():
    world = World(SEED)
    assert 1500 <= len(world.catalogue) <= 3000
    assert len({item.asin for item in world.catalogue.items}) == len(world.catalogue)
    assert 8 <= len(PERSONAS) <= 12 and len(BRANDS) == 15 and len(COLOURS) == 10


# --- critiques ---------------------------------------------------------------------------


def _brand_and_colour(title: str) -> tuple[str, str]:
    words = re.findall(r"[A-Za-z]+", title)
    brand = next(w for w in words if w in BRANDS)
    colour = next(w.lower() for w in words if w.lower() in COLOURS)
    return brand, colour


def test_target_critiques_are_common_and_ask_for_the_targets_colour_or_brand(records):
    with_critique = [r for r in records if r["last_purchase"]["critique"]]
    assert 0.45 <= len(with_critique) / len(records) <= 0.75
    for r in with_critique:
        critique = r["last_purchase"]["critique"]
        target = r["last_purchase"]["item"]
        previous = r["purchase_history"][-1]["item"]
        brand, colour = _brand_and_colour(target["title"])
        prev_brand, prev_colour = _brand_and_colour(previous["title"])
        named = [x for x in (brand, colour) if _mentions(critique, x)]
        assert named, (critique, target["title"])
        # The target follows the critique: what is named is new relative to the previous item.
        assert (brand in named and brand != prev_brand) or (colour in named and colour != prev_colour)
        # ... and it is the same kind of product as the one critiqued.
        if target["category"] and previous["category"]:
            assert target["category"] == previous["category"]


def test_history_critiques_lead_to_the_item_they_are_stored_on(records):
    count = 0
    for r in records:
        for p in r["purchase_history"]:
            if p.get("critique"):
                count += 1
                brand, colour = _brand_and_colour(p["item"]["title"])
                assert _mentions(p["critique"], brand) or _mentions(p["critique"], colour)
    assert count > 0.05 * sum(len(r["purchase_history"]) for r in records)


# --- communities vs content ----------------------------------------------------------------


def test_every_community_lists_the_same_product_texts_across_all_categories():
    cat = World(SEED).catalogue
    texts = {}
    for c in range(len(PERSONAS)):
        items = [it for it in cat.items if it.community == c]
        assert len(items) >= 150  # many items per community
        assert len({it.leaf for it in items}) == len(LEAVES)
        assert len({it.brand for it in items}) == len(BRANDS)
        assert len({it.colour for it in items}) == len(COLOURS)
        texts[c] = sorted((it.title, it.leaf, it.price) for it in items)
    # Item content (title, category, price) is identical across communities: only the
    # ASIN, i.e. co-purchase structure, tells a community's items apart.
    assert all(texts[c] == texts[0] for c in texts)


def test_taste_is_not_tied_to_community(records):
    def cramers_v(a, b):
        rows, cols = sorted(set(a)), sorted(set(b))
        table = np.zeros((len(rows), len(cols)))
        for x, y in zip(a, b):
            table[rows.index(x), cols.index(y)] += 1
        expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / table.sum()
        chi2 = ((table - expected) ** 2 / expected).sum()
        return np.sqrt(chi2 / (table.sum() * (min(table.shape) - 1)))

    community = [r["latent"]["community"] for r in records]
    for field in ("group", "brand", "colour"):
        taste = [r["latent"]["taste"][field] for r in records]
        assert cramers_v(community, taste) < 0.15, field


def test_model_inputs_never_mention_a_persona(records):
    keywords = [k for p in PERSONAS for k in p.keywords]
    pattern = re.compile(r"\b(" + "|".join(re.escape(k) for k in keywords) + ")", re.IGNORECASE)
    for r in records[:400]:
        for p in r["purchase_history"] + [r["last_purchase"]]:
            inputs = [p["item"]["title"], p["item"]["category"] or "", p["review"]["summary"], p["review"]["text"], p.get("critique") or ""]
            for text in inputs:
                assert not pattern.search(text), text


# --- narratives ------------------------------------------------------------------------------


def test_narratives_carry_both_a_persona_phrase_and_taste_words(records):
    for r in records:
        persona = r["latent"]["community"]
        taste = r["latent"]["taste"]
        colour_words = (taste["colour"], COLOUR_STYLES[COLOURS.index(taste["colour"])])
        user, last = r["user"], r["last_purchase"]
        for text in (user["long_summary"], user["profile"]):
            assert _persona_keyword_in(text, persona), text
            assert _mentions(text, taste["brand"]), text
            assert any(_mentions(text, c) for c in colour_words), text
            assert any(_mentions(text, g) for g in GROUP[taste["group"]].phrases), text
        for text in (last["purchase_reason"], last["endorsement"]):
            assert _persona_keyword_in(text, persona), text
        taste_words = (taste["brand"], taste["colour"], *GROUP[taste["group"]].phrases)
        assert any(_mentions(last["purchase_reason"], w) for w in taste_words + colour_words)
        assert any(_mentions(last["endorsement"], w) for w in taste_words + colour_words)


def test_long_summaries_are_three_to_four_sentences_of_40_to_100_words(records):
    for r in records:
        text = r["user"]["long_summary"]
        assert 40 <= len(text.split()) <= 100
        assert 3 <= len(re.findall(r"[.!?](?:\s|$)", text)) <= 4
        assert len(re.findall(r"[.!?](?:\s|$)", r["user"]["profile"])) == 1


def test_narratives_vary_between_users_with_the_same_latents(records):
    groups: dict[tuple, list[str]] = {}
    for r in records:
        key = (r["latent"]["community"], r["latent"]["taste"]["group"])
        groups.setdefault(key, []).append(r["user"]["long_summary"])
    biggest = max(groups.values(), key=len)
    assert len(set(biggest)) == len(biggest)
    assert len({r["user"]["profile"] for r in records}) > 0.5 * len(records)


# --- the known-answer property ------------------------------------------------------------


def _leave_one_out_accuracy(similarity: np.ndarray, labels: list[str]) -> float:
    sim = similarity.copy()
    np.fill_diagonal(sim, -np.inf)
    nearest = sim.argmax(1)
    return float(np.mean([labels[i] == labels[j] for i, j in enumerate(nearest)]))


@pytest.fixture(scope="module")
def similarities(records):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.utils.extmath import randomized_svd

    tfidf = TfidfVectorizer(sublinear_tf=True).fit_transform([_history_text(r) for r in records])
    text_sim = (tfidf @ tfidf.T).toarray()

    asins = sorted({p["item"]["asin"] for r in records for p in r["purchase_history"]})
    column = {a: j for j, a in enumerate(asins)}
    matrix = np.zeros((len(records), len(asins)))
    for i, r in enumerate(records):
        for p in r["purchase_history"]:
            matrix[i, column[p["item"]["asin"]]] = 1.0
    # Truncated SVD of the (popularity-damped) user-item matrix: plain CF embeddings.
    u, s, _ = randomized_svd(matrix / np.sqrt(np.maximum(1.0, matrix.sum(0))), n_components=24, random_state=0)
    emb = u * s
    emb /= np.linalg.norm(emb, axis=1, keepdims=True) + 1e-12
    return {"text": text_sim, "cf": emb @ emb.T}


def test_item_text_reveals_taste_better_than_chance(records, similarities):
    # Nearest neighbour by TF-IDF of history titles and categories shares the taste
    # more often than chance (group most clearly: category words are many).
    for field, chance, factor in (("group", 1 / len(GROUPS), 2.0), ("brand", 1 / len(BRANDS), 1.25), ("colour", 1 / len(COLOURS), 1.25)):
        labels = [r["latent"]["taste"][field] for r in records]
        accuracy = _leave_one_out_accuracy(similarities["text"], labels)
        assert accuracy > factor * chance, (field, accuracy)
    # Read per user, the titles name the favourite brand and colour most often.
    for field, words in (("brand", BRANDS), ("colour", COLOURS)):
        hits = 0
        for r in records:
            counts = Counter()
            for p in r["purchase_history"]:
                title_words = set(re.findall(r"[a-z]+", p["item"]["title"].lower()))
                counts.update(w for w in words if w.lower() in title_words)
            top = counts.most_common(1)[0][0] if counts else None
            hits += top == r["latent"]["taste"][field]
        assert hits / len(records) > 0.4, field  # chance: 1/15 and 1/10


def test_copurchase_reveals_community_and_text_does_not(records, similarities):
    labels = [r["latent"]["community"] for r in records]
    cf = _leave_one_out_accuracy(similarities["cf"], labels)
    text = _leave_one_out_accuracy(similarities["text"], labels)
    majority = Counter(labels).most_common(1)[0][1] / len(labels)
    assert cf > 0.8
    assert text < majority + 0.08  # item text carries no community information
    assert cf > text + 0.5


def test_text_reveals_taste_better_than_copurchase(records, similarities):
    labels = [r["latent"]["taste"]["group"] for r in records]
    assert _leave_one_out_accuracy(similarities["text"], labels) > _leave_one_out_accuracy(similarities["cf"], labels) + 0.1


# --- the plugin ---------------------------------------------------------------------------


def test_plugin_generates_once_into_the_cache_and_reuses_the_file(isolated_cache):
    from regen_bench_plugins.datasets.synthetic import SyntheticDataset

    provider = SyntheticDataset(users=200, seed=1)
    path = provider.path()
    assert path.parent == isolated_cache / "synthetic"
    assert path.name == f"synthetic-v{GENERATOR_VERSION}-u200-s1.jsonl"
    assert sum(1 for _ in path.open()) == 200
    first = path.stat()
    again = SyntheticDataset(users=200, seed=1).path()
    assert again == path and again.stat().st_mtime_ns == first.st_mtime_ns and again.stat().st_ino == first.st_ino
    assert provider.layout() == SYNTHETIC_LAYOUT
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left behind


def test_plugin_options_default_and_validate():
    from pydantic import ValidationError

    from regen_bench_plugins.datasets.synthetic import SyntheticDataset

    provider = SyntheticDataset()
    assert provider.options.users == DEFAULT_USERS and provider.options.seed == 0
    assert SyntheticDataset.synthetic is True and SyntheticDataset.name == "synthetic"
    with pytest.raises(ValidationError):
        SyntheticDataset(users=0)
    with pytest.raises(ValidationError):
        SyntheticDataset(colour="blue")


def test_plugin_registers_the_synthetic_dataset():
    from regen_bench_plugins.datasets import synthetic

    registered = []
    synthetic.register_datasets(register=registered.append)
    assert registered == [synthetic.SyntheticDataset]
    entry_points = {e.name: e.value for e in metadata.entry_points(group="regen_bench")}
    assert entry_points.get("synthetic") == "regen_bench_plugins.datasets.synthetic"


def test_plugin_module_imports_nothing_heavy():
    code = (
        "import sys, regen_bench_plugins.datasets.synthetic\n"
        "heavy = [m for m in ('torch', 'datasets', 'transformers', 'sklearn', 'pandas') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_catalogue_grows_with_users_and_the_default_catalogue_is_unchanged(tmp_path):
    """REGEN Office: ~27k items for 100,613 users; Clothing ~376k for 1,117,912; the
    embedded 3,000-item catalogue (and generator version 1's bytes) up to ~13,500 users."""
    from regen_bench_plugins.datasets.synthetic.params import catalogue_items

    assert catalogue_items(3000) == catalogue_items(13_000) == 3000
    assert catalogue_items(100_613) == 27_000 and catalogue_items(1_117_912) == 376_000
    sizes = [catalogue_items(n) for n in (14_000, 50_000, 100_000, 1_100_000)]
    assert sizes == sorted(sizes) and sizes[0] > 3000
    default = write_dataset(tmp_path / "a.jsonl", users=40, seed=5).read_bytes()
    assert write_dataset(tmp_path / "b.jsonl", users=40, seed=5, items=3000).read_bytes() == default


def test_a_larger_catalogue_is_used_and_seeded(tmp_path):
    a = write_dataset(tmp_path / "a.jsonl", users=30, seed=2, items=9000).read_bytes()
    assert write_dataset(tmp_path / "b.jsonl", users=30, seed=2, items=9000).read_bytes() == a
    assert a != write_dataset(tmp_path / "c.jsonl", users=30, seed=2).read_bytes()
    world = World(2, items=9000)
    assert abs(len(world.catalogue) - 9000) < 10
    with pytest.raises(RegenBenchError, match="items must be an integer >= 3,000"):
        write_dataset(tmp_path / "d.jsonl", users=3, seed=0, items=100)
