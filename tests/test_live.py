"""live.py: LiveLoss redraws through one display handle every ``every`` steps, summarises or keeps the
final curve, stops on NaN, draws nothing outside a notebook; plot_losses' lines, centred running mean and
scale read back from the figure."""

import pytest
import torch

from percepkit import live


def test_live_loss_keep_redraws_only_what_is_not_drawn_yet():
    shown = []

    class Handle:
        def update(self, obj):
            shown.append(obj)

    def display(obj):
        shown.append(obj)
        return Handle()

    curve = live.LiveLoss("t", every=5, display=display)
    for _ in range(10):
        curve.add(0.5)
    n = len(shown)
    curve.close(keep=True)  # 10 steps, drawn at 10 already: nothing new
    assert len(shown) == n and curve.redraws == 2
    quiet = live.LiveLoss("q", every=5, display=display)
    quiet.close()  # never drawn: nothing to replace
    assert len(shown) == n
    short = live.LiveLoss("s", every=4, display=display)
    for v in (4.0, 2.0, 1.0, 3.0, 5.0):
        short.add(v)
    short.close()
    assert repr(shown[-1]) == "s: 5 steps; mean loss of the first 4 steps 2.5, of the last 4 steps 2.75"
    assert live._notebook_display() is None  # pytest: no kernel
    fig = short.figure()
    assert fig.axes[0].get_title() == "s" and len(fig.axes[0].lines[0].get_xdata()) == 5


def test_plot_losses_lines_and_labels():
    import matplotlib.pyplot as plt

    fig = live.plot_losses([3.0, 2.0, 1.0, 0.5], "x", every=2)
    ax = fig.axes[0]
    steps, mean = ax.lines
    assert steps.get_label() == "per step" and mean.get_label() == "mean of 2 steps"
    assert steps.get_linewidth() == pytest.approx(0.6) and steps.get_alpha() == pytest.approx(0.5)
    assert mean.get_linewidth() == 2
    assert list(mean.get_xdata()) == [0.5, 1.5, 2.5] and list(mean.get_ydata()) == [2.5, 1.5, 0.75]
    assert ax.get_xlabel() == "step" and ax.get_ylabel() == "loss" and tuple(fig.get_size_inches()) == (7, 2.8)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["per step", "mean of 2 steps"]
    plt.close(fig)
    neg = live.plot_losses([1.0, -1.0, 2.0], every=2)
    assert neg.axes[0].get_yscale() == "linear"
    plt.close(neg)
    empty = live.plot_losses([], every=2)
    assert empty.axes[0].get_yscale() == "linear" and len(empty.axes[0].lines) == 1
    plt.close(empty)



class FakeHandle:
    def __init__(self, shown):
        self.shown = shown

    def update(self, fig):
        self.shown.append(fig)


def test_live_loss_redraws_every_n_steps_through_one_handle():
    shown = []

    def display(fig):
        shown.append(fig)
        return FakeHandle(shown)

    curve = live.LiveLoss("test", every=10, display=display)
    for i in range(35):
        curve.add(1.0 / (i + 1))
    assert curve.redraws == 3 and len(shown) == 3  # steps 10, 20, 30
    ax = shown[-1].axes[0]
    assert ax.get_yscale() == "log" and ax.get_title() == "test"
    assert len(ax.lines[0].get_xdata()) == 30 and len(ax.lines[1].get_xdata()) == 21  # running mean of 10
    curve.close()  # the live figure gives way to a one-line summary
    summary = repr(shown[-1])
    assert len(shown) == 4 and "35 steps" in summary
    first, last = sum(1 / (i + 1) for i in range(10)) / 10, sum(1 / (i + 1) for i in range(25, 35)) / 10
    assert f"first 10 steps {first:.4g}" in summary and f"last 10 steps {last:.4g}" in summary
    kept = live.LiveLoss("test", every=10, display=display)
    for _ in range(35):
        kept.add(1.0)
    kept.close(keep=True)  # or the final curve, the last 5 steps included
    assert kept.redraws == 4 and len(shown[-1].axes[0].lines[0].get_xdata()) == 35


def test_live_loss_outside_a_notebook_keeps_values_and_stops_on_nan():
    curve = live.LiveLoss(every=2)  # pytest: no kernel, nothing drawn
    curve.add(torch.tensor(0.5))
    curve.add(0.25)
    curve.close()
    assert curve.values == [0.5, 0.25] and curve.redraws == 0
    with pytest.raises(FloatingPointError, match="step 2"):
        curve.add(float("nan"))
    with pytest.raises(ValueError, match="every"):
        live.LiveLoss(every=0)


