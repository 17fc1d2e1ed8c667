"""`log_to=["wandb"]`: a real run logged by W&B in offline mode, read back from its run folder.

Offline, nothing leaves the machine (W&B's folders all live under tmp_path): the run is
`DIR/wandb/offline-run-*/`, and everything logged is in its `run-*.wandb` file, the
records `wandb sync` would upload. The file is read back here (a LevelDB-format log of
W&B's own protobuf `Record`s) and must say what results.json says: the config, every
score with its CI and n, and an artifact whose manifest lists the run folder's files
with their md5s. One W&B run in this module (about 3 s).
"""

import base64
import hashlib
import json
import struct

import pytest

from regen_bench.pipeline.runner import RunConfig, run_benchmark

wandb = pytest.importorskip("wandb")
from wandb.proto import wandb_internal_pb2  # noqa: E402

BLOCK, HEADER = 32768, 7  # the log's blocks, and its file and record headers
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


@pytest.fixture
def offline_wandb(tmp_path, monkeypatch):
    """W&B offline, silent, and with every folder it writes under tmp_path."""
    home = tmp_path / "wandb-home"
    for variable, value in {
        "WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DISABLE_GIT": "true", "WANDB_DISABLE_CODE": "true",
        "WANDB_DIR": str(home / "dir"), "WANDB_CONFIG_DIR": str(home / "config"),
        "WANDB_CACHE_DIR": str(home / "cache"), "WANDB_DATA_DIR": str(home / "data"),
        "WANDB_ARTIFACT_DIR": str(home / "artifacts"), "WANDB_ERROR_REPORTING": "false",
    }.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    return home


def score_name(entry: dict) -> str:
    name = f"{entry['task']}/{entry['metric']}"
    return name if entry["component"] == entry["metric"] else f"{name}/{entry['component']}"


def wandb_records(path) -> list:
    """The protobuf Records of a `.wandb` file: `:W&B` + magic + version, then LevelDB log
    blocks of 32 KiB whose records (crc32, length, type) may be split across blocks."""
    data = path.read_bytes()
    assert data[:4] == b":W&B", data[:HEADER]
    records, pending, pos = [], b"", HEADER
    while pos + HEADER <= len(data):
        if BLOCK - pos % BLOCK < HEADER:  # a block's tail too short for a header is padding
            pos += BLOCK - pos % BLOCK
            continue
        _crc, length, kind = struct.unpack_from("<IHB", data, pos)
        chunk, pos = data[pos + HEADER:pos + HEADER + length], pos + HEADER + length
        if kind in (FULL, FIRST):
            pending = chunk
        elif kind in (MIDDLE, LAST):
            pending += chunk
        else:
            break  # zero padding at the end
        if kind in (FULL, LAST):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
    return records


def of_kind(records, kind: str) -> list:
    return [getattr(record, kind) for record in records if record.WhichOneof("record_type") == kind]


def test_run_logs_config_scores_and_files_to_an_offline_wandb_run(tmp_path, offline_wandb):
    target = tmp_path / "tracking"
    outcome = run_benchmark(RunConfig(
        model="popular", dataset_args={"users": "200"}, limit=20, resamples=20, progress=False,
        output=tmp_path / "runs", log_to=["wandb:bench-tests"], logger_args={"wandb": {"dir": str(target)}},
    ))
    [logged] = outcome.logged
    assert logged.ok, logged.error
    [offline_run] = (target / "wandb").glob("offline-run-*")
    assert logged.where == str(offline_run)
    run_dir = outcome.run_dir
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    [log_file] = offline_run.glob("run-*.wandb")
    records = wandb_records(log_file)

    [run] = of_kind(records, "run")
    assert run.project == "bench-tests" and run.display_name == results["run_id"] and run.job_type == "evaluation"
    assert set(run.tags) == {"popular", "synthetic"}
    config = {item.key: json.loads(item.value_json) for item in run.config.update}
    assert config["model.name"] == "popular" and config["model.config_hash"] == results["model"]["config_hash"]
    assert config["model.config.options.similarity"] == results["model"]["config"]["options"]["similarity"]
    assert config["dataset.split_hash"] == results["dataset"]["split_hash"]
    assert config["dataset.sha256"] == results["dataset"]["sha256"]
    assert config["seed"] == "0" and config["k"] == str(results["k"]) and json.loads(config["tasks"]) == results["tasks"]
    assert config["harness.version"] == results["harness"]["version"]
    bleu = next(m for m in results["metrics"] if m["name"] == "bleu")
    assert config["metrics.bleu.signature"] == bleu["signature"]

    summary = {}
    for update in of_kind(records, "summary"):
        summary.update({"/".join(item.nested_key) or item.key: json.loads(item.value_json) for item in update.update})
    [step] = of_kind(records, "history")
    history = {"/".join(item.nested_key) or item.key: json.loads(item.value_json) for item in step.item}
    assert len(results["scores"]) >= 20
    for entry in results["scores"]:
        name = score_name(entry)
        for logged_values in (summary, history):
            assert logged_values[name] == entry["score"], name
            assert (logged_values[f"{name}/ci_low"], logged_values[f"{name}/ci_high"]) == (
                entry["ci_low"], entry["ci_high"]), name
            assert logged_values[f"{name}/n"] == entry["n"] == 20, name
    assert "next_item/recall@k/recall@10" in summary

    [artifact] = of_kind(records, "artifact")
    assert artifact.name == f"regen-bench-{results['run_id']}" and artifact.type == "regen-bench-run"
    contents = {entry.path: entry for entry in artifact.manifest.contents}
    assert set(contents) == {path.name for path in run_dir.iterdir()} | {"signatures.json"}
    for path in run_dir.iterdir():
        md5 = base64.b64encode(hashlib.md5(path.read_bytes()).digest()).decode()
        assert (contents[path.name].digest, contents[path.name].size) == (md5, path.stat().st_size), path.name
    staged = json.loads(open(contents["signatures.json"].local_path, encoding="utf-8").read())
    assert staged == {score_name(e): e["signature"] for e in results["scores"]}
    assert str(offline_wandb) in contents["signatures.json"].local_path  # staged under tmp_path, not in $HOME
