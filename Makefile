# The README's two commands: `make demo` and `make test`. Both install what is missing first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_OUT ?= demo-out

.PHONY: demo test lint system-deps clean

system-deps:
	@bash scripts/system_deps.sh

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall when the package's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,train,web,eval]'
	touch $@

install: system-deps $(VENV)/.installed

# A new jig from the bundled model, as ABC, MIDI and WAV in $(DEMO_OUT)/.
demo: install
	$(BIN)/symbolic generate --type jig --out $(DEMO_OUT) --formats abc,mid,wav

test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: install
	$(BIN)/ruff check symbolic tests benchmarks

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .ruff_cache
