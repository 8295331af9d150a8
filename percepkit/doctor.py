"""``doctor(loss)``: probe any perceptual-loss module ``loss(pred, target)`` for the classic bugs.

The probes inspect submodules and run hooked forward passes on small seeded inputs, so they
work on any ``nn.Module`` (yours, a blog post's, the package's). Each finding has a code, a
severity and a sentence naming the fix:

===================== ======== ====================== ==========================================================
code                  severity probe                  what it means
===================== ======== ====================== ==========================================================
trainable-parameters  error    _probe_parameters      the loss network's weights would be trained along with yours
train-mode            error    _probe_modes           BatchNorm/Dropout inside the loss run in training mode
no-normalisation      error    _probe_normalisation   the first conv sees raw [0, 1] RGB (no ImageNet mean/std)
expects-minus-one     error    _probe_normalisation   the input is mapped as if it were in [-1, 1], not [0, 1]
inplace-at-tap        warning  _probe_taps            a tapped tensor is then overwritten by an in-place ReLU
pre-activation-tap    warning  _probe_taps            a tap is a conv/BatchNorm output that a ReLU follows
                                                      (slices ending *before* the named index: conv1_2, not relu1_2)
input-too-small       error    _probe_size            the probe size is below a layer's minimum input size
target-autograd       warning  _probe_target_autograd the target's features are computed with autograd
===================== ======== ====================== ==========================================================

Each probe is a small private function returning its findings (``_PROBES`` maps code -> probe);
``doctor()`` runs them in the order trainable-parameters, train-mode, input-too-small (which ends
the run: nothing else can be probed at that size), normalisation, taps, target-autograd.

How the probes work: constant-colour images go in, and a hook on the first ``Conv2d``
reads what it receives: that gives the affine map ``A·rgb + b`` the module applies to its input,
and the colour it maps to zero (ImageNet's mean for a correctly normalised module, black
for none, ``2·mean − 1`` for one that expects [-1, 1]). A forward with only the prediction
requiring grad is walked backwards from the loss: a module output used by the loss other
than through the next layer is a *tap*. A forward with only the target requiring grad tells
whether the target's features are built with autograd.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn as nn

from .backbones import Backbone

__all__ = ["Finding", "Report", "doctor", "CODES"]

CODES = ("trainable-parameters", "train-mode", "no-normalisation", "expects-minus-one", "inplace-at-tap",
         "pre-activation-tap", "input-too-small", "target-autograd")

_IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406])
_ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Hardtanh, nn.PReLU, nn.Hardswish)
_PRE = (nn.Conv2d, nn.BatchNorm2d, nn.Linear)


class Finding(NamedTuple):
    """One problem: ``code`` (see :data:`CODES`), ``severity`` (``"error"``/``"warning"``), ``message``."""

    code: str
    severity: str
    message: str

    def __str__(self) -> str:
        return f"[{self.severity}] {self.code}: {self.message}"


class Report(list):
    """A list of :class:`Finding`, printable; ``codes`` lists their codes, ``ok`` is True when empty.

    ``taps`` names the tensors the loss compares (VGG-style names where the network is a plain
    conv/ReLU/pool stack), ``first_conv_sees`` the input colour the module treats as neutral.
    """

    def __init__(self, findings=(), name: str = "", taps=(), neutral=None):
        super().__init__(findings)
        self.name, self.taps, self.neutral = name, list(taps), neutral

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self]

    @property
    def ok(self) -> bool:
        return len(self) == 0

    def __str__(self) -> str:
        head = f"doctor({self.name}): " + ("no problems found" if self.ok else f"{len(self)} finding(s)")
        lines = [head]
        if self.taps:
            lines.append("  taps compared by the loss: " + ", ".join(self.taps))
        if self.neutral is not None:
            lines.append("  input colour the first conv treats as zero: (" + ", ".join(f"{v:.3f}" for v in self.neutral)
                         + ")  [ImageNet mean: (0.485, 0.456, 0.406)]")
        lines += [f"  {f}" for f in self]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, p, cycle) -> None:  # IPython prints the text, not the list
        p.text(str(self))


# --------------------------------------------------------------------------- hooks


class _Recorder:
    """Forward hooks on every leaf module: the grad_fn of each output, the first conv's input."""

    def __init__(self, module: nn.Module):
        self.names = {m: n for n, m in module.named_modules()}
        self.node_of: dict = {}  # grad_fn node -> leaf module that produced it (first producer wins)
        self.block_of: dict = {}  # grad_fn node -> container whose own op (a residual add, say) produced it
        self.containers_of: dict = {}  # grad_fn node -> containers that returned it (innermost first)
        self.order: list[nn.Module] = []  # leaf calls in execution order
        self.conv_input = None
        self.handles = []
        self.returned: list = []  # (container name, tensor it returned): what a caller may keep as a tap
        self.overwritten: list[str] = []  # containers whose returned tensor an in-place activation changed
        for m in module.modules():
            if list(m.children()) and m is not module:
                self.handles.append(m.register_forward_hook(self._container))
            if not list(m.children()):
                self.handles.append(m.register_forward_hook(self._hook))
                if isinstance(m, nn.Conv2d):
                    self.handles.append(m.register_forward_pre_hook(self._pre))

    def _pre(self, m, inputs):
        if self.conv_input is None and inputs and torch.is_tensor(inputs[0]):
            self.conv_input = inputs[0].detach().float().clone()

    def _container(self, m, inputs, out):
        if torch.is_tensor(out) and out.grad_fn is not None:
            self.returned.append((self.names.get(m, "?"), out))
            self.containers_of.setdefault(out.grad_fn, []).append(m)
            if out.grad_fn not in self.node_of:  # not a leaf's output passed through: the block's own result
                self.block_of.setdefault(out.grad_fn, m)

    def _hook(self, m, inputs, out):
        if getattr(m, "inplace", False) and inputs and torch.is_tensor(inputs[0]):
            self.overwritten += [n for n, t in self.returned if t is inputs[0] and n not in self.overwritten]
        if torch.is_tensor(out) and out.grad_fn is not None:  # only the calls on the input that requires grad
            self.order.append(m)
            self.node_of.setdefault(out.grad_fn, m)
        return None

    def remove(self):
        for h in self.handles:
            h.remove()


