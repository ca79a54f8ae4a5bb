"""Receptive fields (lessons 3 and 4): theoretical, layer by layer, and measured from gradients.

* :func:`receptive_field` -- receptive-field size, jump and start, layer by layer, for a stack
  of conv/pool layers or a torchvision ResNet (walked in forward order by :func:`spatial_layers`);
* :func:`empirical_receptive_field` -- the same quantity measured from the gradient of one
  output location with respect to the input.

Conventions: tensors are (N, C, H, W); pixel centres sit at integer coordinates ``0 .. H-1``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn as nn

from ._validate import check_int, describe_value

__all__ = [
    "RFRow",
    "spatial_layers",
    "receptive_field",
    "format_receptive_field",
    "rf_bounds",
    "EmpiricalRF",
    "empirical_receptive_field",
]


@dataclass(frozen=True)
class RFRow:
    """Receptive field after one layer, along one axis.

    Attributes:
        name, kind: the layer's name and class.
        kernel, stride, padding, dilation: its geometry along the axis.
        size: receptive-field size r in input pixels (of one output unit).
        jump: distance in input pixels between neighbouring output units (product of strides).
        start: input coordinate of the centre of the receptive field of output unit 0
            (pixel centres at 0, 1, ...; can be negative or half-integer).
    """

    name: str
    kind: str
    kernel: int
    stride: int
    padding: int
    dilation: int
    size: int
    jump: int
    start: float


_POINTWISE = (
    "ReLU",
    "ReLU6",
    "LeakyReLU",
    "PReLU",
    "ELU",
    "GELU",
    "SiLU",
    "Sigmoid",
    "Tanh",
    "Hardswish",
    "Hardsigmoid",
    "Mish",
    "BatchNorm2d",
    "GroupNorm",
    "InstanceNorm2d",
    "LayerNorm",
    "Dropout",
    "Dropout2d",
    "Identity",
    "LocalResponseNorm",
)


def _axis_value(v: Any, axis: int) -> int:
    if isinstance(v, (tuple, list)):
        return int(v[axis])
    return int(v)


def spatial_layers(model: nn.Module) -> list[tuple[str, Any]]:
    """The conv/pool layers that set the receptive field, in forward order, with their names.

    Handles ``nn.Sequential`` (and lists of modules), torchvision ``ResNet`` (stem, maxpool,
    ``layer1``..``layer4``; global pooling and ``fc`` are left out) and its ``BasicBlock`` /
    ``Bottleneck`` (main path only: the ``downsample`` shortcut runs in parallel and sees a
    sub-window of the same field). Point-wise layers (ReLU, BatchNorm, Dropout...) are skipped.

    Raises:
        TypeError: for a container whose forward order cannot be known from its structure.
        ValueError: for a layer that ends spatial arithmetic (global pooling, Linear, Flatten)
            or that this helper does not model (transposed convolution, upsampling).
    """
    from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

    out: list[tuple[str, Any]] = []

    def walk(prefix: str, m) -> None:
        kind = type(m).__name__
        if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            out.append((prefix or kind, m))
        elif kind in _POINTWISE:
            return
        elif isinstance(m, ResNet):
            for n in ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"):
                walk(f"{prefix}.{n}" if prefix else n, getattr(m, n))
        elif isinstance(m, (BasicBlock, Bottleneck)):
            names = ("conv1", "conv2") if isinstance(m, BasicBlock) else ("conv1", "conv2", "conv3")
            for n in names:
                walk(f"{prefix}.{n}", getattr(m, n))
        elif isinstance(m, (nn.Sequential, nn.ModuleList)):
            for n, c in m.named_children():
                walk(f"{prefix}.{n}" if prefix else n, c)
        elif isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Linear, nn.Flatten)):
            raise ValueError(
                f"model: layer {prefix or kind!r} ({kind}) pools or mixes the whole input, so its "
                f"receptive field is the whole image; pass only the layers before it"
            )
        elif isinstance(m, (nn.ConvTranspose2d, nn.Upsample)):
            raise ValueError(
                f"model: layer {prefix or kind!r} ({kind}) upsamples; this helper handles "
                f"downsampling stacks (conv / pool) only"
            )
        else:
            raise TypeError(
                f"model: cannot tell the forward order inside {prefix or kind!r} ({kind}); pass an "
                f"nn.Sequential or a list of layers in the order forward() uses them"
            )

    if isinstance(model, (list, tuple)):
        for i, m in enumerate(model):
            if isinstance(m, tuple) and len(m) == 2 and isinstance(m[0], str):
                walk(m[0], m[1])
            elif isinstance(m, nn.Module):
                walk(str(i), m)
            else:
                raise TypeError(f"model[{i}]: expected an nn.Module or a (name, module) pair, got {describe_value(m)}")
    elif isinstance(model, nn.Module):
        walk("", model)
    else:
        raise TypeError(f"model: expected an nn.Module or a list of layers, got {describe_value(model)}")
    if not out:
        raise ValueError("model: found no Conv2d / MaxPool2d / AvgPool2d layer to compute a receptive field from")
    return out


def receptive_field(model: nn.Module, axis: int = 0) -> list[RFRow]:
    """Receptive field size, jump and start after every conv/pool layer of ``model``.

    Recurrence for a layer with kernel k, stride s, padding p, dilation d (``k_eff = d(k-1)+1``)::

        size_out  = size_in + (k_eff - 1) * jump_in
        jump_out  = jump_in * s
        start_out = start_in + ((k_eff - 1) / 2 - p) * jump_in

    starting from the input: size 1, jump 1, start 0.

    Args:
        model: see :func:`spatial_layers` (Sequential, list of layers, torchvision ResNet).
        axis: 0 for the height axis, 1 for the width axis (they differ only for non-square kernels).

    Returns:
        One :class:`RFRow` per conv/pool layer; the last row is the network's receptive field.
    """
    axis = check_int(axis, "axis", min_value=0, max_value=1)
    size, jump, start = 1, 1, 0.0
    rows = []
    for name, m in spatial_layers(model):
        k = _axis_value(m.kernel_size, axis)
        s = _axis_value(m.stride if m.stride is not None else m.kernel_size, axis)
        p = _axis_value(m.padding, axis) if not isinstance(m.padding, str) else None
        if p is None:  # padding="same" / "valid" on Conv2d
            d0 = _axis_value(m.dilation, axis)
            p = (d0 * (k - 1)) // 2 if m.padding == "same" else 0
        d = _axis_value(getattr(m, "dilation", 1), axis)
        k_eff = d * (k - 1) + 1
        start = start + ((k_eff - 1) / 2 - p) * jump
        size = size + (k_eff - 1) * jump
        jump = jump * s
        rows.append(RFRow(name, type(m).__name__, k, s, p, d, size, jump, start))
    return rows


def format_receptive_field(rows: Sequence[RFRow]) -> str:
    """The rows of :func:`receptive_field` as a text table."""
    if not rows or not all(isinstance(r, RFRow) for r in rows):
        raise TypeError("rows: expected the non-empty list returned by layers.receptive_field(...)")
    w = max(len(r.name) for r in rows)
    head = f"{'layer':<{w}}  {'type':<10} {'k':>2} {'s':>2} {'p':>2} {'d':>2}  {'RF size':>7} {'jump':>5} {'start':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.name:<{w}}  {r.kind:<10} {r.kernel:>2} {r.stride:>2} {r.padding:>2} {r.dilation:>2}  "
            f"{r.size:>7} {r.jump:>5} {r.start:>7g}"
        )
    return "\n".join(lines)


def rf_bounds(row: RFRow, index: int) -> tuple[float, float]:
    """First and last input coordinate covered by output unit ``index`` (unclipped; may be < 0).

    ``centre = start + index * jump``; bounds are ``centre -/+ (size - 1) / 2``.
    """
    if not isinstance(row, RFRow):
        raise TypeError(f"row: expected an RFRow from receptive_field(...), got {describe_value(row)}")
    i = check_int(index, "index", min_value=0)
    c = row.start + i * row.jump
    return c - (row.size - 1) / 2, c + (row.size - 1) / 2


@dataclass
class EmpiricalRF:
    """Receptive field of one output location found from input gradients.

    Attributes:
        position: the output location (row, col) whose gradient was taken.
        gradient: (H, W) float array, ``|d output / d input|`` summed over channels.
        rows, cols: (first, last) input row / column with a non-zero gradient.
        clipped: True when the field touches the image border (then it may be larger than seen).
    """

    position: tuple[int, int]
    gradient: np.ndarray = field(repr=False)
    rows: tuple[int, int]
    cols: tuple[int, int]
    clipped: bool

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the bounding box of non-zero gradient."""
        return self.rows[1] - self.rows[0] + 1, self.cols[1] - self.cols[0] + 1

    @property
    def centre(self) -> tuple[float, float]:
        """(row, col) centre of the bounding box of non-zero gradient."""
        return (self.rows[0] + self.rows[1]) / 2, (self.cols[0] + self.cols[1]) / 2


