"""`regen-bench analyze soft-tokens RUN_DIR`: how much of each soft token comes from CF and from text.

The REGEN papers (figure 6) compare the norm of the collaborative-filtering part and
the content part of the learned soft tokens. For a run of `fusion`, `cf-only` or
`text-only` this rebuilds the fitted model (the trained weights come from the weights
cache; the run's dataset, split, options and seed come from its results.json), feeds
it the evaluated users' history items, and reports per soft token:

  after_adapter  ||A(x_p only) - A(0)|| for each part p: the part's effect on the soft
                 token after the adapter (exact for `projection`; an ablation for `mlp`)
  first_layer    ||W_p x_p|| of the adapter's first linear layer, which splits exactly

and each part's share of the sum over parts. Writes `soft_tokens.json` and a
histogram `soft_tokens.png` into RUN_DIR.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from regen_bench.contracts.errors import RegenBenchError

VIEWS = ("after_adapter", "first_layer")


def _summary(values) -> dict:
    import numpy as np

    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return {"n": 0}
    q10, q25, q50, q75, q90 = np.quantile(values, [0.1, 0.25, 0.5, 0.75, 0.9])
    return {"n": int(values.size), "mean": float(values.mean()), "std": float(values.std()),
            "p10": float(q10), "p25": float(q25), "median": float(q50), "p75": float(q75), "p90": float(q90)}


def summarise_parts(norms: dict[str, dict]) -> dict:
    """Summary statistics of each view's per-part norms and relative shares."""
    import numpy as np

    out = {}
    for view, parts in norms.items():
        names = sorted(parts)
        stacked = np.stack([np.asarray(parts[p], dtype=np.float64) for p in names]) if names else np.zeros((0, 0))
        total = stacked.sum(axis=0) if names else np.zeros(0)
        share = np.divide(stacked, total, out=np.zeros_like(stacked), where=total > 0)
        entry = {"norm": {p: _summary(stacked[i]) for i, p in enumerate(names)},
                 "share": {p: _summary(share[i]) for i, p in enumerate(names)}}
        if {"cf", "text"} <= set(names):
            entry["tokens_where_text_exceeds_cf"] = float(
                (np.asarray(parts["text"]) > np.asarray(parts["cf"])).mean()) if total.size else None
        out[view] = entry
    return out


