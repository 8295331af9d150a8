"""judge.py against hand-written expectations: the panel's state for choices with gaps, what each click,
undo and save does on a small hand-built set (images decoded back).
(The agreement figure's tests are in test_plot.py.)"""

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


def test_panel_defaults_messages_and_layout(tmp_path, monkeypatch):
    import re

    from percepkit import judge

    ts = small_set()
    panel = pk.judge_panel(ts, folder=tmp_path)  # defaults: scale 2 (96 px → 192 px), no observer name
    assert panel.scale == 2 and [im.layout.width for im in panel.images] == ["192px"] * 3
    panel.choose("A")
    assert json.loads(panel.path.read_text())["observer"] == ""
    assert re.fullmatch(rf"answers-{ts.fingerprint}-\d{{8}}-\d{{6}}\.json", panel.path.name)
    direct = judge.JudgePanel(ts, tmp_path / "d")
    assert direct.scale == 2 and direct.observer == ""
    assert [b.button_style for b in panel.buttons.values()] == ["primary", "primary"]
    assert panel.undo_button.layout.width == "90px" and panel.buttons["A"].layout.width == "140px"
    assert panel.widget.children[0].value == ("<b>Which candidate, A or B, is closer to the reference?</b> "
                                              "Trust your first impression.")
    with pytest.raises(ValueError, match=r"^expected 'A' or 'B'; got 'C'$"):
        panel.choose("C")
    with pytest.raises(TypeError, match=r"^expected a TripletSet from percepkit.make_triplets; got list$"):
        pk.judge_panel([1, 2])
    small = TripletSet(ts.triplets, ts.order, 64, 0, 1, "x")
    with pytest.raises(ValueError, match=r"^images would be 128 px; use scale >= 3 \(>= 192 px\)$"):
        pk.judge_panel(small, folder=tmp_path)
    with pytest.raises(ValueError, match=r"^images would be 138 px; use scale >= 3 \(>= 192 px\)$"):
        pk.judge_panel(TripletSet(ts.triplets, ts.order, 69, 0, 1, "x"), folder=tmp_path, scale=2)
    for bad in (2.0, 0, -1):
        with pytest.raises(ValueError, match=r"^expected scale as an int >= 1; got"):
            pk.judge_panel(ts, folder=tmp_path, scale=bad)
    big = TripletSet(ts.triplets, ts.order, 192, 0, 1, "x")  # 192 px pictures need no enlargement
    assert pk.judge_panel(big, folder=tmp_path, scale=1).scale == 1
    encoded = []
    real = judge.to_png
    monkeypatch.setattr(judge, "to_png", lambda x, scale: encoded.append(id(x)) or real(x, scale=scale))
    again = pk.judge_panel(ts, folder=tmp_path)
    again.choose("B")
    again.undo()  # back to the first item: its three pictures are already encoded
    assert len(encoded) == 6 and len(set(encoded)) == 6


def test_default_answers_dir_follows_the_environment(monkeypatch, tmp_path):
    from percepkit import judge

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("PERCEPKIT_ANSWERS_DIR", raising=False)
    assert judge.default_answers_dir() == tmp_path / "percepkit-answers"
    monkeypatch.setenv("PERCEPKIT_ANSWERS_DIR", "   ")  # blank: as if unset
    assert judge.default_answers_dir() == tmp_path / "percepkit-answers"
    monkeypatch.setenv("PERCEPKIT_ANSWERS_DIR", " ~/class/answers ")  # the hub's shared folder, say
    assert judge.default_answers_dir() == tmp_path / "class" / "answers"
    assert pk.judge_panel(small_set()).folder == tmp_path / "class" / "answers"
