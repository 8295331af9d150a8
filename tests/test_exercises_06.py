"""The notebook-06 checks accept the reference answers and reject typical wrong ones."""

import pytest
import torch
import torch.nn as nn

import percepkit as pk
from percepkit import exercises as ex


def buggy_extract(features, x, indices):
    out = {}
    for i, m in enumerate(features):
        x = m(x)
        if i in indices:
            out[i] = x
    return out


def clone_extract(features, x, indices):
    out = {}
    for i, m in enumerate(features):
        x = m(x)
        if i in indices:
            out[i] = x.clone()
    return out


def test_check_feature_extractor_accepts_fixes():
    ex.check_feature_extractor(clone_extract)

    def no_inplace(features, x, indices):
        for m in features:
            if isinstance(m, nn.ReLU):
                m.inplace = False
        return buggy_extract(features, x, indices)

    ex.check_feature_extractor(no_inplace)


def test_check_feature_extractor_rejects_the_aliasing_bug():
    with pytest.raises(AssertionError, match="in-place ReLU"):
        ex.check_feature_extractor(buggy_extract)


def test_check_feature_extractor_rejects_off_by_one_and_bad_types():
    def off_by_one(features, x, indices):
        full = clone_extract(features, x, [max(i - 1, 0) for i in indices])
        return {i: full[max(i - 1, 0)] for i in indices}  # relu1_1 wanted, conv1_1 taken

    with pytest.raises(AssertionError):
        ex.check_feature_extractor(off_by_one)
    with pytest.raises(AssertionError, match="dict"):
        ex.check_feature_extractor(lambda f, x, i: [x])


@pytest.mark.parametrize("name", ["vgg19-caffe", "vgg19-random"])
def test_preprocess_reference_matches_backbone_normalize(name):
    if name not in pk.available_backbones():
        pytest.skip(f"{name} not available")
    bb = pk.load_backbone(name, verbose=False)
    x = torch.rand(1, 3, 4, 4)
    assert torch.allclose(ex.preprocess_reference(x, bb.normalization), bb.normalize(x), atol=1e-3)


def test_preprocess_reference_caffe_by_hand():
    x = torch.zeros(1, 3, 1, 1)
    x[0, 0] = 1.0  # pure red: 255 in the last (R) channel after the swap
    want = torch.tensor([-103.939, -116.779, 255 - 123.68]).view(1, 3, 1, 1)
    assert torch.allclose(ex.preprocess_reference(x, "caffe"), want, atol=1e-4)


def test_check_preprocess():
    ex.check_preprocess(ex.preprocess_reference)
    for wrong, message in [
        (lambda x, n: ex.preprocess_reference(x.flip(1), n), "channel order"),
        (lambda x, n: ex.preprocess_reference(x / 255, n) if n == "caffe" else ex.preprocess_reference(x, n), "scale"),
        (lambda x, n: ex.preprocess_reference(x * 255, n) if n == "imagenet" else ex.preprocess_reference(x, n), "scale"),
        (lambda x, n: x, "without any normalisation"),
        (lambda x, n: ex.preprocess_reference(x, n) + 1, "differ"),
        (lambda x, n: None, "shape"),
    ]:
        with pytest.raises(AssertionError, match=message):
            ex.check_preprocess(wrong)
    with pytest.raises(ValueError, match="imagenet"):
        ex.preprocess_reference(torch.rand(1, 3, 2, 2), "tf")
