"""`retrieval-tfidf`: copy the narrative of the nearest training user by history text.

Each user's history (item titles and category paths, optionally review text)
becomes one TF-IDF document; a test user gets the narrative of the training user
with the highest cosine similarity. Ties go to the smaller user id, so the result
does not depend on file order.
"""

from __future__ import annotations

from pydantic import Field

from regen_bench import as_example_set, hookimpl
from regen_bench.contracts.model import Model, ModelOptions


class RetrievalTfidfOptions(ModelOptions):
    use_reviews: bool = False
    ngram_max: int = Field(default=2, ge=1)  # word n-grams 1..ngram_max
    max_features: int = Field(default=50_000, ge=1)


def history_document(example, use_reviews: bool) -> str:
    parts = []
    for purchase in example.history:
        parts += [purchase.item.title or "", (purchase.item.category or "").replace(" - ", " ")]
        if use_reviews and purchase.review is not None:
            parts += [purchase.review.summary or "", purchase.review.text or ""]
    return " \n".join(p for p in parts if p)


class RetrievalTfidfModel(Model):
    name = "retrieval-tfidf"
    description = "Narrative of the nearest training user by TF-IDF of history text"
    version = "1"
    Options = RetrievalTfidfOptions
    batch_size = 256

    def fit(self, train, validation, *, tasks, seed):
        from sklearn.feature_extraction.text import TfidfVectorizer

        # An ExampleSet in id order: the documents are made batch by batch as the
        # vectoriser reads them (one pass), references are read from the columns.
        self.train = as_example_set(train).sorted_by_id()
        self._has_reference: dict = {}
        self.vectorizer = TfidfVectorizer(
            sublinear_tf=True, ngram_range=(1, self.options.ngram_max), max_features=self.options.max_features
        )
        documents = (history_document(e, self.options.use_reviews) for e in self.train)
        self.matrix = self.vectorizer.fit_transform(documents)

    def generate(self, examples, task):
        import numpy as np

        if task not in self._has_reference:
            self._has_reference[task] = np.asarray(self.train.has_reference(task), dtype=bool)
        has_ref = self._has_reference[task]
        if not has_ref.any():
            raise ValueError(f"no training narratives for task {task!r}")
        queries = self.vectorizer.transform([history_document(e, self.options.use_reviews) for e in examples])
        similarity = (queries @ self.matrix.T).toarray()
        similarity[:, ~has_ref] = -np.inf
        nearest = similarity.argmax(axis=1)  # first index wins ties: train is sorted by id
        return self.train.take([int(i) for i in nearest]).references(task)

    def info(self):
        return {"train_users": len(getattr(self, "train", [])), "vocabulary": len(getattr(self, "vectorizer", None).vocabulary_)
                if hasattr(self, "vectorizer") else 0}


@hookimpl
def register_models(register):
    register(RetrievalTfidfModel)
