"""What `regen_bench.run` and `regen_bench.score` return: typed results with DataFrame views.

`Results` is one run folder (results.json + samples); `Scores` is an ad-hoc scoring that has
no folder. Both show their scores as a table in a notebook (`_repr_html_`) and as text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from regen_bench.api.frames import run_samples, samples_frame, scores_frame
from regen_bench.contracts.errors import RegenBenchError
from regen_bench.results.loader import load_run
from regen_bench.results.report import format_scores, format_table, score_cells
from regen_bench.results.schema import RunResults, SampleRow, ScoreEntry


def _find(entries: list[ScoreEntry], component: str, task: str | None) -> ScoreEntry:
    found = [e for e in entries if e.component == component and (task is None or e.task == task)]
    if len(found) == 1:
        return found[0]
    tasks = sorted({e.task for e in found})
    if found:
        raise RegenBenchError(f"{component!r} was scored on {len(found)} tasks ({', '.join(tasks)}); name the task")
    known = ", ".join(sorted({f"{e.task}/{e.component}" for e in entries}))
    raise RegenBenchError(f"no score {component!r}{f' on task {task!r}' if task else ''}; the scores are: {known}")


@dataclass
class Results:
    """One run: its folder, its typed record (`record`, results.json) and how many outputs
    were generated now or read from the generation cache."""

    run_dir: Path
    record: RunResults
    generated: int = 0
    cached: int = 0
    logged: list = field(default_factory=list)  # one `Logged` per tracker of `log_to`: where it went, or its error
    _rows: list[SampleRow] | None = field(default=None, repr=False)

    @classmethod
    def from_dir(cls, path: str | Path) -> "Results":
        """A saved run folder (or its results.json), its samples' sha256 checked."""
        loaded = load_run(path)
        cache = loaded.results.cache
        return cls(loaded.path.parent, loaded.results, cache.get("generated", 0), cache.get("cached", 0),
                   _rows=loaded.rows)

    @property
    def scores(self) -> list[ScoreEntry]:
        return self.record.scores

    @property
    def signatures(self) -> dict[str, str]:
        """metric name -> the signature its scores carry."""
        return {e.metric: e.signature for e in self.record.scores}

    def score(self, component: str, task: str | None = None) -> ScoreEntry:
        """One score entry, e.g. `results.score("bleu", task="user_summary").score`."""
        return _find(self.record.scores, component, task)

    def samples(self) -> list[SampleRow]:
        if self._rows is None:
            self._rows = run_samples(self.run_dir)[1]
        return self._rows

    def scores_frame(self):
        """Tidy: run, model, dataset, split, task, metric, component, score, ci_low, ci_high, n,
        higher_is_better, status, signature."""
        return scores_frame(self.record.scores, self.record)

    def samples_frame(self):
        """One row per example and task, with each per-example score component as a column."""
        return samples_frame(self.samples(), self.record)

    def __str__(self) -> str:
        return format_scores(self.record) + f"\n\nrun folder: {self.run_dir}"

    def __repr__(self) -> str:
        return (f"Results(run={self.record.run_id!r}, model={self.record.model.name!r}, "
                f"dataset={self.record.dataset.name!r}, scores={len(self.record.scores)}, run_dir={str(self.run_dir)!r})")

    def _repr_html_(self) -> str:
        return self.scores_frame().to_html(index=False)


@dataclass
class Scores:
    """Ad-hoc scores (`regen_bench.score`): the entries with CIs and signatures, and the rows
    with their per-example scores."""

    entries: list[ScoreEntry]
    rows: list[SampleRow]

    @property
    def signatures(self) -> dict[str, str]:
        return {e.metric: e.signature for e in self.entries}

    def score(self, component: str, task: str | None = None) -> ScoreEntry:
        return _find(self.entries, component, task)

    def __getitem__(self, component: str) -> float | None:
        """The score of a component (one task scored): `scores["bleu"]`."""
        return self.score(component).score

    def scores_frame(self):
        return scores_frame(self.entries)

    def samples_frame(self):
        return samples_frame(self.rows)

    def __str__(self) -> str:
        table = format_table(["task", "metric", "score", "95% CI", "n"],
                             [[e.task, e.component, *score_cells(e)] for e in self.entries])
        return table + "".join(f"\nsignature: {s}" for s in sorted(set(self.signatures.values())))

    def __repr__(self) -> str:
        return f"Scores({', '.join(f'{e.component}={e.score}' for e in self.entries)})"

    def _repr_html_(self) -> str:
        return self.scores_frame().to_html(index=False)
