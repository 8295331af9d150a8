"""Every notebook follows the DESIGN.md skeleton and is stored clean (no outputs)."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
REPO_URL_RE = re.compile(r"https://mybinder\.org/v2/gh/[^/\s]+/[^/\s]+/[^?\s]+\?urlpath=lab/tree/(notebooks/[^)\s]+\.ipynb)")
COLAB_RE = re.compile(r"https://colab\.research\.google\.com/github/[^/\s]+/[^/\s]+/blob/[^/\s]+/(notebooks/[^)\s]+\.ipynb)")


def load(path):
    return json.loads(path.read_text())


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 1, "no notebooks found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_stripped_and_small(path):
    nb = load(path)
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name} cell {i} has outputs: strip them"
            assert cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"
    assert "widgets" not in nb.get("metadata", {}), f"{path.name} stores widget state: strip it"
    assert path.stat().st_size < 100_000, f"{path.name} is {path.stat().st_size} bytes; keep notebooks small"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_skeleton(path):
    nb = load(path)
    cells = nb["cells"]
    md = [source(c) for c in cells if c["cell_type"] == "markdown"]
    code = [source(c) for c in cells if c["cell_type"] == "code"]
    first = source(cells[0])
    assert cells[0]["cell_type"] == "markdown" and first.startswith("# "), "first cell must be '# Title'"
    assert "You will learn" in first, "first cell must list 'You will learn'"
    binder = REPO_URL_RE.findall(first)
    colab = COLAB_RE.findall(first)
    assert binder == [f"notebooks/{path.name}"], f"Binder badge must open this notebook; found {binder}"
    assert colab == [f"notebooks/{path.name}"], f"Colab badge must open this notebook; found {colab}"
    headings = [line.strip() for m in md for line in m.splitlines() if line.startswith("## ")]
    for h in ("## Setup", "## Exercises", "## Summary"):
        assert h in headings, f"missing heading {h!r}; found {headings}"
    assert headings.index("## Setup") < headings.index("## Exercises") < headings.index("## Summary")
    setup_idx = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and "## Setup" in source(c))
    setup_code = source(next(c for c in cells[setup_idx:] if c["cell_type"] == "code"))
    assert "import percepkit as pk" in setup_code
    assert "pk.load_backbone(" in setup_code, "the setup cell loads the backbone (its banner says which)"
    assert "pk.about(" in setup_code, "the setup cell says in words what the network was trained for"
    assert re.search(r"^[A-Z][A-Z_]+\s*=", setup_code, re.M), "named knobs (IMAGE_SIZE, STEPS…) belong in the setup cell"
    assert "torch.manual_seed(" in setup_code
    assert "google.colab" in setup_code, "the setup cell installs percepkit when it runs in Colab"
    assert sum(s.count("assert ") for s in code) >= 3, "claims must be guarded by asserts"
    for s in code:
        assert "from tests" not in s and "import tests" not in s and "sys.path" not in s


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exercise_stubs_are_tagged(path):
    for i, cell in enumerate(load(path)["cells"]):
        if cell["cell_type"] == "code" and "raise NotImplementedError" in source(cell):
            tags = cell.get("metadata", {}).get("tags", [])
            assert "raises-exception" in tags, f"{path.name} cell {i}: stub raises but lacks the raises-exception tag"


TEST_TALK = re.compile(r"make (test|bench)|\bpytest\b|\bnbval\b|\bbenchmark|\bCI\b|browser test|PERCEPKIT_(FAST|SKIP)|tests/")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lessons_mention_no_test_ci_or_benchmark(path):
    """A learner's notebook is a lesson: no test hooks, no talk of tests, CI or benchmarks."""
    for i, cell in enumerate(load(path)["cells"]):
        hit = TEST_TALK.search(source(cell))
        assert not hit, f"{path.name} cell {i} mentions {hit.group(0)!r}: tests pass their knobs from outside"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_reference_solutions_are_hidden(path):
    """A cell that redefines an exercise stub's function is its solution: collapsed until the learner opens it."""
    stubs = set()
    for i, cell in enumerate(load(path)["cells"]):
        if cell["cell_type"] != "code":
            continue
        names = set(re.findall(r"^def (\w+)\(", source(cell), re.M))
        if "raises-exception" in cell.get("metadata", {}).get("tags", []):
            stubs |= names
        elif names & stubs:
            hidden = cell.get("metadata", {}).get("jupyter", {}).get("source_hidden")
            assert hidden is True, f"{path.name} cell {i} (solution of {sorted(names & stubs)}) is not source_hidden"


# A learner reads a code cell in one screen (DESIGN.md: "cells of about 25 lines at most, lines under ~100
# characters"). Enforced on code cells only: markdown prose wraps in the browser, and its long lines are mostly
# links and badges that cannot be broken; a code line does not wrap, so a long one scrolls off the side.
MAX_CELL_LINES = 30
MAX_LINE_CHARS = 100


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_cells_fit_on_a_screen(path):
    too_long, too_wide = [], []
    for i, cell in enumerate(load(path)["cells"]):
        if cell["cell_type"] != "code":
            continue
        lines = source(cell).splitlines()
        if len(lines) > MAX_CELL_LINES:
            too_long.append(f"cell {i} has {len(lines)} lines")
        wide = [n for n, line in enumerate(lines, start=1) if len(line) > MAX_LINE_CHARS]
        if wide:
            too_wide.append(f"cell {i} has {len(wide)} lines over {MAX_LINE_CHARS} characters (lines {wide})")
    assert not too_long, f"{path.name}: code cells over {MAX_CELL_LINES} lines: " + "; ".join(too_long)
    assert not too_wide, f"{path.name}: " + "; ".join(too_wide)
