# Two commands a fresh machine (Python 3.11 + pip) needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

test: $(STAMP)
	$(BIN)/python -m pytest -q

# Style and types (config in pyproject.toml): about 0.1 s for ruff, 3 s for mypy (40 s on a cold cache).
lint: $(STAMP)
	$(BIN)/ruff check airflow_civis tests example_dags scripts
	$(BIN)/mypy airflow_civis

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
