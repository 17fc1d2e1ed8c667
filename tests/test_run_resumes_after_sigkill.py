"""A run killed with SIGKILL resumes from the generation cache without regenerating."""

import json
import os
import signal
import time

from killed_runs import COUNTING_MODEL, cached_rows, lines, start_run


def test_sigkilled_run_resumes_without_regenerating_finished_examples(tmp_path, isolated_cache):
    plugin = tmp_path / "counting_model.py"
    plugin.write_text(COUNTING_MODEL)
    db = isolated_cache / "generations.sqlite"
    env = dict(os.environ, COUNT_FILE=str(tmp_path / "first.txt"), BATCH_SLEEP="0.25")

    first = start_run(plugin, tmp_path / "runs", env)
    deadline = time.monotonic() + 300
    while len(cached_rows(db)) < 12:
        assert first.poll() is None, f"run ended before it could be killed: {first.communicate()}"
        assert time.monotonic() < deadline, "no batch reached the cache in time"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert first.returncode == -signal.SIGKILL
    assert not list((tmp_path / "runs").glob("*/results.json")), "a killed run must not leave results"
    done_at_kill = cached_rows(db)
    finished = len(done_at_kill)

    env_second = dict(env, COUNT_FILE=str(tmp_path / "second.txt"), BATCH_SLEEP="0")
    second = start_run(plugin, tmp_path / "runs", env_second)
    out, err = second.communicate(timeout=600)
    assert second.returncode == 0, err
    results = json.loads(next((tmp_path / "runs").glob("*/results.json")).read_text())
    total = sum(results["dataset"]["n_examples_by_task"].values())

    regenerated = lines(tmp_path / "second.txt")
    assert len(regenerated) == total - finished
    assert results["cache"] == {"cached": finished, "generated": total - finished, "failed": 0}
    # Nothing generated twice: the second run made exactly what the first did not finish.
    first_done = set(lines(tmp_path / "first.txt"))
    assert len(first_done) >= finished
    cached_keys = cached_rows(db)
    assert set(regenerated).isdisjoint(done_at_kill)
    assert set(regenerated) | done_at_kill == cached_keys
    assert len(cached_keys) == total

    # A third run generates nothing and reproduces the same scores.
    env_third = dict(env, COUNT_FILE=str(tmp_path / "third.txt"), BATCH_SLEEP="0")
    third = start_run(plugin, tmp_path / "runs3", env_third)
    third.communicate(timeout=600)
    assert third.returncode == 0
    assert lines(tmp_path / "third.txt") == []
    again = json.loads(next((tmp_path / "runs3").glob("*/results.json")).read_text())
    assert [s["score"] for s in again["scores"]] == [s["score"] for s in results["scores"]]
