"""Plain-text tables for the terminal: the scores of a run."""

from __future__ import annotations

from regen_bench.results.schema import RunResults, ScoreEntry


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows)] if rows else [len(h) for h in headers]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    return "\n".join(out)


def format_number(value: float) -> str:
    return f"{value:.2f}" if abs(value) >= 1.5 else f"{value:.4f}"


def score_cells(entry: ScoreEntry) -> list[str]:
    """score, 95% CI and n of one entry as table cells; a failed entry says FAILED and why."""
    if entry.failed:
        return ["FAILED", entry.reason or "scored nothing", str(entry.n)]
    return [format_number(entry.score), f"[{entry.ci_low:.4g}, {entry.ci_high:.4g}]", str(entry.n)]


def failed_lines(entries: list[ScoreEntry]) -> list[str]:
    """One `error: ...` line per metric, task and reason that failed, naming its components."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for e in entries:
        if e.failed:
            groups.setdefault((e.metric, e.task, e.reason or "scored nothing"), []).append(e.component)
    return [f"error: metric {metric} failed on task {task} ({', '.join(components)}): {reason}"
            for (metric, task, reason), components in groups.items()]


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
        rows.append([s.task, f"{s.component} {arrow}".rstrip(), *score_cells(s)])
    return title + "\n" + format_table(["task", "metric", "score", "95% CI", "n"], rows)
