"""Every link and badge in README.md and in the notebooks' markdown points to a file in this repository.

Binder and Colab URLs are checked by the path they open (and the repository and branch they
name); relative links by the file they reach; README anchors by its headings. Other web
addresses cannot be checked offline and are left alone.
"""

import json
import re
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPO, BRANCH = "percepkit/percepkit", "main"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

_MD_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^\"']*[\"'])?\s*\)")
_REF_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
_HTML_LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""")
_BINDER = re.compile(r"^https://mybinder\.org/v2/gh/([^/]+/[^/]+)/([^?#]+)\?(.*)$")
_COLAB = re.compile(r"^https://colab\.research\.google\.com/github/([^/]+/[^/]+)/blob/([^/]+)/(.+)$")
_GITHUB = re.compile(r"^https://github\.com/([^/]+/[^/]+)/(?:blob|tree)/([^/]+)/(.+)$")


def links(text: str) -> list[str]:
    """Link targets in markdown (inline, reference-style, and HTML href/src), code spans removed."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    return _MD_LINK.findall(text) + _REF_LINK.findall(text) + _HTML_LINK.findall(text)


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    s = re.sub(r"[`*_\[\]()]", "", heading.strip().lower())
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def target_file(link: str, base: Path) -> Path | None:
    """The repository file a link must reach, or None for a link that is not about this repository."""
    m = _BINDER.match(link)
    if m:
        repo, ref, query = m.groups()
        assert (repo, ref) == (REPO, BRANCH), f"{link}: Binder should open {REPO} at {BRANCH}"
        q = urllib.parse.parse_qs(query)
        path = q.get("urlpath", [""])[0].removeprefix("lab/tree/") or q.get("labpath", [""])[0]
        assert path, f"{link}: Binder link opens no file (urlpath=lab/tree/...)"
        return ROOT / urllib.parse.unquote(path)
    for pattern in (_COLAB, _GITHUB):
        m = pattern.match(link)
        if m:
            repo, ref, path = m.groups()
            if pattern is _GITHUB and repo != REPO:
                return None
            assert (repo, ref) == (REPO, BRANCH), f"{link}: should point at {REPO}, branch {BRANCH}"
            return ROOT / urllib.parse.unquote(path.split("#")[0])
    if re.match(r"^[a-z][a-z0-9+.-]*:", link) or link.startswith(("#", "//")):
        return None  # another site, mailto:, or an in-page anchor (checked separately)
    path = urllib.parse.unquote(link.split("#")[0].split("?")[0])
    return (base / path).resolve()


def _markdown_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text())
        return "\n\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return path.read_text()


DOCUMENTS = [ROOT / "README.md", *NOTEBOOKS]


@pytest.mark.parametrize("doc", DOCUMENTS, ids=lambda p: p.name)
def test_every_link_reaches_a_file_in_the_repository(doc):
    broken = []
    for link in links(_markdown_of(doc)):
        target = target_file(link, doc.parent)
        if target is None:
            continue
        if not target.exists() or ROOT.resolve() not in (target.resolve(), *target.resolve().parents):
            broken.append(f"{link} -> {target}")
    assert not broken, f"{doc.name} links to files that do not exist:\n" + "\n".join(broken)


def test_readme_anchors_name_real_headings():
    text = (ROOT / "README.md").read_text()
    slugs = {github_slug(h) for h in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M)}
    bad = [a for a in (link[1:] for link in links(text) if link.startswith("#")) if a not in slugs]
    assert not bad, f"README links to headings that do not exist: {bad} (headings: {sorted(slugs)})"


def test_readme_indexes_every_notebook_with_binder_and_colab_badges():
    text = (ROOT / "README.md").read_text()
    for nb in NOTEBOOKS:
        rel = f"notebooks/{nb.name}"
        binder = f"https://mybinder.org/v2/gh/{REPO}/{BRANCH}?urlpath=lab/tree/{rel}"
        colab = f"https://colab.research.google.com/github/{REPO}/blob/{BRANCH}/{rel}"
        assert f"]({binder})" in text, f"README lacks a Binder badge for {nb.name}"
        assert f"]({colab})" in text, f"README lacks a Colab badge for {nb.name}"
        assert f"]({rel})" in text, f"README's index lacks a link to {rel}"


def test_readme_starts_with_the_two_commands_and_every_make_target_it_names_exists():
    text = (ROOT / "README.md").read_text()
    first_block = re.search(r"```(?:bash|sh|console)?\n(.*?)```", text, re.S)
    assert first_block, "README needs a code block with the two commands"
    commands = [ln.split("#")[0].strip() for ln in first_block.group(1).splitlines() if ln.strip()]
    assert commands == ["make lab", "make test"], f"the first code block must be the two commands; got {commands}"
    assert 0 < first_block.start() < text.find("## The notebooks"), "the two commands come before the notebook index"
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))
    named = set(re.findall(r"`make ([a-z][\w-]*)", text)) | {c.split()[1] for c in commands}
    assert named <= targets, f"README names make targets the Makefile lacks: {sorted(named - targets)}"


def test_link_checker_catches_broken_links(tmp_path):
    # The checker itself must fail on what it is meant to catch.
    bad_binder = f"https://mybinder.org/v2/gh/{REPO}/{BRANCH}?urlpath=lab/tree/notebooks/99_missing.ipynb"
    assert not target_file(bad_binder, ROOT).exists()
    assert not target_file("docs/nothing-here.md", ROOT).exists()
    with pytest.raises(AssertionError, match="should point at"):
        target_file(f"https://colab.research.google.com/github/{REPO}/blob/dev/notebooks/x.ipynb", ROOT)
    md = "[![Binder](https://mybinder.org/badge_logo.svg)](URL) [a](b.md \"t\") <img src='c.png'>\n[r]: d.md\n`[x](code.md)`"
    assert links(md) == ["https://mybinder.org/badge_logo.svg", "URL", "b.md", "d.md", "c.png"]
    assert github_slug("For instructors: no internet?") == "for-instructors-no-internet"
