"""pk.doctor: each classic bug injected alone is flagged with exactly its code; correct modules are clean."""

import re

import pytest
import torch
import torch.nn as nn

import percepkit as pk

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


class Tiny(nn.Module):
    """A small VGG-like perceptual loss, correct by default; each keyword injects one bug."""

    def __init__(self, norm="imagenet", post=True, inplace=False, no_grad_target=True, frozen=True,
                 train_bn=False, dropout_train=False):
        super().__init__()
        torch.manual_seed(0)
        f = [nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace), nn.Conv2d(8, 8, 3, padding=1),
             nn.ReLU(inplace), nn.MaxPool2d(2), nn.Dropout(0.5), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(inplace),
             nn.MaxPool2d(2), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(inplace)]
        ends = (4, 8, 11)  # relu outputs; post=False stops one short (the conv outputs)
        self.slices, prev = nn.ModuleList(), 0
        for e in ends:
            stop = e + 1 if post else e
            self.slices.append(nn.Sequential(*f[prev:stop]))
            prev = stop
        self.norm, self.no_grad_target = norm, no_grad_target
        self.requires_grad_(not frozen)
        self.eval()
        if train_bn:
            f[1].train()
        if dropout_train:
            f[6].train()

    def _prep(self, x):
        if self.norm == "minus":  # written for [-1, 1] inputs
            x = (x + 1) / 2
        return (x - MEAN) / STD if self.norm in ("imagenet", "minus") else x

    def _feats(self, x):
        out = []
        for s in self.slices:
            x = s(x)
            out.append(x)
        return out

    def forward(self, pred, target):
        fx = self._feats(self._prep(pred))
        if self.no_grad_target:
            with torch.no_grad():
                fy = self._feats(self._prep(target))
        else:
            fy = self._feats(self._prep(target))
        return sum(torch.mean((a - b) ** 2) for a, b in zip(fx, fy))


def test_the_correct_module_is_clean():
    report = pk.doctor(Tiny(), size=32)
    assert report.ok, str(report)
    assert report.neutral == pytest.approx([0.485, 0.456, 0.406], abs=1e-3)
    assert len(report.taps) == 3


@pytest.mark.parametrize("bug, code", [
    ({"frozen": False}, "trainable-parameters"),
    ({"train_bn": True}, "train-mode"),
    ({"dropout_train": True}, "train-mode"),
    ({"norm": "none"}, "no-normalisation"),
    ({"norm": "minus"}, "expects-minus-one"),
    ({"post": False}, "pre-activation-tap"),
    ({"no_grad_target": False}, "target-autograd"),
])
def test_each_bug_alone_is_flagged_with_exactly_its_code(bug, code):
    report = pk.doctor(Tiny(**bug), size=32)
    assert report.codes == [code], str(report)
    assert all(f.severity in ("error", "warning") and len(f.message) > 40 for f in report)


def test_inplace_relu_after_a_conv_tap():
    # in-place ReLUs only hurt where a tap is a conv output that the next slice's ReLU overwrites
    report = pk.doctor(Tiny(post=False, inplace=True), size=32)
    assert report.codes == ["pre-activation-tap", "inplace-at-tap"], str(report)
    assert pk.doctor(Tiny(inplace=True), size=32).ok  # post-activation taps: in-place ReLUs are harmless


def test_inputs_below_the_minimum_size():
    report = pk.doctor(Tiny(), size=2)
    assert report.codes == ["input-too-small"], str(report)
    assert "from 4x4" in report[0].message


def test_the_probes_leave_the_module_as_they_found_it():
    m = Tiny(frozen=False, train_bn=True)
    m.slices[0][1].running_mean.fill_(0.25)
    pk.doctor(m, size=32)
    assert all(p.requires_grad for p in m.parameters())
    assert m.slices[0][1].training and not m.slices[0][0].training
    assert torch.equal(m.slices[0][1].running_mean, torch.full((8,), 0.25))


@pytest.fixture(scope="module")
def seed_loss():
    return pk.SeedPerceptualLoss()


def test_the_seed_class_has_every_bug(seed_loss):
    report = pk.doctor(seed_loss)
    assert report.codes == ["no-normalisation", "pre-activation-tap", "inplace-at-tap", "target-autograd"], str(report)
    assert report.taps == ["conv1_2", "conv2_2", "conv3_4"]
    assert "relu" not in " ".join(report.taps)


