"""leaderboards/leaderboard.json: the whole table model, keys sorted, NaN as null.

Beside the tables it carries what the page and the plots show a reader first, all derived
here from the tables' own numbers (nothing typed by hand):

- `headline`, per dataset: the papers' comparison, `fusion` against `cf-only`, `text-only`
  and the best retrieval baseline (the best-scoring row, per metric, of a model whose name
  starts with `retrieval`), on BLEU, ROUGE-L and semsim, each with its CI and the % gain
  of fusion over it; a model or metric that is missing is said to be missing.
- per table, `view`: the main columns (shown by default; the rest behind "all metrics"),
  the largest n of the table, and the rows grouped by model family;
- per row, `family` and `short_n` (its n is below the table's largest: flagged beside it);
- per cell, `shade`: `best`, `plain` or `below` (significantly below the best row), the
  colour class of the page and the plots. A column with no better direction is all
  `plain`: it never has a best colour.
"""

from __future__ import annotations

import json
import math

from regen_bench.leaderboard.table import Leaderboard

# The columns shown by default: metric -> its main component (None: every component).
MAIN_METRICS: dict[str, str | None] = {
    "bleu": "bleu", "rouge": "rougeL", "semsim": "semsim", "recall@k": None, "ndcg@k": None, "mrr": None,
}
# The headline's metrics (metric, component, label) and the models it compares.
HEADLINE_METRICS = (("bleu", "bleu", "BLEU"), ("rouge", "rougeL", "ROUGE-L"), ("semsim", "semsim", "semsim"))
HEADLINE_MODEL = "fusion"
HEADLINE_ABLATIONS = ("cf-only", "text-only")
HEADLINE_BASELINE_PREFIX = "retrieval"

# Model families, in the order the page shows them. A row's family comes from what its
# results file records where that says it (see family_of), else from its model name.
FAMILIES = (
    ("soft-token", "Soft-token models"),
    ("retrieval", "Retrieval baselines"),
    ("llm", "LLM baselines"),
    ("recommender", "Popularity and CF recommenders"),
    ("other", "Other models"),
)
FAMILY_LABELS = dict(FAMILIES)
# Name prefix -> family, for models whose results say nothing about their family.
NAME_PREFIXES = (
    ("fusion", "soft-token"), ("cf-only", "soft-token"), ("text-only", "soft-token"),
    ("retrieval", "retrieval"), ("llm", "llm"), ("popular", "recommender"), ("wals", "recommender"),
)

# Bar colours of the page's SVG charts and the PNG plots, by shade.
PALETTE = {"best": "#2e7d32", "plain": "#90a4ae", "below": "#dde3e8"}
SHADE_LABELS = {
    "best": "best row of the column",
    "plain": "not significantly below the best (or no better direction)",
    "below": "significantly below the best row (paired bootstrap, p < 0.05)",
}


def _finite(value):
    """JSON has no NaN: an undefined number (no examples) is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _round(value: float | None) -> float | None:
    """Derived numbers to 6 significant digits, as the significance tests are."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.6g}")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def family_of(model: str, info: dict, config: dict) -> str:
    """A row's model family: from its results file where it says (a soft-token generator
    records its LM backbone as {lm, config}; a prompting baseline records its prompt
    template's sha), else by model-name prefix (NAME_PREFIXES), else "other"."""
    backbone = (info or {}).get("backbone")
    if isinstance(backbone, dict) and backbone.get("lm"):
        return "soft-token"
    if (config or {}).get("template_sha"):
        return "llm"
    for prefix, family in NAME_PREFIXES:
        if model.startswith(prefix):
            return family
    return "other"


def shade(has_direction: bool, best: bool, worse: bool) -> str:
    """A cell's colour class: "best", "below" (significantly below the best) or "plain".
    A column without a better direction has no best and no below: always "plain"."""
    if not has_direction:
        return "plain"
    if best:
        return "best"
    return "below" if worse else "plain"


def column_has_direction(column: dict) -> bool:
    return column.get("higher_is_better") is not None and bool(column.get("comparable", True))


def cell_shade(column: dict, cell: dict) -> str:
    significance = cell.get("significance") or {}
    return shade(column_has_direction(column), bool(cell.get("best")), bool(significance.get("worse")))


def main_columns(columns: list[dict]) -> list[str]:
    """The keys shown by default: the main metrics' components (MAIN_METRICS); a table with
    none of them shows its columns that have a direction (or all of them)."""
    keys = [c["key"] for c in columns if c["metric"] in MAIN_METRICS
            and MAIN_METRICS[c["metric"]] in (None, c["component"])]
    if keys:
        return keys
    return [c["key"] for c in columns if column_has_direction(c)] or [c["key"] for c in columns]


def _table_view(table: dict) -> dict:
    sizes = [r["n"] for r in table["rows"] if _is_number(r.get("n"))]
    max_n = max(sizes) if sizes else None
    groups: dict[str, list[str]] = {}
    for row in table["rows"]:
        row["family"] = family_of(row["model"], row.get("info") or {}, row.get("config") or {})
        row["short_n"] = bool(max_n is not None and _is_number(row.get("n")) and row["n"] < max_n)
        groups.setdefault(row["family"], []).append(row["id"])
    columns = {c["key"]: c for c in table["columns"]}
    for row in table["rows"]:
        for key, cell in row["cells"].items():
            cell["shade"] = cell_shade(columns[key], cell) if key in columns else "plain"
    return {
        "main": main_columns(table["columns"]), "max_n": max_n,
        "groups": [{"family": family, "label": FAMILY_LABELS[family], "rows": groups[family]}
                   for family, _ in FAMILIES if family in groups],
    }


