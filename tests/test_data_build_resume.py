"""A `data build` killed (SIGKILL) half-way and run again with the same arguments makes no
call it already made and writes the same bytes as a build that was never interrupted."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import amazon_samples
from api_servers import FakeOpenAIServer
from build_responders import build_answer

REGEN_BENCH = Path(sys.executable).parent / "regen-bench"


def build_command(reviews, meta, server, output, cache) -> list[str]:
    return [str(REGEN_BENCH), "data", "build", "--reviews", str(reviews), "--meta", str(meta),
            "--item-min-interactions", "1", "--users", "10", "--llm", "openai:gpt-4o-mini",
            "--llm-arg", f"base_url={server.base_url}", "--llm-arg", "concurrency=1",
            "--output", str(output), "--cache", str(cache), "--quiet"]


def ok_rows(cache: Path) -> int:
    with sqlite3.connect(cache) as conn:
        return conn.execute("SELECT COUNT(*) FROM calls WHERE status = 'ok'").fetchone()[0]


def test_killed_build_resumes_without_repeating_a_call(shared_data, tmp_path):
    reviews, meta = amazon_samples.amazon2023_office(shared_data, tmp_path)
    env = dict(os.environ, OPENAI_API_KEY="sk-test-resume")
    server = FakeOpenAIServer().start()
    server.responder = build_answer
    try:
        # An uninterrupted build first, in its own cache: the calls and the bytes to expect.
        (tmp_path / "whole").mkdir()
        whole = tmp_path / "whole" / "built.jsonl"
        subprocess.run(build_command(reviews, meta, server, whole, tmp_path / "whole.sqlite"), env=env, check=True,
                       capture_output=True, timeout=120)
        total = len(server.requests)
        assert total > 50
        server.reset()

        (tmp_path / "resumed").mkdir()
        output, cache = tmp_path / "resumed" / "built.jsonl", tmp_path / "resumed.sqlite"
        server.delay = 0.02  # slow enough to kill it in the middle
        process = subprocess.Popen(build_command(reviews, meta, server, output, cache), env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while len(server.requests) < total // 2 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.01)
        process.kill()
        process.wait(timeout=30)
        assert process.returncode != 0, "the build finished before it could be killed"
        assert not output.exists()  # a killed build leaves no partial file
        first = [r.raw for r in server.requests]
        answered = ok_rows(cache)
        assert 0 < answered < total
        server.reset()
        server.delay = 0.0

        done = subprocess.run(build_command(reviews, meta, server, output, cache), env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        second = [r.raw for r in server.requests]
    finally:
        server.stop()

    assert len(second) == total - answered  # exactly what the cache lacked
    repeated = set(first) & set(second)
    assert repeated <= {first[-1]}  # at most the one call in flight at the kill, never an answered one
    assert output.read_bytes() == whole.read_bytes()
    assert (output.parent / "built.jsonl.manifest.json").read_text() == \
        (whole.parent / "built.jsonl.manifest.json").read_text()