class Corrected(nn.Module):
    """The seed's class with its bugs fixed (same VGG-19 layers, slices ending after the ReLU)."""

    def __init__(self, features, layer_ids=(3, 8, 17)):
        super().__init__()
        self.slices, prev = nn.ModuleList(), 0
        for lid in layer_ids:
            self.slices.append(nn.Sequential(*[features[i] for i in range(prev, lid + 1)]))
            prev = lid + 1
        for m in self.modules():
            if isinstance(m, nn.ReLU):
                m.inplace = False
        self.requires_grad_(False).eval()
        self.register_buffer("mean", MEAN.clone())
        self.register_buffer("std", STD.clone())

    def forward(self, pred, target):
        x, loss = (pred - self.mean) / self.std, 0.0
        with torch.no_grad():
            y = (target - self.mean) / self.std
            ys = []
            for s in self.slices:
                y = s(y)
                ys.append(y)
        for s, fy in zip(self.slices, ys):
            x = s(x)
            loss = loss + torch.mean((x - fy) ** 2)
        return loss


def test_the_corrected_seed_class_is_clean():
    from torchvision import models

    report = pk.doctor(Corrected(models.vgg19(weights=None).features))
    assert report.ok, str(report)
    assert report.taps == ["relu1_2", "relu2_2", "relu3_4"]


@pytest.mark.parametrize("which", ["rand19", "hed", "lite"])
def test_the_package_losses_are_clean(which, request):
    bb = request.getfixturevalue(which)
    for loss in (pk.PerceptualLoss(bb), pk.StyleLoss(bb), pk.CombinedLoss(backbone=bb, lambda_style=1.0)):
        report = pk.doctor(loss, size=32)
        assert report.ok, f"{which} {type(loss).__name__}: {report}"
        assert report.neutral == pytest.approx([0.485, 0.456, 0.406], abs=0.01)


def test_bad_arguments():
    with pytest.raises(TypeError, match="nn.Module"):
        pk.doctor(lambda a, b: (a - b).pow(2).mean())
    with pytest.raises(ValueError, match="size"):
        pk.doctor(Tiny(), size=0)
    assert "no problems found" in str(pk.doctor(Tiny(), size=16))


class _Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(c, c, 3, padding=1), nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return x + self.conv2(torch.relu(self.conv1(x)))


