"""`regen-bench leaderboard validate`: is a results file what a run produced?

A standalone click command; the CLI attaches it with `leaderboard.add_command(validate)`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from regen_bench.results.loader import results_file
from regen_bench.results.schema import ResultsFileError
from regen_bench.results.validate import validate_results


@click.command("validate")
@click.argument("results", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--with-dataset", is_flag=True,
              help="Also load the run's dataset: recompute its split hash, check references, re-run metrics "
                   "that read histories.")
@click.option("--strict", is_flag=True, help="Also reject a file with scores that could not be recomputed.")
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
def validate(results, with_dataset, strict, as_json):
    """Check results files: schema, signatures, samples sha256, provenance, every score recomputed.

    RESULTS are results.json files or run directories. The dataset's sha256 is confirmed
    from its file, found here without downloading (synthetic data is regenerated).
    Exit status: 0 accepted; 1 rejected, or a recorded hash that could not be confirmed
    here (with --strict: also a score that could not be recomputed); 2 a file missing
    or unreadable (results.json or its samples.jsonl).
    """
    status = 0
    reports = []
    for given in results:
        path = results_file(given)
        try:
            report = validate_results(path, with_dataset=with_dataset)
        except ResultsFileError as exc:
            click.echo(f"error: {exc}", err=True)
            reports.append({"path": str(path), "ok": False, "error": str(exc)})
            status = 2
            continue
        reports.append(report.as_dict())
        if not as_json:
            click.echo(report.format(strict=strict))
        if report.missing:
            click.echo(f"error: {report.missing}", err=True)
            status = 2
        elif (not report.ok or (strict and not report.fully_verified)) and status == 0:
            status = 1
    if as_json:
        click.echo(json.dumps(reports if len(reports) > 1 else reports[0], indent=2))
    sys.exit(status)
