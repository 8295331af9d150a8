"""Execute every notebook and write a static HTML gallery (``make html``).

    python tools/build_gallery.py [--out site] [--timeout 900] [NOTEBOOK ...]

Writes ``<out>/index.html`` (one card per notebook: title, subtitle, what you will learn,
the backbone the figures were made with, run time, Binder/Colab links) and
``<out>/<notebook>.html`` (the executed notebook, figures embedded as data URIs, so the
folder can be copied anywhere and opened without a server or a network).

The build fails, naming the notebook, when a cell raises (cells tagged ``raises-exception``
are allowed to, as in nbval) or when a page lacks figures its notebook produced. Runs
offline: ``PERCEPKIT_OFFLINE=1`` unless the caller set it.
"""

from __future__ import annotations

import argparse
import html
import os
import queue
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from percepkit.registry import BANNER_RE

ROOT = Path(__file__).resolve().parents[1]
REPO = "percepkit/percepkit"
BRANCH = "main"
FIGURE_MIMES = ("image/png", "image/jpeg", "image/svg+xml")
# Formulas render offline: the pages load MathJax 2 from site/mathjax/, copied from the
# jupyter-server-mathjax wheel (a dev dependency), never from a CDN.
MATHJAX_URL = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"  # the config the wheel ships


def copy_mathjax(out: Path) -> Path:
    """Copy MathJax (from the jupyter-server-mathjax wheel) to ``out/mathjax``; return that folder."""
    import importlib.util
    import shutil

    spec = importlib.util.find_spec("jupyter_server_mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the gallery needs MathJax offline: pip install jupyter-server-mathjax==0.2.6 (make html does)")
    src = Path(next(iter(spec.submodule_search_locations))) / "static"
    dst = out / "mathjax"
    if not (dst / "MathJax.js").is_file():
        shutil.copytree(src, dst, dirs_exist_ok=True)
    return dst


def notebooks(root: Path = ROOT) -> list[Path]:
    """The notebooks the gallery shows: every ``notebooks/*.ipynb``, in order."""
    return sorted((root / "notebooks").glob("*.ipynb"))


class PatientClient(NotebookClient):
    """nbclient, with every wait on the shell channel polled in one-second slices.

    Under CPU load, nbclient 0.11 sometimes misses the wake-up for a cell's ``execute_reply``
    (seen here on notebook 02's shift-slider cell, ``ipywidgets.interactive`` + a matplotlib
    figure; jupyter/nbclient#312 reports the same): the kernel has replied and is idle, but the
    client sleeps until the cell timeout — forever without one. pyzmq re-polls the socket when a
    wait times out, so one-second slices bound that stall to a second.
    """

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        get_msg = kc.shell_channel.get_msg

        async def sliced_get_msg(timeout=None, **kw):
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                left = 1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic()))
                try:
                    return await get_msg(timeout=left, **kw)
                except queue.Empty:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise

        kc.shell_channel.get_msg = sliced_get_msg
        return kc


