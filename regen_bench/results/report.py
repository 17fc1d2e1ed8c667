"""Plain-text tables for the terminal: the scores of a run."""

from __future__ import annotations

from regen_bench.results.schema import RunResults


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows)] if rows else [len(h) for h in headers]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    return "\n".join(out)


def format_scores(results: RunResults) -> str:
    label = " [SYNTHETIC DATA]" if results.dataset.synthetic else ""
    title = (
        f"{results.model.name} on {results.dataset.name}{label}, split {results.dataset.split}, "
        f"seed {results.seed}, 95% bootstrap CI ({results.bootstrap.resamples} resamples)"
    )
    context = {(m.name, c) for m in results.metrics for c in m.context_components}
    rows = []
    for s in results.scores:
        arrow = "" if (s.metric, s.component) in context else ("↑" if s.higher_is_better else "↓")
        rows.append([s.task, f"{s.component} {arrow}".rstrip(), f"{s.score:.2f}" if abs(s.score) >= 1.5 else f"{s.score:.4f}",
                     f"[{s.ci_low:.4g}, {s.ci_high:.4g}]", str(s.n)])
    return title + "\n" + format_table(["task", "metric", "score", "95% CI", "n"], rows)
