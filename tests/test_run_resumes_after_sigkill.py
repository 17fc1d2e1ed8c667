"""A run killed with SIGKILL resumes from the generation cache without regenerating."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

COUNTING_MODEL = textwrap.dedent('''
    import os, time
    from regen_bench import hookimpl
    from regen_bench.contracts.model import Model

    class Counting(Model):
        """Writes one line per generated example to $COUNT_FILE, slowly."""
        name = "counting"
        batch_size = 4

        def generate(self, examples, task):
            time.sleep(float(os.environ.get("BATCH_SLEEP", "0")))
            with open(os.environ["COUNT_FILE"], "a") as handle:
                for e in examples:
                    handle.write(f"{task} {e.example_id}\\n")
            return [f"user {e.example_id} bought {len(e.history)} items" for e in examples]

    @hookimpl
    def register_models(register):
        register(Counting)
''')


def start_run(plugin, output, env):
    args = [sys.executable, "-m", "regen_bench.cli.app", "--plugins", str(plugin), "run", "--model", "counting",
            "--dataset-arg", "users=400", "--task", "user_summary", "--task", "endorsement",
            "--metric", "bleu", "--bootstrap", "50", "--quiet", "--output", str(output)]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def cached_rows(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM generations").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def generated_lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_sigkilled_run_resumes_without_regenerating_finished_examples(tmp_path, isolated_cache):
    plugin = tmp_path / "counting_model.py"
    plugin.write_text(COUNTING_MODEL)
    db = isolated_cache / "generations.sqlite"
    env = dict(os.environ, COUNT_FILE=str(tmp_path / "first.txt"), BATCH_SLEEP="0.25")

    first = start_run(plugin, tmp_path / "runs", env)
    deadline = time.monotonic() + 300
    while cached_rows(db) < 12:
        assert first.poll() is None, f"run ended before it could be killed: {first.communicate()}"
        assert time.monotonic() < deadline, "no batch reached the cache in time"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert first.returncode == -signal.SIGKILL
    assert not list((tmp_path / "runs").glob("*/results.json")), "a killed run must not leave results"
    finished = cached_rows(db)
    with sqlite3.connect(db) as conn:
        done_at_kill = {f"{t} {e}" for t, e in conn.execute("SELECT task, example_id FROM generations")}

    env_second = dict(env, COUNT_FILE=str(tmp_path / "second.txt"), BATCH_SLEEP="0")
    second = start_run(plugin, tmp_path / "runs", env_second)
    out, err = second.communicate(timeout=600)
    assert second.returncode == 0, err
    results = json.loads(next((tmp_path / "runs").glob("*/results.json")).read_text())
    total = sum(results["dataset"]["n_examples_by_task"].values())

    regenerated = generated_lines(tmp_path / "second.txt")
    assert len(regenerated) == total - finished
    assert results["cache"] == {"cached": finished, "generated": total - finished, "failed": 0}
    # Nothing generated twice: the second run made exactly what the first did not finish.
    first_done = set(generated_lines(tmp_path / "first.txt"))
    assert len(first_done) >= finished
    with sqlite3.connect(db) as conn:
        cached_keys = {f"{t} {e}" for t, e in conn.execute("SELECT task, example_id FROM generations")}
    assert set(regenerated).isdisjoint(done_at_kill)
    assert set(regenerated) | done_at_kill == cached_keys
    assert len(cached_keys) == total

    # A third run generates nothing and reproduces the same scores.
    env_third = dict(env, COUNT_FILE=str(tmp_path / "third.txt"), BATCH_SLEEP="0")
    third = start_run(plugin, tmp_path / "runs3", env_third)
    third.communicate(timeout=600)
    assert third.returncode == 0
    assert generated_lines(tmp_path / "third.txt") == []
    again = json.loads(next((tmp_path / "runs3").glob("*/results.json")).read_text())
    assert [s["score"] for s in again["scores"]] == [s["score"] for s in results["scores"]]
