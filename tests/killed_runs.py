"""Shared by the kill-and-resume tests (local and Ray): a plugin model that logs each
example it generates, a run of it in a subprocess, and what its cache holds."""

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

# Settings are read where the model is built (the run's process), so a copy pickled to a
# Ray worker writes to the same count file as the local run does.
COUNTING_MODEL = textwrap.dedent('''
    import os, time
    from regen_bench import hookimpl
    from regen_bench.contracts.model import Model

    class Counting(Model):
        """Writes one line per generated example to the count file, slowly (settings read where it is built)."""
        name = "counting"
        batch_size = 4

        def __init__(self, **options):
            super().__init__(**options)
            self.count_file = os.environ["COUNT_FILE"]
            self.sleep = float(os.environ.get("BATCH_SLEEP", "0"))

        def generate(self, examples, task):
            time.sleep(self.sleep)
            with open(self.count_file, "a") as handle:
                for e in examples:
                    handle.write(f"{task} {e.example_id}\\n")
            return [f"user {e.example_id} bought {len(e.history)} items" for e in examples]

    @hookimpl
    def register_models(register):
        register(Counting)
''')


def start_run(plugin, output, env, *extra):
    """`regen-bench run --model counting` in a subprocess (extra: e.g. the executor options)."""
    args = [sys.executable, "-m", "regen_bench.cli.app", "--plugins", str(plugin), "run", "--model", "counting",
            "--dataset-arg", "users=400", "--task", "user_summary", "--task", "endorsement",
            "--metric", "bleu", "--bootstrap", "50", "--quiet", "--output", str(output), *extra]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def cached_rows(db: Path) -> set[str]:
    """'task example_id' of every generation in the cache file (empty while it is not there yet)."""
    if not db.exists():
        return set()
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return {f"{t} {e}" for t, e in conn.execute("SELECT task, example_id FROM generations")}
    except sqlite3.OperationalError:
        return set()


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []
