# Every target sets up .venv itself, so a fresh clone needs only Python 3.11+ and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The suite runs on every core (pytest-xdist); worksteal rebalances when a few slow tests land on one worker.
# --durations=10 lists the slowest tests, so a new slow one shows up in CI before the 3-minute budget is gone.
# TEST_WORKERS=0 runs it in one process (a clearer traceback order when debugging).
TEST_WORKERS ?= auto
# Some hosts (CI images among them) set PYTHONDONTWRITEBYTECODE: then every test worker and every bot process a test
# starts compiles the bot from source again (~40 s of the suite's CPU on 2 cores). __pycache__/ is git-ignored.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test lint demo analyze doctor bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)  ## start the Slack bot (Socket Mode)
	$(BIN)/python -m bot

test: $(STAMP)  ## lint, type-check, import contracts, then the whole test suite (no network beyond 127.0.0.1)
	$(BIN)/ruff check bot tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal --durations=10

lint: $(STAMP)  ## ruff, mypy and the import contracts of pyproject.toml only
	$(BIN)/ruff check bot tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

demo: $(STAMP)  ## analyse the bundled sample incident with your LLM server → out/demo
	$(BIN)/python -m bot analyze bot/samples/checkout-incident.json --out out/demo

analyze: $(STAMP)  ## make analyze INPUT=path/to/incident.txt
	$(BIN)/python -m bot analyze $(INPUT) --out out/$(notdir $(basename $(INPUT)))

doctor: $(STAMP)
	$(BIN)/python -m bot doctor

bench: $(STAMP)  ## every benchmark; figures go to bench/results/
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) out .pytest_cache