class _ResidualLoss(nn.Module):
    """Normalised, frozen, no-grad target; compares the output of two residual blocks (a residual add, not a layer)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.block1, self.block2 = _Residual(8), _Residual(8)
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def feats(self, x):
        a = self.block1(self.stem((x - self.mean) / self.std))
        return a, self.block2(a)

    def forward(self, pred, target):
        with torch.no_grad():
            ta, tb = self.feats(target)
        pa, pb = self.feats(pred)
        return ((pa - ta) ** 2).mean() + ((pb - tb) ** 2).mean()


def test_residual_block_outputs_are_named_as_taps_not_the_conv_before_the_add():
    report = pk.doctor(_ResidualLoss(), size=32)
    assert report.ok, report
    assert report.taps == ["block1 (_Residual)", "block2 (_Residual)"]  # not block2.conv2: its output is not compared


def test_efficientnet_taps_read_as_the_backbone_layer_names():
    bb = pk.load_backbone("efficientnet-lite0", verbose=False)
    assert pk.doctor(pk.PerceptualLoss(bb), size=64).taps == list(bb.default_layers)  # block0 has no skip; the rest add
    assert pk.doctor(pk.PerceptualLoss(bb, layers=["stem", "block1", "head"]), size=64).taps == ["stem", "block1", "head"]


# --- the report's text and the size search, against hand-written expectations ---------------------------


def test_report_text_written_out():
    from IPython.lib.pretty import pretty

    from percepkit.doctor import Finding, Report

    clean = Report(name="L", taps=["relu1_2", "relu3_4"], neutral=(0.5, 0.25, 0.0))
    want = ("doctor(L): no problems found\n"
            "  taps compared by the loss: relu1_2, relu3_4\n"
            "  input colour the first conv treats as zero: (0.500, 0.250, 0.000)  [ImageNet mean: (0.485, 0.456, 0.406)]")
    assert str(clean) == want and repr(clean) == want and pretty(clean) == want
    f = Finding("P1", "error", "no normalisation")
    bad = Report([f, f], name="M")
    assert str(bad) == "doctor(M): 2 finding(s)\n  [error] P1: no normalisation\n  [error] P1: no normalisation"
    assert bad.codes == ["P1", "P1"] and not bad.ok and clean.ok
    assert str(Report(name="z", neutral=(0.0, 0.0, 0.0))).endswith(
        "(0.000, 0.000, 0.000)  [ImageNet mean: (0.485, 0.456, 0.406)]")


class _NeedsSide(nn.Module):
    """A loss that fails below ``need`` pixels and records every input it sees."""

    def __init__(self, need):
        super().__init__()
        self.need, self.seen = need, []

    def forward(self, pred, target):
        self.seen.append((pred.clone(), target.clone()))
        if pred.shape[-1] < self.need:
            raise ValueError("too small")
        return (pred - target).abs().mean()


def test_first_working_size_doubles_then_bisects():
    from percepkit.doctor import _first_working_size

    loss = _NeedsSide(37)
    state = torch.get_rng_state()
    assert _first_working_size(loss, 16, torch.Generator().manual_seed(0)) == 37
    assert torch.equal(torch.get_rng_state(), state)  # the probe images come from its own generator
    assert [p.shape[-1] for p, _ in loss.seen] == [32, 64, 48, 40, 36, 38, 37]
    p, t = loss.seen[0]
    assert p.shape == (1, 3, 32, 32) and torch.equal(t, p.flip(-1))  # one image against its mirror
    assert torch.equal(p, torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0)))
    never = _NeedsSide(10_000)
    assert _first_working_size(never, 100, torch.Generator().manual_seed(0)) is None
    assert [p.shape[-1] for p, _ in never.seen] == [200, 400, 512]  # doubling stops at 512
    capped = _NeedsSide(10_000)
    assert _first_working_size(capped, 300, torch.Generator().manual_seed(0)) is None
    assert [p.shape[-1] for p, _ in capped.seen] == [512]
    edge = _NeedsSide(512)
    assert _first_working_size(edge, 300, torch.Generator().manual_seed(0)) == 512
    assert [p.shape[-1] for p, _ in edge.seen] == [512, 406, 459, 485, 498, 505, 508, 510, 511]


# --- each probe called directly on a small hand-built module, against hand-written findings ---------------

from percepkit.doctor import (  # noqa: E402
    _PROBES,
    CODES,
    Finding,
    _probe_modes,
    _probe_normalisation,
    _probe_parameters,
    _probe_size,
    _probe_taps,
    _probe_target_autograd,
)


def _images(size=16, batch=2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    pred = torch.rand(batch, 3, size, size, generator=gen)
    return pred, (0.7 * pred + 0.3 * torch.rand(batch, 3, size, size, generator=gen)).clamp(0, 1), gen


def _vgg(inplace=False):
    """conv1_1 relu1_1 conv1_2 relu1_2 pool1 conv2_1 relu2_1 (indices 0..6)."""
    return [nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(inplace), nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(inplace),
            nn.MaxPool2d(2), nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(inplace)]


class _Slices(nn.Module):
    """Frozen loss comparing the outputs of ``layers[:e]`` for each ``e`` in ``ends`` (one nn.Sequential per slice).

    ``at_end``: collect every slice's output first and compare afterwards (else compare each slice as it runs,
    like the seed class); ``grad_target``: the target's features are computed with autograd.
    """

    def __init__(self, layers, ends, at_end=False, grad_target=False):
        super().__init__()
        self.slices, prev = nn.ModuleList(), 0
        for e in ends:
            self.slices.append(nn.Sequential(*layers[prev:e]))
            prev = e
        self.at_end, self.grad_target = at_end, grad_target
        self.requires_grad_(False).eval()

    def forward(self, pred, target):
        ys, y = [], target
        with torch.set_grad_enabled(self.grad_target and torch.is_grad_enabled()):
            for s in self.slices:
                y = s(y)
                ys.append(y)
        loss, x, xs = 0.0, pred, []
        for s, fy in zip(self.slices, ys):
            x = s(x)
            if self.at_end:
                xs.append(x)
            else:
                loss = loss + torch.mean((x - fy) ** 2)
        return loss + sum(torch.mean((a - b) ** 2) for a, b in zip(xs, ys))


def test_every_code_has_a_probe_whose_docstring_names_it():
    assert set(_PROBES) == set(CODES)
    assert all(f"``{code}``" in _PROBES[code].__doc__ for code in CODES)


def test_probe_parameters():
    m = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3), nn.BatchNorm2d(4)).requires_grad_(False)
    assert _probe_parameters(m) == []
    m[2].weight.requires_grad_(True)
    m[3].bias.requires_grad_(True)
    assert _probe_parameters(m) == [Finding(
        "trainable-parameters", "error",
        "2 parameter tensor(s) require grad (e.g. '2.weight'): the optimiser would change the loss network; "
        "call loss.requires_grad_(False).")]


def test_probe_modes():
    m = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout2d(0.1), nn.GroupNorm(2, 4),
                      nn.Dropout(0.5)).eval()
    m[0].train()
    m[4].train()  # a conv or GroupNorm in training mode behaves the same: not flagged
    assert _probe_modes(m) == []
    m[5].train()
    assert _probe_modes(m) == [Finding(
        "train-mode", "error",
        "1 BatchNorm/Dropout module(s) are in training mode (e.g. '5'): the loss changes from call to call; "
        "call loss.eval() after building it.")]
    m.train()
    assert _probe_modes(m)[0].message.startswith("3 BatchNorm/Dropout module(s) are in training mode (e.g. '1'): ")


class _Sees(nn.Module):
    """Records (pred, target, grad enabled) of each call; raises ``error`` below ``need`` pixels."""

    def __init__(self, need=1, error=None):
        super().__init__()
        self.need, self.error, self.seen = need, error or ValueError("too small"), []

    def forward(self, pred, target):
        self.seen.append((pred, target, torch.is_grad_enabled()))
        if pred.shape[-1] < self.need:
            raise self.error
        return (pred - target).abs().mean()


def test_probe_size_runs_the_probe_images_once_without_grad():
    pred, target, gen = _images()
    m = _Sees()
    assert _probe_size(m, pred, target, 16, gen) == []
    assert len(m.seen) == 1 and m.seen[0][0] is pred and m.seen[0][1] is target and m.seen[0][2] is False


def test_probe_size_finds_the_smallest_working_side():
    pred, target, gen = _images()
    after = torch.Generator()
    after.set_state(gen.get_state())
    m = _Sees(need=37)
    assert _probe_size(m, pred, target, 16, gen) == [Finding(
        "input-too-small", "error",
        "16x16 inputs are below a layer's minimum size (the loss runs from 37x37): train on crops of at least 37 px "
        "or tap shallower layers (ValueError: too small).")]
    assert [p.shape[-1] for p, _, _ in m.seen] == [16, 32, 64, 48, 40, 36, 38, 37]
    assert torch.equal(m.seen[1][0], torch.rand(1, 3, 32, 32, generator=after))  # the search draws from gen


def test_probe_size_quotes_the_first_line_of_the_error_cut_at_120_characters():
    pred, target, gen = _images()
    m = _Sees(need=20, error=RuntimeError("a" * 130 + "\nsecond line"))
    [f] = _probe_size(m, pred, target, 16, gen)
    assert f.message.endswith(" px or tap shallower layers (RuntimeError: " + "a" * 120 + ").")
    assert "(the loss runs from 20x20)" in f.message


def test_probe_size_raises_when_no_size_works():
    pred, target, gen = _images(size=100, batch=1)
    with pytest.raises(RuntimeError) as info:
        _probe_size(_Sees(need=10_000), pred, target, 100, gen)
    assert str(info.value) == "loss(pred, target) fails on 100x100 and larger probes: too small"
    assert isinstance(info.value.__cause__, ValueError)


class _Affine(nn.Module):
    """x -> M·rgb + c, zero-padded off-centre (12 px left, 8 right, 6 top), then two convs: the first conv sees
    M·rgb + c mid-image (probe side 8: 14 rows, 28 columns) and zeros at a third of the way across. Records the
    shapes it is called on."""

    def __init__(self, mat, c):
        super().__init__()
        self.register_buffer("mat", torch.as_tensor(mat, dtype=torch.float32))
        self.register_buffer("c", torch.as_tensor(c, dtype=torch.float32).view(1, 3, 1, 1))
        self.conv1, self.conv2 = nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 3)
        self.requires_grad_(False).eval()
        self.shapes = []

    def forward(self, pred, target):
        def f(x):
            x = torch.einsum("ij,njhw->nihw", self.mat, x) + self.c
            return self.conv2(torch.relu(self.conv1(nn.functional.pad(x, (12, 8, 6, 0)))))

        self.shapes.append((tuple(pred.shape), tuple(target.shape)))

        return torch.mean((f(pred) - f(target)) ** 2)


_MEAN3, _STD3 = MEAN.flatten(), STD.flatten()
_NO_NORM = ("the first conv receives the [0, 1] RGB image unchanged: ImageNet-trained filters expect (x - mean) / std "
            "with mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225); normalise inside the loss.")


def test_probe_normalisation_imagenet_is_clean():
    m = _Affine(torch.diag(1 / _STD3), -_MEAN3 / _STD3)
    found, neutral = _probe_normalisation(m, 8)
    assert found == [] and neutral == pytest.approx([0.485, 0.456, 0.406], abs=1e-5)
    assert m.shapes == [((1, 3, 8, 8), (1, 3, 8, 8))] * 4  # black, red, green, blue: one image each


class _SixChannels(nn.Module):
    """The first conv sees (rgb, 1 - rgb): six channels, an affine map of the colour that is not 3 x 3."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(6, 4, 3)
        self.requires_grad_(False).eval()

    def forward(self, pred, target):
        def f(x):
            return self.conv(torch.cat([x, 1 - x], dim=1))

        return torch.mean((f(pred) - f(target)) ** 2)