def _vgg_names(order) -> dict:
    """convB_N / reluB_N / poolB names by execution order, when the stack is VGG-like."""
    names, block, n = {}, 1, 0
    for m in order:
        if isinstance(m, nn.Conv2d):
            n += 1
            names.setdefault(m, f"conv{block}_{n}")
        elif isinstance(m, nn.ReLU):
            names.setdefault(m, f"relu{block}_{n}")
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            names.setdefault(m, f"pool{block}")
            block, n = block + 1, 0
        else:
            return {}
    return names


def _consumers(loss: torch.Tensor) -> dict:
    """node -> set of nodes that consume its output, for the graph behind ``loss``."""
    seen, stack, cons = set(), [loss.grad_fn], {}
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        for nxt, _ in node.next_functions:
            if nxt is not None:
                cons.setdefault(nxt, set()).add(node)
                stack.append(nxt)
    return cons


# --------------------------------------------------------------------------- probes


def _call(loss_module, pred, target):
    out = loss_module(pred, target)
    if not torch.is_tensor(out) or out.numel() != 1:
        raise TypeError(f"expected loss(pred, target) to return a scalar tensor; got {type(out).__name__}")
    return out.reshape(())


def _first_working_size(loss_module, size: int, gen) -> int | None:
    """Smallest square side in (size, 512] for which the loss runs, by doubling then bisection."""
    lo, hi = size, None
    side = size
    while side < 512:
        side = min(2 * side, 512)
        if _runs(loss_module, side, gen):
            hi = side
            break
        lo = side
    if hi is None:
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _runs(loss_module, mid, gen):
            hi = mid
        else:
            lo = mid
    return hi


