# Two commands do all set-up on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# System packages the tests need: the browser for dash_duo, CJK fonts, poppler (pdfinfo, pdftoppm: the briefing's
# PDF is read back), Redis for the multi-worker tests.
TEST_PACKAGES := chromium chromium-driver fonts-noto-cjk poppler-utils redis-server
TEST_PROGRAMS := chromium chromedriver redis-server pdfinfo pdftoppm

.PHONY: run test bench lint system-packages clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(INSTALLED)

run: $(INSTALLED)
	$(BIN)/jingbao serve

# Installed with apt when missing and running as root. PostgreSQL's server programs (initdb, pg_ctl) come with
# the machine: tests/servers.py looks on PATH, in /usr/local/bin and in /usr/lib/postgresql/*/bin (newest first).
# A test whose server is missing skips, and fails under CI=true, as every skip does.
system-packages:
	@missing=""; \
	for program in $(TEST_PROGRAMS); do command -v $$program >/dev/null 2>&1 || missing="$$missing $$program"; done; \
	fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing="$$missing fonts-noto-cjk"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing the test packages (missing:$$missing)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(TEST_PACKAGES) >/dev/null; \
	  else \
	    echo "the tests need:$$missing: apt-get install $(TEST_PACKAGES) (run as root, or install them yourself)"; \
	  fi; \
	fi
	@found=$$(command -v initdb); \
	for initdb in /usr/local/bin/initdb /usr/lib/postgresql/*/bin/initdb; do [ -x "$$initdb" ] && found=$$initdb; done; \
	[ -n "$$found" ] || echo "PostgreSQL's initdb and pg_ctl are not on PATH, in /usr/local/bin or in" \
	  "/usr/lib/postgresql/*/bin: the PostgreSQL pass needs them (apt-get install postgresql)"

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
