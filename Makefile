# Two commands for a newcomer: `make run` and `make test`. Everything else is a helper.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: install run test lint bench worker clean conformance

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet --upgrade "pip>=24"
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed

run: install
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo
	@echo ""
	@echo "  Admin:        http://127.0.0.1:$(PORT)/admin/   (login admin / admin, or acme / acme)"
	@echo "  Health:       http://127.0.0.1:$(PORT)/health/"
	@echo "  API docs:     http://127.0.0.1:$(PORT)/api/v1/docs/"
	@echo "  QR page:      http://localhost:$(PORT)/01/09506000134352/21/ACME-BAT-0001"
	@echo ""
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

lint: install
	$(BIN)/ruff check .

test: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

worker: install
	$(BIN)/celery -A config worker -l info -c 2

# The W3C VC test suites (../shared/conformance) against the VC-API: see scripts/conformance.py.
conformance: install
	$(BIN)/python scripts/conformance.py $(CONFORMANCE_ARGS)

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
