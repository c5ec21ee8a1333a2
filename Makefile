# Two commands for learners: `make lab` and `make test`. Everything else is for authors.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: lab test setup warmup workspace doctor release lock clean-venv

lab: setup warmup workspace  ## set everything up and open JupyterLab on your workspace
	$(BIN)/course lab --workspace workspace

# Files go to the workers whole (loadfile), except the per-lesson notebook tests: tests/conftest.py
# makes each lesson's test its own unit, so the two workers share them out. The lesson notebooks
# run in those tests (autograded classically, on a Spark Connect server, on a standalone cluster),
# so nbval runs only the pages generated beside them. The suite runs with Spark's class archive, as
# `make lab` sets it up for learners: every classic session the tests start (nbgrader's graded
# kernels, the standalone cluster's lessons) then starts as fast as a learner's does.
test: setup warmup  ## set everything up and run the whole suite
	CI=$${CI:-true} $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=30 --nbval-lax tests release/00-start-here.ipynb release/00-study-guide.ipynb

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "PySpark 4 needs Python 3.10 or newer: run make with PYTHON=python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

warmup: setup  ## one-off: record Spark's classes so later starts are fast
	$(BIN)/course warmup

workspace: setup  ## copy new student notebooks into workspace/ (never overwrites yours)
	$(BIN)/course workspace --release release --workspace workspace

doctor: setup
	$(BIN)/course doctor

release: setup  ## regenerate the student notebooks in release/ from source/ (nbgrader)
	$(BIN)/autograde release

lock:  ## re-resolve requirements.in into requirements.lock in a throw-away venv
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -r requirements.in
	( echo "# Pinned from requirements.in by \`make lock\` (Python 3.11, Linux x86_64). Do not edit by hand."; \
	  .lock-venv/bin/pip freeze | grep -v '^-e' ) > requirements.lock
	rm -rf .lock-venv

clean-venv:
	rm -rf $(VENV)
