"""A memory-mapped Arrow file whose pages can be handed back after a pass over them.

A page of a memory-mapped file counts in the process's resident memory once it has been
read, and stays counted while nothing presses on memory: one pass over a column of the
1.1M-user Arrow cache (gigabytes) leaves all of it "resident" (what `/usr/bin/time -v`
reports as peak RSS). `MappedArrowFile.release(array)` tells the kernel the pages under
`array`'s buffers are not needed (madvise MADV_DONTNEED): they leave the resident set and
are read again from the page cache if touched later. The file is mapped read-only, so
nothing is lost; only ranges inside this file's own mapping (kept alive by this object)
are ever advised, never other memory. On systems without madvise, release does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import mmap
import sys
from pathlib import Path

import pyarrow as pa

_MADV_DONTNEED = 4
_PAGE = mmap.PAGESIZE


def _madvise():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        function = libc.madvise
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    function.restype = ctypes.c_int
    return function


_MADVISE = _madvise()


class MappedArrowFile:
    """An Arrow IPC file mapped read-only: its table, and `release` for its pages."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._map = pa.memory_map(self.path, "r")
        size = self._map.size()
        # The mapping's first byte: a zero-copy buffer of the whole file starts there.
        self._start = self._map.read_buffer(size).address if size else 0
        self._end = self._start + size
        self._map.seek(0)
        self.table = pa.ipc.open_file(self._map).read_all()
        self.released_bytes = 0

    def release(self, array) -> None:
        """Drop the resident pages under `array`'s buffers (an Array or ChunkedArray of this table)."""
        if _MADVISE is None or self._end == self._start:
            return
        chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
        for chunk in chunks:
            for buffer in chunk.buffers():
                if buffer is None or buffer.size == 0:
                    continue
                start = max(buffer.address, self._start)
                end = min(buffer.address + buffer.size, self._end)
                if end <= start:  # not in this file (a computed array): never advised
                    continue
                start -= (start - self._start) % _PAGE  # the mapping starts on a page
                end = min(self._end, end + (-(end - self._start)) % _PAGE)
                if _MADVISE(ctypes.c_void_p(start), end - start, _MADV_DONTNEED) == 0:
                    self.released_bytes += end - start
