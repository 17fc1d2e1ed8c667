"""Writes are atomic: the target appears whole or not at all, with normal permissions."""

import os
import stat

import pytest

from regen_bench.util.atomic import atomic_write_text, atomic_writer


def test_failed_write_leaves_no_target_and_no_temp_file(tmp_path):
    target = tmp_path / "results.json"
    with pytest.raises(RuntimeError):
        with atomic_writer(target) as handle:
            handle.write("half")
            raise RuntimeError("killed")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_failed_rewrite_keeps_the_old_content(tmp_path):
    target = tmp_path / "results.json"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_writer(target) as handle:
            handle.write("new")
            raise RuntimeError("killed")
    assert target.read_text() == "old"


def test_written_file_has_umask_permissions_not_0600(tmp_path):
    target = tmp_path / "samples.jsonl"
    atomic_write_text(target, "x")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
