"""`popular`: the most typical training narrative for each task (a medoid), for every user.

What any personalised model must beat. The medoid is the training narrative with
the highest mean TF-IDF cosine similarity to all the others (exact, computed as
x_i . sum_j x_j in one sparse product), or the highest mean ROUGE-L F1 within a
seeded sample of candidates. For the next-item task it recommends the items
bought most often by training users.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

from pydantic import Field

from regen_bench import hookimpl
from regen_bench.contracts.model import Model, ModelOptions


class PopularOptions(ModelOptions):
    similarity: Literal["tfidf", "rougeL"] = "tfidf"
    max_candidates: int = Field(default=300, ge=1)  # rougeL only: pairwise cost is quadratic


def medoid_by_tfidf(texts: list[str]) -> int:
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrix = TfidfVectorizer(sublinear_tf=True).fit_transform(texts)  # rows are L2-normalised
    centroid = matrix.sum(axis=0)
    similarity = (matrix @ centroid.T).A.ravel() - 1.0  # drop self-similarity (1 for non-empty rows)
    return int(similarity.argmax())


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
    version = "1"
    Options = PopularOptions
    batch_size = 256

    def fit(self, train, validation, *, tasks, seed):
        self.narrative_by_task: dict[str, str] = {}
        train = sorted(train, key=lambda e: e.example_id)
        for task in tasks:
            texts = [e.references[task] for e in train if task in e.references]
            if not texts:
                continue
            if self.options.similarity == "tfidf":
                index = medoid_by_tfidf(texts)
            else:
                index = medoid_by_rouge(texts, self.options.max_candidates, seed)
            self.narrative_by_task[task] = texts[index]
        counts = Counter()
        for example in train:
            counts.update(p.item.asin for p in example.history)
            if example.target is not None:
                counts[example.target.item.asin] += 1
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
