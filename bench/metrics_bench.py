"""How fast the harness scores narratives, against the naive per-pair loop.

    .venv/bin/python bench/metrics_bench.py                 # 10,000 pairs, + semsim on 200
    .venv/bin/python bench/metrics_bench.py --pairs 2000 --no-semsim

Pairs: deterministic, templated office-product narratives of 60-120 words (a reference,
and a candidate that keeps some of its sentences, rewrites others and gets some details
wrong, as a model would). Nothing is read from disk or the network.

Harness: `BleuMetric().score` + `RougeMetric().score` (rouge-score-rs backend), then the
core bootstrap (1000 resamples per component), all through `regen_bench.results.scoring.score_rows`
as `regen-bench run` does. Naive: a Python loop of rouge-score's `RougeScorer(...).score`
and `sacrebleu.sentence_bleu` per pair, plus one `sacrebleu.corpus_bleu` -- and no
confidence intervals at all. The ratio is naive time / harness time.

semsim (a plugin, found through the registry): narratives/s for a fresh instance with an
empty cache (cold, model load included), then again with new predictions against the same,
now cached, references.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

os.environ["HF_HUB_OFFLINE"] = "1"  # never download anything
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402

RESAMPLES = 1000
SEED = 0

PRODUCTS = [
    "stapler", "gel pen set", "toner cartridge", "spiral notebook", "desk organizer", "label maker",
    "paper shredder", "office chair", "dry-erase whiteboard", "highlighter pack", "filing cabinet",
    "monitor stand", "wireless mouse", "desk calculator", "box of envelopes", "pack of sticky notes",
    "set of binder clips", "weekly planner", "ink cartridge", "thermal laminator", "hole punch",
    "tape dispenser", "document scanner", "bulletin board", "pencil sharpener", "storage binder",
]
BRANDS = [
    "Swingline", "Pilot", "HP", "Mead", "Avery", "Brother", "Fellowes", "Sharpie", "Post-it", "Bostitch",
    "Five Star", "Casio", "Epson", "Scotch", "Amazon Basics", "Officemate", "Canon", "Logitech",
]
COLOURS = ["black", "navy blue", "bright red", "white", "pastel green", "silver", "charcoal grey", "purple"]
FEATURES = [
    "a jam-free mechanism", "refillable ink", "recycled materials", "a soft-grip barrel", "an automatic shut-off",
    "adjustable height", "a quiet motor", "a compact footprint", "smudge-proof ink", "a two-year warranty",
    "a reinforced spine", "a lockable drawer", "fast-drying pigment", "a rechargeable battery", "acid-free paper",
    "a non-slip base", "high page yield", "a built-in ruler", "bleed-resistant pages", "a sturdy metal frame",
]
USES = [
    "tax season", "the classroom", "client meetings", "a small home office", "shipping orders", "daily journaling",
    "bullet journaling", "weekly team planning", "labelling pantry jars", "organising school supplies",
    "printing invoices", "archiving receipts", "sketching floor plans", "studying for exams",
]
TRAITS = [
    "organised", "budget-conscious", "detail-oriented", "a teacher", "a small business owner", "a student",
    "someone who buys in bulk", "a frequent traveller", "an artist", "someone who values durability",
]

TEMPLATES = [
    "This user recently bought a {prev} and has been restocking their desk supplies.",
    "Based on the purchase history, the user is {trait} and keeps a tidy workspace.",
    "They would likely enjoy the {brand} {product} in {colour}.",
    "The {brand} {product} offers {feature}, which matches what they praised in earlier reviews.",
    "It is a good fit for {use}, something this user does often.",
    "Reviews of their previous {prev} mentioned frustration with cheap materials, and this {product} avoids that.",
    "With {feature} and {feature2}, it should last well beyond the first {n} months.",
    "The {colour} finish matches the {prev} they bought last spring.",
    "Because they are {trait}, the value of a {n}-pack will appeal to them.",
    "Other buyers rate the {product} highly for {use}.",
    "Compared with the {prev}, this {product} is lighter and easier to carry between rooms.",
    "The user tends to favour {brand} products and rarely returns them.",
    "It arrives ready to use, so they can start {use} right away.",
    "Given their interest in {use}, the {product} is a natural next purchase.",
    "Having {feature} addresses the one complaint in their last review.",
    "They have bought from {brand} {n} times, always rating the items four stars or more.",
    "The price is fair for {feature}, and it often goes on sale.",
    "Overall, the {product} suits a buyer who wants reliable tools for {use}.",
]


def _slots(rng) -> dict:
    f1, f2 = rng.choice(len(FEATURES), size=2, replace=False)
    return {
        "product": str(rng.choice(PRODUCTS)), "prev": str(rng.choice(PRODUCTS)), "brand": str(rng.choice(BRANDS)),
        "colour": str(rng.choice(COLOURS)), "feature": FEATURES[f1], "feature2": FEATURES[f2],
        "use": str(rng.choice(USES)), "trait": str(rng.choice(TRAITS)), "n": str(int(rng.integers(2, 25))),
    }


def _words(sentences: list[str]) -> int:
    return sum(len(s.split()) for s in sentences)


def _fit_length(sentences: list[str], fill, low=60, high=120) -> list[str]:
    while _words(sentences) < low:
        sentences.append(fill())
    while _words(sentences) > high and len(sentences) > 1:
        sentences.pop()
    return sentences


def make_pairs(n: int, seed: int = SEED) -> tuple[list[str], list[str]]:
    """n (candidate, reference) narratives of 60-120 words, the same for the same n and seed."""
    rng = np.random.default_rng(seed)
    candidates, references = [], []
    for _ in range(n):
        slots = _slots(rng)
        order = [int(i) for i in rng.permutation(len(TEMPLATES))]
        ref_ids = order[: int(rng.integers(5, 9))]
        spare = iter(order[len(ref_ids):])
        ref = _fit_length([TEMPLATES[i].format(**slots) for i in ref_ids],
                          lambda: TEMPLATES[next(spare)].format(**slots))
        # The candidate: same user, some details wrong, some sentences kept, some rewritten.
        wrong = _slots(rng)
        cand_slots = {k: (v if rng.random() < 0.7 else wrong[k]) for k, v in slots.items()}
        cand = []
        for sentence, i in zip(ref, ref_ids + [None] * len(ref)):
            roll = rng.random()
            if roll < 0.35:
                cand.append(sentence)
            elif roll < 0.8:
                cand.append(TEMPLATES[int(rng.integers(len(TEMPLATES)))].format(**cand_slots))
        cand = _fit_length(cand, lambda: TEMPLATES[int(rng.integers(len(TEMPLATES)))].format(**cand_slots))
        candidates.append(" ".join(cand))
        references.append(" ".join(ref))
    return candidates, references


def _rows(candidates, references):
    from regen_bench.results.schema import SampleRow

    return [
        SampleRow(task="purchase_reason", example_id=f"e{i:06d}", user_id=f"u{i}", prediction=c, reference=r)
        for i, (c, r) in enumerate(zip(candidates, references))
    ]


def time_harness(candidates, references, resamples=RESAMPLES) -> dict:
    from regen_bench.results.scoring import score_rows
    from regen_bench_plugins.metrics.bleu import BleuMetric
    from regen_bench_plugins.metrics.rouge import RougeMetric

    bleu, rouge = BleuMetric(), RougeMetric()
    none = [None] * len(candidates)
    out = {}
    started = time.perf_counter()
    bleu.score(candidates, references, none)
    out["bleu_score"] = time.perf_counter() - started
    started = time.perf_counter()
    rouge.score(candidates, references, none)
    out["rouge_score"] = time.perf_counter() - started

    rows = _rows(candidates, references)
    started = time.perf_counter()
    entries = score_rows(rows, [bleu, rouge], seed=SEED, resamples=resamples)
    out["total"] = time.perf_counter() - started
    out["entries"] = {e.component: e for e in entries}
    out["rows"] = rows
    return out


def time_naive(candidates, references) -> dict:
    import sacrebleu
    from rouge_score.rouge_scorer import RougeScorer

    out = {}
    scorer = RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True)
    started = time.perf_counter()
    rouge = [scorer.score(r, c) for c, r in zip(candidates, references)]
    out["rouge_loop"] = time.perf_counter() - started
    started = time.perf_counter()
    sentence = [sacrebleu.sentence_bleu(c, [r]).score for c, r in zip(candidates, references)]
    out["sentence_bleu_loop"] = time.perf_counter() - started
    started = time.perf_counter()
    corpus = sacrebleu.corpus_bleu(candidates, [references]).score
    out["corpus_bleu"] = time.perf_counter() - started
    out["total"] = out["rouge_loop"] + out["sentence_bleu_loop"] + out["corpus_bleu"]
    out["rouge"] = rouge
    out["sentence_bleu"] = sentence
    out["corpus"] = corpus
    return out


def time_semsim(candidates, references, other_candidates) -> dict:
    """Cold (fresh instance, empty cache) and cached-reference narratives/s of the semsim plugin."""
    from regen_bench.plugin.registry import get_registry

    os.environ["REGEN_BENCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="regen-bench-semsim-")
    none = [None] * len(candidates)
    started = time.perf_counter()
    metric = get_registry().get("metric", "semsim").cls()
    metric.score(candidates, references, none)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    metric.score(other_candidates, references, none)
    warm = time.perf_counter() - started
    return {"cold": cold, "cached_refs": warm, "n": len(candidates)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10_000, help="candidate/reference pairs (default 10000)")
    parser.add_argument("--semsim-pairs", type=int, default=200, help="pairs for the semsim timing (default 200)")
    parser.add_argument("--no-semsim", action="store_true", help="skip the semsim timing")
    parser.add_argument("--resamples", type=int, default=RESAMPLES, help="bootstrap resamples (default 1000)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    candidates, references = make_pairs(args.pairs)
    made = time.perf_counter() - started
    lengths = [len(t.split()) for t in candidates + references]
    print(
        f"metrics bench: {args.pairs} pairs of generated office-product narratives, "
        f"{min(lengths)}-{max(lengths)} words (mean {np.mean(lengths):.1f}); "
        f"{os.cpu_count()} CPUs; python {sys.version.split()[0]}; generated in {made:.2f} s"
    )

    harness = time_harness(candidates, references, args.resamples)
    naive = time_naive(candidates, references)
    components = len(harness["entries"])
    print(f"harness  bleu.score                      {harness['bleu_score']:8.2f} s")
    print(f"harness  rouge.score (rouge-score-rs)    {harness['rouge_score']:8.2f} s")
    print(f"harness  score_rows: bleu+rouge, {components} components x {args.resamples} resamples "
          f"{harness['total']:8.2f} s")
    print(f"naive    rouge_score RougeScorer loop    {naive['rouge_loop']:8.2f} s")
    print(f"naive    sacrebleu.sentence_bleu loop    {naive['sentence_bleu_loop']:8.2f} s")
    print(f"naive    sacrebleu.corpus_bleu           {naive['corpus_bleu']:8.2f} s")
    print(f"naive    total (no confidence intervals) {naive['total']:8.2f} s")
    ratio = naive["total"] / harness["total"]
    print(f"ratio naive/harness: {ratio:.1f}x (the harness time includes bootstrap CIs; goal >= 10x)")

    # The two paths must give the same numbers.
    entries = harness["entries"]
    rows = harness["rows"]
    rouge_gap = max(
        abs(row.scores[t] - s[t].fmeasure)
        for row, s in zip(rows, naive["rouge"]) for t in ("rouge1", "rouge2", "rougeL", "rougeLsum")
    )
    bleu_gap = max(abs(row.scores["bleu"] - b) for row, b in zip(rows, naive["sentence_bleu"]))
    print(
        f"agreement: corpus BLEU {entries['bleu'].score:.4f} vs sacrebleu {naive['corpus']:.4f}; "
        f"max |diff| sentence BLEU {bleu_gap:.2e}, ROUGE F1 {rouge_gap:.2e}"
    )
    print("scores: " + ", ".join(
        f"{name} {e.score:.4f} [{e.ci_low:.4f}, {e.ci_high:.4f}]" for name, e in entries.items()
    ))
    result = {"pairs": args.pairs, "harness_s": harness["total"], "naive_s": naive["total"], "ratio": ratio}

    if not args.no_semsim:
        n = min(args.semsim_pairs, args.pairs)
        other, _ = make_pairs(n, seed=SEED + 1)
        try:
            semsim = time_semsim(candidates[:n], references[:n], other)
        except Exception as exc:  # the plugin may be missing or unfinished
            print(f"semsim: not available: {type(exc).__name__}: {exc}")
        else:
            print(f"semsim   cold ({n} pairs; fresh instance, empty cache, model load included) "
                  f"{semsim['cold']:8.2f} s = {n / semsim['cold']:8.1f} narratives/s")
            print(f"semsim   cached references ({n} new predictions, same references) "
                  f"{semsim['cached_refs']:8.2f} s = {n / semsim['cached_refs']:8.1f} narratives/s")
            result["semsim"] = semsim
    return result


if __name__ == "__main__":
    main()
