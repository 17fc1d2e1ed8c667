"""SQLite cache of generations, so a killed run resumes without repeating work.

The key is everything that determines a generation and nothing else: the model's
config hash (which includes the seed and split hash the runner folds in), the
dataset's sha256, the task and the example id. No run id, no time, no process id
(lm-evaluation-harness #2140: a key with the rank in it broke resume).

Shards: SQLite allows one writer per file, so the workers of a multi-process executor
(`--executor ray`) each write their finished batches into their own file under
`shard_dir(main, run_key)`; `merge_shards` folds them into the main file (rows already
there win: a generation is the same whoever made it) and deletes them. The runner merges
before reading the cache, so a killed run resumes from what its workers had finished,
and again before scoring.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS generations (
    run_key    TEXT NOT NULL,
    task       TEXT NOT NULL,
    example_id TEXT NOT NULL,
    output     TEXT NOT NULL,   -- JSON: a string (narrative) or a list (item ids)
    created_at REAL NOT NULL,
    PRIMARY KEY (run_key, task, example_id)
);
"""


class GenerationCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    @staticmethod
    def run_key(model_config_hash: str, dataset_sha256: str) -> str:
        return f"{model_config_hash}:{dataset_sha256}"

    def get_many(self, run_key: str, task: str, example_ids: list[str]) -> dict[str, object]:
        found: dict[str, object] = {}
        for start in range(0, len(example_ids), 500):
            chunk = example_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT example_id, output FROM generations WHERE run_key=? AND task=? AND example_id IN ({marks})",
                [run_key, task, *chunk],
            )
            found.update((example_id, json.loads(output)) for example_id, output in rows)
        return found

    def put_many(self, run_key: str, task: str, outputs: dict[str, object]) -> None:
        """Store one finished batch in a single transaction."""
        now = time.time()
        rows = [(run_key, task, eid, json.dumps(out, ensure_ascii=False), now) for eid, out in outputs.items()]
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(
                "INSERT OR REPLACE INTO generations (run_key, task, example_id, output, created_at) VALUES (?,?,?,?,?)",
                rows,
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def merge(self, other: str | Path) -> int:
        """Copy the rows of another cache file that this one lacks; returns how many were new."""
        before = self.count()
        self._db.execute("ATTACH DATABASE ? AS shard", [str(other)])
        try:
            has_table = self._db.execute(
                "SELECT 1 FROM shard.sqlite_master WHERE type='table' AND name='generations'").fetchone()
            if has_table:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.execute("INSERT OR IGNORE INTO main.generations SELECT run_key, task, example_id, "
                                     "output, created_at FROM shard.generations")
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        finally:
            self._db.execute("DETACH DATABASE shard")
        return self.count() - before

    def merge_shards(self, run_key: str) -> int:
        """Fold every shard file of `run_key` into this cache, then delete them; returns the rows added."""
        folder = shard_dir(self.path, run_key)
        if not folder.is_dir():
            return 0
        added = 0
        for shard in sorted(folder.glob("*.sqlite")):
            added += self.merge(shard)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{shard}{suffix}").unlink(missing_ok=True)
        try:
            folder.rmdir()
        except OSError:  # a shard being written right now (another run of the same key): left for later
            pass
        return added

    def count(self, run_key: str | None = None) -> int:
        if run_key is None:
            return self._db.execute("SELECT COUNT(*) FROM generations").fetchone()[0]
        return self._db.execute("SELECT COUNT(*) FROM generations WHERE run_key=?", [run_key]).fetchone()[0]

    def close(self) -> None:
        self._db.close()


def shard_dir(main: str | Path, run_key: str) -> Path:
    """Where the workers of one run write their shard files: beside the main cache file."""
    digest = hashlib.sha256(run_key.encode("utf-8")).hexdigest()[:16]
    return Path(main).parent / "generation-shards" / digest
