"""Is a run's recorded provenance true? The dataset's sha256, its split and the config hash.

`leaderboard validate` trusts none of them. What it confirms, and from what:

- **model.config_hash** is recomputed from the recorded model config, seed, split hash,
  tasks and k (`util.hashing.run_config_hash`): always, without the data.
- **the split** (`dataset.split`, `dataset.split_config`): every sample's user must hash
  into the recorded split under the recorded split config (`data.splits.split_of_user`):
  always, from samples.jsonl alone. The split *hash* (which users are in every split)
  needs the whole dataset: `--with-dataset` recomputes it.
- **dataset.sha256** can only be confirmed from the data: the run's dataset is looked
  for on this machine, without downloading anything (a named dataset through its
  provider, with the recorded options: `synthetic` regenerates its file; a REGEN file
  that was downloaded; the recorded file path, when it exists), and its file is hashed.
  A different hash rejects the file. When the data is not here, the hash is *not
  verified*, and that fails the validation too: nothing else in a results file ties it
  to its data.
- with `--with-dataset`, the dataset is also loaded: the split hash is recomputed from
  its users, and the examples are returned for the reference check and the metrics
  that read histories.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from regen_bench.contracts.dataset import DatasetProvider, LocalFileDataset
from regen_bench.contracts.errors import RegenBenchError
from regen_bench.contracts.layout import DatasetLayout
from regen_bench.contracts.tasks import DEFAULT_K
from regen_bench.data.loading import load_dataset_examples
from regen_bench.data.splits import SPLITS, SplitConfig, split_of_user, split_users_by_hash
from regen_bench.plugin.registry import get_registry
from regen_bench.plugin.specs import build_plugin
from regen_bench.results.schema import RunResults, SampleRow
from regen_bench.util.hashing import run_config_hash, sha256_file

SHA256 = re.compile(r"[0-9a-f]{64}")

# What became of each recorded hash (ProvenanceCheck.status values).
CONFIRMED = "confirmed"
CONTRADICTED = "contradicted"
NOT_VERIFIED = "not verified"
NOT_RECOMPUTED = "not recomputed"


@dataclass
class ProvenanceCheck:
    """The outcome for each recorded hash, and the findings, for the validator to report."""

    status: dict[str, str] = field(default_factory=dict)  # "dataset.sha256" -> CONFIRMED, ...
    problems: list[tuple[str, str]] = field(default_factory=list)  # (where, what): reject
    unverified: list[tuple[str, str]] = field(default_factory=list)  # (where, what): fails, said so
    checked: list[str] = field(default_factory=list)
    examples_by_id: dict | None = None  # with_dataset and the data confirmed

    def problem(self, where: str, what: str) -> None:
        self.problems.append((where, what))

    def not_verified(self, where: str, what: str) -> None:
        self.unverified.append((where, what))

    def summary(self) -> str:
        """e.g. 'dataset.sha256 confirmed, split_hash not recomputed (--with-dataset), config_hash confirmed'."""
        hint = {NOT_RECOMPUTED: " (--with-dataset recomputes it)"}
        return ", ".join(f"{name} {state}{hint.get(state, '')}" for name, state in self.status.items())


def expected_config_hash(results: RunResults) -> str:
    """model.config_hash as the runner computes it (k only when a ranking task asked for a non-default k)."""
    k = results.k if results.k is not None and results.k != DEFAULT_K else None
    return run_config_hash(results.model.config, results.seed, results.dataset.split_hash, results.tasks, k=k)


def _check_config_hash(results: RunResults, check: ProvenanceCheck) -> None:
    expected = expected_config_hash(results)
    if expected != results.model.config_hash:
        check.status["config_hash"] = CONTRADICTED
        check.problem("model.config_hash", f"{results.model.config_hash} does not match model.config, "
                               f"seed, split hash and tasks ({expected})")
    else:
        check.status["config_hash"] = CONFIRMED
        check.checked.append("model.config_hash matches model.config, seed, split hash and tasks")


def _split_config(results: RunResults, check: ProvenanceCheck) -> SplitConfig | None:
    dataset = results.dataset
    if dataset.split not in SPLITS:
        check.problem("dataset.split", f"{dataset.split!r} is not one of {', '.join(SPLITS)}")
        return None
    try:
        return SplitConfig(**dataset.split_config)
    except (ValidationError, TypeError) as exc:
        check.problem("dataset.split_config", f"not a split config: {str(exc).splitlines()[-1].strip()}")
        return None


def _check_sample_users(results: RunResults, rows: list[SampleRow], lines: list[int], config: SplitConfig,
                        samples_name: str, check: ProvenanceCheck) -> None:
    """Every sample's user is in the recorded split under the recorded split config."""
    split = results.dataset.split
    wrong = [(f"{samples_name}:{line}", f"user {row.user_id!r} is in the {found} split under "
              + f"dataset.split_config, not in {split!r}") for row, line in zip(rows, lines)
             if (found := split_of_user(row.user_id, config)) != split]
    check.problems.extend(wrong[:8])
    if len(wrong) > 8:
        check.problem("...", f"and {len(wrong) - 8} more users outside the {split} split")
    if not wrong:
        check.checked.append(f"split: every user in {samples_name} is in the {split!r} split under dataset.split_config")


