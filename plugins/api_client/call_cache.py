"""SQLite cache of API calls (WAL): answers of successful calls, and a record of failures.

A row is keyed by a hash of everything that determines the answer (see `call_key`):
provider, model, endpoint, prompt-template/rubric sha, the full prompt, temperature,
max tokens, JSON mode, seed. A successful call stores its text and token usage; a
failed call (after retries) is stored with status "failed" and is never returned as
an answer, so the next run retries exactly the calls that failed. A later success
overwrites a failure; a failure never overwrites a success.

Embeddings live in a second table of the same file, one row per (embedder, text).

Nothing secret is stored: keys are not part of any key or row, and error messages
are passed through `redact` before they are written.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from regen_bench.util.paths import cache_dir
from regen_bench_plugins.api_client.keys import redact

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    key TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    status TEXT NOT NULL,            -- 'ok' or 'failed'
    response TEXT,                   -- the answer text (ok)
    input_tokens INTEGER,
    output_tokens INTEGER,
    attempts INTEGER,
    error TEXT,                      -- the last error (failed)
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS embeddings (
    key TEXT PRIMARY KEY,
    embedder TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,            -- little-endian float32
    created REAL NOT NULL
);
"""


SQL_VARIABLES = 500  # keys bound per statement: under SQLite's limit on bound parameters


def select_by_keys(conn: sqlite3.Connection, query: str, keys: list[str], params: tuple = ()) -> list[tuple]:
    """The rows of `query` for all `keys`, a statement per SQL_VARIABLES keys; `query` has
    `{marks}` where the key placeholders go (`... WHERE key IN ({marks})`), after `params`."""
    rows: list[tuple] = []
    for start in range(0, len(keys), SQL_VARIABLES):
        chunk = keys[start : start + SQL_VARIABLES]
        rows += conn.execute(query.format(marks=",".join("?" * len(chunk))), [*params, *chunk]).fetchall()
    return rows


@dataclass(frozen=True)
class CachedCall:
    text: str
    input_tokens: int | None
    output_tokens: int | None
    attempts: int | None


def default_cache_path() -> Path:
    return cache_dir("api") / "calls.sqlite"


class CallCache:
    """One SQLite file; safe to share between threads of one process and between processes."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)

    # -- calls -------------------------------------------------------------------------
    def get(self, key: str) -> CachedCall | None:
        return self.get_many([key]).get(key)

    def get_many(self, keys: list[str]) -> dict[str, CachedCall]:
        with self._lock:
            rows = select_by_keys(
                self._conn,
                "SELECT key, response, input_tokens, output_tokens, attempts FROM calls "
                "WHERE status = 'ok' AND key IN ({marks})",
                list(dict.fromkeys(keys)),
            )
        return {
            key: CachedCall(response or "", input_tokens, output_tokens, attempts)
            for key, response, input_tokens, output_tokens, attempts in rows
        }

    def put_ok(
        self, key: str, *, provider: str, model: str, text: str,
        input_tokens: int | None, output_tokens: int | None, attempts: int,
    ) -> None:
        now = time.time()
        with self._lock:
            self._conn.execute(
                "INSERT INTO calls (key, provider, model, status, response, input_tokens, output_tokens, attempts, "
                "error, created, updated) VALUES (?, ?, ?, 'ok', ?, ?, ?, ?, NULL, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET status='ok', response=excluded.response, "
                "input_tokens=excluded.input_tokens, output_tokens=excluded.output_tokens, "
                "attempts=excluded.attempts, error=NULL, updated=excluded.updated",
                (key, provider, model, text, input_tokens, output_tokens, attempts, now, now),
            )

    def put_failed(self, key: str, *, provider: str, model: str, error: str, attempts: int) -> None:
        now = time.time()
        with self._lock:
            self._conn.execute(
                "INSERT INTO calls (key, provider, model, status, response, input_tokens, output_tokens, attempts, "
                "error, created, updated) VALUES (?, ?, ?, 'failed', NULL, NULL, NULL, ?, ?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET attempts=excluded.attempts, error=excluded.error, "
                "updated=excluded.updated WHERE calls.status != 'ok'",
                (key, provider, model, attempts, redact(error), now, now),
            )

    def status_counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._conn.execute("SELECT status, COUNT(*) FROM calls GROUP BY status").fetchall()
        return {status: count for status, count in rows}

    def failed(self) -> list[tuple[str, str]]:
        """(key, error) of calls whose last attempt failed."""
        with self._lock:
            return self._conn.execute("SELECT key, error FROM calls WHERE status = 'failed' ORDER BY key").fetchall()

    # -- embeddings --------------------------------------------------------------------
    def get_vectors(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            rows = select_by_keys(
                self._conn, "SELECT key, dim, vector FROM embeddings WHERE key IN ({marks})", list(dict.fromkeys(keys))
            )
        for key, dim, blob in rows:
            vector = np.frombuffer(blob, dtype="<f4")
            if vector.shape[0] == dim:
                found[key] = vector.astype(np.float32)
        return found

    def put_vectors(self, embedder: str, items: list[tuple[str, np.ndarray]]) -> None:
        now = time.time()
        rows = [
            (key, embedder, int(vec.shape[0]), np.asarray(vec, dtype="<f4").tobytes(), now) for key, vec in items
        ]
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                self._conn.executemany(
                    "INSERT OR REPLACE INTO embeddings (key, embedder, dim, vector, created) VALUES (?, ?, ?, ?, ?)",
                    rows,
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> "CallCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