def test_probe_normalisation_skips_a_first_conv_that_does_not_see_three_channels():
    # the neutral colour is defined by a 3 x 3 map; six channels in: not probeable, no finding, no crash
    assert _probe_normalisation(_SixChannels(), 8) == ([], None)


@pytest.mark.parametrize("scale, offset", [(1.0, 0.0), (1.0005, 0.0), (1.0, 0.0005)])
def test_probe_normalisation_flags_the_raw_image(scale, offset):
    found, neutral = _probe_normalisation(_Affine(scale * torch.eye(3), [offset] * 3), 8)
    assert found == [Finding("no-normalisation", "error", _NO_NORM)]
    assert neutral == pytest.approx([-offset / scale] * 3, abs=1e-6)


@pytest.mark.parametrize("scale, offset", [(1.002, 0.0), (1.0, 0.002)])
def test_probe_normalisation_beyond_the_identity_tolerance(scale, offset):
    found, neutral = _probe_normalisation(_Affine(scale * torch.eye(3), [offset] * 3), 8)
    assert found == [] and neutral == pytest.approx([-offset / scale] * 3, abs=1e-6)


def test_probe_normalisation_flags_minus_one_to_one():
    # ((x + 1) / 2 - mean) / std: the neutral colour is 2·mean − 1 = (-0.03, -0.088, -0.188)
    found, neutral = _probe_normalisation(_Affine(torch.diag(0.5 / _STD3), (0.5 - _MEAN3) / _STD3), 8)
    assert found == [Finding(
        "expects-minus-one", "error",
        "the module maps its input as if it were in [-1, 1] (it treats (-0.03, -0.088, -0.188) as neutral, "
        "i.e. 2·mean − 1): feed it 2·x − 1, or drop the rescaling if your images are in [0, 1].")]
    assert neutral == pytest.approx([-0.03, -0.088, -0.188], abs=1e-5)


