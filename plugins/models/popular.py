"""`popular`: the most typical training narrative for each task (a medoid), for every user.

What any personalised model must beat. The medoid is the training narrative with
the highest mean TF-IDF cosine similarity to all the others (exact, computed as
x_i . sum_j x_j in one sparse product), or the highest mean ROUGE-L F1 within a
seeded sample of candidates. For the next-item task it recommends the items
bought most often by training users.

Columnar: the narratives come from `ExampleSet.references(task)` and the counts from
the id columns (`history_item_ids`, `target_item_ids`), so no Example is built in fit.
At scale the TF-IDF medoid is taken over a seeded sample of `max_pool` training
narratives (recorded in the config); a training split no larger than that (the embedded
3,000 users: ~2,400) gives exactly the medoid of every narrative, as before.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

import numpy as np
from pydantic import Field

from regen_bench import as_example_set, hookimpl
from regen_bench.contracts.model import Model, ModelOptions
from regen_bench.contracts.tasks import task_kind


class PopularOptions(ModelOptions):
    similarity: Literal["tfidf", "rougeL"] = "tfidf"
    max_candidates: int = Field(default=300, ge=1)  # rougeL only: pairwise cost is quadratic
    # tfidf only: a seeded sample bounds the vectoriser's memory (~100 MB at 50k narratives).
    max_pool: int = Field(default=50_000, ge=2)


def medoid_by_tfidf(texts: list[str]) -> int:
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrix = TfidfVectorizer(sublinear_tf=True).fit_transform(texts)  # rows are L2-normalised
    centroid = matrix.sum(axis=0)
    similarity = (matrix @ centroid.T).A.ravel() - 1.0  # drop self-similarity (1 for non-empty rows)
    return int(similarity.argmax())


def sample_pool(size: int, max_pool: int, seed: int) -> list[int]:
    """Every index when `size <= max_pool`; else a seeded sample, in index order."""
    if size <= max_pool:
        return list(range(size))
    rng = np.random.default_rng([seed, 0x6D65646F])  # "medo": not the rougeL sample's stream
    return sorted(rng.choice(size, size=max_pool, replace=False).tolist())


def item_counts(train) -> Counter:
    """How often each item is bought in `train` (histories and targets), from the id columns."""
    counts: Counter = Counter()
    _, asins = train.history_item_ids()
    if hasattr(asins, "value_counts"):  # a pyarrow array: count without a Python string per purchase
        for entry in asins.value_counts().to_pylist():
            counts[entry["values"]] += int(entry["counts"])
    else:
        counts.update(asins.tolist() if hasattr(asins, "tolist") else asins)
    counts.update(asin for asin in train.target_item_ids() if asin is not None)
    return counts


def medoid_by_rouge(texts: list[str], max_candidates: int, seed: int) -> int:
    import numpy as np
    from rouge_score_rs.rouge_scorer import RougeScorer

    rng = np.random.default_rng(seed)
    pool = sorted(rng.choice(len(texts), size=min(max_candidates, len(texts)), replace=False).tolist())
    scorer = RougeScorer(["rougeL"], use_stemmer=True)
    best, best_mean = pool[0], -1.0
    for i in pool:
        others = [texts[j] for j in pool if j != i]
        scores = scorer.score_batch(others, [texts[i]] * len(others))
        mean = sum(s["rougeL"].fmeasure for s in scores) / max(len(others), 1)
        if mean > best_mean:
            best, best_mean = i, mean
    return best


class PopularModel(Model):
    name = "popular"
    description = "The most typical training narrative per task (medoid); most-bought items for next_item"
    version = "1"  # max_pool changes outputs only above 50k training narratives: a new option, same version
    Options = PopularOptions
    batch_size = 256

    def fit(self, train, validation, *, tasks, seed):
        self.narrative_by_task: dict[str, str] = {}
        train = as_example_set(train).sorted_by_id()
        for task in tasks:
            if task_kind(task) != "text":  # next_item ranks items (below); its "reference" is an asin
                continue
            rows = np.flatnonzero(train.has_reference(task))
            if len(rows) == 0:
                continue
            if self.options.similarity == "tfidf":
                # Only the sampled rows' narratives are read from the columns.
                rows = rows[sample_pool(len(rows), self.options.max_pool, seed)]
                texts = train.take(rows.tolist()).references(task)
                narrative = texts[medoid_by_tfidf(texts)]
            else:
                texts = train.take(rows.tolist()).references(task)
                narrative = texts[medoid_by_rouge(texts, self.options.max_candidates, seed)]
            self.narrative_by_task[task] = narrative
        counts = item_counts(train)
        self.ranked_items = [asin for asin, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    def generate(self, examples, task):
        if task not in self.narrative_by_task:
            raise ValueError(f"no training narratives for task {task!r}")
        return [self.narrative_by_task[task]] * len(examples)

    def recommend(self, examples, k):
        out = []
        for example in examples:
            seen = {p.item.asin for p in example.history}
            out.append([a for a in self.ranked_items if a not in seen][:k])
        return out


@hookimpl
def register_models(register):
    register(PopularModel)
