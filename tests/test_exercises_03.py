"""The 03 receptive-field check: its reference agrees with Backbone.describe, and it rejects wrong answers."""

import pytest

import percepkit as pk
from percepkit import exercises as ex
from percepkit import exercises_01_05 as ex15


def rf(layers):
    r, j = 1, 1
    for k, s in layers:
        r, j = r + (k - 1) * j, j * s
    return r


def test_accepts_the_recurrence(capsys):
    ex.check_receptive_field(rf)
    assert "Correct" in capsys.readouterr().out


def test_accepts_an_integral_float():
    ex.check_receptive_field(lambda layers: float(rf(layers)))


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda layers: 1 + sum(k - 1 for k, _ in layers), "ignored the strides"),
        (lambda layers: sum(k for k, _ in layers), "the receptive field is"),
        (lambda layers: rf(layers) + 1, "the receptive field is"),
        (lambda layers: str(rf(layers)), "should return an int"),
    ],
)
def test_rejects_wrong_answers(wrong, message):
    with pytest.raises(AssertionError, match=message):
        ex.check_receptive_field(wrong)


def test_reference_agrees_with_describe_on_vgg16_layers():
    """The VGG16 case of the check equals what Backbone.describe reports for relu5_3 (vgg19's convs differ in count)."""
    vgg16 = ex15._RF_CASES["VGG16 up to relu5_3"]
    assert ex15._receptive_field(vgg16) == 196
    table = pk.load_backbone("vgg19-random", verbose=False).describe(64)
    by_name = {r.name: r.receptive_field for r in table}
    vgg19_to_relu5_4 = [(3, 1)] * 2 + [(2, 2)] + [(3, 1)] * 2 + [(2, 2)] + ([(3, 1)] * 4 + [(2, 2)]) * 2 + [(3, 1)] * 4
    assert ex15._receptive_field(vgg19_to_relu5_4) == by_name["relu5_4"]
    assert ex15._receptive_field([(3, 1)] * 2 + [(2, 2)] + [(3, 1)] * 2) == by_name["relu2_2"]
