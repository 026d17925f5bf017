# anxin developer commands. `make demo` and `make test` are the README Quickstart.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo ui test lint format typecheck pytest bench docs site screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## synthetic world -> validate -> train -> score -> explain -> open cases
	$(BIN)/anxin demo

ANXIN_HOME ?= .anxin
PORT ?= 5000

ui: $(STAMP)  ## the MLflow UI on the demo's local store (http://127.0.0.1:$(PORT))
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(ANXIN_HOME)/mlflow.db --port $(PORT)

test: lint typecheck site pytest  ## everything CI runs

lint: $(STAMP)
	$(BIN)/ruff check anxin pipelines tests benchmarks scripts
	$(BIN)/ruff format --check anxin pipelines tests benchmarks scripts

format: $(STAMP)
	$(BIN)/ruff format anxin pipelines tests benchmarks scripts
	$(BIN)/ruff check --fix anxin pipelines tests benchmarks scripts

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)  ## slow, large runs; figures go in benchmarks/README.md
	$(BIN)/python benchmarks/bench_features.py
	$(BIN)/python benchmarks/bench_train.py
	$(BIN)/python benchmarks/bench_score.py

docs: $(STAMP)  ## regenerate the generated pages, then build the site into site/
	$(BIN)/python -m anxin._docs
	$(MAKE) site

site: $(STAMP)  ## the documentation site (mkdocs, strict: a broken link fails)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

screenshots: $(STAMP)  ## docs/img/analysts/: the MLflow UI in headless Chromium (apt-get install -y chromium)
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) .anxin anxin-demo site .mypy_cache .ruff_cache .pytest_cache
