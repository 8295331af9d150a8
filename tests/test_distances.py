"""Notebook 02: pk.pair_distances / pk.shift_distances, the figure (pk.plot_shift), and the slider driving them."""

import pytest
import torch

import percepkit as pk
from percepkit import widgets


@pytest.fixture(scope="module")
def backbone():
    return pk.load_backbone("vgg19-random", verbose=False)


@pytest.fixture(scope="module")
def image():
    return pk.sample_image("astronaut", 48)


def test_zero_shift_is_zero_distance_everywhere(image, backbone):
    d = pk.shift_distances(image, 0.0, backbone, layers=("relu1_2", "relu3_4"))
    assert set(d) == {"L1", "L2", "relu1_2", "relu3_4"}
    d1 = pk.shift_distances(image, 1.0, backbone, layers=("relu1_2", "relu3_4"))
    assert all(d[k] < 1e-4 * d1[k] for k in d), (d, d1)  # zero up to the float rounding of grid_sample


def test_distances_match_the_losses(image, backbone):
    moved = pk.shift(image, 2.0)
    d = pk.shift_distances(image, 2.0, backbone, layers=("relu2_2",))
    assert d["L2"] == pytest.approx(float(pk.pixel_loss(moved, image, "l2")), rel=1e-6)
    assert d["L1"] == pytest.approx(float(pk.pixel_loss(moved, image, "l1")), rel=1e-6)
    ref = pk.PerceptualLoss(backbone, ["relu2_2"])(moved, image)
    assert d["relu2_2"] == pytest.approx(float(ref), rel=1e-4)


def test_reference_makes_an_unrelated_picture_equal_to_one(image, backbone):
    other = pk.sample_image("coffee", 48)
    ref = pk.pair_distances(image, other, backbone, ("relu1_2",))
    assert pk.pair_distances(image, other, backbone, ("relu1_2",), reference=ref) == pytest.approx(
        {"L1": 1.0, "L2": 1.0, "relu1_2": 1.0})
    with pytest.raises(ValueError, match="reference lacks"):
        pk.shift_distances(image, 1.0, backbone, ("relu2_2",), reference=ref)


def test_bad_inputs_are_refused(image, backbone):
    with pytest.raises(ValueError, match=r"\(1, 3, H, W\)"):
        pk.shift_distances(image[0], 1.0, backbone)
    with pytest.raises(TypeError, match="Backbone"):
        pk.pair_distances(image, image, object())
    with pytest.raises(ValueError, match="same shape"):
        pk.pair_distances(image, image[..., :40], backbone)
    with pytest.raises(ValueError, match="max_shift"):
        widgets.shift_explorer(image, backbone, max_shift=0)


def test_render_returns_the_figure_and_the_distances(image, backbone):
    fig, d = pk.plot_shift(image, 3.0, backbone, layers=("relu1_2",))
    bars = fig.axes[3].patches
    assert [b.get_height() for b in bars] == pytest.approx(list(d.values()))
    assert d["L2"] > 0


def test_the_slider_drives_the_render(image, backbone):
    w = widgets.shift_explorer(image, backbone, layers=("relu1_2",), max_shift=4, step=0.5, value=1.0)
    slider = w.children[0]
    assert slider.max == 4 and slider.value == 1.0
    first = w.result
    assert first == pytest.approx(pk.shift_distances(image, 1.0, backbone, ("relu1_2",)))
    slider.value = 3.0
    assert w.result["L2"] > first["L2"]
    slider.value = 99  # the slider clamps to its range
    assert slider.value == 4 and torch.isfinite(torch.tensor(w.result["L2"]))