@pytest.mark.parametrize("shift, flagged", [(0.04, True), (-0.045, True), (0.06, False), (-0.3, False)])
def test_probe_normalisation_minus_one_tolerance(shift, flagged):
    n = 2 * _MEAN3 - 1
    n[1] += shift
    found, neutral = _probe_normalisation(_Affine(torch.eye(3), -n), 8)  # x - n: neutral n
    assert [f.code for f in found] == (["expects-minus-one"] if flagged else [])
    assert neutral == pytest.approx(n.tolist(), abs=1e-5)


def test_probe_normalisation_quotes_the_neutral_colour_to_3_decimals():
    n = torch.tensor([-0.0301, -0.0757, -0.1884])  # within 0.05 of 2·mean − 1
    [f] = _probe_normalisation(_Affine(torch.eye(3), -n), 8)[0]
    assert "(it treats (-0.03, -0.076, -0.188) as neutral, i.e. 2·mean − 1)" in f.message


def test_probe_normalisation_solves_a_mixing_map():
    mat = torch.tensor([[1.0, 0.5, 0.0], [0.0, 2.0, 0.25], [0.1, 0.0, 1.0]])
    c = torch.tensor([0.1, -0.2, 0.3])
    found, neutral = _probe_normalisation(_Affine(mat, c), 8)
    assert found == []
    assert (mat @ torch.tensor(neutral) + c).abs().max() < 1e-5  # the colour mapped to zero


