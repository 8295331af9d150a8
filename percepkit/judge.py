"""Notebook 09's panel: judge triplets by eye, then see every metric's agreement.

* :func:`judge_panel` builds the panel in one call: the reference and candidates A and B side by
  side (enlarged, ≥ 192 px each), buttons *A is closer* / *B is closer*, a progress counter and
  *undo*. Every answer is saved at once to a small JSON file (:func:`percepkit.save_answers`) in
  a folder of the learner's choice — never next to the notebook unless asked.
* :func:`panel_state` is the panel's pure part (what to show for a list of choices), so it can be
  tested without a browser.

The bar chart of agreement per metric that follows the panel is :func:`percepkit.plot.plot_agreement`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from .answers import save_answers
from .images import to_png
from .scoring import tally
from .triplets import TripletSet

__all__ = ["PanelState", "panel_state", "JudgePanel", "judge_panel", "default_answers_dir"]


def default_answers_dir() -> Path:
    """Where the panel saves answer files unless told otherwise: ``$PERCEPKIT_ANSWERS_DIR`` if set
    (``~`` expanded), else ``~/percepkit-answers``.

    A class hub sets ``PERCEPKIT_ANSWERS_DIR`` to each student's folder in a shared exchange folder
    (hub/jupyterhub_config.py), so the instructor finds every student's files in one place.
    """
    env = os.environ.get("PERCEPKIT_ANSWERS_DIR", "").strip()
    return Path(env).expanduser() if env else Path.home() / "percepkit-answers"


@dataclass(frozen=True)
class PanelState:
    """What the panel shows for a list of choices (from :func:`panel_state`).

    Attributes:
        position: the item to judge next (``len(tset)`` when all are judged).
        judged: how many items have an answer.
        progress: the counter's text, e.g. ``"judged 3 of 40"``.
        done: every item judged.
    """

    position: int
    judged: int
    progress: str
    done: bool


def panel_state(tset: TripletSet, choices) -> PanelState:
    """The panel's state for ``choices`` (answers so far, in order; ``None`` for not yet judged)."""
    judged = sum(c is not None for c in choices)
    position = next((k for k, c in enumerate(choices) if c is None), len(choices))
    n = len(tset)
    text = f"judged {judged} of {n}" + (" — all done, thank you" if judged == n else f" · item {position + 1}")
    return PanelState(position, judged, text, judged == n)


class JudgePanel:
    """The judging panel (see :func:`judge_panel`). ``.widget`` is the ipywidgets box.

    Attributes:
        tset: the triplets; choices: one ``"A"``/``"B"``/``None`` per item shown; path: the answers
            file (``None`` until the first answer); images (reference, A, B), buttons, progress, status.
    """

    def __init__(self, tset: TripletSet, folder=None, scale: int = 2, observer: str = ""):
        import ipywidgets as W

        if not isinstance(tset, TripletSet):
            raise TypeError(f"expected a TripletSet from percepkit.make_triplets; got {type(tset).__name__}")
        if not (isinstance(scale, int) and scale >= 1):
            raise ValueError(f"expected scale as an int >= 1; got {scale!r}")
        if scale * tset.size < 192:
            raise ValueError(f"images would be {scale * tset.size} px; use scale >= {-(-192 // tset.size)} (>= 192 px)")
        self.tset, self.scale, self.observer = tset, scale, observer
        self.folder = Path(folder).expanduser() if folder is not None else default_answers_dir()
        self.choices: list = [None] * len(tset)
        self.path: Path | None = None
        self._saved = "your answers are saved after each click"
        self._pngs: dict = {}
        px = f"{scale * tset.size}px"
        self.images = [W.Image(format="png", layout=W.Layout(width=px, height=px)) for _ in range(3)]
        for im, cls in zip(self.images, ("ref", "a", "b")):
            im.add_class(f"pk-judge-{cls}")
        captions = [W.HTML(f"<b>{t}</b>") for t in ("reference", "A", "B")]
        self.buttons = {c: W.Button(description=f"{c} is closer", button_style="primary",
                                    layout=W.Layout(width="140px")) for c in "AB"}
        self.undo_button = W.Button(description="undo", icon="undo", layout=W.Layout(width="90px"))
        for c, b in self.buttons.items():
            b.add_class(f"pk-judge-{c.lower()}-button")
            b.on_click(lambda _b, c=c: self.choose(c))
        self.undo_button.add_class("pk-judge-undo")
        self.undo_button.on_click(lambda _b: self.undo())
        self.progress = W.Label()
        self.progress.add_class("pk-judge-progress")
        self.status = W.HTML()
        self.status.add_class("pk-judge-status")
        question = W.HTML("<b>Which candidate, A or B, is closer to the reference?</b> Trust your first impression.")
        cols = [W.VBox([cap, im]) for cap, im in zip(captions, self.images)]
        controls = W.HBox([self.buttons["A"], self.buttons["B"], self.undo_button, self.progress])
        self.widget = W.VBox([question, W.HBox(cols), controls, self.status])
        self._show()

    # --- what a click does ---------------------------------------------------------------

    @property
    def state(self) -> PanelState:
        return panel_state(self.tset, self.choices)

    def choose(self, letter: str) -> PanelState:
        """Record ``"A"`` or ``"B"`` for the current item (what the buttons do), save, show the next."""
        if letter not in ("A", "B"):
            raise ValueError(f"expected 'A' or 'B'; got {letter!r}")
        st = self.state
        if st.done:
            return st
        self.choices[st.position] = letter
        self._save()
        return self._show()

    def undo(self) -> PanelState:
        """Forget the last answer and show that item again (the undo button)."""
        answered = [k for k, c in enumerate(self.choices) if c is not None]
        if answered:
            self.choices[answered[-1]] = None
            self._save()
        return self._show()

    @property
    def counts(self):
        """The answers so far per triplet, as :func:`percepkit.tally` counts them."""
        return tally(self.tset, self.choices)

    def _save(self):
        if self.path is None:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            self.path = self.folder / f"answers-{self.tset.fingerprint}-{stamp}.json"
        try:
            save_answers(self.path, self.tset, self.choices, self.observer)
            self._saved = f"saved to <code>{self.path}</code>"
        except OSError as e:
            self._saved = f"<span style='color:#b00'>could not save to {self.path}: {e}</span>"

    def _show(self) -> PanelState:
        st = self.state
        k = min(st.position, len(self.tset) - 1)
        for im, x in zip(self.images, self.tset.shown(k)):
            if id(x) not in self._pngs:
                self._pngs[id(x)] = to_png(x, scale=self.scale)
            im.value = self._pngs[id(x)]
        for b in self.buttons.values():
            b.disabled = st.done
        self.undo_button.disabled = st.judged == 0
        self.progress.value = st.progress
        self.status.value = self._saved
        return st

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def judge_panel(tset: TripletSet, folder=None, scale: int = 2, observer: str = "") -> JudgePanel:
    """Build the judging panel in one call; display it (last expression of a cell).

    Args:
        tset: from :func:`percepkit.make_triplets`.
        folder: where the answers file goes (``None`` → :func:`default_answers_dir`); the file is
            ``answers-<set>-<date-time>.json``, written after every click (and undo).
        scale: enlargement of each image on screen (nearest neighbour); at least 192 px shown.
        observer: a name or pseudonym stored in the file (for a class experiment).
    """
    return JudgePanel(tset, folder, scale, observer)
