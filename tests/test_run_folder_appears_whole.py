"""A run folder appears whole or not at all (issue 9, defect 7), and --output must be a folder.

`pipeline/record.py:write_run` writes samples.jsonl and results.json into `.incomplete-<run id>`
and renames it into place. A real SIGKILL between the two writes leaves no run folder,
only the `.incomplete-*` one, which `leaderboard build` skips with one line.
"""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.contracts.errors import RegenBenchError
from regen_bench.pipeline.record import INCOMPLETE_PREFIX, check_output_dir, write_run
from regen_bench.results.schema import load_results, read_samples
from regen_bench.util.hashing import sha256_file

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = min((ROOT / "leaderboards" / "results" / "synthetic" / "popular").glob("*/results.json")).parent

# Writes a run folder with write_run; KILL_AT=results kills the process with SIGKILL after
# samples.jsonl is written and before results.json is.
WRITER = textwrap.dedent('''
    import os, signal, sys
    from pathlib import Path
    from regen_bench.results.schema import load_results, read_samples
    from regen_bench.pipeline.record import write_run

    source = Path(sys.argv[2])
    results = load_results(source / "results.json")
    rows = read_samples(source / "samples.jsonl")

    def make_results(written):
        if os.environ.get("KILL_AT") == "results":
            os.kill(os.getpid(), signal.SIGKILL)
        return results.model_copy(update={"run_id": written.run_id, "samples": written.samples})

    written, _ = write_run(Path(sys.argv[1]), "popular", "synthetic", results.model.config_hash, rows, make_results)
    print(written.run_dir)
''')