def test_plot_losses_draws_steps_and_their_running_mean_centred():
    import matplotlib.pyplot as plt

    fig = live.plot_losses(torch.linspace(1, 0.1, 30), "pretraining", every=10, ylabel="MSE")
    ax = fig.axes[0]
    steps, mean = ax.lines
    assert ax.get_title() == "pretraining" and ax.get_ylabel() == "MSE" and ax.get_yscale() == "log"
    assert list(mean.get_xdata()) == [i + 4.5 for i in range(21)]  # the mean of steps 0-9 is drawn at step 4.5
    assert float(mean.get_ydata()[0]) == pytest.approx(float(torch.linspace(1, 0.1, 30)[:10].mean()))
    plt.close(fig)
    few = live.plot_losses([0.0, 1.0], every=10)  # fewer steps than the mean needs; a zero: linear scale
    assert len(few.axes[0].lines) == 1 and few.axes[0].get_yscale() == "linear"
    plt.close(few)


def test_messages_whole():
    with pytest.raises(ValueError, match=r"^expected every as an int >= 1 \(steps between redraws\); got 1\.5$"):
        live.LiveLoss(every=1.5)
    curve = live.LiveLoss(every=3)
    curve.add(1.0)
    with pytest.raises(FloatingPointError, match=r"^the loss is NaN at step 1: lower the learning rate or a weight$"):
        curve.add(float("nan"))


def test_defaults_by_calling_and_the_smallest_every():
    """Called without them (a call, not the signature: a tool that wraps the function keeps the original one)."""
    import matplotlib.pyplot as plt

    shown = []

    def display(fig):
        shown.append(fig)
        return FakeHandle(shown)

    curve = live.LiveLoss(display=display)
    for _ in range(24):
        curve.add(1.0)
    assert curve.redraws == 0
    curve.add(1.0)  # the 25th step: the first redraw
    assert curve.redraws == 1 and curve.title == "training loss" and shown[0].axes[0].get_title() == "training loss"
    fig = live.plot_losses([1.0] * 25)
    assert fig.axes[0].get_title() == "training loss" and fig.axes[0].lines[1].get_label() == "mean of 25 steps"
    plt.close(fig)
    every_step = live.LiveLoss(every=1, display=display)  # 1 is allowed: a redraw after every step
    every_step.add(0.5)
    assert every_step.redraws == 1


def test_the_first_draw_shows_the_figure_and_an_unset_display_is_the_notebooks(monkeypatch):
    from matplotlib.figure import Figure

    shown = []

    def display(obj):
        shown.append(obj)
        return FakeHandle(shown)

    monkeypatch.setattr(live, "_notebook_display", lambda: display)
    curve = live.LiveLoss(every=2)  # no display given: the notebook's is used
    curve.add(1.0)
    curve.add(0.5)
    assert curve.redraws == 1 and isinstance(shown[0], Figure)


def test_plot_losses_draws_the_values_themselves_from_integers_and_a_window_of_exactly_every():
    import matplotlib.pyplot as plt

    fig = live.plot_losses([3, 2, 1, 1], "ints", every=4)  # integers are averaged as floats: 1.75, not 1
    ax = fig.axes[0]
    steps, mean = ax.lines
    assert list(steps.get_xdata()) == [0, 1, 2, 3] and list(steps.get_ydata()) == [3.0, 2.0, 1.0, 1.0]
    assert list(mean.get_xdata()) == [1.5] and list(mean.get_ydata()) == [1.75]  # as many steps as the window: one mean
    assert ax.get_legend()._loc == 1  # matplotlib's code for "upper right"
    plt.close(fig)


def test_notebook_display_only_inside_a_kernel(monkeypatch):
    import IPython
    import IPython.display

    calls = []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: calls.append((a, k)) or "handle")

    class Kernel:
        kernel = object()

    class Terminal:  # an IPython shell without a kernel (a terminal): nothing to display into
        pass

    monkeypatch.setattr(IPython, "get_ipython", lambda: Kernel())
    show = live._notebook_display()
    assert show("fig") == "handle" and calls == [(("fig",), {"display_id": True})]
    monkeypatch.setattr(IPython, "get_ipython", lambda: Terminal())
    assert live._notebook_display() is None
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    assert live._notebook_display() is None