def _runs(loss_module, side, gen) -> bool:
    x = torch.rand(1, 3, side, side, generator=gen)
    try:
        with torch.no_grad():
            _call(loss_module, x, x.flip(-1))
        return True
    except Exception:
        return False


def _neutral_colour(loss_module, size: int):
    """(A, b) of the map rgb -> what the first conv receives, from constant images; None if not probeable."""
    rec = _Recorder(loss_module)
    try:
        rows = []
        for colour in ([0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]):
            img = torch.tensor(colour).view(1, 3, 1, 1).expand(1, 3, size, size).contiguous()
            rec.conv_input = None
            with torch.no_grad():
                _call(loss_module, img, img.clone())  # same colour: either call is the one seen
            seen = rec.conv_input
            if seen is None or seen.dim() != 4 or seen.shape[1] != 3:
                return None
            rows.append(seen[0, :, seen.shape[2] // 2, seen.shape[3] // 2].double())  # centre: padding-proof
    finally:
        rec.remove()
    b = rows[0]
    a = torch.stack([r - b for r in rows[1:]], dim=1)  # column c: response to channel c
    if torch.linalg.matrix_rank(a) < 3:
        return None
    return a, b


def _probe_parameters(loss_module) -> list[Finding]:
    """``trainable-parameters``: any parameter that requires grad (inspection only)."""
    trainable = [n for n, p in loss_module.named_parameters() if p.requires_grad]
    if not trainable:
        return []
    return [Finding("trainable-parameters", "error",
                    f"{len(trainable)} parameter tensor(s) require grad (e.g. {trainable[0]!r}): the "
                    "optimiser would change the loss network; call loss.requires_grad_(False).")]


def _probe_modes(loss_module) -> list[Finding]:
    """``train-mode``: BatchNorm or Dropout modules in training mode (inspection only)."""
    noisy = [n for n, m in loss_module.named_modules()
             if m.training and isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.modules.dropout._DropoutNd))]
    if not noisy:
        return []
    return [Finding("train-mode", "error",
                    f"{len(noisy)} BatchNorm/Dropout module(s) are in training mode (e.g. {noisy[0]!r}): "
                    "the loss changes from call to call; call loss.eval() after building it.")]


def _probe_size(loss_module, pred, target, size: int, gen) -> list[Finding]:
    """``input-too-small``: the loss fails on the probe images but runs on a larger square side.

    Raises RuntimeError when it fails on every side up to 512 (not a size problem).
    """
    try:
        with torch.no_grad():
            _call(loss_module, pred, target)
    except Exception as e:  # noqa: BLE001 - any failure at this size is the finding
        need = _first_working_size(loss_module, size, gen)
        if need is None:
            raise RuntimeError(f"loss(pred, target) fails on {size}x{size} and larger probes: {e}") from e
        return [Finding("input-too-small", "error",
                        f"{size}x{size} inputs are below a layer's minimum size (the loss runs from "
                        f"{need}x{need}): train on crops of at least {need} px or tap shallower layers "
                        f"({type(e).__name__}: {str(e).splitlines()[0][:120]}).")]
    return []


def _probe_normalisation(loss_module, size: int) -> tuple[list[Finding], list[float] | None]:
    """``no-normalisation`` / ``expects-minus-one``: which input colour does the first conv treat as zero?

    Returns the findings and that neutral colour (None when the module cannot be probed this way).
    """
    fit = _neutral_colour(loss_module, size)
    if fit is None:
        return [], None
    a, b = fit
    neutral = (-torch.linalg.solve(a, b)).float()
    mean = _IMAGENET_MEAN
    d_ok = float((neutral - mean).abs().max())
    d_pm = float((neutral - (2 * mean - 1)).abs().max())
    identity = float((a - torch.eye(3, dtype=a.dtype)).abs().max()) < 1e-3 and float(b.abs().max()) < 1e-3
    findings = []
    if identity:
        findings.append(Finding("no-normalisation", "error",
                                "the first conv receives the [0, 1] RGB image unchanged: ImageNet-trained "
                                "filters expect (x - mean) / std with mean (0.485, 0.456, 0.406) and std "
                                "(0.229, 0.224, 0.225); normalise inside the loss."))
    elif d_pm < 0.05 and d_pm < d_ok:
        findings.append(Finding("expects-minus-one", "error",
                                "the module maps its input as if it were in [-1, 1] (it treats "
                                f"{tuple(round(v, 3) for v in neutral.tolist())} as neutral, i.e. 2·mean − 1): "
                                "feed it 2·x − 1, or drop the rescaling if your images are in [0, 1]."))
    return findings, neutral.tolist()


