"""One source, two builds: student notebooks and nbgrader source notebooks from notebooks/*.ipynb.

`make assignments` (or `python tools/assignments.py --out build`) writes, never touching notebooks/:

- build/student/notebooks/NN_….ipynb — what a graded class hands out: everything as in the lesson, the
  exercise stubs and their `pk.exercises.check_*` calls kept, the hidden reference-solution cells (a code cell
  with `jupyter.source_hidden` that redefines a stub's function or class) and the "Reference solution — hidden"
  line above each removed. Code that a solution cell ran after its checks (a demo that uses the solution, e.g.
  notebook 08's comparison with `pk.interpolate_networks`) goes with it.
- build/nbgrader/source/NN_…/NN_….ipynb — nbgrader's *source* version: each stub cell becomes an
  autograded-answer cell whose function bodies hold the reference solution between `### BEGIN SOLUTION` and
  `### END SOLUTION` (so `nbgrader generate_assignment` gives students the stub's signature and hint with
  `raise NotImplementedError()`), followed by one locked autograder-test cell per `pk.exercises.check_*` call,
  worth `--points` points each (1 by default). The checks are the tests: their AssertionError texts are the
  diagnosis a student reads in the feedback. build/nbgrader/nbgrader_config.py names the course.

`--exercises-only` keeps only the title, the setup cell and the exercise section (a short graded quiz that
runs in seconds; the grading test uses it). `--only 01,03` picks lessons.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECK = re.compile(r"^pk\.exercises\.(check_\w+)\(")
SOLUTION_NOTE = re.compile(r"^\s*Reference solutions?\b")


def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def defined_names(code: str) -> set[str]:
    return set(re.findall(r"^(?:def|class) (\w+)\b", code, re.M))


def is_stub(cell: dict) -> bool:
    return cell["cell_type"] == "code" and "raises-exception" in cell.get("metadata", {}).get("tags", [])


def exercise_cells(nb: dict) -> tuple[list[int], dict[int, set[str]]]:
    """(indices of stub cells, {index of a hidden solution cell: the stub names it redefines})."""
    stubs, names, solutions = [], set(), {}
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        defs = defined_names(source(cell))
        if is_stub(cell):
            stubs.append(i)
            names |= defs
        elif defs & names and cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"):
            solutions[i] = defs & names
    return stubs, solutions


def _dropped(nb: dict, solutions: dict[int, set[str]]) -> set[int]:
    drop = set(solutions)
    for i in solutions:
        prev = nb["cells"][i - 1]
        if prev["cell_type"] == "markdown" and SOLUTION_NOTE.match(source(prev)) and len(source(prev)) < 400:
            drop.add(i - 1)
    return drop


def _exercises_only(nb: dict) -> dict:
    cells = nb["cells"]
    setup = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and "## Setup" in source(c))
    setup_code = next(i for i in range(setup, len(cells)) if cells[i]["cell_type"] == "code")
    ex = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and source(c).lstrip().startswith("## Exercises"))
    end = next((i for i in range(ex + 1, len(cells)) if cells[i]["cell_type"] == "markdown"
                and re.search(r"^## Summary", source(cells[i]), re.M)), len(cells))
    out = copy.deepcopy(nb)
    out["cells"] = [cells[0], cells[setup], cells[setup_code], *cells[ex:end]]
    return out


def student_version(nb: dict, exercises_only: bool = False) -> dict:
    if exercises_only:
        nb = _exercises_only(nb)
    _, solutions = exercise_cells(nb)
    drop = _dropped(nb, solutions)
    out = copy.deepcopy(nb)
    out["cells"] = [c for i, c in enumerate(nb["cells"]) if i not in drop]
    return out


def _lines(code: str, node: ast.AST) -> list[str]:
    return code.splitlines()[node.lineno - 1: node.end_lineno]


def _top_defs(code: str) -> dict[str, ast.AST]:
    return {n.name: n for n in ast.parse(code).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def _is_not_implemented(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.Raise) or stmt.exc is None:
        return False
    exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


def answer_with_solution(stub_def: str, solution_def: str) -> str:
    """The stub's def/class with the solution's body in a BEGIN/END SOLUTION region where the stub raises."""
    stub_node = ast.parse(stub_def).body[0]
    sol_node = ast.parse(solution_def).body[0]
    lines = stub_def.splitlines()
    body = stub_node.body
    cut = len(lines)  # insert at the end, or where the stub raises NotImplementedError
    indent = " " * body[0].col_offset
    if body and _is_not_implemented(body[-1]):
        raised = body[-1]
        cut = raised.lineno - 1
        del lines[cut: raised.end_lineno]
        hint = raised.exc.args[0] if isinstance(raised.exc, ast.Call) and raised.exc.args else None
        if isinstance(hint, ast.Constant) and isinstance(hint.value, str):
            lines.insert(cut, f"{indent}# hint: {hint.value}")  # the stub's message, kept for the student
            cut += 1
    sol_lines = solution_def.splitlines()
    first = sol_node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str) \
            and len(sol_node.body) > 1:
        first = sol_node.body[1]  # the stub keeps its own docstring
    sol_body = sol_lines[first.lineno - 1: sol_node.end_lineno]
    shift = first.col_offset - len(indent)
    sol_body = [ln[shift:] if shift > 0 and ln[:shift].isspace() else ln for ln in sol_body]
    while lines[:cut] and not lines[cut - 1].strip():
        cut -= 1
    return "\n".join([*lines[:cut], f"{indent}### BEGIN SOLUTION", *sol_body, f"{indent}### END SOLUTION", *lines[cut:]])


def _meta(cell: dict, **nbgrader) -> dict:
    md = copy.deepcopy(cell.get("metadata", {}))
    md.pop("jupyter", None)
    md["nbgrader"] = {"schema_version": 3, "solution": False, "grade": False, "locked": False, "task": False, **nbgrader}
    return md


def nbgrader_source(nb: dict, lesson: str, points: int = 1, exercises_only: bool = False) -> dict:
    """nbgrader's source version of one lesson (see the module docstring)."""
    if exercises_only:
        nb = _exercises_only(nb)
    stubs, solutions = exercise_cells(nb)
    solution_code: dict[str, str] = {}
    for i in solutions:
        code = source(nb["cells"][i])
        for name, node in _top_defs(code).items():
            solution_code[name] = "\n".join(_lines(code, node))
    drop = _dropped(nb, solutions)
    cells = []
    for i, cell in enumerate(nb["cells"]):
        if i in drop:
            continue
        if i not in stubs:
            cells.append(copy.deepcopy(cell))
            continue
        code = source(cell)
        tree = ast.parse(code)
        answer, checks = [], []
        for stmt in tree.body:
            text = "\n".join(_lines(code, stmt))
            if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)) and stmt.name in solution_code:
                answer.append(answer_with_solution(text, solution_code[stmt.name]))
            elif CHECK.match(text):
                checks.append(text)
            elif checks:
                checks[-1] += "\n" + text
            else:
                answer.append(text)
        if not checks:
            raise ValueError(f"{lesson} cell {i}: an exercise stub without a pk.exercises.check_* call")
        names = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        md = _meta(cell, solution=True, grade_id=f"answer_{'_'.join(names)}")
        md["tags"] = [t for t in md.get("tags", []) if t != "raises-exception"]
        if not md["tags"]:
            md.pop("tags")
        cells.append({"cell_type": "code", "execution_count": None, "id": f"answer-{'-'.join(names)}"[:64],
                      "metadata": md, "outputs": [], "source": "\n\n\n".join(answer)})
        for check in checks:
            fn = CHECK.match(check).group(1)
            md = _meta(cell, grade=True, locked=True, points=points, grade_id=f"test_{fn}")
            md["tags"] = ["raises-exception"]
            cells.append({"cell_type": "code", "execution_count": None, "id": f"test-{fn}"[:64], "metadata": md,
                          "outputs": [], "source": f"# autograded: {points} point{'s' * (points != 1)}\n{check}"})
    out = copy.deepcopy(nb)
    out["cells"] = cells
    return out


