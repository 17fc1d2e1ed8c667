"""The notebook-first Python API: `run`, `score`, `load_dataset`, `load_runs` and DataFrames.

`import regen_bench as rb` gives these as `rb.run`, `rb.score`, ... (loaded on first use, so
importing regen_bench stays cheap for plugin authors and the command line).
"""

from regen_bench.api.dataset import LoadedDataset, load_dataset
from regen_bench.api.frames import leaderboard_frame, load_runs, samples_frame, scores_frame
from regen_bench.api.results import Results, Scores
from regen_bench.api.running import run
from regen_bench.api.scoring import score

__all__ = ["LoadedDataset", "Results", "Scores", "leaderboard_frame", "load_dataset", "load_runs", "run",
           "samples_frame", "score", "scores_frame"]
