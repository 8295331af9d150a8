"""The 08 exercise check (network interpolation of two state dicts) accepts a right answer and names each typical
mistake; the expected verdicts are written out by hand, not computed with percepkit.interpolate_networks."""

import pytest
import torch

from percepkit import exercises as ex


def right(a, b, alpha):
    return {k: torch.lerp(v, b[k], alpha) if v.is_floating_point() else v.clone() for k, v in a.items()}


def test_right_answer_passes(capsys):
    ex.check_blend_state(right)
    assert "Correct" in capsys.readouterr().out


def test_a_by_hand_loop_passes():
    def by_hand(a, b, alpha):
        out = {}
        for k in a:
            out[k] = (1 - alpha) * a[k] + alpha * b[k] if a[k].dtype == torch.float32 else a[k].clone()
        return out

    ex.check_blend_state(by_hand)


WRONG = {
    "alpha runs the wrong way": lambda a, b, al: {k: torch.lerp(v, b[k], 1 - al) if v.is_floating_point() else v
                                                  for k, v in a.items()},
    "running_mean was copied from a": lambda a, b, al: {k: torch.lerp(v, b[k], al) if ("running" not in k and
                                                        v.is_floating_point()) else v.clone() for k, v in a.items()},
    "integer counter, not a weight": lambda a, b, al: {k: torch.lerp(v.float(), b[k].float(), al) for k, v in a.items()},
    "changed its inputs in place": lambda a, b, al: {k: v.lerp_(b[k], al) if v.is_floating_point() else v
                                                     for k, v in a.items()},
    "should return a dict": lambda a, b, al: torch.nn.Linear(1, 1),
    "missing \\['bn.num_batches_tracked'\\]": lambda a, b, al: {k: torch.lerp(v, b[k], al) for k, v in a.items()
                                                                if v.is_floating_point()},
    "conv.bias: expected \\[2.0\\]": lambda a, b, al: {k: (torch.lerp(v, b[k], al) if k != "conv.bias" else v.clone())
                                                      if v.is_floating_point() else v.clone() for k, v in a.items()},
}


@pytest.mark.parametrize("diagnosis", list(WRONG))
def test_typical_mistakes_are_named(diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        ex.check_blend_state(WRONG[diagnosis])
