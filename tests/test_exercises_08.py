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


_COUNTER = "bn.num_batches_tracked is an integer counter, not a weight: copy a's, do not blend it (got {})"


@pytest.mark.parametrize("wrong, message", [
    (WRONG["alpha runs the wrong way"], "alpha runs the wrong way: alpha = 0 must give a (the MSE network), alpha = 1 gives b"),
    (WRONG["running_mean was copied from a"],
     "bn.running_mean was copied from a, not blended: BatchNorm's running statistics are part of the network (buffers), "
     "so blend every floating-point tensor of the state dict"),
    (WRONG["integer counter, not a weight"], _COUNTER.format("7.5")),  # lerp(7, 9, 0.25)
    (WRONG["changed its inputs in place"],
     "blend_state changed its inputs in place (e.g. with .mul_ or .lerp_): build new tensors"),
    (WRONG["should return a dict"], "blend_state should return a dict name → tensor (a state dict); it returned Linear"),
    (lambda a, b, al: None, "blend_state should return a dict name → tensor (a state dict); it returned NoneType"),
    (WRONG["conv.bias: expected \\[2.0\\]"], "conv.bias: expected [2.0] at alpha = 0.25, got [0.0]"),
    # the counter kept, but as a float; taken from b (9); blended and rounded (7.5 -> 8)
    (lambda a, b, al: {k: torch.lerp(v, b[k], al) if v.is_floating_point() else v.float() for k, v in a.items()},
     _COUNTER.format("7.0")),
    (lambda a, b, al: {k: torch.lerp(v, b[k], al) if v.is_floating_point() else b[k].clone() for k, v in a.items()},
     _COUNTER.format("9")),
    (lambda a, b, al: {k: torch.lerp(v, b[k], al) if v.is_floating_point() else
                       torch.lerp(v.float(), b[k].float(), al).round().long() for k, v in a.items()}, _COUNTER.format("8")),
])
def test_each_verdict_whole(wrong, message):
    with pytest.raises(AssertionError) as e:
        ex.check_blend_state(wrong)
    assert str(e.value) == message


def test_the_right_answer_is_told_so_whole(capsys):
    ex.check_blend_state(right)
    assert capsys.readouterr().out == ("Correct: every floating-point tensor blended as (1 − α)·a + α·b, counters kept, "
                                       "inputs untouched.\n")
