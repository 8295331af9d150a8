"""`make assignments` (tools/assignments.py): student and nbgrader-source versions of every lesson, from the notebooks.

Fast (no kernel, no nbgrader): the builds' structure for all nine lessons, and — for the lessons whose checks need
no network — the nbgrader answer cells (reference solution inside the BEGIN/END markers) run against their
autograder-test cells and pass, while the stub (what nbgrader hands out) fails them. nbgrader itself runs in
tests/test_grading.py (`make test-grading`).
"""

import ast
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import percepkit as pk

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import assignments  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHECK_CALL = re.compile(r"^pk\.exercises\.check_\w+\(", re.M)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    assignments.build(out)
    return out


def load(p):
    return json.loads(Path(p).read_text())


def src(cell):
    return assignments.source(cell)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_student_version_keeps_stubs_and_checks_and_drops_solutions(built, path):
    original, student = load(path), load(built / "student/notebooks" / path.name)
    stubs, solutions = assignments.exercise_cells(original)
    assert stubs and solutions, "every lesson has exercises with hidden reference solutions"
    kept = [src(c) for c in student["cells"]]
    for i in stubs:
        assert src(original["cells"][i]) in kept, f"stub cell {i} must be kept verbatim"
    for i in solutions:
        assert src(original["cells"][i]) not in kept, f"solution cell {i} must be removed"
    assert not any(c.get("metadata", {}).get("jupyter", {}).get("source_hidden") for c in student["cells"])
    assert not any(assignments.SOLUTION_NOTE.match(s) for s in kept), "the 'Reference solution' line goes too"
    assert len(student["cells"]) == len(original["cells"]) - len(solutions) - sum(
        bool(assignments.SOLUTION_NOTE.match(src(original["cells"][i - 1]))) for i in solutions)
    n_checks = sum(len(CHECK_CALL.findall(src(original["cells"][i]))) for i in stubs)
    assert sum(len(CHECK_CALL.findall(s)) for s in kept) == n_checks


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_nbgrader_source_has_answers_with_markers_and_graded_checks(built, path):
    original = load(path)
    nb = load(built / "nbgrader/source" / path.stem / path.name)
    stubs, _ = assignments.exercise_cells(original)
    meta = [c["metadata"].get("nbgrader") for c in nb["cells"]]
    answers = [c for c, m in zip(nb["cells"], meta) if m and m["solution"]]
    tests = [c for c, m in zip(nb["cells"], meta) if m and m["grade"]]
    assert len(answers) == len(stubs)
    assert len(tests) == sum(len(CHECK_CALL.findall(src(original["cells"][i]))) for i in stubs)
    ids = [m["grade_id"] for m in meta if m]
    assert len(ids) == len(set(ids)), "grade_ids are unique"
    for c in answers:
        ast.parse(src(c))
        assert src(c).count("### BEGIN SOLUTION") == src(c).count("### END SOLUTION") >= 1
        assert not c["metadata"]["nbgrader"]["locked"]
    for c in tests:
        m = c["metadata"]["nbgrader"]
        assert m["locked"] and m["points"] == 1 and CHECK_CALL.search(src(c))
    assert not any(c.get("metadata", {}).get("jupyter", {}).get("source_hidden") for c in nb["cells"])


def released(answer: str) -> str:
    """What nbgrader's ClearSolutions hands out: each solution region replaced by a stub at its indentation."""
    return re.sub(r"^( *)### BEGIN SOLUTION\n.*?^ *### END SOLUTION$",
                  lambda m: f"{m[1]}# YOUR CODE HERE\n{m[1]}raise NotImplementedError()", answer, flags=re.M | re.S)


# lessons whose checks need no pretrained network (02's needs the backbone, 07's a VGG-16)
PURE = ["01", "03", "04", "05", "06", "08", "09"]


@pytest.mark.parametrize("lesson", PURE)
def test_reference_answers_pass_their_graded_checks_and_stubs_fail(built, lesson):
    path = next(p for p in NOTEBOOKS if p.name.startswith(lesson))
    nb = load(built / "nbgrader/source" / path.stem / path.name)
    ns = {"pk": pk, "torch": torch, "np": np, "nn": torch.nn}
    stub_ns = dict(ns)
    for cell in nb["cells"]:
        m = cell["metadata"].get("nbgrader")
        if not m:
            continue
        if m["solution"]:
            exec(compile(src(cell), "answer", "exec"), ns)
            exec(compile(released(src(cell)), "released", "exec"), stub_ns)
        elif m["grade"]:
            exec(compile(src(cell), "test", "exec"), ns)  # the reference solution passes
            with pytest.raises((NotImplementedError, AssertionError)):
                exec(compile(src(cell), "test", "exec"), stub_ns)


def test_exercises_only_build_is_short(tmp_path):
    assignments.build(tmp_path, only=["01"], exercises_only=True)
    nb = load(tmp_path / "nbgrader/source/01_pixel_losses_blur/01_pixel_losses_blur.ipynb")
    heads = [src(c).splitlines()[0] for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert heads[0].startswith("# 01") and "## Setup" in heads and "## Exercises" in heads and "## Summary" not in heads
    assert "pk.load_backbone(" in "".join(src(c) for c in nb["cells"])