def gain_pct(fusion: float | None, other: float | None, higher_is_better: bool | None) -> float | None:
    """Fusion's % gain over another score: (fusion - other) / |other| x 100, sign flipped
    for a lower-is-better metric; None when either is missing or the other is 0."""
    if not _is_number(fusion) or not _is_number(other) or other == 0 or higher_is_better is None:
        return None
    diff = fusion - other if higher_is_better else other - fusion
    return _round(100.0 * diff / abs(other))


def _usable(row: dict, key: str) -> bool:
    cell = row["cells"].get(key)
    return cell is not None and cell.get("status") != "failed" and _is_number(cell.get("score"))


def _pick_single(rows: list[dict]) -> dict | None:
    """One run of a named model: the most examples, then the newest, then the results file."""
    if not rows:
        return None
    return sorted(rows, key=lambda r: (-(r["n"] or 0), _desc(r["created_at"]), r["id"]))[0]


def _desc(text: str) -> list[int]:
    return [-ord(ch) for ch in text]


def _pair_test(fusion_id: str, fusion_cell: dict, other_id: str, other_cell: dict) -> tuple[bool | None, float | None]:
    """(significant, p) of the page's paired test between fusion and the other row, when one of
    them is the column's best and the other was tested against it; (None, None) otherwise."""
    for cell, best_id in ((other_cell, fusion_id), (fusion_cell, other_id)):
        s = cell.get("significance") or {}
        if s.get("against") == best_id and s.get("p_value") is not None:
            return bool(s.get("worse")), s.get("p_value")
    return None, None


def _headline_cell(row: dict, key: str, short: bool) -> dict:
    cell = row["cells"][key]
    return {"row": row["id"], "model": row["model"], "label": row["label"], "score": cell["score"],
            "ci_low": cell["ci_low"], "ci_high": cell["ci_high"], "n": row["n"], "short_n": short,
            "shade": cell.get("shade", "plain")}


def _headline_role(role: str, rows: list[dict], metrics: list[dict], fusion: dict | None, best: bool) -> dict:
    entry = {"role": role, "absent": not rows, "runs": len(rows), "cells": {}}
    if not rows:
        entry["note"] = f"no {role}* run on this task" if best else f"no {role} run on this task"
        return entry
    single = None if best else _pick_single(rows)
    for metric in metrics:
        key = metric["key"]
        if not metric["present"]:
            continue
        candidates = [r for r in rows if _usable(r, key)] if best else [single] if _usable(single, key) else []
        if not candidates:
            continue
        pick = max if metric["higher_is_better"] is not False else min
        row = pick(candidates, key=lambda r: r["cells"][key]["score"]) if best else candidates[0]
        cell = _headline_cell(row, key, bool(row.get("short_n")))
        if fusion is not None and role != HEADLINE_MODEL and _usable(fusion, key):
            cell["gain_pct"] = gain_pct(fusion["cells"][key]["score"], cell["score"], metric["higher_is_better"])
            cell["significant"], cell["p_value"] = _pair_test(fusion["id"], fusion["cells"][key], row["id"],
                                                              row["cells"][key])
        entry["cells"][key] = cell
    return entry


def _headline_task(table: dict) -> dict:
    columns = {c["key"]: c for c in table["columns"]}
    metrics = []
    for metric, component, label in HEADLINE_METRICS:
        key = f"{metric}/{component}"
        column = columns.get(key)
        metrics.append({"key": key, "label": label, "present": column is not None,
                        "arrow": column["arrow"] if column else "",
                        "higher_is_better": column["higher_is_better"] if column else None,
                        "decimals": column["decimals"] if column else 4})
    by_model: dict[str, list[dict]] = {}
    for row in table["rows"]:
        by_model.setdefault(row["model"], []).append(row)
    fusion = _pick_single(by_model.get(HEADLINE_MODEL, []))
    roles = [_headline_role(name, by_model.get(name, []), metrics, fusion, best=False)
             for name in (HEADLINE_MODEL, *HEADLINE_ABLATIONS)]
    retrieval = [r for r in table["rows"] if r["model"].startswith(HEADLINE_BASELINE_PREFIX)]
    roles.append(_headline_role(HEADLINE_BASELINE_PREFIX, retrieval, metrics, fusion, best=True))
    return {"task": table["task"], "table": table["slug"], "metrics": metrics, "rows": roles,
            "max_n": table["view"]["max_n"]}


def _headline(data: dict) -> list[dict]:
    """Per dataset, the headline of each task that has a headline metric (others are listed)."""
    out = []
    for dataset in data["datasets"]:
        tables = sorted((t for t in data["tables"] if t["dataset"] == dataset["id"]), key=lambda t: t["task"])
        keys = {f"{m}/{c}" for m, c, _ in HEADLINE_METRICS}
        tasks = [t for t in tables if keys & {c["key"] for c in t["columns"]}]
        out.append({
            "dataset": dataset["id"], "model": HEADLINE_MODEL, "ablations": list(HEADLINE_ABLATIONS),
            "baseline_prefix": HEADLINE_BASELINE_PREFIX,
            "tasks": [_headline_task(t) for t in tasks],
            "other_tasks": [t["task"] for t in tables if t not in tasks],
        })
    return out


def add_view(data: dict) -> dict:
    """The board's JSON plus the page's view of it (see the module docstring); in place."""
    for table in data["tables"]:
        table["view"] = _table_view(table)
    data["headline"] = _headline(data)
    data["families"] = [{"id": family, "label": label} for family, label in FAMILIES]
    data["palette"] = dict(PALETTE)
    data["shades"] = dict(SHADE_LABELS)
    return data


def leaderboard_data(board: Leaderboard) -> dict:
    return add_view(_finite(board.to_json()))


def render_json(board: Leaderboard) -> str:
    return json.dumps(leaderboard_data(board), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