def _labeller(loss_module, rec: _Recorder):
    """module -> its name in a report: VGG-style, else a Backbone's layer name, else ``path (Type)``."""
    names = {m: n for n, m in loss_module.named_modules()}
    vgg = _vgg_names(rec.order)
    stage_names = {st: bb.layer_names[i] for bb in loss_module.modules() if isinstance(bb, Backbone)
                   for i, st in enumerate(bb.stages)}
    for node, m in rec.node_of.items():  # a leaf whose output a backbone stage returns: the stage's name
        for c in rec.containers_of.get(node, ()):
            if c in stage_names:
                stage_names.setdefault(m, stage_names[c])

    def label(m):
        return vgg.get(m) or stage_names.get(m) or f"{names.get(m, '?')} ({type(m).__name__})"

    return label


def _find_taps(rec: _Recorder, cons: dict):
    """(taps, pre, inplace): the modules whose outputs the loss reads other than through the next layer,
    those of them that are pre-activation outputs, and those an in-place activation then consumes."""
    conv_feeds_act = any(isinstance(m, nn.Conv2d) and any(isinstance(rec.node_of.get(u), _ACTIVATIONS)
                                                          for u in cons.get(node, ()))
                         for node, m in rec.node_of.items())
    taps, pre, inplace = [], [], []
    memo: dict = {}

    def feeds_layer(node) -> bool:  # does this (non-module) op's result go on into a module?
        if node not in memo:
            memo[node] = False
            memo[node] = any(c in rec.node_of or c in rec.block_of or feeds_layer(c)
                             for c in cons.get(node, ()))
        return memo[node]

    for node, m in [*rec.node_of.items(), *rec.block_of.items()]:
        users = cons.get(node, set())
        user_mods = [rec.node_of.get(u) for u in users]
        if not any(u not in rec.node_of and u not in rec.block_of and not feeds_layer(u) for u in users):
            continue  # consumed only on the way to the next layer(s): not a tap
        if m not in taps:
            taps.append(m)
        acts = [u for u in user_mods if isinstance(u, _ACTIVATIONS)]
        only_loss = all(u is None for u in user_mods)  # the last tap: nothing runs after it
        if (acts and isinstance(m, _PRE)) or (only_loss and isinstance(m, nn.Conv2d) and conv_feeds_act):
            pre.append(m)
        if any(getattr(u, "inplace", False) for u in acts):
            inplace.append(m)
    return taps, pre, inplace


def _probe_taps(loss_module, pred, target) -> tuple[list[Finding], list[str]]:
    """``pre-activation-tap`` / ``inplace-at-tap``: a forward where only the prediction requires grad,
    walked back from the loss to find the taps.

    Returns the findings and the taps' names (empty when the loss has no graph back to ``pred``).
    """
    rec = _Recorder(loss_module)
    try:
        x = pred.clone().requires_grad_(True)
        out = _call(loss_module, x, target)
    finally:
        rec.remove()
    if out.grad_fn is None:
        return [], []
    taps, pre, inplace = _find_taps(rec, _consumers(out))
    label = _labeller(loss_module, rec)
    findings = []
    if pre:
        tapped = ", ".join(label(m) for m in pre)
        deepest = label(rec.order[-1]) if rec.order else "?"
        findings.append(Finding("pre-activation-tap", "warning",
                                f"the loss compares {tapped}: outputs *before* their ReLU (each slice stops "
                                "one index short); the deepest layer that runs is "
                                f"{deepest}. End each slice after the ReLU (range(prev, lid + 1)) to tap the "
                                "relu layers you named."))
    hit = [label(m) for m in inplace] or [f"the output of {n}" for n in rec.overwritten]
    if hit:
        findings.append(Finding("inplace-at-tap", "warning",
                                f"{', '.join(hit)}: a tap, then "
                                "overwritten by an in-place ReLU (inplace=True): anything read after it sees "
                                "the activation, not the tap; set inplace=False on the ReLUs (or clone the tap)."))
    return findings, [label(m) for m in taps]