def execute(path: Path, timeout: int = 900) -> nbformat.NotebookNode:
    """Run a notebook top to bottom in a fresh kernel of this Python, with figures inline."""
    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, ValueError) as e:  # NotJSONError and ValidationError are ValueErrors
        raise RuntimeError(f"{path.name} is not a readable notebook: {type(e).__name__}: {str(e)[:200]}") from None
    # A kernel inherits MPLBACKEND; a caller's Agg would make plt.show() draw nothing.
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    os.environ.setdefault("PERCEPKIT_OFFLINE", "1")
    client = PatientClient(nb, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    except CellExecutionError as e:
        where = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code" and _raised(c)), None)
        raise RuntimeError(f"{path.name} failed to execute: cell {where} raised {e.ename}: {e.evalue}") from None
    except (CellTimeoutError, DeadKernelError) as e:
        raise RuntimeError(f"{path.name} failed to execute: {type(e).__name__}: {str(e).splitlines()[0]}") from None
    return nb


def _machine_paths() -> list[tuple[str, str]]:
    """(absolute prefix, what a reader sees instead), longest first: the checkout, site-packages, home."""
    import site

    pairs = [(str(ROOT) + "/", "")]
    pairs += [(p.rstrip("/") + "/", "<site-packages>/") for p in [*site.getsitepackages(), site.getusersitepackages()]]
    pairs.append((str(Path.home()) + "/", "~/"))
    return sorted(pairs, key=lambda pair: -len(pair[0]))


def scrub_paths(nb) -> int:
    """Replace the build machine's absolute paths in every output (tracebacks, printed text, HTML) by
    names a reader can use: repository-relative files, ``<site-packages>/…``, ``~/…``. Returns how many
    output fields changed."""
    pairs, changed = _machine_paths(), 0

    def clean(text: str) -> str:
        for old, new in pairs:
            text = text.replace(old, new)
        return text

    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            fields = [("text", out)] if "text" in out else []
            fields += [(k, out["data"]) for k in out.get("data", {}) if k.startswith("text/")]
            for key, holder in fields:
                new = clean(holder[key]) if isinstance(holder[key], str) else [clean(t) for t in holder[key]]
                changed += new != holder[key]
                holder[key] = new
            if "traceback" in out:
                new = [clean(t) for t in out["traceback"]]
                changed += new != out["traceback"]
                out["traceback"] = new
    return changed


def _raised(cell) -> bool:
    """Whether a code cell stopped on an error it was not tagged to raise."""
    allowed = "raises-exception" in cell.get("metadata", {}).get("tags", [])
    return not allowed and any(o.get("output_type") == "error" for o in cell.get("outputs", []))


def figures(nb) -> int:
    """How many figures (image outputs) the executed notebook holds."""
    return sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
               if o.get("output_type") in ("display_data", "execute_result")
               and any(m in o.get("data", {}) for m in FIGURE_MIMES))


def embedded_figures(page: str) -> int:
    """How many figures an HTML page carries inside itself (data-URI images and inline SVG)."""
    return len(re.findall(r'<img[^>]+src="data:image/(?:png|jpeg)', page)) + page.count("<svg")


def backbone_used(nb) -> str:
    """The backbone named by the ``load_backbone`` banner in the outputs ('?' when none printed)."""
    for c in nb.cells:
        for o in c.get("outputs", []) if c.cell_type == "code" else ():
            m = BANNER_RE.search(o.get("text", "") if o.get("output_type") == "stream" else "")
            if m:
                return m.group(1)
    return "?"


def summary(nb, path: Path) -> dict:
    """Title, subtitle and 'You will learn' bullets from the first markdown cell."""
    first = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    lines = first.splitlines()
    title = next((ln[2:].strip() for ln in lines if ln.startswith("# ")), path.stem)
    subtitle = next((ln.strip() for ln in lines[1:] if ln.strip() and not ln.startswith(("#", "[", "**", "- ", "* "))), "")
    learn = ""
    if "You will learn" in first:
        rest = first.split("You will learn", 1)[1]
        learn = "\n".join(ln for ln in rest.splitlines() if ln.lstrip().startswith(("- ", "* ")))
    return {"title": title, "subtitle": subtitle, "learn": learn}


_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _widget_parts(state: dict, model_id: str, seen: set) -> tuple[list[str], list[str], list[str]]:
    """(control settings, images as data URIs, texts) of a widget and its children, from saved state."""
    if model_id in seen or model_id not in state:
        return [], [], []
    seen.add(model_id)
    model = state[model_id]
    st, name = model.get("state", {}), model.get("model_name", "")
    controls, images, texts = [], [], []
    if name == "OutputModel":
        for o in st.get("outputs", []):
            data = o.get("data", {})
            if "image/png" in data:
                images.append("data:image/png;base64," + "".join(data["image/png"]).strip())
            elif o.get("output_type") == "stream":
                texts.append("".join(o.get("text", "")))
            elif "text/plain" in data and "image/svg+xml" not in data:
                texts.append("".join(data["text/plain"]))
    elif name == "ImageModel":
        for buf in model.get("buffers", []):
            if buf.get("path") == ["value"] and buf.get("encoding") == "base64":
                images.append(f"data:image/{st.get('format', 'png')};base64,{buf['data']}")
    elif name in ("LabelModel", "HTMLModel", "HTMLMathModel") and st.get("value"):
        texts.append(re.sub(r"<[^>]+>", " ", str(st["value"])))  # the words of a readout, without its markup
    elif "description" in st and "value" in st:
        controls.append(f"{st['description'] or name.removesuffix('Model')} = {st['value']}")
    for child in st.get("children", []):
        c, i, t = _widget_parts(state, str(child).removeprefix("IPY_MODEL_"), seen)
        controls, images, texts = controls + c, images + i, texts + t
    return controls, images, [t for t in texts if t.strip()]


