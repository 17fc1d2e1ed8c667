"""Memory and time of fusion's training rows: built up front against built a batch at a time.

    .venv/bin/python bench/fusion_rows_bench.py --users 20000

Fits `fusion` (tiny backbone, one optimiser step: the features and tokenizer are what
matter) on N synthetic users, then builds the training users' rows both ways, side by
side in one process: up front (a list of Rows, what fusion does up to STREAM_ROWS_ABOVE
rows) and streamed (`StreamedRows`, above it), and walks one epoch of batches of the
streamed rows. Prints the bytes each way holds (tracemalloc peak while building, and
what stays allocated), the time each takes, and the ratios. Checks the two give the
same rows.
"""

from __future__ import annotations

import argparse
import gc
import os
import time
import tracemalloc

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def measured(build):
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    value = build()
    seconds = time.perf_counter() - started
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return value, seconds, held, peak


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)

    import numpy as np

    import regen_bench_plugins.models.fusion as fusion
    from regen_bench.data.loading import load_dataset_examples
    from regen_bench.data.splits import split_users_by_hash
    from regen_bench_plugins.datasets.synthetic import SyntheticDataset
    from regen_bench_plugins.models.fusion.soft_tokens.sequences import StreamedRows

    started = time.perf_counter()
    splits = split_users_by_hash(load_dataset_examples(SyntheticDataset(users=args.users)).examples)
    model = fusion.SoftTokenModel(epochs=1, max_steps=1, reuse_weights=False)
    model.fit(splits.train, splits.validation, tasks=["user_summary", "purchase_reason", "endorsement"], seed=0)
    users = sorted(splits.train, key=lambda e: e.example_id)
    print(f"fusion rows bench: {args.users:,} users ({len(users):,} training), setup {time.perf_counter() - started:.0f} s")

    threshold = fusion.STREAM_ROWS_ABOVE
    fusion.STREAM_ROWS_ABOVE = 10**12
    eager, eager_s, eager_held, eager_peak = measured(lambda: model._rows(users, with_targets=True))
    fusion.STREAM_ROWS_ABOVE = 0
    streamed, streamed_s, streamed_held, streamed_peak = measured(lambda: model._rows(users, with_targets=True))
    fusion.STREAM_ROWS_ABOVE = threshold
    assert isinstance(eager, list) and isinstance(streamed, StreamedRows) and len(eager) == len(streamed)

    started = time.perf_counter()
    same = True
    for start in range(0, len(eager), args.batch_size):
        batch = range(start, min(start + args.batch_size, len(eager)))
        for a, b in zip((eager[i] for i in batch), streamed.take(batch)):
            same &= np.array_equal(a.features, b.features) and a.target_ids == b.target_ids
    epoch_s = time.perf_counter() - started

    mb = 1024**2
    print(f"rows: {len(eager):,} (the same rows both ways: {same})")
    print(f"up front  build {eager_s:6.1f} s   held {eager_held / mb:8.1f} MB   peak {eager_peak / mb:8.1f} MB")
    print(f"streamed  build {streamed_s:6.1f} s   held {streamed_held / mb:8.1f} MB   peak {streamed_peak / mb:8.1f} MB")
    print(f"streamed: one epoch of batches built {epoch_s:.1f} s (with the comparison); up front pays this once")
    print(f"ratio held up front / streamed: {eager_held / max(streamed_held, 1):.1f}x; "
          f"per row {eager_held / len(eager):.0f} B against {streamed_held / len(eager):.0f} B")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