class _DilatedMeanPool(nn.Module):
    """Mean over a (possibly dilated) pooling window: a max-pool's geometry with every input used."""

    def __init__(self, kernel_size, stride, padding, dilation):
        super().__init__()
        self.k, self.s, self.p, self.d = kernel_size, stride, padding, dilation

    def forward(self, x):
        k = (self.k, self.k) if isinstance(self.k, int) else tuple(self.k)
        w = torch.ones(x.shape[1], 1, *k, dtype=x.dtype, device=x.device) / (k[0] * k[1])
        return nn.functional.conv2d(x, w, stride=self.s, padding=self.p, dilation=self.d, groups=x.shape[1])


def _make_all_paths_active(model) -> None:
    """In place: positive constant weights, zero biases, identity batch-norm, max-pool -> mean-pool."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            with torch.no_grad():
                m.weight.fill_(1.0 / max(1, m.weight[0].numel()))
                if m.bias is not None:
                    m.bias.zero_()
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.reset_parameters()  # running mean 0, var 1, weight 1, bias 0
    for parent in list(model.modules()):
        for n, c in list(parent.named_children()):
            if isinstance(c, nn.MaxPool2d):
                if _axis_value(c.dilation, 0) == 1 and _axis_value(c.dilation, 1) == 1:
                    setattr(parent, n, nn.AvgPool2d(c.kernel_size, c.stride, c.padding, ceil_mode=c.ceil_mode))
                elif c.ceil_mode:
                    raise ValueError(f"model: max-pool {n!r} is dilated and uses ceil_mode; not supported")
                else:
                    setattr(parent, n, _DilatedMeanPool(c.kernel_size, c.stride, c.padding, c.dilation))


def empirical_receptive_field(
    model: nn.Module,
    input_shape: Sequence[int],
    position: tuple[int, int] | None = None,
    all_paths: bool = True,
    seed: int = 0,
) -> EmpiricalRF:
    """Find which input pixels influence one output location, from ``d output / d input``.

    The gradient of ``output[0, :, i, j].sum()`` with respect to the input is non-zero exactly on
    the pixels that can reach that location -- provided no path is switched off. With
    ``all_paths=True`` (default) a copy of the model gets positive constant weights, zero
    biases, identity batch-norm and average- instead of max-pooling (same geometry) and is fed
    an all-ones input, so every ReLU passes and every path carries gradient. With
    ``all_paths=False`` the model is used as it is (eval mode) on a random input: what you see is
    the *effective* receptive field of those weights.

    Args:
        model: a module mapping (1, C, H, W) to (1, K, H', W') (a dict output uses ``"out"``).
        input_shape: (C, H, W) or (1, C, H, W).
        position: output location (row, col); default the centre ``(H'//2, W'//2)``.
        all_paths: see above.
        seed: seed of the random input when ``all_paths=False``.

    Returns:
        An :class:`EmpiricalRF`. The model passed in is not modified.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {describe_value(model)}")
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list, torch.Size)) else None
    if shape is None or len(shape) not in (3, 4) or (len(shape) == 4 and shape[0] != 1):
        raise ValueError(f"input_shape: expected (C, H, W) or (1, C, H, W), got {input_shape!r}")
    dims = [check_int(v, f"input_shape[{i}]", min_value=1) for i, v in enumerate(shape)]
    if len(dims) == 3:
        dims = [1] + dims
    net = copy.deepcopy(model).eval()
    p0 = next(net.parameters(), None)
    dtype = p0.dtype if p0 is not None else torch.float32
    dev = p0.device if p0 is not None else torch.device("cpu")
    if all_paths:
        _make_all_paths_active(net)
        x = torch.ones(dims, dtype=dtype, device=dev)
    else:
        g = torch.Generator().manual_seed(int(seed))
        x = torch.randn(dims, generator=g, dtype=dtype).to(dev)
    with torch.enable_grad():  # works inside torch.no_grad() too
        x.requires_grad_(True)
        y = net(x)
        if isinstance(y, dict):
            y = y["out"]
        if not isinstance(y, torch.Tensor) or y.ndim != 4:
            raise ValueError(f"model: expected a (1, K, H', W') output, got {describe_value(y)}")
        oh, ow = y.shape[-2:]
        if position is None:
            position = (oh // 2, ow // 2)
        if not (isinstance(position, (tuple, list)) and len(position) == 2):
            raise ValueError(f"position: expected an output location (row, col), got {position!r}")
        i = check_int(position[0], "position[0]", min_value=0, max_value=oh - 1)
        j = check_int(position[1], "position[1]", min_value=0, max_value=ow - 1)
        (grad,) = torch.autograd.grad(y[0, :, i, j].sum(), x)
    grad = grad[0].abs().sum(0).detach().cpu().double().numpy()
    nz_r = np.flatnonzero(grad.any(axis=1))
    nz_c = np.flatnonzero(grad.any(axis=0))
    if nz_r.size == 0:
        raise ValueError(
            f"model: the gradient of output location {(i, j)} is zero everywhere (all paths switched "
            f"off); try all_paths=True"
        )
    H, W = dims[-2:]
    rows, cols = (int(nz_r[0]), int(nz_r[-1])), (int(nz_c[0]), int(nz_c[-1]))
    clipped = rows[0] == 0 or cols[0] == 0 or rows[1] == H - 1 or cols[1] == W - 1
    return EmpiricalRF((i, j), grad.astype(np.float32), rows, cols, clipped)