def freeze_widgets(nb) -> int:
    """Replace each widget output by a static snapshot (its figures, settings and text); returns its figure count.

    A gallery page has no kernel, so a slider there would move and change nothing; the
    snapshot shows what the widget showed when the notebook ran, and says how to get it live.
    """
    state = nb.metadata.get("widgets", {}).get(_WIDGET_STATE, {}).get("state", {})
    frozen = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for o in cell.get("outputs", []):
            view = o.get("data", {}).get(_WIDGET_VIEW)
            if view is None:
                outputs.append(o)
                continue
            controls, images, texts = _widget_parts(state, view.get("model_id", ""), set())
            note = "Interactive widget, shown as it was when the notebook ran"
            note += f" ({html.escape(', '.join(controls))})" if controls else ""
            note += ". Run the notebook (Binder, Colab or <code>make lab</code>) to use it."
            body = "".join(f'<pre>{html.escape(t)}</pre>' for t in texts)
            body += "".join(f'<img src="{src}" alt="widget snapshot" style="max-width:100%"/>' for src in images)
            outputs.append(nbformat.v4.new_output("display_data", data={
                "text/html": f'<div class="widget-snapshot"><p><em>{note}</em></p>{body}</div>'}))
            frozen += len(images)
        cell.outputs = outputs
    nb.metadata.pop("widgets", None)
    return frozen


def _plain(markdown: str, limit: int) -> str:
    """Markdown → one line of plain text (no formulas, links or markup), cut at ``limit`` characters."""
    text = re.sub(r"\$\$.*?\$\$", " ", markdown, flags=re.S)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\\[A-Za-z]+\{([^}]*)\}", r"\1", text)  # \text{adv} → adv
    text = re.sub(r"[*_`#>]|\$", "", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def alt_texts(nb) -> list[str]:
    """One alt text per PNG figure, in page order: what the figure is for and the numbers printed with it.

    Built from the notebook itself: the section heading above the figure, the first sentence of the
    markdown cell that follows it (the notebook's own reading of the figure), and the text the same cell
    printed (its measured numbers).
    """
    alts, heading, cells = [], "", nb.cells
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown":
            found = [ln.lstrip("#").strip() for ln in cell.source.splitlines() if ln.startswith("#")]
            heading = found[-1] if found else heading
            continue
        if cell.cell_type != "code":
            continue
        outputs = cell.get("outputs", [])
        printed = _plain("".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream"
                                 and o.get("name") == "stdout"), 500)
        after = next((c.source for c in cells[i + 1:] if c.cell_type == "markdown"), "")
        first = re.split(r"(?<=[.!?])\s", after.strip(), maxsplit=1)[0]
        reading = "" if first.startswith("#") else _plain(first, 300)  # a new section is no reading
        pngs = [o for o in outputs
                if o.get("output_type") in ("display_data", "execute_result") and "image/png" in o.get("data", {})]
        for k in range(len(pngs)):
            parts = [f"Figure {k + 1} of {len(pngs)} in '{_plain(heading, 120)}'"]
            if reading:
                parts.append(f"What it shows: {reading}")
            if printed:
                parts.append(f"Numbers printed with it: {printed}")
            alts.append(". ".join(p.rstrip(".") for p in parts) + ".")
    return alts


def render(nb) -> str:
    """The executed notebook as one self-contained HTML page (JupyterLab look, images inline, alt texts)."""
    from bs4 import BeautifulSoup  # nbconvert's own dependency

    body, _ = HTMLExporter(template_name="lab", mathjax_url=MATHJAX_URL).from_notebook_node(nb)
    soup = BeautifulSoup(body, features="html.parser")
    images = soup.select('div.jp-RenderedImage img[src^="data:image/png"]')
    alts = alt_texts(nb)
    if len(images) != len(alts):
        raise RuntimeError(f"the page has {len(images)} PNG figures but the notebook {len(alts)}: alt texts would not match")
    for img, alt in zip(images, alts):
        img["alt"] = alt
    return str(soup)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#222;line-height:1.45}