NBGRADER_CONFIG = '''# nbgrader's course settings for the percepkit lessons (written by tools/assignments.py).
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "percepkit"
c.CourseDirectory.root = __file__.rsplit("/", 1)[0]
# each lesson runs its whole notebook when autograded: allow for the slowest (notebook 07, ~2 min on one core)
c.ExecutePreprocessor.timeout = 600
'''


def write(nb: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def build(out: Path, only: list[str] | None = None, points: int = 1, exercises_only: bool = False) -> list[Path]:
    written = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        if only and path.name[:2] not in only:
            continue
        nb = json.loads(path.read_text())
        lesson = path.stem
        student = out / "student" / "notebooks" / path.name
        write(student_version(nb, exercises_only), student)
        source_nb = out / "nbgrader" / "source" / lesson / path.name
        write(nbgrader_source(nb, lesson, points, exercises_only), source_nb)
        written += [student, source_nb]
    (out / "nbgrader").mkdir(parents=True, exist_ok=True)
    (out / "nbgrader" / "nbgrader_config.py").write_text(NBGRADER_CONFIG)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "build")
    ap.add_argument("--only", default="", help="comma-separated lesson numbers, e.g. 01,03")
    ap.add_argument("--points", type=int, default=1)
    ap.add_argument("--exercises-only", action="store_true")
    a = ap.parse_args(argv)
    only = [s.strip().zfill(2) for s in a.only.split(",") if s.strip()] or None
    for p in build(a.out, only, a.points, a.exercises_only):
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