class _FirstConv(nn.Module):
    """The first conv sees something other than an RGB batch: ``kind`` says what."""

    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        self.conv = nn.Conv2d(1 if kind == "grey" else 3, 4, 3)
        self.requires_grad_(False)

    def forward(self, pred, target):
        def f(x):
            if self.kind == "grey":
                return self.conv(x.mean(1, keepdim=True))
            if self.kind == "grey3":
                return self.conv(x.mean(1, keepdim=True).expand(-1, 3, -1, -1))
            if self.kind == "unbatched":
                return self.conv(x[0])
            return x

        return torch.mean((f(pred) - f(target)) ** 2)


@pytest.mark.parametrize("kind", ["grey", "grey3", "unbatched", "no-conv"])
def test_probe_normalisation_is_silent_when_the_first_conv_cannot_be_read(kind):
    assert _probe_normalisation(_FirstConv(kind), 8) == ([], None)


def _pre_message(tapped, deepest):
    return (f"the loss compares {tapped}: outputs *before* their ReLU (each slice stops one index short); the deepest "
            f"layer that runs is {deepest}. End each slice after the ReLU (range(prev, lid + 1)) to tap the relu "
            "layers you named.")


def _inplace_message(hit):
    return (f"{hit}: a tap, then overwritten by an in-place ReLU (inplace=True): anything read after it sees the "
            "activation, not the tap; set inplace=False on the ReLUs (or clone the tap).")


def test_probe_taps_after_the_relus_are_clean():
    pred, target, _ = _images()
    assert _probe_taps(_Slices(_vgg(), (4, 7)), pred, target) == ([], ["relu1_2", "relu2_1"])
    assert _probe_taps(_Slices(_vgg(inplace=True), (4, 7)), pred, target) == ([], ["relu1_2", "relu2_1"])


def test_probe_taps_name_a_pooled_tap_by_its_block():
    # a loss that reads pool1 (the max-pooled relu1_2) and relu2_1: the pool is named by the block it closes
    pred, target, _ = _images()
    assert _probe_taps(_Slices(_vgg(), (5, 7)), pred, target) == ([], ["pool1", "relu2_1"])


def test_probe_taps_before_the_relus():
    pred, target, _ = _images()
    found, taps = _probe_taps(_Slices(_vgg(), (3, 6)), pred, target)
    assert taps == ["conv1_2", "conv2_1"]  # conv2_1 feeds nothing: the last tap, flagged as conv feeds ReLU elsewhere
    assert found == [Finding("pre-activation-tap", "warning", _pre_message("conv1_2, conv2_1", "conv2_1"))]


def test_probe_taps_inplace_relu_after_a_tapped_conv():
    pred, target, _ = _images()
    found, taps = _probe_taps(_Slices(_vgg(inplace=True), (3, 6)), pred, target)  # the seed class's pattern
    assert taps == ["conv1_2", "conv2_1"]
    assert found == [Finding("pre-activation-tap", "warning", _pre_message("conv1_2, conv2_1", "conv2_1")),
                     Finding("inplace-at-tap", "warning", _inplace_message("conv1_2"))]


def test_probe_taps_two_taps_overwritten_in_place():
    pred, target, _ = _images()
    found, taps = _probe_taps(_Slices(_vgg(inplace=True), (1, 3, 6)), pred, target)
    assert taps == ["conv1_1", "conv1_2", "conv2_1"]
    assert found == [Finding("pre-activation-tap", "warning", _pre_message("conv1_1, conv1_2, conv2_1", "conv2_1")),
                     Finding("inplace-at-tap", "warning", _inplace_message("conv1_1, conv1_2"))]


def test_probe_taps_before_an_activation_without_an_inplace_attribute():
    pred, target, _ = _images()
    layers = [nn.Conv2d(3, 4, 3, padding=1), nn.GELU()]
    found, taps = _probe_taps(_Slices(layers, (1, 2)), pred, target)
    assert taps == ["slices.0.0 (Conv2d)", "slices.1.0 (GELU)"]
    assert found == [Finding("pre-activation-tap", "warning", _pre_message("slices.0.0 (Conv2d)", "slices.1.0 (GELU)"))]


