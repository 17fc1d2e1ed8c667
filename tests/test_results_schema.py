"""The results file is defined by pydantic models; docs/ carries its JSON Schema."""

import json
from pathlib import Path

from regen_bench.results.schema import RunResults, json_schema

DOCS_SCHEMA = Path(__file__).resolve().parents[1] / "docs" / "results.schema.json"


def test_docs_schema_matches_the_models():
    assert json.loads(DOCS_SCHEMA.read_text()) == json_schema(), "run `make schema` to refresh docs/results.schema.json"


def test_schema_requires_the_traceable_fields():
    schema = json_schema()
    required = set(schema["required"])
    assert {"harness", "dataset", "model", "seed", "scores", "timings", "environment", "samples"} <= required
    score = schema["$defs"]["ScoreEntry"]
    assert {"task", "metric", "score", "ci_low", "ci_high", "n", "signature", "higher_is_better"} <= set(score["required"])
    dataset = schema["$defs"]["DatasetInfo"]
    assert {"name", "sha256", "split", "split_hash", "n_examples", "synthetic"} <= set(dataset["required"])
    assert RunResults.model_config["extra"] == "forbid"
