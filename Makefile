# Two commands for a fresh machine:
#   make demo   - set up .venv and run the example experiment (examples/digits)
#   make test   - set up .venv and run every test (core, engine, language server, Ray, VS Code end to end)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: demo test setup browser test-python test-e2e clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[test,bench,examples,ray]"
	touch $@

setup: $(VENV)/.installed

demo: setup
	@echo "== hpo validate: IBM's sample manifest with its step\" typo (exit 1 expected)"
	@$(VENV)/bin/hpo validate examples/seed-typo.yaml || echo "(exit status $$?: the typo is an error)"
	@echo "== hpo preview: the fixed manifest's search space"
	$(VENV)/bin/hpo preview examples/seed.yaml --limit 5
	@echo "== hpo run: the digits experiment (numpy MLP on scikit-learn's digits, 20 rbfopt trials)"
	rm -rf hpo-results/digits
	$(VENV)/bin/hpo run examples/digits/digits.yaml --results hpo-results
	$(VENV)/bin/hpo plot hpo-results/digits/mlp

test: setup test-python test-e2e

# Debian's chromium for the dashboard's browser test (tests/engine/cli/test_dashboard_browser.py).
browser:
	@command -v chromium >/dev/null || { export DEBIAN_FRONTEND=noninteractive; SUDO=$$( [ "$$(id -u)" -ne 0 ] && echo sudo ); \
	  $$SUDO apt-get install -y -q --no-install-recommends chromium || { $$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends chromium; }; }

test-python: setup browser
	$(PY) -m pytest -q

test-e2e: setup
	HPO_E2E_PYTHON=$(abspath $(PY)) bash vscode-extension/e2e/run.sh

clean:
	rm -rf $(VENV) hpo-results .pytest_cache
