# Two commands for a newcomer: `make run` and `make test`. Everything else is a helper.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: install run demo test lint bench worker serve clean conformance

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet --upgrade "pip>=24"
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# Trying it: Django's development server on the embedded SQLite database (not for production:
# that is `make serve` or docker compose). The demo's DIDs, QR codes and links name the address
# it serves on, and so does every URL it prints (one host name: one cookie jar in the browser).
run demo: export PUBLIC_BASE_URL ?= http://localhost:$(PORT)
run: demo
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo
	@echo ""
	@echo "  Admin:        $(PUBLIC_BASE_URL)/admin/   (login admin / admin, or acme / acme)"
	@echo "  Health:       $(PUBLIC_BASE_URL)/health/"
	@echo "  API docs:     $(PUBLIC_BASE_URL)/api/v1/docs/"
	@echo "  QR page:      $(PUBLIC_BASE_URL)/01/09506000134352/21/ACME-BAT-0001"
	@echo ""

lint: install
	$(BIN)/ruff check .

test: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

worker: install
	$(BIN)/celery -A config worker -l info -c 2

# The production stack without Docker: what docker-compose.yml runs (migrate, gunicorn, a Celery
# worker, beat), against DATABASE_URL, CELERY_BROKER_URL and the secrets in the environment.
serve: install
	$(BIN)/python deploy/serve.py $(PORT)

# The W3C VC test suites (../shared/conformance) against the VC-API: see scripts/conformance.py.
conformance: install
	$(BIN)/python scripts/conformance.py $(CONFORMANCE_ARGS)

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
