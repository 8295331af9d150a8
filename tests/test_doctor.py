"""pk.doctor: each classic bug injected alone is flagged with exactly its code; correct modules are clean."""

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
