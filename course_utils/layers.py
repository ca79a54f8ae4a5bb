"""Arithmetic of convolutional layers: output sizes, layer tables, receptive fields.

Four tools used by lessons 2 and 4:

* :func:`conv_output_size` / :func:`conv_transpose_output_size` -- the size formulas that
  ``nn.Conv2d``, ``nn.MaxPool2d``, ``nn.AvgPool2d`` and ``nn.ConvTranspose2d`` implement;
* :func:`summarize` -- a layer-by-layer table (output shape, parameters, output memory,
  multiply-accumulates) recorded with forward hooks, printed by :func:`format_summary`;
* :func:`receptive_field` -- receptive-field size, jump and start, layer by layer, for a stack
  of conv/pool layers or a torchvision ResNet (walked in forward order by :func:`spatial_layers`);
* :func:`empirical_receptive_field` -- the same quantity measured from the gradient of one
  output location with respect to the input.

Conventions: tensors are (N, C, H, W); pixel centres sit at integer coordinates ``0 .. H-1``;
one multiply-accumulate (MAC) is counted as 2 FLOPs.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn as nn

from .validation import check_int, describe_value

__all__ = [
    "conv_output_size",
    "conv_transpose_output_size",
    "LayerRow",
    "Summary",
    "summarize",
    "format_summary",
    "print_summary",
    "count_parameters",
    "layer_macs",
    "RFRow",
    "spatial_layers",
    "receptive_field",
    "format_receptive_field",
    "rf_bounds",
    "EmpiricalRF",
    "empirical_receptive_field",
]


# ---------------------------------------------------------------------------------------------
# Output-size formulas
# ---------------------------------------------------------------------------------------------


def _geometry(kernel_size: Any, stride: Any, padding: Any, dilation: Any) -> tuple[int, int, int, int]:
    k = check_int(kernel_size, "kernel_size", min_value=1)
    s = check_int(stride, "stride", min_value=1)
    p = check_int(padding, "padding", min_value=0)
    d = check_int(dilation, "dilation", min_value=1)
    return k, s, p, d


def conv_output_size(
    size: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Output length of a convolution or pooling along one spatial axis.

    ``out = floor((size + 2*padding - dilation*(kernel_size-1) - 1) / stride) + 1``
    (``ceil`` instead of ``floor`` when ``ceil_mode``, as ``nn.MaxPool2d(ceil_mode=True)`` does,
    dropping a last window that would start in the right padding).

    Args:
        size: input length H (or W), an int >= 1.
        kernel_size, stride, dilation: ints >= 1; padding: int >= 0 (zeros on both sides).
        ceil_mode: round up instead of down (pooling layers only).

    Returns:
        The output length, an int >= 1.

    Raises:
        ValueError: when the dilated kernel ``dilation*(kernel_size-1)+1`` is longer than the
            padded input ``size + 2*padding``, or an argument is out of range.
    """
    n = check_int(size, "size", min_value=1)
    k, s, p, d = _geometry(kernel_size, stride, padding, dilation)
    span = d * (k - 1) + 1
    if span > n + 2 * p:
        raise ValueError(
            f"kernel_size: the dilated kernel spans dilation*(kernel_size-1)+1 = {span} pixels, more "
            f"than the padded input size + 2*padding = {n + 2 * p}; no output position fits"
        )
    num = n + 2 * p - span
    if ceil_mode:
        out = -(-num // s) + 1
        if (out - 1) * s >= n + p:  # last window would start inside the right padding
            out -= 1
    else:
        out = num // s + 1
    return out


def conv_transpose_output_size(
    size: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> int:
    """Output length of a transposed convolution (``nn.ConvTranspose2d``) along one axis.

    ``out = (size - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1``

    Args:
        size: input length, an int >= 1.
        kernel_size, stride, dilation: ints >= 1; padding: int >= 0.
        output_padding: int in ``[0, max(stride, dilation) - 1]``: extra rows added on one side
            to pick between the input sizes a strided convolution maps to the same output size.

    Returns:
        The output length, an int >= 1.

    Raises:
        ValueError: for an out-of-range argument, or when the padding crops everything away.
    """
    n = check_int(size, "size", min_value=1)
    k, s, p, d = _geometry(kernel_size, stride, padding, dilation)
    op = check_int(output_padding, "output_padding", min_value=0)
    if op >= max(s, d):
        raise ValueError(
            f"output_padding: expected an int smaller than max(stride, dilation) = {max(s, d)}, got {op}"
        )
    out = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
    if out < 1:
        raise ValueError(
            f"padding: 2*padding = {2 * p} removes the whole output (it would have "
            f"{out + 2 * p} pixels before cropping); use a smaller padding"
        )
    return out


# ---------------------------------------------------------------------------------------------
# Layer-by-layer table
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerRow:
    """One row of :func:`summarize`.

    Attributes:
        name: the module's qualified name in the model (``"layer1.0.conv1"``).
        kind: its class name (``"Conv2d"``).
        output_shape: shape of the output tensor, e.g. ``(1, 64, 56, 56)``.
        params: parameters of the module (counted on its first call only).
        activation_bytes: bytes of the output tensor (what backward would keep).
        macs: multiply-accumulates of the convolutions / linear layers inside this call
            (batch-norm, activations, pooling and additions are not counted).
    """

    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    activation_bytes: int
    macs: int

    @property
    def flops(self) -> int:
        """Floating-point operations, counting one multiply-accumulate as 2 FLOPs."""
        return 2 * self.macs


@dataclass
class Summary:
    """What :func:`summarize` returns: the rows plus model-wide totals.

    Attributes:
        rows: one :class:`LayerRow` per call of a selected module, in forward order.
        input_shape: shape of the input used.
        total_params: all parameters of the model (each shared tensor once).
        param_bytes: bytes those parameters take.
        input_bytes: bytes of the input tensor.
    """

    rows: list[LayerRow]
    input_shape: tuple[int, ...]
    total_params: int
    param_bytes: int
    input_bytes: int

    @property
    def row_params(self) -> int:
        """Parameters summed over the rows (equals ``total_params`` when every module is covered)."""
        return sum(r.params for r in self.rows)

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def total_flops(self) -> int:
        return 2 * self.total_macs

    @property
    def activation_bytes(self) -> int:
        """Bytes of all recorded outputs together (an upper bound on what training keeps)."""
        return sum(r.activation_bytes for r in self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, i):
        return self.rows[i]

    def row(self, name: str) -> LayerRow:
        """The first row whose name is ``name``."""
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"name: no row called {name!r}; rows are {[r.name for r in self.rows][:12]}...")

    def __str__(self) -> str:
        return format_summary(self)




_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_TRANSPOSED = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def layer_macs(module, inputs: tuple, output) -> int:
    """Multiply-accumulates of one call of ``module`` (conv, transposed conv or linear; else 0).

    Conv: ``output elements * (C_in / groups) * prod(kernel)``; transposed conv:
    ``input elements * (C_out / groups) * prod(kernel)``; linear: ``output elements * in_features``.
    Biases are not counted.
    """

    if isinstance(module, _TRANSPOSED):
        x = inputs[0]
        return int(x.numel() * (module.out_channels // module.groups) * math.prod(module.kernel_size))
    if isinstance(module, _CONVS):
        return int(output.numel() * (module.in_channels // module.groups) * math.prod(module.kernel_size))
    if isinstance(module, nn.Linear):
        return int(output.numel() * module.in_features)
    return 0


def _first_tensor(obj):

    if isinstance(obj, torch.Tensor):
        return obj
    if isinstance(obj, dict):
        obj = list(obj.values())
    if isinstance(obj, (list, tuple)):
        for o in obj:
            t = _first_tensor(o)
            if t is not None:
                return t
    return None


def count_parameters(model, trainable_only: bool = False) -> int:
    """Number of parameters of ``model`` (each shared tensor counted once)."""

    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {describe_value(model)}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _selected_modules(model, depth: int | None) -> list[tuple[str, Any]]:
    """Modules at ``depth`` in the module tree, plus leaves shallower than that (``None``: leaves)."""
    out = []
    for name, m in model.named_modules():
        if name == "":
            if depth == 0 or not any(True for _ in m.children()):
                out.append((name or type(m).__name__, m))
            continue
        level = name.count(".") + 1
        is_leaf = not any(True for _ in m.children())
        if depth is None:
            if is_leaf:
                out.append((name, m))
        elif level == depth or (level < depth and is_leaf):
            out.append((name, m))
    return out


def summarize(model, input_size: Sequence[int] | None = None, *, x=None, depth: int | None = None) -> Summary:
    """Run one forward pass with hooks and tabulate every selected module, in call order.

    Args:
        model: any ``torch.nn.Module`` taking one (N, C, H, W) tensor.
        input_size: shape of a zero input to use, e.g. ``(1, 3, 224, 224)``; or give ``x``.
        x: an input tensor (N, C, H, W) instead of ``input_size``.
        depth: which modules become rows: ``None`` every leaf module (Conv2d, ReLU, ...);
            ``1`` the model's direct children (``layer1`` ... for a ResNet); ``2`` one level deeper.

    Returns:
        A :class:`Summary`. A module called twice (a ReLU reused in a block) gives two rows;
        its parameters are counted on the first. The model is run in eval mode under
        ``torch.no_grad()`` and its train/eval mode is restored afterwards.
    """

    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {describe_value(model)}")
    if (input_size is None) == (x is None):
        raise ValueError("input_size / x: give exactly one of them, e.g. input_size=(1, 3, 224, 224)")
    if x is None:
        if not isinstance(input_size, (tuple, list, torch.Size)) or len(input_size) < 2:
            raise ValueError(f"input_size: expected a shape such as (1, 3, 224, 224), got {input_size!r}")
        dims = [check_int(v, f"input_size[{i}]", min_value=1) for i, v in enumerate(input_size)]
        p0 = next(model.parameters(), None)
        x = torch.zeros(dims, dtype=p0.dtype if p0 is not None else torch.float32,
                        device=p0.device if p0 is not None else "cpu")
    elif not isinstance(x, torch.Tensor):
        raise TypeError(f"x: expected a torch.Tensor of shape (N, C, H, W), got {describe_value(x)}")
    if depth is not None:
        depth = check_int(depth, "depth", min_value=0)

    selected = _selected_modules(model, depth)
    sel_ids = {id(m) for _, m in selected}
    rows: list[LayerRow] = []
    stack: list[list[int]] = []
    seen: set[int] = set()
    handles = []

    def pre_hook(module, inputs):
        stack.append([0])

    def make_post(name):
        def post_hook(module, inputs, output):
            acc = stack.pop()[0]
            own = layer_macs(module, inputs, output) if not any(True for _ in module.children()) else 0
            macs = acc + own
            if stack:  # a selected module nested in another call (e.g. depth=0 root)
                stack[-1][0] += macs
            t = _first_tensor(output)
            params = 0
            if id(module) not in seen:
                seen.add(id(module))
                params = sum(p.numel() for p in module.parameters())
            rows.append(
                LayerRow(
                    name=name,
                    kind=type(module).__name__,
                    output_shape=tuple(t.shape) if t is not None else (),
                    params=params,
                    activation_bytes=int(t.numel() * t.element_size()) if t is not None else 0,
                    macs=int(macs),
                )
            )

        return post_hook

    def leaf_hook(module, inputs, output):
        if stack:
            stack[-1][0] += layer_macs(module, inputs, output)

    for name, m in selected:
        handles.append(m.register_forward_pre_hook(pre_hook))
        handles.append(m.register_forward_hook(make_post(name)))
    for _, m in model.named_modules():
        if id(m) not in sel_ids and not any(True for _ in m.children()):
            handles.append(m.register_forward_hook(leaf_hook))

    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)

    params = list({id(p): p for p in model.parameters()}.values())
    return Summary(
        rows=rows,
        input_shape=tuple(x.shape),
        total_params=sum(p.numel() for p in params),
        param_bytes=sum(p.numel() * p.element_size() for p in params),
        input_bytes=int(x.numel() * x.element_size()),
    )


def _human(n: float, unit: str = "") -> str:
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:.2f} {suffix}{unit}"
    return f"{n:.0f} {unit}".rstrip() if unit else f"{n:.0f}"


def format_summary(summary: Summary, max_rows: int | None = None) -> str:
    """The table of a :class:`Summary` as text: one line per row, then totals.

    Columns: name, type, output shape, parameters, output memory (MB, 1 MB = 10^6 bytes), MACs.
    ``max_rows`` shows the first rows only (the totals still cover all of them).
    """
    if not isinstance(summary, Summary):
        raise TypeError(f"summary: expected a layers.Summary from summarize(...), got {describe_value(summary)}")
    rows = summary.rows if max_rows is None else summary.rows[: check_int(max_rows, "max_rows", min_value=0)]
    w = max([len(r.name) for r in rows] + [5])
    head = f"{'layer':<{w}}  {'type':<17} {'output shape':<20} {'params':>11} {'out MB':>8} {'MACs':>10}"
    lines = [head, "-" * len(head)]
    lines.append(f"{'input':<{w}}  {'':<17} {str(list(summary.input_shape)):<20} {'':>11} "
                 f"{summary.input_bytes / 1e6:>8.2f} {'':>10}")
    for r in rows:
        lines.append(
            f"{r.name:<{w}}  {r.kind[:17]:<17} {str(list(r.output_shape)):<20} {r.params:>11,} "
            f"{r.activation_bytes / 1e6:>8.2f} {_human(r.macs):>10}"
        )
    if max_rows is not None and len(summary.rows) > len(rows):
        lines.append(f"... {len(summary.rows) - len(rows)} more rows")
    lines.append("-" * len(head))
    lines.append(
        f"total: {summary.total_params:,} parameters ({summary.param_bytes / 1e6:.2f} MB), "
        f"outputs {summary.activation_bytes / 1e6:.2f} MB, {_human(summary.total_macs)} MACs "
        f"= {_human(summary.total_flops)} FLOPs"
    )
    return "\n".join(lines)


def print_summary(summary: Summary, max_rows: int | None = None) -> None:
    """Print :func:`format_summary`."""
    print(format_summary(summary, max_rows=max_rows))


# ---------------------------------------------------------------------------------------------
# Receptive fields
# ---------------------------------------------------------------------------------------------


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
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "GELU", "SiLU", "Sigmoid", "Tanh", "Hardswish",
    "Hardsigmoid", "Mish", "BatchNorm2d", "GroupNorm", "InstanceNorm2d", "LayerNorm", "Dropout",
    "Dropout2d", "Identity", "LocalResponseNorm",
)


def _axis_value(v: Any, axis: int) -> int:
    if isinstance(v, (tuple, list)):
        return int(v[axis])
    return int(v)


def spatial_layers(model) -> list[tuple[str, Any]]:
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


def receptive_field(model, axis: int = 0) -> list[RFRow]:
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
        lines.append(f"{r.name:<{w}}  {r.kind:<10} {r.kernel:>2} {r.stride:>2} {r.padding:>2} {r.dilation:>2}  "
                     f"{r.size:>7} {r.jump:>5} {r.start:>7g}")
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
    model,
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
