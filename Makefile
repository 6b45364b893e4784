# Two commands do all set-up on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# System packages the tests need: the browser for dash_duo, CJK fonts, Redis for the multi-worker tests.
TEST_PACKAGES := chromium chromium-driver fonts-noto-cjk poppler-utils redis-server

.PHONY: run test bench lint system-packages clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(INSTALLED)

run: $(INSTALLED)
	$(BIN)/jingbao serve

# Installed with apt when missing and running as root. PostgreSQL's server binaries (initdb, pg_ctl) come with
# the machine; tests that need a missing server skip (and fail under CI=true).
system-packages:
	@if ! command -v chromedriver >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1 \
	    || ! command -v redis-server >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(TEST_PACKAGES) >/dev/null; \
	  else \
	    echo "the tests need: apt-get install $(TEST_PACKAGES) (run as root, or install them yourself)"; \
	  fi; \
	fi

# The whole suite twice: on SQLite, then on a PostgreSQL the tests start themselves.
test: $(INSTALLED) system-packages
	$(BIN)/python -m pytest --headless
	JINGBAO_TEST_BACKEND=postgresql $(BIN)/python -m pytest --headless

bench: $(INSTALLED)
	$(BIN)/python -m benchmarks

lint: $(INSTALLED)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var build *.egg-info