def _probe_target_autograd(loss_module, pred, target) -> list[Finding]:
    """``target-autograd``: a forward where only the target requires grad records a graph through conv/linear layers."""
    rec = _Recorder(loss_module)
    try:
        y = target.clone().requires_grad_(True)
        _call(loss_module, pred, y)
    finally:
        rec.remove()
    graphed = [m for m in rec.node_of.values() if isinstance(m, (nn.Conv2d, nn.Linear))]
    if not graphed:
        return []
    return [Finding("target-autograd", "warning",
                    f"the target's features are computed with autograd ({len(graphed)} conv layer(s) "
                    "record a graph for it): memory and time for nothing, and gradients flow into "
                    "the target; compute them under torch.no_grad() (or .detach() them).")]


# code -> the probe that reports it; doctor() runs them in this order (input-too-small stops it early)
_PROBES = {
    "trainable-parameters": _probe_parameters,
    "train-mode": _probe_modes,
    "input-too-small": _probe_size,
    "no-normalisation": _probe_normalisation,
    "expects-minus-one": _probe_normalisation,
    "pre-activation-tap": _probe_taps,
    "inplace-at-tap": _probe_taps,
    "target-autograd": _probe_target_autograd,
}


def doctor(loss_module, size: int = 64, batch: int = 2, seed: int = 0) -> Report:
    """Probe a perceptual-loss module for the classic bugs and return a printable :class:`Report`.

    Args:
        loss_module: any callable ``nn.Module`` used as ``loss(pred, target)`` on float RGB
            (N, 3, H, W) images in [0, 1], returning a scalar tensor.
        size: the side of the square probe images: use the crop size you train on.
        batch: images per probe batch.
        seed: seeds the probe images (the global RNG is not touched).

    Returns:
        Report: a list of :class:`Finding` (empty when nothing is wrong), each with a code
        from :data:`CODES`, a severity and a sentence saying what to fix.
    """
    if not isinstance(loss_module, nn.Module):
        raise TypeError(f"expected an nn.Module used as loss(pred, target); got {type(loss_module).__name__}")
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"expected size as a positive int (the side of the probe images); got {size!r}")
    name = type(loss_module).__name__
    findings = _probe_parameters(loss_module) + _probe_modes(loss_module)  # inspection only

    gen = torch.Generator().manual_seed(seed)
    pred = torch.rand(batch, 3, size, size, generator=gen)
    target = (0.7 * pred + 0.3 * torch.rand(batch, 3, size, size, generator=gen)).clamp(0, 1)
    flags = {p: p.requires_grad for p in loss_module.parameters()}
    modes = {m: m.training for m in loss_module.modules()}
    try:
        loss_module.requires_grad_(False)  # the probes below see only the inputs' graphs
        for m in modes:  # no BatchNorm statistics are updated by a probe
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.eval()
        too_small = _probe_size(loss_module, pred, target, size, gen)
        if too_small:
            return Report(findings + too_small, name)
        found, neutral = _probe_normalisation(loss_module, size)
        findings += found
        found, taps = _probe_taps(loss_module, pred, target)
        findings += found
        findings += _probe_target_autograd(loss_module, pred, target)
    finally:
        for p, f in flags.items():
            p.requires_grad_(f)
        for m, t in modes.items():
            m.training = t
    return Report(findings, name, taps, neutral)
