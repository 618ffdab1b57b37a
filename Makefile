# Two commands a newcomer needs: `make serve` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The shared MovieLens folder beside the project, when there is one; otherwise the settings'
# default (data/movielens, which `movierec data download` fills on a machine with internet).
SHARED_MOVIELENS := $(abspath ../shared/movielens)
ifneq ($(wildcard $(SHARED_MOVIELENS)/ratings.csv),)
export MOVIEREC_MOVIELENS_DIR ?= $(SHARED_MOVIELENS)
endif

.PHONY: serve test lint format schema bench clean

$(BIN)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev,postgres]'
	touch $@

serve: $(BIN)/.installed
	$(BIN)/movierec serve

test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: $(BIN)/.installed
	$(BIN)/python -m graph.export_schema > schema.graphql

# Benchmarks, on demand (not part of the tests). api_load.py needs Debian's wrk.
bench: $(BIN)/.installed
	$(BIN)/python bench/etl_load.py
	OPENBLAS_NUM_THREADS=1 $(BIN)/python bench/recommender_latency.py
	OPENBLAS_NUM_THREADS=1 $(BIN)/python bench/recommender_scale.py
	$(BIN)/movierec etl
	$(BIN)/python bench/recommender_train.py
	command -v wrk >/dev/null || apt-get install -y -qq wrk
	$(BIN)/python bench/api_load.py
	$(BIN)/python bench/search_latency.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
