# KAN Studio: `make setup` builds .venv; `make test` runs the whole suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test check bench bench-discovery lint format typecheck clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

run: setup
	@echo "KAN Studio: open http://127.0.0.1:8501 (Ctrl+C stops it)"
	$(BIN)/python -m streamlit run app.py --server.address=127.0.0.1 --server.headless=true \
		--browser.gatherUsageStats=false

# Two workers, one file each at a time (a file's tests share fixtures: a Ray instance, a server).
test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile

# Lint, type check and the fast tests (no browser, no @slow): under 2 minutes, for every commit.
check: lint typecheck
	$(BIN)/python -m pytest -q -n 2 -m "not slow" --ignore=tests/e2e

typecheck: setup
	$(BIN)/mypy

bench: setup
	PYTHONPATH=. $(BIN)/python benchmarks/speed.py
	PYTHONPATH=. $(BIN)/python benchmarks/studio_render.py

# The Feynman recovery benchmark (issue #7's numbers): ~12 min at noise 0, ~35 min at noise 0.01, on 2 cores.
FEYNMAN ?= ../shared/benchmarks/feynman_dev.csv
bench-discovery: setup
	$(BIN)/python -m kan_core bench $(FEYNMAN) --noise 0 --seconds 60 --jobs 1 --out benchmarks/feynman_noise0.json
	$(BIN)/python -m kan_core bench $(FEYNMAN) --noise 0.01 --seconds 60 --jobs 1 --out benchmarks/feynman_noise001.json
	PYTHONPATH=. $(BIN)/python benchmarks/results.py benchmarks/feynman_noise0.json \
		benchmarks/feynman_noise001.json > benchmarks/RESULTS.md

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