def write(tmp_path: Path, output: Path, kill: bool) -> subprocess.CompletedProcess:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = dict(os.environ, KILL_AT="results" if kill else "")
    return subprocess.run([sys.executable, str(script), str(output), str(COMMITTED)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_sigkill_between_samples_and_results_leaves_no_run_folder(tmp_path):
    output = tmp_path / "runs"
    killed = write(tmp_path, output, kill=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = sorted(output.iterdir())
    assert [p.name.startswith(INCOMPLETE_PREFIX) for p in left] == [True], left  # no run folder, one marked one
    assert sorted(p.name for p in left[0].iterdir()) == ["samples.jsonl"]  # killed before results.json

    finished = write(tmp_path, output, kill=False)
    assert finished.returncode == 0, finished.stderr
    run_dir = Path(finished.stdout.strip())
    assert run_dir.parent == output and not run_dir.name.startswith(INCOMPLETE_PREFIX)
    assert sorted(p.name for p in run_dir.iterdir()) == ["results.json", "samples.jsonl"]
    results = load_results(run_dir / "results.json")
    assert results.run_id == run_dir.name
    assert len(read_samples(run_dir / "samples.jsonl")) == results.samples.rows
    # the samples are the run's own, byte for byte, and results.json records their sha256
    assert results.samples.sha256 == load_results(COMMITTED / "results.json").samples.sha256
    assert sha256_file(run_dir / "samples.jsonl") == results.samples.sha256


def test_build_skips_a_leftover_incomplete_folder_with_one_line(tmp_path):
    results_dir = tmp_path / "results"
    shutil.copytree(COMMITTED, results_dir / "popular" / COMMITTED.name)
    killed = write(tmp_path, results_dir / "popular", kill=True)
    assert killed.returncode == -signal.SIGKILL
    (leftover,) = (results_dir / "popular").glob(f"{INCOMPLETE_PREFIX}*")
    # the narrowest window: killed after results.json, before the rename; still not a run
    shutil.copy(COMMITTED / "results.json", leftover / "results.json")
    result = CliRunner().invoke(main, ["leaderboard", "build", "--results", str(results_dir),
                                       "--out", str(tmp_path / "board"), "--no-plots"])
    assert result.exit_code == 0, result.output
    skipped = [line for line in result.output.splitlines() if line.startswith("skipped incomplete run folder")]
    expected = (f"skipped incomplete run folder {leftover} (a run still writing, or killed before it "
                "finished; delete it if no run is writing it)")
    assert skipped == [expected]
    assert "from 1 results files" in result.output
    assert "same config hash" not in result.output  # the leftover is not counted as a second run


def test_build_never_reads_an_incomplete_folder_so_a_half_written_file_cannot_fail_it(tmp_path):
    results_dir = tmp_path / "results"
    shutil.copytree(COMMITTED, results_dir / "popular" / COMMITTED.name)
    leftover = results_dir / "popular" / f"{INCOMPLETE_PREFIX}20261202T000000Z-popular-synthetic-0000"
    leftover.mkdir()
    (leftover / "results.json").write_text('{"run_id": "x", "scores": [', encoding="utf-8")  # cut off mid-write
    result = CliRunner().invoke(main, ["leaderboard", "build", "--results", str(results_dir),
                                       "--out", str(tmp_path / "board"), "--no-plots"])
    assert result.exit_code == 0, result.output
    assert f"skipped incomplete run folder {leftover}" in result.output
    assert "from 1 results files" in result.output


@pytest.mark.parametrize("output", ["/dev/null", "/dev/null/runs", "FILE", "FILE/runs"])
def test_output_that_is_not_a_folder_is_one_line(tmp_path, output):
    a_file = tmp_path / "a_file.txt"
    a_file.write_text("not a folder")
    path = Path(output.replace("FILE", str(a_file)))
    with pytest.raises(RegenBenchError, match=r"--output .*not a folder; give a folder for the run folders"):
        check_output_dir(path)
    with pytest.raises(RegenBenchError, match="not a folder"):
        write_run(path, "m", "d", "0" * 16, [], lambda written: None)
    assert a_file.read_text() == "not a folder"


def test_output_folder_that_does_not_exist_yet_is_fine(tmp_path):
    assert check_output_dir(tmp_path / "new" / "runs") == tmp_path / "new" / "runs"
    assert not (tmp_path / "new").exists()  # checked, not made


def test_run_with_output_dev_null_is_one_line_exit_2():
    result = CliRunner().invoke(main, ["run", "--model", "popular", "--dataset-arg", "users=400", "--task",
                                       "user_summary", "--metric", "bleu", "--bootstrap", "50", "--quiet",
                                       "--output", "/dev/null"])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines()[-1].startswith("error: --output /dev/null: is not a folder")
    assert "Traceback" not in result.output


# A real `regen-bench run`, SIGKILLed while its results record is made (after samples.jsonl).
KILLED_AT_RESULTS = textwrap.dedent('''
    import os, signal
    from regen_bench import hookimpl
    from regen_bench.contracts.model import Model

    class DiesAtResults(Model):
        """info() is asked for by the results record, after samples.jsonl is written."""
        name = "dies-at-results"

        def generate(self, examples, task):
            return ["a narrative" for _ in examples]

        def info(self):
            if os.environ.get("KILL_AT_RESULTS"):
                os.kill(os.getpid(), signal.SIGKILL)
            return {}

    @hookimpl
    def register_models(register):
        register(DiesAtResults)
''')


def test_a_run_killed_between_samples_and_results_leaves_no_run_folder(tmp_path):
    plugin = tmp_path / "dies_at_results.py"
    plugin.write_text(KILLED_AT_RESULTS)
    output = tmp_path / "runs"
    args = [sys.executable, "-m", "regen_bench.cli.app", "--plugins", str(plugin), "run", "--model",
            "dies-at-results", "--dataset-arg", "users=400", "--task", "user_summary", "--metric", "bleu",
            "--bootstrap", "50", "--quiet", "--output", str(output)]
    killed = subprocess.run(args, env=dict(os.environ, KILL_AT_RESULTS="1"), capture_output=True, text=True,
                            timeout=600, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = sorted(output.iterdir())
    assert [p.name.startswith(INCOMPLETE_PREFIX) for p in left] == [True], left
    again = subprocess.run(args, env=dict(os.environ), capture_output=True, text=True, timeout=600, check=False)
    assert again.returncode == 0, again.stderr
    (run_dir,) = [p for p in output.iterdir() if not p.name.startswith(INCOMPLETE_PREFIX)]
    assert sorted(p.name for p in run_dir.iterdir()) == ["results.json", "samples.jsonl"]
