"""A pass over a memory-mapped Arrow file can hand its pages back (util/mapped_pages.py)."""

import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from regen_bench.util.mapped_pages import MappedArrowFile


def resident_file_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssFile:"):
                return int(line.split()[1])
    raise AssertionError("no RssFile in /proc/self/status")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RssFile and madvise are Linux's")
def test_released_pages_leave_the_resident_set_and_the_data_stays(tmp_path):
    path = tmp_path / "t.arrow"
    texts = pa.array([f"{i:08d}" * 64 for i in range(80_000)])  # ~41 MB of text
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, pa.schema([("text", pa.string())])) as writer:
        for start in range(0, len(texts), 10_000):
            writer.write_batch(pa.record_batch([texts.slice(start, 10_000)], names=["text"]))
    mapped = MappedArrowFile(path)
    column = mapped.table.column("text")
    before = resident_file_kb()
    lengths = pc.sum(pc.utf8_length(column)).as_py()  # reads every byte of the column
    touched = resident_file_kb() - before
    assert lengths == 80_000 * 512 and touched > 30_000
    mapped.release(column)
    assert resident_file_kb() - before < touched / 4
    assert mapped.released_bytes >= 40_000_000
    assert column[79_999].as_py() == texts[79_999].as_py()  # read again from the file
    computed = pa.array(np.arange(1000))
    released = mapped.released_bytes
    mapped.release(computed)  # memory outside the file is never advised
    assert mapped.released_bytes == released and computed.to_pylist()[-1] == 999