class _Unused(nn.Module):
    """Runs all of :func:`_vgg` but compares only relu1_2: pool1, conv2_1 and relu2_1 do not reach the loss."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(*_vgg()).requires_grad_(False)

    def forward(self, pred, target):
        def f(x):
            a = self.features[:4](x)
            self.features[4:](a)
            return a

        with torch.no_grad():
            fy = f(target)
        return torch.mean((f(pred) - fy) ** 2)


class _SideConv(nn.Module):
    """The first conv that runs is one whose output is dropped; then conv -> ReLU, compared."""

    def __init__(self):
        super().__init__()
        self.side, self.conv, self.relu = nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(3, 4, 3, padding=1), nn.ReLU()
        self.requires_grad_(False)

    def forward(self, pred, target):
        def f(x):
            self.side(x)
            return self.relu(self.conv(x))

        with torch.no_grad():
            fy = f(target)
        return torch.mean((f(pred) - fy) ** 2)


def test_probe_taps_layers_that_do_not_reach_the_loss():
    pred, target, _ = _images()
    assert _probe_taps(_Unused(), pred, target) == ([], ["relu1_2"])
    assert _probe_taps(_SideConv(), pred, target) == ([], ["relu1_2"])  # side: conv1_1, never read


def test_probe_taps_inplace_relu_overwrites_a_kept_slice_output():
    # features collected first, compared at the end: slice 0's output is the tensor relu1_2 then overwrites
    pred, target, _ = _images()
    found, taps = _probe_taps(_Slices(_vgg(inplace=True), (3, 6), at_end=True), pred, target)
    assert taps == ["relu1_2", "conv2_1"]
    assert found == [Finding("pre-activation-tap", "warning", _pre_message("conv2_1", "conv2_1")),
                     Finding("inplace-at-tap", "warning", _inplace_message("the output of slices.0"))]


def test_probe_taps_without_any_activation_is_clean():
    pred, target, _ = _images()
    layers = [nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=1)]
    assert _probe_taps(_Slices(layers, (1, 2)), pred, target) == ([], ["conv1_1", "conv1_2"])


def test_probe_taps_not_vgg_like_named_by_path():
    pred, target, _ = _images()
    layers = [nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU()]
    found, taps = _probe_taps(_Slices(layers, (2, 3)), pred, target)
    assert taps == ["slices.0.1 (BatchNorm2d)", "slices.1.0 (ReLU)"]
    assert found == [Finding("pre-activation-tap", "warning",
                             _pre_message("slices.0.1 (BatchNorm2d)", "slices.1.0 (ReLU)"))]


class _Stages(nn.Module):
    """Compares every stage output of a hand-built Backbone (BatchNorm inside: not VGG-like)."""

    def __init__(self, between=None):
        super().__init__()
        from percepkit.backbones import Backbone

        stages = [nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU()),
                  nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU())]
        self.bb = Backbone("tiny", stages, ("s1", "s2"), ("block", "block"), default_layers=("s1", "s2"),
                           style_layers=("s1",), normalization="imagenet", source="test", pretrained=False)
        self.between = between  # a functional op between the stages: then only the last stage is compared

    def forward(self, pred, target):
        def f(x):
            a = self.bb.stages[0](x)
            if self.between:
                return [self.bb.stages[1](a * 0.5 + 0.1)]
            return [a, self.bb.stages[1](a)]

        with torch.no_grad():
            fy = f(target)
        return sum(torch.mean((a - b) ** 2) for a, b in zip(f(pred), fy))


def test_probe_taps_named_by_the_backbone_stage():
    pred, target, _ = _images()
    assert _probe_taps(_Stages(), pred, target) == ([], ["s1", "s2"])
    assert _probe_taps(_Stages(between=True), pred, target) == ([], ["s2"])  # a * 0.5 + 0.1 feeds a layer: not a tap


def test_probe_taps_residual_block_outputs():
    pred, target, _ = _images(size=32)
    assert _probe_taps(_ResidualLoss(), pred, target) == ([], ["block1 (_Residual)", "block2 (_Residual)"])


def test_probe_taps_without_a_graph_to_the_prediction():
    pred, target, _ = _images()
    m = _Sees()
    m.forward = lambda p, t: (p.detach() - t).abs().mean()
    assert _probe_taps(m, pred, target) == ([], [])


def test_probe_target_autograd():
    pred, target, _ = _images()
    assert _probe_target_autograd(_Slices(_vgg(), (4, 7)), pred, target) == []
    assert _probe_target_autograd(_Slices(_vgg(), (4, 7), grad_target=True), pred, target) == [Finding(
        "target-autograd", "warning",
        "the target's features are computed with autograd (3 conv layer(s) record a graph for it): memory and time "
        "for nothing, and gradients flow into the target; compute them under torch.no_grad() (or .detach() them).")]
    pool = _Slices([nn.MaxPool2d(2), nn.ReLU()], (1, 2), grad_target=True)  # a graph, but through no conv/linear
    assert _probe_target_autograd(pool, pred, target) == []


def test_probe_target_autograd_counts_linear_layers():
    pred, target, _ = _images(size=4)
    layers = [nn.Conv2d(3, 2, 3, padding=1), nn.Flatten(), nn.Linear(32, 5)]
    [f] = _probe_target_autograd(_Slices(layers, (1, 3), grad_target=True), pred, target)
    assert "(2 conv layer(s) record a graph for it)" in f.message


def test_doctor_stops_after_input_too_small():
    report = pk.doctor(Tiny(frozen=False, train_bn=True), size=2)
    assert report.codes == ["trainable-parameters", "train-mode", "input-too-small"]
    assert report.taps == [] and report.neutral is None


def _probe_images(seed, batch, size):
    """doctor's probe pair, written out: seeded uniform noise, and a target 70 % of it plus 30 % fresh noise."""
    g = torch.Generator().manual_seed(seed)
    pred = torch.rand(batch, 3, size, size, generator=g)
    return pred, (0.7 * pred + 0.3 * torch.rand(batch, 3, size, size, generator=g)).clamp(0, 1)


