# Two commands do all the set-up on a fresh machine:
#   make demo   creates .venv if needed, then runs the whole pipeline on the built-in toy category
#   make test   creates .venv if needed, then runs every notebook's tests (nbdev-test) and the dry runs of the GPU check and study
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NB_WORKERS ?= 2

.PHONY: install demo test test-slow export clean-nbs docs docs-check readme gpu-check

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev,deploy]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/cutswap demo --out runs/demo

# One thread per notebook, two notebooks at a time: the 2-core machine stays fully used without
# oversubscription. Slow and CUDA cells are skipped here (see test-slow and `--flags cuda`).
test: $(STAMP)
	OMP_NUM_THREADS=1 MPLBACKEND=Agg $(BIN)/nbdev-test --n-workers $(NB_WORKERS) --timing
	bash tools/gpu_check.sh --dry-run
	bash tools/gpu_study.sh --dry-run
	@echo "nbdev-test: $$(ls nbs/*.ipynb | wc -l) passed, 0 failed"

# The prepared check of a GPU machine (about 8 minutes of work): CUDA tests, CPU against CUDA, the table of training
# speed options and two trainings at once, the paper budget on bottle. DATA is a folder holding bottle/ (MVTec AD
# layout); build/gpu-check/ gets summary.md, summary.json and gpu-check-logs.tar.gz (every log, in full).
DATA ?= ../shared/data/mvtec_ad
gpu-check: $(STAMP)
	bash tools/gpu_check.sh --data $(DATA)

test-slow: $(STAMP)
	MPLBACKEND=Agg $(BIN)/nbdev-test --n-workers 1 --flags slow --timing

export: $(STAMP)
	$(BIN)/nbdev-export

clean-nbs: $(STAMP)
	$(BIN)/nbdev-clean

# README.md from nbs/index.ipynb (nbdev's doc processing, then nbconvert's markdown exporter; figures left out).
readme: $(STAMP)
	$(BIN)/python tools/build_docs.py --readme

# README.md, then the site in _docs/: Quarto's nbdev-docs when `quarto` is installed, else static HTML from nbconvert.
docs: $(STAMP)
	$(BIN)/python tools/build_docs.py

# Opens the site in headless Chromium (Debian: apt-get install chromium): every notebook has a linked page with its
# title and no hidden cell; screenshots go to build/docs-check/. Not part of `make test`.
docs-check: docs
	$(BIN)/python tools/check_docs.py