def locate_dataset(results: RunResults) -> tuple[DatasetProvider | None, str]:
    """(the provider of the run's data, found on this machine without downloading, and how), or (None, why not)."""
    dataset = results.dataset
    if dataset.name in get_registry().names("dataset"):
        try:
            provider = build_plugin("dataset", dataset.name, {k: v for k, v in dataset.options.items()})
            path = Path(provider.path())
        except Exception as exc:  # noqa: BLE001 - whatever stops the provider, the data is not here: say why
            return None, f"dataset {dataset.name!r} is not on this machine ({exc})"
        if not path.is_file():
            return None, f"dataset {dataset.name!r}: its provider names {path}, which does not exist"
        options = ", ".join(f"{k}={v}" for k, v in sorted(dataset.options.items()))
        return provider, f"{path}, from dataset {dataset.name!r}" + (f" ({options})" if options else "")
    source = Path(dataset.source)
    if source.is_file():
        return LocalFileDataset(source, DatasetLayout()), f"{source}, the file the run read"
    return None, (f"dataset {dataset.name!r} is not a dataset installed here, and its file {dataset.source} "
                  "does not exist here")


def _check_dataset_sha256(results: RunResults, provider: DatasetProvider | None, where: str,
                          check: ProvenanceCheck) -> bool:
    """Hash the located data file against dataset.sha256; True when it is confirmed."""
    recorded = results.dataset.sha256
    if provider is None:
        check.status["dataset.sha256"] = NOT_VERIFIED
        check.not_verified("dataset.sha256", f"NOT VERIFIED: {where}. Validate where the run's data is "
                                 "(for a REGEN download: `regen-bench data download NAME` first)")
        return False
    actual = sha256_file(provider.path())
    if actual != recorded:
        check.status["dataset.sha256"] = CONTRADICTED
        check.problem("dataset.sha256", f"recorded {recorded[:16]}..., but the run's dataset here ({where}) "
                               f"has sha256 {actual[:16]}...: the results are not of this data (a forged hash, or "
                               "the data changed since the run)")
        return False
    check.status["dataset.sha256"] = CONFIRMED
    check.checked.append(f"dataset.sha256 confirmed: {where} has sha256 {actual[:16]}...")
    provider_synthetic = provider.synthetic
    if not isinstance(provider, LocalFileDataset) and provider_synthetic != results.dataset.synthetic:
        check.problem("dataset.synthetic", f"recorded {results.dataset.synthetic}, but dataset "
                               f"{results.dataset.name!r} is {'' if provider_synthetic else 'not '}synthetic")
    return True


def _recompute_split_hash(results: RunResults, provider: DatasetProvider, config: SplitConfig | None,
                          check: ProvenanceCheck) -> None:
    """Load the confirmed data: recompute the split hash; keep the examples for the caller."""
    dataset = results.dataset
    try:
        loaded = load_dataset_examples(provider, task_overrides=dataset.layout.get("tasks", {}),
                                       on_bad_record="skip" if dataset.bad_records_skipped else "error")
    except RegenBenchError as exc:
        check.status["split_hash"] = NOT_VERIFIED
        check.not_verified("dataset.split_hash", f"NOT VERIFIED: the dataset could not be loaded ({exc})")
        return
    check.examples_by_id = {e.example_id: e for e in loaded.examples}
    if config is None:
        return
    actual = split_users_by_hash(loaded.examples, config).split_hash
    if actual != dataset.split_hash:
        check.status["split_hash"] = CONTRADICTED
        check.problem("dataset.split_hash", f"recorded {dataset.split_hash}, but the dataset's users under "
                               f"dataset.split_config give {actual}")
    else:
        check.status["split_hash"] = CONFIRMED
        check.checked.append(f"dataset.split_hash recomputed from the dataset's {len(loaded.examples)} users: matches")


def check_provenance(results: RunResults, rows: list[SampleRow] | None, lines: list[int] | None, *,
                     with_dataset: bool = False, samples_name: str = "samples.jsonl") -> ProvenanceCheck:
    """Confirm what can be confirmed of the recorded hashes; see the module docstring."""
    check = ProvenanceCheck()
    for where, value in (("dataset.sha256", results.dataset.sha256), ("samples.sha256", results.samples.sha256)):
        if not SHA256.fullmatch(value):
            check.problem(where, f"{value!r} is not a sha256 (64 lowercase hex digits)")
    provider, where = locate_dataset(results)
    confirmed = _check_dataset_sha256(results, provider, where, check)
    config = _split_config(results, check)
    check.status["split_hash"] = NOT_RECOMPUTED
    if with_dataset and confirmed:
        _recompute_split_hash(results, provider, config, check)
    elif with_dataset:
        check.status["split_hash"] = NOT_VERIFIED
    if config is not None and rows is not None:
        _check_sample_users(results, rows, lines or list(range(1, len(rows) + 1)), config, samples_name, check)
    _check_config_hash(results, check)
    return check