class _Recording(Tiny):
    """Tiny, correct, and keeping a copy of every (pred, target) it is called with."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def forward(self, pred, target):
        self.calls.append((pred.detach().clone(), target.detach().clone()))
        return super().forward(pred, target)


def test_the_probe_images_written_out_seeded_and_the_global_stream_untouched():
    import inspect

    assert {k: v.default for k, v in inspect.signature(pk.doctor).parameters.items() if k != "loss_module"} == {
        "size": 64, "batch": 2, "seed": 0}
    pred, target = _probe_images(seed=5, batch=3, size=24)
    m = _Recording()
    state = torch.random.get_rng_state()
    report = pk.doctor(m, size=24, batch=3, seed=5)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert report.ok and report.name == "_Recording"
    probes = [(p, t) for p, t in m.calls if p.shape == (3, 3, 24, 24)]
    assert probes and all(torch.equal(p, pred) and torch.equal(t, target) for p, t in probes)
    assert str(report).startswith("doctor(_Recording): no problems found\n")


def test_too_small_inputs_keep_the_name_and_the_global_stream():
    state = torch.random.get_rng_state()
    report = pk.doctor(Tiny(), size=1)  # 1 is a valid size: far too small for three slices, which is the finding
    assert torch.equal(torch.random.get_rng_state(), state)  # the size search draws from the doctor's own generator
    assert report.codes == ["input-too-small"] and report.name == "Tiny" and str(report).startswith("doctor(Tiny): 1 finding")


def test_bad_arguments_messages_whole():
    with pytest.raises(TypeError, match=r"^expected an nn\.Module used as loss\(pred, target\); got function$"):
        pk.doctor(lambda a, b: (a - b).pow(2).mean())
    for size in (0, -3, 2.0):
        with pytest.raises(ValueError, match=rf"^expected size as a positive int \(the side of the probe images\); "
                                             rf"got {re.escape(repr(size))}$"):
            pk.doctor(Tiny(), size=size)


def test_the_defaults_by_calling_without_them():
    """64-px probes, a batch of 2, seed 0 (called, not read from the signature: a tool that wraps the function
    keeps the original signature, so only a call shows the default that runs)."""
    pred, target = _probe_images(seed=0, batch=2, size=64)
    m = _Recording()
    assert pk.doctor(m).ok
    probes = [(p, t) for p, t in m.calls if p.shape == (2, 3, 64, 64)]
    assert probes and all(torch.equal(p, pred) and torch.equal(t, target) for p, t in probes)


def test_a_report_without_a_name_and_a_loss_that_is_not_a_scalar():
    assert str(pk.Report()) == "doctor(): no problems found"

    class PerPixel(nn.Module):  # returns the whole difference map, not a scalar
        def forward(self, pred, target):
            return (pred - target).abs()

    with pytest.raises(RuntimeError, match=r"^loss\(pred, target\) fails on 16x16 and larger probes: expected loss\(pred, "
                                           r"target\) to return a scalar tensor; got Tensor$"):
        pk.doctor(PerPixel(), size=16)
