"""The 02 exercise check accepts a correct per-layer feature distance and rejects common mistakes."""

import pytest

import percepkit as pk
from percepkit import exercises as ex


@pytest.fixture(scope="module")
def backbone():
    return pk.load_backbone("vgg19-random", verbose=False)


def reference(backbone, x, y, layer):
    return (backbone(x, [layer])[layer] - backbone(y, [layer])[layer]).square().mean()


def test_accepts_the_reference_as_tensor_or_float(backbone, capsys):
    ex.check_feature_distance(reference, backbone)
    ex.check_feature_distance(lambda *a: float(reference(*a)), backbone)
    ex.check_feature_distance(lambda b, x, y, l: pk.PerceptualLoss(b, [l])(x, y), backbone)
    assert capsys.readouterr().out.count("Correct") == 3


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda b, x, y, l: (b(x, [l])[l] - b(y, [l])[l]).square().sum(), "C·H·W times too large"),
        (lambda b, x, y, l: reference(b, x, y, l).sqrt(), "square root"),
        (lambda b, x, y, l: (x - y).square().mean(), "expected"),
        (lambda b, x, y, l: reference(b, x, y, b.default_layers[0]), "expected"),  # always the shallow layer
        (lambda b, x, y, l: (b(x, [l])[l] - b(y, [l])[l]).square().mean(dim=(2, 3)), "one number"),
        (lambda b, x, y, l: "0.1", "float or a scalar tensor"),
    ],
)
def test_rejects_wrong_answers(backbone, wrong, message):
    with pytest.raises(AssertionError, match=message):
        ex.check_feature_distance(wrong, backbone)


def test_checks_a_shallow_and_a_deep_layer(backbone):
    seen = []

    def spy(b, x, y, l):
        seen.append(l)
        return reference(b, x, y, l)

    ex.check_feature_distance(spy, backbone)
    assert backbone.default_layers[0] in seen and backbone.default_layers[-1] in seen
