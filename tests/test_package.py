"""The package surface: explicit re-exports, no side effects at import, module order of DESIGN.md."""

import ast
import subprocess
import sys
from pathlib import Path

import percepkit as pk

PKG = Path(pk.__file__).parent
# A module only imports modules above it in this list (the README's layout section).
ORDER = ["images", "cache", "backbones", "registry", "weights", "metrics", "forensics", "losses", "lpips", "srnets",
         "seedloss", "doctor", "texture", "optimize", "superres", "tinynets", "live", "training", "plot", "plot_04_07",
         "plot_08_09", "widgets", "triplets", "scoring", "answers", "judge", "exercises_01_05", "exercises_06_09",
         "exercises", "cli"]


def test_all_names_resolve():
    for name in pk.__all__:
        assert hasattr(pk, name), name
    assert pk.__version__


def test_import_has_no_side_effects():
    code = (
        "import sys, torch, matplotlib as mpl; rc = dict(mpl.rcParams); s = torch.random.get_rng_state();"
        "n = torch.get_num_threads(); import percepkit;"
        "assert dict(mpl.rcParams) == rc, 'rcParams changed';"
        "assert torch.equal(torch.random.get_rng_state(), s), 'seed changed';"
        "assert torch.get_num_threads() == n, 'threads changed';"
        "assert 'tensorflow' not in sys.modules"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "", f"import printed: {r.stdout!r}"


def test_the_order_lists_every_module():
    modules = {p.stem for p in PKG.glob("*.py")} - {"__init__", "__main__"}
    assert modules == set(ORDER), f"not in ORDER: {sorted(modules - set(ORDER))}; missing: {sorted(set(ORDER) - modules)}"


def test_modules_import_only_modules_above_them():
    for mod in ORDER:
        path = PKG / f"{mod}.py"
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:  # from .x import y / from . import x
                deps = [node.module.split(".")[0]] if node.module else [a.name for a in node.names]
                for dep in deps:
                    if dep in ORDER:
                        assert ORDER.index(dep) < ORDER.index(mod), f"{mod} imports {dep}, which comes after it"


def test_readme_backbone_table_follows_the_registry():
    """The README's "Which backbone you get" table lists the specs in auto's order, with their how-to-get."""
    readme = (PKG.parent / "README.md").read_text()
    rows = [line for line in readme.splitlines()
            if line.startswith("| ") and line.split("|")[1].strip().isdigit() and line.split("|")[2].strip().startswith("`")]
    names = [r.split("|")[2].strip().strip("`") for r in rows]
    assert names == list(pk.BACKBONES), names
    for row, spec in zip(rows, pk.SPECS.values()):
        assert spec.pretrained or "not* pretrained" in row or "not pretrained" in row.lower()


def test_no_global_seeding_in_the_library():
    """Every torch.manual_seed(...) in the package runs inside `with torch.random.fork_rng(...)`: a notebook's
    random stream is the learner's."""
    bare = []
    for path in PKG.glob("*.py"):
        tree = ast.parse(path.read_text())
        guarded = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.With) and any("fork_rng" in ast.unparse(item.context_expr) for item in node.items):
                guarded |= {id(n) for n in ast.walk(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "torch.manual_seed" and id(node) not in guarded:
                bare.append(f"{path.name}:{node.lineno}")
    assert not bare, f"global seeding outside fork_rng at {bare}"


def test_mutation_config_follows_the_modules():
    """pyproject's [tool.mutmut] mutates every module but tools/mutation_report.py's EXCLUDED, with the tests its
    TESTS names: a new or renamed module cannot drop out of `make mutation` unnoticed."""
    import tomllib

    report = _mutation_report()
    conf = tomllib.loads((PKG.parent / "pyproject.toml").read_text())["tool"]["mutmut"]
    modules = {p.stem for p in PKG.glob("*.py")}
    assert set(report.TESTS) | set(report.EXCLUDED) == modules and not set(report.TESTS) & set(report.EXCLUDED)
    assert sorted(conf["only_mutate"]) == sorted(f"percepkit/{m}.py" for m in report.TESTS)
    assert sorted(conf["pytest_add_cli_args_test_selection"]) == sorted({t for ts in report.TESTS.values() for t in ts})
    assert all((PKG.parent / t).is_file() for ts in report.TESTS.values() for t in ts)


def test_the_flow_in_the_package_docstring_is_the_order():
    flow = pk.__doc__.split("Flow of data:")[1].split(". Each module")[0]
    assert [m.strip() for m in flow.replace("\n", " ").split("→")] == ORDER


def test_every_explained_survivor_names_a_function_that_exists():
    """tools/mutation_report.py's explanations are keyed by mutmut's mutant names (``percepkit.mod.x_fn__mutmut_3``,
    ``percepkit.mod.xǁClassǁmethod__mutmut_3``): after a move or a rename the key must follow, or the explanation
    silently stops applying."""
    report = _mutation_report()
    stale = []
    for name, _plus in report.EQUIVALENT:
        _, mod, rest = name.split(".", 2)
        fn = rest.rsplit("__mutmut_", 1)[0]
        path = PKG / f"{mod}.py"
        if not path.exists():
            stale.append(name)
            continue
        tree = ast.parse(path.read_text())
        if fn.startswith("xǁ"):
            cls, meth = fn[2:].split("ǁ")
            found = any(isinstance(n, ast.ClassDef) and n.name == cls and any(
                isinstance(m, ast.FunctionDef) and m.name == meth for m in n.body) for n in tree.body)
        else:
            found = any(isinstance(n, ast.FunctionDef) and n.name == fn[2:] for n in tree.body)
        if not found:
            stale.append(name)
    assert not stale, f"{len(stale)} explanations name no function of the package, e.g. {stale[:5]}"


def test_mutation_results_store_keeps_what_was_checked_while_the_function_is_unchanged(tmp_path, monkeypatch):
    """The store under mutants/ lets a per-module run keep the other modules' results: a result is stored only
    for a mutant a run checked, and reused only while its function's hash is the one it was checked at."""
    import json

    report = _mutation_report()
    monkeypatch.setattr(report, "ROOT", tmp_path)
    assert report._load(report._store_file()) == {}  # before the first run
    meta = tmp_path / "mutants" / "percepkit" / "losses.py.meta"
    meta.parent.mkdir(parents=True)
    f1, f2, g1 = "percepkit.losses.x_f__mutmut_1", "percepkit.losses.x_f__mutmut_2", "percepkit.losses.x_g__mutmut_1"
    meta.write_text(json.dumps({"hash_by_function_name": {"x_f": "h1", "x_g": "h2"},
                                "exit_code_by_key": {f1: 1, f2: 0, g1: None}}))
    report._update_store(["losses", "metrics"])  # metrics has no meta (not generated): skipped
    store = report._load(report._store_file())
    assert store == {f1: ["h1", 1], f2: ["h1", 0]}
    # a later run of other modules leaves losses unchecked: its stored results stand while x_f is unchanged
    meta.write_text(json.dumps({"hash_by_function_name": {"x_f": "h1", "x_g": "h2"},
                                "exit_code_by_key": {f1: None, f2: None, g1: None}}))
    assert report._results("losses", store) == {f1: 1, f2: 0, g1: None}
    meta.write_text(json.dumps({"hash_by_function_name": {"x_f": "h1 edited", "x_g": "h2"},
                                "exit_code_by_key": {f1: None, f2: None, g1: None}}))
    assert report._results("losses", store) == {f1: None, f2: None, g1: None}  # x_f changed: checked again


def _mutation_report():
    """tools/mutation_report.py, loaded as a module (tools/ is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("mutation_report", PKG.parent / "tools" / "mutation_report.py")
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    return report
