"""nbgrader for real, offline, on one lesson (`make test-grading`; needs the [class] extra, i.e. `make class-setup`).

What runs: tools/assignments.py builds lesson 01's nbgrader source with `--exercises-only` (its title, the setup cell
that loads the default backbone, and the exercise section — not the lesson's experiments, which would add ~40
CPU-s per submission); `nbgrader generate_assignment` releases it (solutions cleared); two students submit — one
with right answers, one whose L1 optimum returns the pixel-wise mean (the typical mistake: that is the L2 answer);
`nbgrader autograde` executes both in fresh kernels; `nbgrader generate_feedback` writes their HTML feedback. The
scores come from nbgrader's SQLite gradebook.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

nbgrader = pytest.importorskip("nbgrader", reason="`make test-grading` installs nbgrader (the [class] extra)")

ROOT = Path(__file__).resolve().parents[1]
LESSON = "01_pixel_losses_blur"
RIGHT = {"l2_optimal_image": "return targets.mean(dim=0, keepdim=True)",
         "l1_optimal_image": "return targets.median(dim=0, keepdim=True).values"}
WRONG = {**RIGHT, "l1_optimal_image": "return targets.mean(dim=0, keepdim=True)"}
DIAGNOSIS = "it is the pixel-wise mean: that is the L2 answer"


def nbg(course: Path, *args: str) -> str:
    # nbgrader runs `alembic` from PATH: the environment's bin/ comes first, as in an activated venv
    env = {**os.environ, "PERCEPKIT_OFFLINE": "1", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    out = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--CourseDirectory.root=" + str(course)],
                         cwd=course, env=env, capture_output=True, text=True)
    assert out.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out.stdout + out.stderr


def answer(nb: dict, bodies: dict[str, str]) -> dict:
    """A student's submission: each `raise NotImplementedError()` that nbgrader left in a function gets a body."""
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("solution"):
            text = "".join(cell["source"])
            for name, body in bodies.items():
                stub = rf"(def {name}\([^\n]*\n(?:    #[^\n]*\n)*?)    # YOUR CODE HERE\n    raise NotImplementedError\(\)"
                text = re.sub(stub, lambda m, b=body: f"{m[1]}    {b}", text)
            assert "NotImplementedError" not in text, text
            cell["source"] = text
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    subprocess.run([sys.executable, str(ROOT / "tools/assignments.py"), "--out", str(course / "b"), "--only", "01",
                    "--exercises-only"], check=True, capture_output=True)
    shutil.copytree(course / "b/nbgrader", course, dirs_exist_ok=True)
    t0, c0 = time.perf_counter(), _children_cpu()
    nbg(course, "db", "student", "add", "right")
    nbg(course, "db", "student", "add", "wrong")
    nbg(course, "db", "assignment", "add", LESSON)
    nbg(course, "generate_assignment", LESSON, "--force")
    release = course / "release" / LESSON / f"{LESSON}.ipynb"
    assert release.exists()
    for student, bodies in (("right", RIGHT), ("wrong", WRONG)):
        sub = course / "submitted" / student / LESSON
        sub.mkdir(parents=True)
        (sub / release.name).write_text(json.dumps(answer(json.loads(release.read_text()), bodies), indent=1))
        (sub / "timestamp.txt").write_text("2026-11-01 10:00:00.000000 UTC")
    log = nbg(course, "autograde", LESSON, "--force")
    nbg(course, "generate_feedback", LESSON, "--force")
    print(f"\nnbgrader: generate + autograde 2 submissions + feedback: {time.perf_counter() - t0:.0f} s wall, "
          f"{_children_cpu() - c0:.0f} CPU-s (child processes)")
    return course, release, log


def _children_cpu() -> float:
    t = os.times()
    return t.children_user + t.children_system


def score(course: Path, student: str) -> tuple[float, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        sub = gb.find_submission(LESSON, student)
        return sub.score, sub.max_score


def test_release_has_no_solution_but_keeps_stub_and_checks(graded):
    _, release, _ = graded
    text = release.read_text()
    assert "targets.median" not in text and "BEGIN SOLUTION" not in text
    assert "def l1_optimal_image(targets)" in text and "raise NotImplementedError()" in text
    assert "pk.exercises.check_l1_optimum(l1_optimal_image)" in text


def test_right_answers_get_full_points(graded):
    course, _, _ = graded
    assert score(course, "right") == (2.0, 2.0)


def test_typical_wrong_answer_loses_points_and_sees_the_diagnosis(graded):
    course, _, _ = graded
    assert score(course, "wrong") == (1.0, 2.0)
    autograded = (course / "autograded/wrong" / LESSON / f"{LESSON}.ipynb").read_text()
    assert DIAGNOSIS in autograded
    feedback = (course / "feedback/wrong" / LESSON / f"{LESSON}.html").read_text()
    assert DIAGNOSIS in feedback
    right = (course / "feedback/right" / LESSON / f"{LESSON}.html").read_text()
    assert DIAGNOSIS not in right and "Correct: the L1 optimum" in right
