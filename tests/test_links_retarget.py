"""`make links` (tools/links.py) retargets every link of a copy of the repository to a fork, consistently.

On a temporary copy: every Binder/Colab badge, Colab install line, nbgitpuller link and GitHub link names
the new repository and ref and none the old; the notebooks' JSON keeps its exact formatting (only link
characters change, and a second run or a run back to the original target is byte-identical); and the
repository's own link and notebook-structure tests pass on the result.
"""

import json
import re
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import links  # noqa: E402

FORK, REF, HUB = "course-org/perceptual-lab", "fall-2026", "https://hub.uni.example/course"
COPIED = ["README.md", "Makefile", "pyproject.toml", "notebooks", "tools/links.py", "tools/build_gallery.py",
          "tests/test_links.py", "tests/test_notebook_structure.py"]


def run_links(root: Path, *args: str) -> str:
    out = subprocess.run([sys.executable, str(root / "tools/links.py"), "--root", str(root), *args],
                         capture_output=True, text=True, check=True)
    return out.stdout


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    root = tmp_path_factory.mktemp("repo")
    for rel in COPIED:
        src, dst = ROOT / rel, root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, dst) if src.is_dir() else shutil.copy2(src, dst)
    return root


@pytest.fixture(scope="module")
def forked(original, tmp_path_factory):
    root = tmp_path_factory.mktemp("fork")
    shutil.copytree(original, root, dirs_exist_ok=True)
    run_links(root, "--repo", FORK, "--ref", REF, "--hub", HUB)
    return root


def test_current_target_is_printed_and_consistent():
    text = run_links(ROOT)
    assert "binder       percepkit/percepkit @ main" in text and "WARNING" not in text, text
    kinds = links.scan(ROOT)
    assert {"binder", "colab", "pip", "nbgitpuller"} <= set(kinds), kinds


def test_every_link_names_the_fork_and_none_the_old_repository(forked):
    found = links.scan(forked)
    for kind in ("binder", "colab", "pip"):
        assert found[kind] == {(FORK, REF)}, (kind, found[kind])
    assert found["nbgitpuller"] == {(FORK, f"{REF} on {HUB}")}
    for doc in links.documents(forked):
        text = doc.read_text()
        assert "percepkit/percepkit" not in text, f"{doc.name} still names the old repository"
        assert "v0.1.0" not in text or doc.name == "README.md", f"{doc.name} still installs v0.1.0"
        assert "https://hub.example.edu" not in text
    nb = json.loads((forked / "notebooks/01_pixel_losses_blur.ipynb").read_text())
    setup = next("".join(c["source"]) for c in nb["cells"] if "google.colab" in "".join(c["source"]))
    assert f'%pip install -q "percepkit @ git+https://github.com/{FORK}@{REF}"' in setup


def test_nbgitpuller_links_open_files_that_exist(forked):
    readme = (forked / "README.md").read_text()
    pulls = list(links.PULL.finditer(readme))
    assert pulls
    for m in pulls:
        q = {k: v[0] for k, v in urllib.parse.parse_qs(m["query"]).items()}
        assert q["repo"] == f"https://github.com/{FORK}" and q["branch"] == REF and m["hub"] == HUB
        name = FORK.split("/")[1]
        assert q["urlpath"].startswith(f"lab/tree/{name}/"), "nbgitpuller clones into ~/<repository name>"
        assert (forked / q["urlpath"].removeprefix(f"lab/tree/{name}/")).is_file()


def test_notebooks_keep_their_formatting(original, forked):
    for nb in sorted((original / "notebooks").glob("*.ipynb")):
        before, after = nb.read_text().splitlines(), (forked / "notebooks" / nb.name).read_text().splitlines()
        assert len(before) == len(after), nb.name
        changed = [(a, b) for a, b in zip(before, after) if a != b]
        assert changed, f"{nb.name}: nothing retargeted"
        for a, b in changed:
            assert re.search(r"mybinder|colab|git\+https", a), f"{nb.name}: a line without a link changed:\n{a}\n{b}"


def test_idempotent_and_reversible(original, forked, tmp_path):
    again = tmp_path / "again"
    shutil.copytree(forked, again)
    assert "0 file(s) changed" in run_links(again, "--repo", FORK, "--ref", REF, "--hub", HUB)
    assert snapshot(again) == snapshot(forked)
    run_links(again, "--repo", "percepkit/percepkit", "--ref", "main", "--pip-ref", "v0.1.0", "--hub", "https://hub.example.edu")
    assert snapshot(again) == snapshot(original), "retargeting back must give the original bytes"


def test_repository_tests_pass_on_the_fork(forked):
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--noconftest",
                          "tests/test_links.py", "tests/test_notebook_structure.py"],
                         cwd=forked, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert re.search(r"\d+ passed", out.stdout)


@pytest.mark.parametrize("bad", [["--repo", 'a/b"c'], ["--repo", "nope"], ["--ref", "x y"], ["--hub", "hub.example.edu"]])
def test_unsafe_targets_are_refused(original, tmp_path, bad):
    root = tmp_path / "r"
    shutil.copytree(original, root)
    out = subprocess.run([sys.executable, str(root / "tools/links.py"), "--root", str(root), *bad],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "links:" in out.stderr
    assert snapshot(root) == snapshot(original)
