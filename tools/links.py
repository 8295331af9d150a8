"""Point every link at one repository, ref and hub: `make links REPO=org/name REF=ref HUB=https://hub.example.edu`.

A course that forks percepkit runs this once. It rewrites, in notebooks/*.ipynb and README.md:

- Binder badges        https://mybinder.org/v2/gh/<REPO>/<REF>?urlpath=lab/tree/notebooks/NN_….ipynb
- Colab badges         https://colab.research.google.com/github/<REPO>/blob/<REF>/notebooks/NN_….ipynb
- Colab install lines  %pip install -q "percepkit @ git+https://github.com/<REPO>@<PIP_REF>"
- nbgitpuller links    <HUB>/hub/user-redirect/git-pull?repo=https://github.com/<REPO>&branch=<PULL_REF>&urlpath=…
- plain GitHub links to the current repository (e.g. the repo2docker line)

and the constants that the link tests and the gallery check against (tests/test_links.py's
`REPO, BRANCH = …`, tools/build_gallery.py's `REPO`/`BRANCH`), so the fork's `make test` agrees.
PIP_REF and PULL_REF default to REF. nbgitpuller follows a *branch* (a tag cannot be pulled again),
so give PULL_REF a branch when REF is a tag.

Notebooks are edited as text, URL by URL: every replacement is a run of characters that needs no JSON
escaping (checked), so the file keeps its exact formatting, and the result is re-read as JSON and
compared with the original cell by cell (only sources may change). Running it twice changes nothing.
`python tools/links.py` with no target prints the current one (and any disagreement between links).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_NAME = r"[A-Za-z0-9_.-]+"
_REF = r"[A-Za-z0-9_./-]+"
SAFE_REPO = re.compile(rf"^{_NAME}/{_NAME}$")
SAFE_REF = re.compile(r"^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*$")
SAFE_HUB = re.compile(r"^https?://[A-Za-z0-9.-]+(?::\d+)?(?:/[A-Za-z0-9_.~-]+)*$")

BINDER = re.compile(rf"https://mybinder\.org/v2/gh/(?P<repo>{_NAME}/{_NAME})/(?P<ref>[^?\s)\"\\]+)\?")
COLAB = re.compile(rf"https://colab\.research\.google\.com/github/(?P<repo>{_NAME}/{_NAME})/blob/(?P<ref>[^/\s]+)/")
PIP = re.compile(rf"percepkit @ git\+https://github\.com/(?P<repo>{_NAME}/{_NAME})@(?P<ref>[^\s\"\\]+?)(?=\\?\")")
PULL = re.compile(r"(?P<hub>https?://[A-Za-z0-9.:-]+(?:/[A-Za-z0-9_.~-]+)*?)/hub/user-redirect/git-pull\?(?P<query>[^\s)\"\\<>]+)")
TEST_CONST = re.compile(r'^REPO, BRANCH = "(?P<repo>[^"]+)", "(?P<ref>[^"]+)"$', re.M)
GALLERY_REPO = re.compile(r'^REPO = "(?P<repo>[^"]+)"$', re.M)
GALLERY_BRANCH = re.compile(r'^BRANCH = "(?P<ref>[^"]+)"$', re.M)

FILES_CONSTANTS = ("tests/test_links.py", "tools/build_gallery.py")


@dataclass(frozen=True)
class Target:
    repo: str
    ref: str
    hub: str | None = None
    pip_ref: str | None = None
    pull_ref: str | None = None

    def __post_init__(self):
        if not SAFE_REPO.match(self.repo):
            raise ValueError(f"REPO must look like org/name (letters, digits, '.', '_', '-'); got {self.repo!r}")
        for what, ref in (("REF", self.ref), ("PIP_REF", self.pip_ref), ("PULL_REF", self.pull_ref)):
            if ref is not None and not SAFE_REF.match(ref):
                raise ValueError(f"{what} must be a branch, tag or commit name; got {ref!r}")
        if self.hub is not None and not SAFE_HUB.match(self.hub):
            raise ValueError(f"HUB must be a plain https://host[/path] address without a trailing slash; got {self.hub!r}")

    @property
    def pip(self) -> str:
        return self.pip_ref or self.ref

    @property
    def pull(self) -> str:
        return self.pull_ref or self.ref


def documents(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "notebooks").glob("*.ipynb"))]


def pull_link(hub: str, repo: str, branch: str, notebook: str) -> str:
    """The nbgitpuller link that clones `repo` into ~/<name> and opens `notebook` (a path inside it) in JupyterLab."""
    name = repo.split("/")[1]
    query = urllib.parse.urlencode(
        {"repo": f"https://github.com/{repo}", "branch": branch, "urlpath": f"lab/tree/{name}/{notebook}"},
        safe="/:",
    )
    return f"{hub}/hub/user-redirect/git-pull?{query}"


def _parse_pull(query: str) -> dict[str, str]:
    return {k: v[0] for k, v in urllib.parse.parse_qs(query.replace("&amp;", "&")).items()}


def scan_text(text: str) -> list[tuple[str, str, str]]:
    """(kind, repo, ref) of every link in a text; for nbgitpuller links the ref is the branch and the hub follows."""
    found = [("binder", m["repo"], m["ref"]) for m in BINDER.finditer(text)]
    found += [("colab", m["repo"], m["ref"]) for m in COLAB.finditer(text)]
    found += [("pip", m["repo"], m["ref"]) for m in PIP.finditer(text)]
    for m in PULL.finditer(text):
        q = _parse_pull(m["query"])
        repo = q.get("repo", "").removeprefix("https://github.com/").removesuffix(".git")
        found.append(("nbgitpuller", repo, f"{q.get('branch', '?')} on {m['hub']}"))
    return found


def scan(root: Path = ROOT) -> dict[str, set[tuple[str, str]]]:
    """{kind: {(repo, ref), …}} over README.md and the notebooks."""
    out: dict[str, set[tuple[str, str]]] = {}
    for path in documents(root):
        for kind, repo, ref in scan_text(path.read_text()):
            out.setdefault(kind, set()).add((repo, ref))
    return out


def current_repo(root: Path = ROOT) -> str:
    repos = {repo for pairs in scan(root).values() for repo, _ in pairs}
    if len(repos) != 1:
        raise SystemExit(f"links name {len(repos)} repositories ({sorted(repos)}); give REPO= to make them one")
    return repos.pop()


def rewrite_text(text: str, old_repo: str, target: Target) -> str:
    t = target
    text = BINDER.sub(f"https://mybinder.org/v2/gh/{t.repo}/{t.ref}?", text)
    text = COLAB.sub(f"https://colab.research.google.com/github/{t.repo}/blob/{t.ref}/", text)
    text = PIP.sub(f"percepkit @ git+https://github.com/{t.repo}@{t.pip}", text)

    def pull(m: re.Match) -> str:
        q = _parse_pull(m["query"])
        old_name = q.get("repo", "").rstrip("/").removesuffix(".git").rsplit("/", 1)[-1]
        notebook = q.get("urlpath", "").removeprefix("lab/tree/").removeprefix(f"{old_name}/")
        link = pull_link(t.hub or m["hub"], t.repo, t.pull, notebook)
        return link.replace("&", "&amp;") if "&amp;" in m["query"] else link

    text = PULL.sub(pull, text)
    # other links to this repository on GitHub (blob/tree keep their path, take the new ref)
    old = re.escape(old_repo)
    text = re.sub(rf"https://github\.com/{old}/(blob|tree)/[^/\s]+/", rf"https://github.com/{t.repo}/\1/{t.ref}/", text)
    text = re.sub(rf"https://github\.com/{old}(?![A-Za-z0-9_.-])(?!@)", f"https://github.com/{t.repo}", text)
    return text


def _check_notebook(before: str, after: str, path: Path) -> None:
    a, b = json.loads(before), json.loads(after)  # still valid JSON
    assert len(a["cells"]) == len(b["cells"]), path
    for ca, cb in zip(a["cells"], b["cells"]):
        assert {k: v for k, v in ca.items() if k != "source"} == {k: v for k, v in cb.items() if k != "source"}, path
    assert {k: v for k, v in a.items() if k != "cells"} == {k: v for k, v in b.items() if k != "cells"}, path


def retarget(target: Target, root: Path = ROOT) -> list[Path]:
    """Rewrite every link under `root` to `target`; returns the files that changed."""
    old_repo = current_repo(root)
    changed = []
    for path in documents(root):
        before = path.read_text()
        after = rewrite_text(before, old_repo, target)
        if path.suffix == ".ipynb":
            _check_notebook(before, after, path)
        if after != before:
            path.write_text(after)
            changed.append(path)
    constants = {
        "tests/test_links.py": lambda s: TEST_CONST.sub(f'REPO, BRANCH = "{target.repo}", "{target.ref}"', s),
        "tools/build_gallery.py": lambda s: GALLERY_BRANCH.sub(
            f'BRANCH = "{target.ref}"', GALLERY_REPO.sub(f'REPO = "{target.repo}"', s)
        ),
    }
    for rel, fix in constants.items():
        path = root / rel
        if path.exists():
            before = path.read_text()
            after = fix(before)
            if after != before:
                path.write_text(after)
                changed.append(path)
    return changed


def describe(root: Path = ROOT) -> str:
    found = scan(root)
    lines = []
    for kind in ("binder", "colab", "pip", "nbgitpuller"):
        pairs = sorted(found.get(kind, ()))
        lines.append(f"{kind:12s} " + ("; ".join(f"{r} @ {ref}" for r, ref in pairs) if pairs else "(none)"))
    repos = {r for pairs in found.values() for r, _ in pairs}
    refs = {ref for k in ("binder", "colab") for _, ref in found.get(k, ())}
    if len(repos) > 1:
        lines.append(f"WARNING: links name {len(repos)} repositories: {sorted(repos)}")
    if len(refs) > 1:
        lines.append(f"WARNING: badges name {len(refs)} refs: {sorted(refs)}")
    lines.append("change with: make links REPO=org/name REF=ref [HUB=https://hub.example.edu] [PIP_REF=tag] [PULL_REF=branch]")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", default="")
    ap.add_argument("--ref", default="")
    ap.add_argument("--hub", default="")
    ap.add_argument("--pip-ref", default="")
    ap.add_argument("--pull-ref", default="")
    ap.add_argument("--root", type=Path, default=ROOT)
    a = ap.parse_args(argv)
    if not (a.repo or a.ref or a.hub or a.pip_ref or a.pull_ref):
        print(describe(a.root))
        return 0
    found = scan(a.root)
    badge_refs = sorted({ref for k in ("binder", "colab") for _, ref in found.get(k, ())})
    try:
        target = Target(
            repo=a.repo or current_repo(a.root),
            ref=a.ref or (badge_refs[0] if len(badge_refs) == 1 else ""),
            hub=a.hub.rstrip("/") or None,
            pip_ref=a.pip_ref or (None if a.ref else next(iter(sorted(r for _, r in found.get("pip", ()))), None)),
            pull_ref=a.pull_ref or None,
        )
    except ValueError as e:
        print(f"links: {e}", file=sys.stderr)
        return 2
    changed = retarget(target, a.root)
    print(f"links: {len(changed)} file(s) changed" + "".join(f"\n  {p.relative_to(a.root)}" for p in changed))
    print(describe(a.root))
    return 0


if __name__ == "__main__":
    sys.exit(main())
