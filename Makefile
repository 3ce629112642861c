# Two commands for a fresh machine:
#   make demo   - set up .venv and run the example experiment (examples/digits)
#   make test   - set up .venv and run every test (core, engine, language server, Ray, VS Code end to end)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: demo test setup browser test-python test-e2e neovim clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[test,bench,examples,ray]"
	touch $@

# Byte-compiled once here: an editable install is not, and with PYTHONDONTWRITEBYTECODE set
# every start of hpo-lsp would compile its modules again.
setup: $(VENV)/.installed
	@$(PY) -m compileall -q hpo_engine hpo_lsp > /dev/null

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

test-python: setup neovim browser
	$(PY) -m pytest -q

# tests/lsp/test_neovim.py runs the README's snippet in Debian's Neovim (0.7.2); it skips,
# saying why, only when installing it is impossible here.
neovim:
	@command -v nvim > /dev/null || { SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO="sudo -n"; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends neovim > /dev/null 2>&1 \
	  || { $$SUDO apt-get update -q > /dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends neovim > /dev/null 2>&1; } \
	  || echo "neovim could not be installed: tests/lsp/test_neovim.py will be skipped"; }

test-e2e: setup
	HPO_E2E_PYTHON=$(abspath $(PY)) bash vscode-extension/e2e/run.sh

clean:
	rm -rf $(VENV) hpo-results .pytest_cache