def plot_shares(norms: dict[str, dict], title: str) -> bytes:
    """PNG histogram of each part's share of the soft-token norm (after the adapter)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    parts = norms["after_adapter"]
    names = sorted(parts)
    stacked = np.stack([np.asarray(parts[p], dtype=np.float64) for p in names])
    total = stacked.sum(axis=0)
    share = np.divide(stacked, total, out=np.zeros_like(stacked), where=total > 0)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    bins = np.linspace(0, 1, 41)
    for i, part in enumerate(names):
        axes[0].hist(share[i], bins=bins, alpha=0.6, label=part)
        axes[1].hist(stacked[i], bins=40, alpha=0.6, label=part)
    axes[0].set_xlabel("share of the soft token's part norms")
    axes[1].set_xlabel("norm of the part's effect after the adapter")
    for ax in axes:
        ax.set_ylabel("soft tokens")
        ax.legend()
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def analyze_run(run_dir: Path, *, limit: int | None = None) -> dict:
    """Rebuild the run's fitted soft-token model and measure its soft tokens' parts."""
    from regen_bench.data.splits import SplitConfig, split_users_by_hash
    from regen_bench.plugin.registry import get_registry
    from regen_bench.results.rescoring import examples_for_results
    from regen_bench.results.schema import load_results
    from regen_bench_plugins.models.fusion import SoftTokenModel

    results_path = Path(run_dir) / "results.json"
    if not results_path.is_file():
        raise RegenBenchError(f"{run_dir}: no results.json (pass the folder a `regen-bench run` wrote)")
    results = load_results(results_path)
    cls = get_registry().get("model", results.model.name).cls
    if not (isinstance(cls, type) and issubclass(cls, SoftTokenModel)):
        raise RegenBenchError(
            f"{results_path}: model {results.model.name!r} has no soft tokens; "
            "analyze soft-tokens takes runs of fusion, cf-only or text-only"
        )
    examples, why_not = examples_for_results(results)
    if examples is None:
        raise RegenBenchError(f"{results_path}: {why_not}")
    splits = split_users_by_hash(list(examples.values()), SplitConfig(**results.dataset.split_config))
    if splits.split_hash != results.dataset.split_hash:
        raise RegenBenchError(f"{results_path}: the split rebuilt here differs from the run's (split hash)")
    model = cls(**results.model.config["options"])
    model.fit(splits.train, splits.validation, tasks=results.tasks, seed=results.seed)
    evaluated = sorted(splits.get(results.dataset.split), key=lambda e: e.example_id)[: results.dataset.n_examples]
    if limit is not None:
        evaluated = evaluated[:limit]
    norms = model.soft_token_parts(evaluated)
    recorded_key = results.model.info.get("weights_key")
    report = {
        "run_id": results.run_id,
        "model": results.model.name,
        "parts": list(model.parts),
        "adapter": model.options.adapter,
        "backbone": model.backbone.identity,
        "dataset": {"name": results.dataset.name, "synthetic": results.dataset.synthetic,
                    "split": results.dataset.split},
        "users": len(evaluated),
        "weights_key": model.weights_key,
        "weights_match_run": recorded_key == model.weights_key,
        "weights_reused": model.reused_weights,
        "views": summarise_parts(norms),
    }
    from regen_bench.util.atomic import atomic_write_text, atomic_writer

    atomic_write_text(Path(run_dir) / "soft_tokens.json", json.dumps(report, indent=2, sort_keys=True) + "\n")
    label = " [SYNTHETIC]" if results.dataset.synthetic else ""
    png = plot_shares(norms, f"{results.model.name} on {results.dataset.name}{label}: {len(evaluated)} users, "
                             f"{report['views']['after_adapter']['norm'][model.parts[0]]['n']} soft tokens")
    with atomic_writer(Path(run_dir) / "soft_tokens.png", "wb") as handle:
        handle.write(png)
    return report


def format_report(report: dict) -> str:
    from regen_bench.results.report import format_table

    rows = []
    for view in VIEWS:
        entry = report["views"][view]
        for part in sorted(entry["norm"]):
            norm, share = entry["norm"][part], entry["share"][part]
            rows.append([view, part, f"{norm.get('mean', float('nan')):.4f}", f"{norm.get('median', float('nan')):.4f}",
                         f"{share.get('mean', float('nan')):.3f}", f"[{share.get('p10', 0):.3f}, {share.get('p90', 0):.3f}]"])
    label = " [SYNTHETIC DATA]" if report["dataset"]["synthetic"] else ""
    lines = [f"{report['model']} ({report['adapter']} adapter) on {report['dataset']['name']}{label}: "
             f"{report['users']} users",
             format_table(["view", "part", "mean norm", "median norm", "mean share", "share p10-p90"], rows)]
    for view in VIEWS:
        frac = report["views"][view].get("tokens_where_text_exceeds_cf")
        if frac is not None:
            lines.append(f"{view}: the text part exceeds the CF part in {frac:.1%} of soft tokens")
    if not report["weights_match_run"]:
        lines.append("warning: the weights rebuilt here are not the run's (different cache key); "
                     "the figures describe a retrained model")
    return "\n".join(lines)


@click.command("soft-tokens")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--limit", type=click.IntRange(min=1), help="Analyse only the first N evaluated users.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def soft_tokens_command(run_dir, limit, as_json):
    """CF vs text share of each soft token's norm (the papers' figure 6) for a fusion-family run."""
    report = analyze_run(run_dir, limit=limit)
    if as_json:
        click.echo(json.dumps(report, indent=2, sort_keys=True))
    else:
        click.echo(format_report(report))
        click.echo(f"\nwritten: {Path(run_dir) / 'soft_tokens.json'}, {Path(run_dir) / 'soft_tokens.png'}")
