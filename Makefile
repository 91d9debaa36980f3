# scrollcheck — two commands do everything on a fresh machine:
#   make run    set up, train if needed, start every service and chat in this terminal
#   make test   set up, train if needed, run every check
# Rasa 3.6 needs Python 3.8–3.10; we use 3.10 in .venv, pinned by constraints.txt.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
BIN     := $(VENV)/bin
STAMPS  := .make
MODEL   := models/scrollcheck.tar.gz
SPACY   := models/spacy/en_blank/meta.json
RASA    := $(BIN)/rasa
RISK_MODEL := models/risk/model.pkl
export TF_CPP_MIN_LOG_LEVEL := 3
# Rasa's anonymous usage telemetry stays off for training and every other rasa command make runs.
export RASA_TELEMETRY_ENABLED ?= false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONWARNINGS := ignore::DeprecationWarning

# A Python 3.10 interpreter: $PYTHON310, else python3.10 on PATH, else pyenv's 3.10.x.
PYTHON310_FOUND = $(shell PYTHON310="$(PYTHON310)" scripts/find-python310.sh)

# Everything the model is trained from; a change to any of these retrains on the next make.
TRAINING_INPUTS := config.yml domain.yml $(shell find data/nlu data/rules data/stories -name '*.yml' 2>/dev/null)

# Everything the risk model is trained from (bot/safety/training.py); a change retrains it.
RISK_INPUTS := data/safety/classifier.yml bot/safety/classifier.py bot/safety/training.py \
	$(shell find data/safety/training data/nlu -name '*.jsonl' -o -name '*.yml' 2>/dev/null)

.PHONY: help setup venv train train-risk run test test-fast validate lint bench benchmark constraints clean

help:
	@echo "make run    - set up, train if needed, start everything and chat in the console"
	@echo "              (with TELEGRAM_BOT_TOKEN set: the Telegram front end instead)"
	@echo "make test   - set up, train if needed, run every check (what CI runs)"
	@echo "make lint   - ruff (lint and format check) on all Python, mypy on bot/ and actions/"
	@echo "make bench  - the full path under load: Telegram front end, gateway, Rasa, actions (benchmarks/)"
	@echo "make benchmark - NLU pipeline, safety latency and blind-set figures (benchmarks/)"

$(BIN)/python:
	@if [ -z "$(PYTHON310_FOUND)" ]; then \
	  echo "ERROR: Rasa 3.6 needs Python 3.10 and none was found."; \
	  echo "  Install one, e.g.  pyenv install 3.10.13   or   apt-get install python3.10 python3.10-venv"; \
	  echo "  or point to it:    make PYTHON310=/path/to/python3.10 ..."; \
	  exit 1; fi
	"$(PYTHON310_FOUND)" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip<25" "setuptools<70" wheel

$(STAMPS)/installed: $(BIN)/python pyproject.toml constraints.txt
	@mkdir -p $(STAMPS)
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test]" --config-settings editable_mode=compat
	@touch $@

$(SPACY): $(STAMPS)/installed bot/nlp/blank_model.py
	$(BIN)/scrollcheck build-spacy

$(RISK_MODEL): $(STAMPS)/installed $(RISK_INPUTS)
	$(BIN)/scrollcheck train-risk
	@touch $@

train-risk: $(RISK_MODEL)

setup: $(STAMPS)/installed $(SPACY) $(RISK_MODEL)

$(MODEL): $(STAMPS)/installed $(SPACY) $(TRAINING_INPUTS)
	$(BIN)/scrollcheck validate
	$(RASA) train --fixed-model-name scrollcheck --out models --quiet
	@touch $@

train: $(MODEL)

run: setup $(MODEL)
	$(BIN)/scrollcheck run

validate: setup
	$(BIN)/pip check
	$(BIN)/scrollcheck validate
	$(BIN)/scrollcheck crisis-protocol --check
	$(RASA) data validate --fail-on-warnings --quiet

# Seconds, not minutes: run before the slow suites so a style or type slip fails fast.
lint: $(STAMPS)/installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: setup $(MODEL) validate lint
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-nginx.sh
	$(BIN)/pytest -q
	$(RASA) test core --model $(MODEL) --stories tests/stories --fail-on-prediction-errors --out results/stories --quiet
	@echo "make test: all checks passed"

# Everything except the conversation tests that need a trained model and running servers.
test-fast: setup validate lint
	$(BIN)/pytest -q -m "not rasa and not browser"

# What a user on Telegram experiences: the full path under 1, 20, 100 and 300 chats (~25 min).
bench: setup $(MODEL)
	$(BIN)/python benchmarks/full_path.py

benchmark: setup $(MODEL)
	$(BIN)/python benchmarks/nlu_pipelines.py
	$(BIN)/python benchmarks/safety_latency.py
	$(BIN)/python benchmarks/safety_detector.py

constraints: $(STAMPS)/installed
	{ echo "# Full pin of the Python 3.10 environment (rasa 3.6.21 stack). Regenerate with: make constraints"; \
	  $(BIN)/pip freeze --exclude-editable | grep -v '^scrollcheck'; } > constraints.txt

clean:
	rm -rf $(STAMPS) models/*.tar.gz results .pytest_cache