h1{margin-bottom:.2rem} .lead{color:#555;margin-top:0}
.card{border:1px solid #ddd;border-radius:8px;padding:1rem 1.2rem;margin:1rem 0}
.card h2{margin:.1rem 0 .3rem} .sub{color:#555;font-style:italic;margin:.2rem 0 .6rem}
.meta{color:#666;font-size:.9rem} .links a{margin-right:1rem} code{background:#f4f4f4;padding:0 .2rem}
"""


def index_page(entries: list[dict]) -> str:
    """The gallery's front page."""
    cards = []
    for e in entries:
        learn = markdown2html_mistune(e["learn"]) if e["learn"] else ""
        nb_path = f"notebooks/{e['file']}"
        cards.append(f"""<div class="card" id="{html.escape(Path(e['file']).stem)}">
<h2><a href="{html.escape(e['page'])}">{html.escape(e['title'])}</a></h2>
<p class="sub">{html.escape(e['subtitle'].strip('*_ '))}</p>
{('<p><b>You will learn</b></p>' + learn) if learn else ''}
<p class="meta">Executed in {e['seconds']:.0f} s on a CPU with backbone <code>{html.escape(e['backbone'])}</code>;
{e['figures']} figures.</p>
<p class="links"><a href="{html.escape(e['page'])}">Read it here</a>
<a href="https://mybinder.org/v2/gh/{REPO}/{BRANCH}?urlpath=lab/tree/{nb_path}">Run it on Binder</a>
<a href="https://colab.research.google.com/github/{REPO}/blob/{BRANCH}/{nb_path}">Open in Colab</a></p>
</div>""")
    built = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>percepkit — notebook gallery</title><style>{_CSS}</style></head>
<body>
<h1>percepkit — perceptual loss, notebook by notebook</h1>
<p class="lead">Every notebook, executed top to bottom, with its figures. To change a knob or move a
slider, run it live (Binder, Colab, or <code>make lab</code>). Built {built}.</p>
{''.join(cards)}
</body></html>
"""


def build(paths: list[Path], out: Path, timeout: int = 900, log=print) -> list[dict]:
    """Execute ``paths``, write one page each plus ``index.html`` into ``out``; returns the index entries.

    Raises:
        RuntimeError: a notebook failed to run, produced no figure, or its page lost figures.
    """
    out.mkdir(parents=True, exist_ok=True)
    copy_mathjax(out)
    entries = []
    for path in paths:
        log(f"executing {path.name} ...")
        t0 = time.perf_counter()
        nb = execute(path, timeout)
        seconds = time.perf_counter() - t0
        scrub_paths(nb)
        n_fig = figures(nb) + freeze_widgets(nb)
        if n_fig == 0:
            raise RuntimeError(f"{path.name} produced no figures (does it call plt.show()?)")
        page = render(nb)
        if embedded_figures(page) < n_fig:
            raise RuntimeError(f"{path.name}: the page embeds {embedded_figures(page)} of its {n_fig} figures")
        page_name = f"{path.stem}.html"
        (out / page_name).write_text(page, encoding="utf-8")
        entry = {"file": path.name, "page": page_name, "seconds": seconds, "figures": n_fig,
                 "backbone": backbone_used(nb), **summary(nb, path)}
        entries.append(entry)
        log(f"  {page_name}: {n_fig} figures, backbone {entry['backbone']}, {seconds:.0f} s")
    (out / "index.html").write_text(index_page(entries), encoding="utf-8")
    return entries


def main(argv: list[str] | None = None) -> int:
    """Command line: build the gallery; exit 1 naming the notebook that broke it."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/*.ipynb")
    p.add_argument("--out", type=Path, default=ROOT / "site", help="output folder (default: site/)")
    p.add_argument("--timeout", type=int, default=900, help="seconds per cell (default 900)")
    args = p.parse_args(argv)
    paths = args.notebooks or notebooks()
    if not paths:
        print("no notebooks found in notebooks/", file=sys.stderr)
        return 1
    try:
        entries = build(paths, args.out, args.timeout)
    except RuntimeError as e:
        print(f"gallery: {e}", file=sys.stderr)
        return 1
    print(f"gallery: {len(entries)} notebooks → {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
