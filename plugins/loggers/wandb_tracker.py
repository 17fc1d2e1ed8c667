"""`wandb`: log a finished run to Weights & Biases (`pip install 'regen-bench[tracking]'`).

Offline by default (`mode=offline`): nothing leaves the machine; the run is a folder
`wandb/offline-run-*` under `dir` (default: W&B's own, `$WANDB_DIR`, else the current
folder) that `wandb sync` uploads later; its `.wandb` file holds everything logged (the
artifact's files are staged in W&B's data folder, `$WANDB_DATA_DIR`). `mode=online` logs to the W&B server at once (it needs
`wandb login`). One W&B run per regen-bench run, in the project `regen-bench`, named by
the run id:

- config: what the run was, flattened (`model.name`, `model.config.options.similarity`,
  `dataset.split_hash`, `seed`, `tasks`, `k`, `harness.version`, each metric's
  `metrics.<spec>.options.*`, `.version` and `.signature`, ...);
- summary (and one logged step): every score with its interval and n
  (`user_summary/bleu`, `user_summary/bleu/ci_low`, `.../ci_high`, `.../n`), stage timings
  and cache counts;
- tags: the model and dataset names (and `synthetic`);
- an artifact `regen-bench-<run id>` of type `regen-bench-run`: every file of the run
  folder (results.json, samples.jsonl, ...) and `signatures.json` (score name -> signature).

W&B takes any character in a key except that it reads `/` as a section (the score names
use it so) and refuses names starting with `_`; an artifact name keeps letters, digits,
`-`, `_` and `.` (others become `-`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from regen_bench import hookimpl
from regen_bench.contracts.logger import FinishedRun, LoggerOptions, RunLogger
from regen_bench.plugin.extras import check_installed, require

EXTRA = "tracking"
WHO = "logger 'wandb'"
ARTIFACT_TYPE = "regen-bench-run"
_ARTIFACT_NOT_ALLOWED = re.compile(r"[^\w\-.]")


def wandb_key(name: str) -> str:
    """A key W&B shows as written: it reserves names starting with `_` (`_step`, `_runtime`)."""
    return name if not name.startswith("_") else "u" + name


def artifact_name(run_id: str) -> str:
    return _ARTIFACT_NOT_ALLOWED.sub("-", f"regen-bench-{run_id}")[:128]


class WandbOptions(LoggerOptions):
    mode: Literal["offline", "online", "disabled"] = "offline"
    project: str = "regen-bench"
    entity: str | None = None  # a W&B team or user; default: the logged-in user's (online only)
    dir: str | None = None  # where the wandb/ folder goes; default: W&B's ($WANDB_DIR, else .)
    run_name: str | None = None  # default: the regen-bench run id


class WandbLogger(RunLogger):
    """Logs each run's config, scores with CIs, signatures and files to W&B (offline by default)."""

    name = "wandb"
    description = "Weights & Biases (offline by default): config, every score and CI, the run's files as an artifact"
    Options = WandbOptions
    spec_option = "project"  # --log-to wandb:my-project
    extras = (EXTRA,)

    def __init__(self, **options):
        super().__init__(**options)
        check_installed("wandb", EXTRA, WHO)  # before the run does any work

    def log_run(self, run: FinishedRun) -> str | None:
        wandb = require("wandb", EXTRA, WHO)
        results = run.results
        if self.options.dir:
            Path(self.options.dir).mkdir(parents=True, exist_ok=True)  # W&B would fall back to a temporary folder
        settings = wandb.Settings(silent=True, console="off", save_code=False, disable_git=True,
                                  disable_job_creation=True)
        tracked = wandb.init(
            project=self.options.project, entity=self.options.entity, dir=self.options.dir,
            mode=self.options.mode, name=self.options.run_name or run.run_id, job_type="evaluation",
            config={wandb_key(k): v for k, v in run.params().items()}, tags=run_tags(results),
            settings=settings,
        )
        try:
            tracked.log({wandb_key(k): v for k, v in run.metrics().items()}, step=0)
            artifact = wandb.Artifact(artifact_name(run.run_id), type=ARTIFACT_TYPE,
                                      metadata={"run_id": run.run_id, "failed_scores": run.failed_scores()})
            for path in run.files():
                artifact.add_file(str(path), name=path.relative_to(run.run_dir).as_posix())
            with artifact.new_file("signatures.json", encoding="utf-8") as handle:
                handle.write(json.dumps(run.signatures(), indent=2, sort_keys=True) + "\n")
            tracked.log_artifact(artifact)
        except BaseException:
            tracked.finish(exit_code=1)
            raise
        folder = str(Path(tracked.dir).parent)  # wandb/offline-run-*/ (`wandb sync` takes it), or wandb/run-*/
        where = {"offline": folder, "online": tracked.url or folder}.get(self.options.mode)  # disabled: nowhere
        tracked.finish()
        return where


def run_tags(results: dict) -> list[str]:
    tags = [str(results.get("model", {}).get("name", "")), str(results.get("dataset", {}).get("name", ""))]
    if results.get("dataset", {}).get("synthetic"):
        tags.append("synthetic")
    return [tag[:64] for tag in tags if tag]


@hookimpl
def register_loggers(register):
    register(WandbLogger)
