"""judge.py against hand-written expectations: the panel's state for choices with gaps, what each click,
undo and save does on a small hand-built set (images decoded back), and the agreement figure's bars,
error bars and lines read back from matplotlib."""

import io
import json
from dataclasses import astuple

import numpy as np
import pytest
import torch
from PIL import Image

import percepkit as pk
from percepkit.judge import panel_state
from percepkit.triplets import Triplet, TripletSet

S = 96  # 2 × 96 = 192 px on screen: the smallest allowed


def small_set():
    g = torch.Generator().manual_seed(0)
    trips = tuple(Triplet(f"t{i:02d}", "hand", "noise", *(torch.rand(1, 3, S, S, generator=g) for _ in range(3)), ("a", "b"),
                          False) for i in range(3))
    return TripletSet(trips, ((2, False), (0, False), (1, False), (2, True)), S, 0, 1, "small0000000")


def decode(png):
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def as_png_pixels(x, scale=2):
    a = (x[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype("uint8")
    return a.repeat(scale, 0).repeat(scale, 1)


def test_panel_state_written_out_for_gaps():
    ts = small_set()
    assert astuple(panel_state(ts, [None] * 4)) == (0, 0, "judged 0 of 4 · item 1", False)
    # the position is the first gap, not the number judged
    assert astuple(panel_state(ts, ["A", None, "B", None])) == (1, 2, "judged 2 of 4 · item 2", False)
    assert astuple(panel_state(ts, ["A", "B", "B", None])) == (3, 3, "judged 3 of 4 · item 4", False)
    assert astuple(panel_state(ts, [None, "A", "A", "A"])) == (0, 3, "judged 3 of 4 · item 1", False)
    assert astuple(panel_state(ts, ["B"] * 4)) == (4, 4, "judged 4 of 4 — all done, thank you", True)


def test_panel_shows_the_item_to_judge_and_saves_every_click(tmp_path):
    ts = small_set()
    panel = pk.judge_panel(ts, folder=tmp_path, observer="ada")

    def shown():
        return [decode(im.value) for im in panel.images]

    for img, x in zip(shown(), ts.shown(0)):
        np.testing.assert_array_equal(img, as_png_pixels(x))
    panel.choose("B")
    assert panel.path.parent == tmp_path and "small0000000" in panel.path.name
    doc = json.loads(panel.path.read_text())
    assert doc["observer"] == "ada" and [it["choice"] for it in doc["items"]] == ["B", None, None, None]
    panel.choose("A")
    for img, x in zip(shown(), ts.shown(2)):
        np.testing.assert_array_equal(img, as_png_pixels(x))
    np.testing.assert_array_equal(panel.counts, [[1, 0], [0, 0], [0, 1]])  # item 0 shows t02 unswapped: "B" is its b
    panel.choose("A")
    panel.choose("A")  # the last item shows t02 swapped: "A" is its b
    np.testing.assert_array_equal(panel.counts, [[1, 0], [1, 0], [0, 2]])
    st = panel.state
    assert st.done and all(b.disabled for b in panel.buttons.values()) and not panel.undo_button.disabled
    assert panel.choose("B") == st and panel.choices == ["B", "A", "A", "A"]  # a click after the end changes nothing
    for img, x in zip(shown(), ts.shown(3)):  # the last item stays on screen
        np.testing.assert_array_equal(img, as_png_pixels(x))
    panel.undo()  # forgets the *last* answer
    assert panel.choices == ["B", "A", "A", None] and panel.progress.value == "judged 3 of 4 · item 4"
    assert pk.load_answers(panel.path, ts) == ["B", "A", "A", None]
    panel.choices[1] = None  # a gap in the middle: the next click fills it
    panel.choose("B")
    assert panel.choices == ["B", "B", "A", None]
    for _ in range(5):
        panel.undo()
    assert panel.choices == [None] * 4 and panel.undo_button.disabled and not panel.buttons["A"].disabled
    with pytest.raises(ValueError, match="scale"):
        pk.judge_panel(ts, scale=0)
    with pytest.raises(ValueError, match="use scale >= 3"):
        pk.judge_panel(TripletSet(ts.triplets, ts.order, 64, 0, 1, "x"), scale=2)


def test_plot_agreement_draws_values_intervals_and_lines():
    import matplotlib.pyplot as plt

    scores = {"L2 / PSNR": 0.5, "relu1": 0.62, "relu2": 0.71, "Gram (style)": 0.4, "LPIPS": 0.8}
    ci = {m: (v - 0.05, v + 0.1) for m, v in scores.items()}
    fig = pk.plot_agreement(scores, layers=("relu1", "relu2"), ceiling=0.85, ci=ci, matched={"relu2": 0.6}, title="t")
    ax = fig.axes[0]
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx([50, 62, 71, 40, 80])
    ys = [p.get_y() + p.get_height() / 2 for p in ax.patches]
    assert ys == pytest.approx([4, 3, 2, 1, 0])  # the first metric on top
    assert [t.get_text() for t in ax.texts] == ["50%", "62%", "71%", "40%", "80%"]
    vlines = sorted(float(line.get_xdata()[0]) for line in ax.lines
                    if len(set(line.get_xdata())) == 1 and len(line.get_xdata()) == 2)
    assert vlines == pytest.approx([50, 85])
    dots = [line for line in ax.lines if line.get_marker() == "D"]
    assert len(dots) == 1 and list(dots[0].get_xdata()) == pytest.approx([60]) and list(dots[0].get_ydata()) == [2]
    err = [c for c in ax.containers if hasattr(c, "lines") and c.lines and c.lines[2]]
    assert err, "error bars drawn"
    segs = err[0].lines[2][0].get_segments()
    assert [tuple(np.round(s[:, 0], 6)) for s in segs] == [(45, 60), (57, 72), (66, 81), (35, 50), (75, 90)]
    assert ax.get_title() == "t" and "85%" in " ".join(t.get_text() for t in ax.get_legend().get_texts())
    plt.close(fig)


def test_panel_widgets_the_browser_test_and_the_learner_rely_on(tmp_path, monkeypatch):
    from pathlib import Path

    import percepkit.judge as judge

    ts = small_set()
    panel = pk.judge_panel(ts, folder=tmp_path / "f", scale=3, observer="bo")
    assert panel.scale == 3 and panel.observer == "bo" and panel.folder == tmp_path / "f"
    assert [(im.layout.width, im.layout.height) for im in panel.images] == [("288px", "288px")] * 3
    assert [im.format for im in panel.images] == ["png"] * 3
    assert [im._dom_classes for im in panel.images] == [("pk-judge-ref",), ("pk-judge-a",), ("pk-judge-b",)]
    assert [b.description for b in panel.buttons.values()] == ["A is closer", "B is closer"]
    assert [b._dom_classes for b in panel.buttons.values()] == [("pk-judge-a-button",), ("pk-judge-b-button",)]
    assert all(b.button_style == "primary" and b.layout.width == "140px" for b in panel.buttons.values())
    assert (panel.undo_button.description, panel.undo_button.icon, panel.undo_button._dom_classes) == (
        "undo", "undo", ("pk-judge-undo",))
    assert panel.progress._dom_classes == ("pk-judge-progress",) and panel.status._dom_classes == ("pk-judge-status",)
    question, images, controls, status = panel.widget.children
    assert "Which candidate, A or B, is closer to the reference?" in question.value
    assert [col.children[0].value for col in images.children] == ["<b>reference</b>", "<b>A</b>", "<b>B</b>"]
    assert [col.children[1] for col in images.children] == panel.images
    assert list(controls.children) == [panel.buttons["A"], panel.buttons["B"], panel.undo_button, panel.progress]
    assert status is panel.status and status.value == "your answers are saved after each click"
    panel.buttons["A"].click()  # the buttons are wired to choose()
    assert panel.choices[0] == "A" and status.value == f"saved to <code>{panel.path}</code>"
    assert json.loads(panel.path.read_text())["observer"] == "bo"
    assert panel.path.name.startswith("answers-small0000000-") and panel.path.suffix == ".json"
    panel.undo_button.click()
    assert panel.choices[0] is None
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda w: shown.append(w))
    panel._ipython_display_()
    assert shown == [panel.widget]
    # a folder that cannot be written: said in the status line, the answers kept in memory
    blocked = tmp_path / "blocked"
    blocked.write_text("a file, not a folder")
    stuck = pk.judge_panel(ts, folder=blocked / "sub")
    stuck.choose("B")
    assert "could not save" in stuck.status.value and stuck.choices[0] == "B"
    assert judge.default_answers_dir() == Path.home() / "percepkit-answers"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert pk.judge_panel(ts).folder == tmp_path / "percepkit-answers"
    assert pk.judge_panel(ts, folder="~/x").folder == tmp_path / "x"


def test_plot_agreement_colours_sizes_and_legend():
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgba

    names = ["L1", "L2 / PSNR", "SSIM", "relu1", "relu2", "relu3", "perceptual", "Gram (style)", "fitted mix", "LPIPS"]
    scores = {m: 0.5 + 0.03 * k for k, m in enumerate(names)}
    fig = pk.plot_agreement(scores, layers=("relu1", "relu2", "relu3"))
    ax = fig.axes[0]
    assert tuple(fig.get_size_inches()) == pytest.approx((7, 0.32 * 10 + 1.6))
    viridis = plt.get_cmap("viridis")
    want = ["#888888"] * 3 + [viridis(0.0), viridis(0.5 * 0.85), viridis(0.85)] + ["#1f77b4", "#8c564b", "#d62728", "#e377c2"]
    assert [p.get_facecolor() for p in ax.patches] == [to_rgba(c) for c in want]
    assert all(p.get_height() == pytest.approx(0.7) for p in ax.patches)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["chance (50 %)", "all triplets"]  # no ceiling, no matched dots, no title
    assert ax.get_xlim() == (0, 100) and ax.get_xlabel() == "agreement with the answers (%)" and ax.get_title() == ""
    assert ax.containers[0].errorbar is None  # no intervals: no error bars
    plt.close(fig)
    one = pk.plot_agreement({"relu1": 0.7, "x": 0.6}, layers=("relu1",), ceiling=0.9)  # one layer: the first colour
    assert one.axes[0].patches[0].get_facecolor() == to_rgba(viridis(0.0))
    assert "observer vs itself (90%)" in [t.get_text() for t in one.axes[0].get_legend().get_texts()]
    plt.close(one)
    nan = pk.plot_agreement({"x": 0.6}, ceiling=float("nan"))  # a ceiling not measured: no line
    assert len([ln for ln in nan.axes[0].lines if ln.get_linestyle() == "--"]) == 0
    plt.close(nan)
    fig, ax = plt.subplots()
    assert pk.plot_agreement({"x": 0.6}, ax=ax, ci={"x": (0.5, 0.7)}, ceiling=0.8, ceiling_label="class") is fig
    caps = [ln for ln in ax.lines if ln.get_marker() in ("|", "_")]
    assert caps and all(ln.get_markersize() == 2 * 3 for ln in caps)  # capsize 3 with intervals
    assert "class (80%)" in [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close(fig)
