# Two commands a fresh machine (Python 3.11 + pip) needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint test-oldest install clean

$(STAMP): pyproject.toml emulator/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ./emulator -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

test: $(STAMP)
	$(BIN)/python -m pytest -q

# Style and types (config in pyproject.toml): about 0.1 s for ruff, 3 s for mypy (40 s on a cold cache).
lint: $(STAMP)
	$(BIN)/ruff check airflow_civis emulator tests example_dags scripts benchmarks
	$(BIN)/mypy

# The oldest Airflow we support, in a second virtualenv: the hook, lifecycle, trigger and quickstart DAG.
OLDEST_AIRFLOW ?= 3.1.8
OLD_VENV := .venv-airflow-$(OLDEST_AIRFLOW)
$(OLD_VENV)/.installed: pyproject.toml emulator/pyproject.toml
	$(PYTHON) -m venv $(OLD_VENV)
	$(OLD_VENV)/bin/pip install -q --upgrade pip
	$(OLD_VENV)/bin/pip install -q 'apache-airflow==$(OLDEST_AIRFLOW)' -e ./emulator -e '.[test]'
	touch $@

test-oldest: $(OLD_VENV)/.installed
	$(OLD_VENV)/bin/python -m pytest -q tests/unit/hooks tests/integration/operators \
		tests/integration/triggers/test_run_trigger.py tests/integration/dags/test_quickstart_dag.py

clean:
	rm -rf $(VENV) .venv-airflow-* .pytest_cache build *.egg-info emulator/build emulator/*.egg-info
